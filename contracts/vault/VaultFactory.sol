// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { ProviderVault } from "./ProviderVault.sol";

/// @title VaultFactory
/// @notice Creates one {ProviderVault} per operator and records them: an investor checks here that a
/// vault is genuine (deployed by this factory, for this market) before depositing.
contract VaultFactory {
    /// @notice The most a vault's operator may take of its income (ProviderVault.MAX_COMMISSION_BPS).
    uint256 public constant MAX_COMMISSION_BPS = 5000;

    /// @notice The market every vault of this factory provides on, and its registry.
    IComputeMarket public immutable market;
    IProviderRegistry public immutable registry;

    /// @notice The vault of an operator (0 if none).
    mapping(address operator => address) public vaultOf;
    /// @notice Whether `vault` was created here.
    mapping(address vault => bool) public isVault;
    address[] internal _vaults;

    /// @notice A vault was created for `operator` with `commissionBps` of its income.
    event VaultCreated(address indexed vault, address indexed operator, uint256 commissionBps, string name, string symbol);

    /// @notice An operator already has a vault (one per operator).
    error VaultFactoryOperatorHasVault(address operator, address vault);
    /// @notice The registry given is not the market's (its collateral hooks answer another market).
    error VaultFactoryRegistryMismatch(address registry, address itsMarket);

    constructor(IComputeMarket market_, IProviderRegistry registry_) {
        if (registry_.market() != address(market_)) revert VaultFactoryRegistryMismatch(address(registry_), registry_.market());
        market = market_;
        registry = registry_;
    }

    /// @notice Creates a vault run by `msg.sender` (the operator), registered in the registry with
    /// `metadata`, taking `commissionBps` of its income (≤ 50 %).
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — the only call is the vault's creation, whose constructor calls the trusted registry
    function create(uint256 commissionBps, string calldata name, string calldata symbol, string calldata metadata)
        external
        returns (address vault)
    {
        if (vaultOf[msg.sender] != address(0)) revert VaultFactoryOperatorHasVault(msg.sender, vaultOf[msg.sender]);
        vault = address(new ProviderVault(market, registry, msg.sender, commissionBps, name, symbol, metadata));
        vaultOf[msg.sender] = vault;
        isVault[vault] = true;
        _vaults.push(vault);
        emit VaultCreated(vault, msg.sender, commissionBps, name, symbol);
    }

    /// @notice Every vault created here, in order.
    function vaults() external view returns (address[] memory) {
        return _vaults;
    }
}
