// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { Ownable2Step } from "@openzeppelin/contracts/access/Ownable2Step.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IProviderRegistry } from "./interfaces/IProviderRegistry.sol";

/// @title ProviderRegistry
/// @notice Pseudonymous providers, their stake, and the collateral the market locks and slashes.
/// @dev The owner sets parameters and the market (once); it can never move a provider's stake.
/// Nothing here can be paused: stake always comes back to its owner after unbonding.
contract ProviderRegistry is IProviderRegistry, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 public constant MIN_UNBONDING_PERIOD = 1 days;
    uint256 public constant MAX_UNBONDING_PERIOD = 90 days;
    uint256 public constant MAX_MIN_STAKE = 1e9 ether;
    uint256 public constant MAX_METADATA_LENGTH = 512;

    /// @notice The staking token (ComputeToken: a plain ERC-20 with permit, no transfer fee).
    IERC20 public immutable stakeToken;

    /// @inheritdoc IProviderRegistry
    address public market;
    /// @inheritdoc IProviderRegistry
    uint256 public unbondingPeriod;
    /// @inheritdoc IProviderRegistry
    uint256 public minStake;

    mapping(address provider => Provider) internal _providers;
    mapping(address provider => string) internal _metadata;

    modifier onlyMarket() {
        if (msg.sender != market) revert RegistryCallerNotMarket(msg.sender);
        _;
    }

    constructor(IERC20 stakeToken_, address owner_, uint256 unbondingPeriod_, uint256 minStake_) Ownable(owner_) {
        if (address(stakeToken_) == address(0)) revert RegistryZeroAddress();
        stakeToken = stakeToken_;
        _setUnbondingPeriod(unbondingPeriod_);
        _setMinStake(minStake_);
    }

    // ───────────────────────────── Provider actions ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function register(string calldata metadata) external {
        Provider storage p = _providers[msg.sender];
        if (p.registered) revert RegistryAlreadyRegistered(msg.sender);
        _checkMetadata(metadata);
        p.registered = true;
        _metadata[msg.sender] = metadata;
        emit ProviderRegistered(msg.sender, metadata);
    }

    /// @inheritdoc IProviderRegistry
    function updateMetadata(string calldata metadata) external {
        if (!_providers[msg.sender].registered) revert RegistryNotRegistered(msg.sender);
        _checkMetadata(metadata);
        _metadata[msg.sender] = metadata;
        emit MetadataUpdated(msg.sender, metadata);
    }

    /// @inheritdoc IProviderRegistry
    function stake(uint256 amount) external nonReentrant {
        _stake(amount);
    }

    /// @inheritdoc IProviderRegistry
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        // A front-run permit makes this call revert, but the allowance it set is still there: go on.
        // slither-disable-next-line reentrancy-benign — the stake token is ComputeToken (no hooks), and the call is nonReentrant
        try IERC20Permit(address(stakeToken)).permit(msg.sender, address(this), amount, deadline, v, r, s) { } catch { }
        _stake(amount);
    }

    /// @inheritdoc IProviderRegistry
    function requestUnbond(uint256 amount) external {
        // Check: only free stake can start unbonding.
        if (amount == 0) revert RegistryZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint256 free = _free(p);
        if (amount > free) revert RegistryInsufficientFreeStake(msg.sender, free, amount);
        // Effect: add to the pending request and restart its clock.
        uint256 readyAt = block.timestamp + unbondingPeriod;
        p.unbonding += amount.toUint128();
        p.unbondingReadyAt = readyAt.toUint40();
        emit UnbondRequested(msg.sender, amount, p.unbonding, readyAt);
    }

    /// @inheritdoc IProviderRegistry
    function cancelUnbond() external {
        Provider storage p = _providers[msg.sender];
        uint256 amount = p.unbonding;
        if (amount == 0) revert RegistryNothingUnbonding(msg.sender);
        p.unbonding = 0;
        p.unbondingReadyAt = 0;
        emit UnbondCancelled(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function withdrawUnbonded() external nonReentrant returns (uint256 amount) {
        // Check: something is unbonding and its period has passed.
        Provider storage p = _providers[msg.sender];
        amount = p.unbonding;
        if (amount == 0) revert RegistryNothingUnbonding(msg.sender);
        if (block.timestamp < p.unbondingReadyAt) {
            revert RegistryUnbondingNotReady(msg.sender, p.unbondingReadyAt, block.timestamp);
        }
        // Effect: the unbonded tokens leave the stake.
        p.unbonding = 0;
        p.unbondingReadyAt = 0;
        p.staked -= uint128(amount); // safe: unbonding ≤ staked − locked
        // Interaction: pay the provider.
        stakeToken.safeTransfer(msg.sender, amount);
        emit UnbondedWithdrawn(msg.sender, amount);
    }

    // ───────────────────────────── Market hooks ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function lock(address provider, uint256 amount) external onlyMarket {
        Provider storage p = _providers[provider];
        uint256 staked = p.staked;
        uint256 locked = p.locked;
        uint256 unbonding = p.unbonding;
        uint256 bonded = staked - unbonding;
        if (!p.registered || bonded < minStake) revert RegistryProviderNotActive(provider, bonded, minStake);
        uint256 free = bonded - locked;
        if (amount > free) revert RegistryInsufficientFreeStake(provider, free, amount);
        locked += amount;
        p.locked = uint128(locked); // safe: locked ≤ staked, a uint128
        emit CollateralLocked(provider, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function unlock(address provider, uint256 amount) external onlyMarket {
        Provider storage p = _providers[provider];
        uint256 locked = p.locked;
        if (amount > locked) revert RegistryInsufficientLocked(provider, locked, amount);
        unchecked {
            locked -= amount; // checked just above
        }
        p.locked = uint128(locked);
        emit CollateralUnlocked(provider, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyMarket
        nonReentrant
    {
        // Check: a slash is bounded by the locked collateral and lands exactly at its recipients.
        Provider storage p = _providers[provider];
        uint256 locked = p.locked;
        if (amount > locked) revert RegistryInsufficientLocked(provider, locked, amount);
        if (recipients.length != amounts.length) revert RegistrySlashLengthMismatch(recipients.length, amounts.length);
        uint256 sum;
        for (uint256 i; i < amounts.length; ++i) {
            if (recipients[i] == address(0)) revert RegistryInvalidRecipient(i);
            sum += amounts[i];
        }
        if (sum != amount) revert RegistrySlashMismatch(amount, sum);
        // Effect: the slashed tokens leave both the lock and the stake.
        p.locked = uint128(locked - amount);
        p.staked -= uint128(amount); // safe: amount ≤ locked ≤ staked
        // Interaction: pay each recipient.
        for (uint256 i; i < recipients.length; ++i) {
            if (amounts[i] != 0) stakeToken.safeTransfer(recipients[i], amounts[i]);
        }
        emit StakeSlashed(provider, amount, recipients, amounts);
    }

    // ───────────────────────────── Owner ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function setMarket(address market_) external onlyOwner {
        if (market != address(0)) revert RegistryMarketAlreadySet(market);
        if (market_ == address(0)) revert RegistryZeroAddress();
        market = market_;
        emit MarketSet(market_);
    }

    /// @notice Disabled: without an owner the unbonding period and minimum stake could never be fixed.
    function renounceOwnership() public view override onlyOwner {
        revert RegistryRenounceDisabled();
    }

    /// @inheritdoc IProviderRegistry
    function setUnbondingPeriod(uint256 unbondingPeriod_) external onlyOwner {
        _setUnbondingPeriod(unbondingPeriod_);
    }

    /// @inheritdoc IProviderRegistry
    function setMinStake(uint256 minStake_) external onlyOwner {
        _setMinStake(minStake_);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function providerOf(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    /// @inheritdoc IProviderRegistry
    function freeStakeOf(address provider) external view returns (uint256) {
        return _free(_providers[provider]);
    }

    /// @inheritdoc IProviderRegistry
    function isActive(address provider) external view returns (bool) {
        Provider storage p = _providers[provider];
        return p.registered && p.staked - p.unbonding >= minStake;
    }

    /// @inheritdoc IProviderRegistry
    function metadataOf(address provider) external view returns (string memory) {
        return _metadata[provider];
    }

    // ───────────────────────────── Internal ─────────────────────────────

    function _stake(uint256 amount) internal {
        // Check: only registered providers stake, and never zero.
        if (amount == 0) revert RegistryZeroAmount();
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert RegistryNotRegistered(msg.sender);
        // Effect: credit the stake before pulling (the token is ComputeToken, and the call is nonReentrant).
        uint256 staked = p.staked + amount;
        p.staked = staked.toUint128();
        // Interaction: pull the tokens.
        stakeToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, staked);
    }

    function _free(Provider storage p) internal view returns (uint256) {
        return p.staked - p.locked - p.unbonding;
    }

    function _checkMetadata(string calldata metadata) internal pure {
        uint256 len = bytes(metadata).length;
        if (len == 0 || len > MAX_METADATA_LENGTH) revert RegistryInvalidMetadata(len);
    }

    function _setUnbondingPeriod(uint256 value) internal {
        if (value < MIN_UNBONDING_PERIOD || value > MAX_UNBONDING_PERIOD) {
            revert RegistryParameterOutOfBounds(value, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
        }
        unbondingPeriod = value;
        emit UnbondingPeriodSet(value);
    }

    function _setMinStake(uint256 value) internal {
        if (value > MAX_MIN_STAKE) revert RegistryParameterOutOfBounds(value, 0, MAX_MIN_STAKE);
        minStake = value;
        emit MinStakeSet(value);
    }
}
