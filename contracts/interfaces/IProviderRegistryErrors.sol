// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IProviderRegistryErrors
/// @notice The registry's custom errors, in their own interface so that {IComputeMarket} inherits them
/// too: a registry error raised inside a market call (e.g. not enough free stake to lock collateral)
/// is then in the market's ABI, and every client decodes it from the market's ABI alone.
interface IProviderRegistryErrors {
    /// @notice The address is already a registered provider.
    error RegistryAlreadyRegistered(address provider);
    /// @notice The address is not a registered provider.
    error RegistryNotRegistered(address provider);
    /// @notice Metadata of 0 or more than 512 bytes.
    error RegistryInvalidMetadata(uint256 length);
    /// @notice An amount of zero (stake, unbond).
    error RegistryZeroAmount();
    /// @notice More than the provider's free stake (staked − locked − unbonding) to lock or unbond.
    error RegistryInsufficientFreeStake(address provider, uint256 free, uint256 needed);
    /// @notice Cancel or withdraw with nothing unbonding.
    error RegistryNothingUnbonding(address provider);
    /// @notice A withdrawal before the unbonding period has passed.
    error RegistryUnbondingNotReady(address provider, uint256 readyAt, uint256 nowTime);
    /// @notice An unlock or slash of more than the provider's locked collateral.
    error RegistryInsufficientLocked(address provider, uint256 locked, uint256 needed);
    /// @notice Collateral locked for a provider that is not registered or has bonded stake below the minimum.
    error RegistryProviderNotActive(address provider, uint256 bonded, uint256 minStake);
    /// @notice A slash whose recipients' amounts do not add up to it.
    error RegistrySlashMismatch(uint256 amount, uint256 sumOfAmounts);
    /// @notice A slash to the zero address (at `index`).
    error RegistryInvalidRecipient(uint256 index);
    /// @notice A slash whose recipients and amounts differ in number.
    error RegistrySlashLengthMismatch(uint256 recipients, uint256 amounts);
    /// @notice A collateral hook called by anyone but the market.
    error RegistryCallerNotMarket(address caller);
    /// @notice `setMarket` once the market is set.
    error RegistryMarketAlreadySet(address market);
    /// @notice A zero address (stake token, market).
    error RegistryZeroAddress();
    /// @notice `renounceOwnership` is disabled: without an owner the parameters could never be fixed.
    error RegistryRenounceDisabled();
    /// @notice A parameter outside its bound [min, max].
    error RegistryParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
}
