// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "gpumarket/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "gpumarket/interfaces/IProviderRegistry.sol";
import { IProviderVault } from "gpumarket/interfaces/IProviderVault.sol";

/// @notice The test tokens' mint (contracts/test/MockStablecoin.sol) and the vault factory's create
/// (contracts/vault/VaultFactory.sol): the two calls the suite makes to contracts without an interface in
/// contracts/interfaces.
interface IMintable {
    function mint(address to, uint256 amount) external;
}

interface IVaultFactory {
    function create(uint256 commissionBps, string calldata name, string calldata symbol, string calldata metadata)
        external
        returns (address vault);
}

/// @notice The deployed system (tests/invariants/system.py), handed to every handler.
struct Sys {
    IComputeMarket market;
    IProviderRegistry registry;
    IERC20 usd; // 6-decimal MockStablecoin
    IERC20 gpuc; // 18-decimal ComputeToken, also the stake token
    IVaultFactory factory;
    IProviderVault vault; // a provider run by `operator`, backed by `investors`
    address owner;
    address treasury;
    address arbiter;
    address stranger;
    address operator;
    address[] providers; // EOAs with known keys (they sign offers)
    address[] renters;
    address[] payers;
    address[] brokers;
    address[] investors;
    uint256[] providerKeys;
    uint256 operatorKey;
}

/// @notice The market's public configuration getters (OpenZeppelin's Ownable and Pausable, MarketStorage's
/// public variables), not part of IComputeMarket.
interface IMarketConfig {
    function owner() external view returns (address);
    function treasury() external view returns (address);
    function arbiter() external view returns (address);
    function paused() external view returns (bool);
}
