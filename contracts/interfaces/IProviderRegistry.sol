// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistryErrors } from "./IProviderRegistryErrors.sol";

/// @title IProviderRegistry
/// @notice Pseudonymous GPU providers and their stake. A provider is an address with a stake of
/// ComputeToken and a metadata string (a URI or hash of its hardware spec), nothing else.
///
/// Accounting, per provider (all in ComputeToken base units):
/// - `staked`: every token the provider has in the registry, unbonding included;
/// - `unbonding`: the part of `staked` waiting out the unbonding period; it stays in the registry (and in
///   `staked`) until withdrawn;
/// - `locked`: the part of `staked` backing rentals as collateral (moved only by the market);
/// - free stake = staked − locked − unbonding, which is what can be locked or unbonded.
/// Always: locked + unbonding ≤ staked, and the registry's token balance == Σ staked.
/// Slashes come out of `locked` only: collateral backing a rental can never start unbonding, so a
/// provider cannot put stake that a rental (or a dispute about it) may need out of reach by unbonding;
/// the rental's collateral stays slashable until the rental is settled, cancelled or resolved.
/// (docs/protocol.md, invariant 5; the registry stores bonded = staked − unbonding, so staked = bonded + unbonding.)
interface IProviderRegistry is IProviderRegistryErrors {
    /// @notice A provider's stake, as {providerOf} returns it (the registry stores `bonded` = staked −
    /// unbonding instead of `staked`, so that the collateral hooks touch one slot). Only ever built in
    /// memory: its field order is not a storage layout.
    struct Provider {
        uint128 staked; // every token the provider has in the registry, unbonding included
        uint128 locked; // the part of `staked` backing rentals as collateral
        uint128 unbonding; // the part of `staked` waiting out the unbonding period
        uint40 unbondingReadyAt; // when `unbonding` may be withdrawn (0 while nothing is unbonding)
        bool registered;
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice An address registered as a provider.
    event ProviderRegistered(address indexed provider, string metadata);
    /// @notice A provider replaced its metadata.
    event MetadataUpdated(address indexed provider, string metadata);
    /// @notice A provider added `amount` to its stake (now `staked`).
    event Staked(address indexed provider, uint256 amount, uint256 staked);
    /// @notice Free stake started unbonding (now `unbonding` in all, withdrawable at `readyAt`).
    event UnbondRequested(address indexed provider, uint256 amount, uint256 unbonding, uint256 readyAt);
    /// @notice Unbonding stake went back to the bond.
    event UnbondCancelled(address indexed provider, uint256 amount);
    /// @notice Unbonded stake was paid out to its provider.
    event UnbondedWithdrawn(address indexed provider, uint256 amount);
    /// @notice The market locked collateral for a rental (now `locked` in all).
    event CollateralLocked(address indexed provider, uint256 amount, uint256 locked);
    /// @notice The market released collateral (now `locked` in all).
    event CollateralUnlocked(address indexed provider, uint256 amount, uint256 locked);
    /// @notice The market slashed locked stake to its recipients.
    event StakeSlashed(address indexed provider, uint256 amount, address[] recipients, uint256[] amounts);
    /// @notice The market was set (once).
    event MarketSet(address indexed market);
    /// @notice The token staked as collateral, fixed at deployment (emitted once, by the constructor, so
    /// that an indexer learns it from the events alone).
    event StakeTokenSet(address indexed stakeToken);
    /// @notice The unbonding period for requests made from now on.
    event UnbondingPeriodSet(uint256 unbondingPeriod);
    /// @notice The bonded stake a provider needs for new offers and rentals.
    event MinStakeSet(uint256 minStake);

    // ───────────────────────────── Provider actions ─────────────────────────────

    /// @notice Registers `msg.sender` as a provider.
    /// @dev Emits {ProviderRegistered}.
    ///
    /// Requirements:
    /// - `msg.sender` is not registered yet.
    /// - `metadata` is 1 to 512 bytes (a URI or a hash of the hardware spec).
    function register(string calldata metadata) external;

    /// @notice Replaces the caller's metadata. Emits {MetadataUpdated}.
    ///
    /// Requirements:
    /// - `msg.sender` is registered; `metadata` is 1 to 512 bytes.
    function updateMetadata(string calldata metadata) external;

    /// @notice Adds `amount` ComputeToken from the caller to its stake.
    /// @dev Emits {Staked}.
    ///
    /// Requirements:
    /// - `msg.sender` is registered, `amount` > 0, and the registry may pull `amount` from it.
    function stake(uint256 amount) external;

    /// @notice {stake} with an EIP-2612 permit signed by the caller, in one transaction.
    /// @dev A permit that fails (e.g. front-run) is ignored if the allowance already suffices.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of free stake into unbonding; it can be withdrawn after the unbonding
    /// period. Only free stake can unbond: collateral locked for rentals (and for their dispute
    /// windows and disputes) stays slashable. A new request adds to the pending one and restarts
    /// its clock.
    /// @dev Emits {UnbondRequested}.
    ///
    /// Requirements:
    /// - `amount` > 0 and ≤ free stake (staked − locked − unbonding).
    function requestUnbond(uint256 amount) external;

    /// @notice Returns all unbonding stake to the caller's bonded stake. Emits {UnbondCancelled}.
    ///
    /// Requirements:
    /// - the caller has stake unbonding.
    function cancelUnbond() external;

    /// @notice Sends the caller's unbonding stake back to it once the unbonding period has passed.
    /// Never paused.
    /// @dev Emits {UnbondedWithdrawn}.
    ///
    /// Requirements:
    /// - the caller has stake unbonding and `block.timestamp` ≥ its ready time.
    function withdrawUnbonded() external returns (uint256 amount);

    // ───────────────────────────── Market hooks ─────────────────────────────

    /// @notice Locks `amount` of `provider`'s free stake as rental collateral.
    ///
    /// Requirements:
    /// - caller is the market; `provider` is active (bonded ≥ minStake); free stake ≥ `amount`.
    function lock(address provider, uint256 amount) external;

    /// @notice Releases `amount` of `provider`'s locked stake.
    ///
    /// Requirements:
    /// - caller is the market; `amount` ≤ locked.
    function unlock(address provider, uint256 amount) external;

    /// @notice Takes `amount` out of `provider`'s locked stake and pays it to `recipients`.
    /// @dev Emits {StakeSlashed}.
    ///
    /// Requirements:
    /// - caller is the market; `amount` ≤ locked; as many `amounts` as `recipients`; Σ `amounts` ==
    ///   `amount`; no zero recipient.
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external;

    // ───────────────────────────── Owner ─────────────────────────────

    /// @notice Sets the market, once. After that no one can change who moves collateral.
    function setMarket(address market_) external;

    /// @notice Sets the unbonding period for future requests, within [MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD].
    function setUnbondingPeriod(uint256 unbondingPeriod_) external;

    /// @notice Sets the bonded stake a provider needs to take new rentals, ≤ MAX_MIN_STAKE.
    function setMinStake(uint256 minStake_) external;

    // ───────────────────────────── Views ─────────────────────────────

    function providerOf(address provider) external view returns (Provider memory);

    /// @notice staked − locked − unbonding.
    function freeStakeOf(address provider) external view returns (uint256);

    /// @notice Registered with bonded stake (staked − unbonding) ≥ minStake.
    function isActive(address provider) external view returns (bool);

    function metadataOf(address provider) external view returns (string memory);

    function market() external view returns (address);

    function unbondingPeriod() external view returns (uint256);

    /// @notice The staking token (ComputeToken).
    function stakeToken() external view returns (IERC20);

    function minStake() external view returns (uint256);
}
