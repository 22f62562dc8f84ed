// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IProviderRegistryErrors
/// @notice The registry's custom errors, in their own interface so that {IComputeMarket} inherits them
/// too: a registry error raised inside a market call (e.g. not enough free stake to lock collateral)
/// is then in the market's ABI, and every client decodes it from the market's ABI alone.
interface IProviderRegistryErrors {
    error RegistryAlreadyRegistered(address provider);
    error RegistryNotRegistered(address provider);
    error RegistryInvalidMetadata(uint256 length);
    error RegistryZeroAmount();
    error RegistryInsufficientFreeStake(address provider, uint256 free, uint256 needed);
    error RegistryNothingUnbonding(address provider);
    error RegistryUnbondingNotReady(address provider, uint256 readyAt, uint256 nowTime);
    error RegistryInsufficientLocked(address provider, uint256 locked, uint256 needed);
    error RegistryProviderNotActive(address provider, uint256 bonded, uint256 minStake);
    error RegistrySlashMismatch(uint256 amount, uint256 sumOfAmounts);
    error RegistryInvalidRecipient(uint256 index);
    error RegistrySlashLengthMismatch(uint256 recipients, uint256 amounts);
    error RegistryCallerNotMarket(address caller);
    error RegistryMarketAlreadySet(address market);
    error RegistryZeroAddress();
    error RegistryRenounceDisabled();
    error RegistryParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
}
