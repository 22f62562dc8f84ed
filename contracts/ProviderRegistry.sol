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

    /// @dev A provider's stake as stored. It keeps `bonded` (staked − unbonding) rather than `staked`,
    /// so that everything the collateral hooks read and write sits in slot 0: a lock reads and writes
    /// one slot. Amounts are uint96: the stake token is ComputeToken, whose fixed supply (1e27 base
    /// units) is below 2^96; `stake` checks the cast anyway. Always: locked ≤ bonded.
    struct Account {
        // slot 0 (read by lock, unlock, slash and isActive)
        uint96 bonded; // staked − unbonding
        uint96 locked; // collateral of the provider's rentals
        bool registered;
        // slot 1
        uint96 unbonding;
        uint40 unbondingReadyAt;
    }

    /// @inheritdoc IProviderRegistry
    address public market;
    /// @dev In the slot of `market`: every collateral hook reads both (≤ MAX_MIN_STAKE = 1e27 < 2^96).
    uint96 internal _minStake;
    /// @dev ≤ MAX_UNBONDING_PERIOD.
    uint32 internal _unbondingPeriod;

    mapping(address provider => Account) internal _accounts;
    mapping(address provider => string) internal _metadata;

    modifier onlyMarket() {
        if (msg.sender != market) revert RegistryCallerNotMarket(msg.sender);
        _;
    }

    constructor(IERC20 stakeToken_, address owner_, uint256 unbondingPeriod_, uint256 minStake_) Ownable(owner_) {
        if (address(stakeToken_) == address(0)) revert RegistryZeroAddress();
        stakeToken = stakeToken_;
        emit StakeTokenSet(address(stakeToken_));
        _setUnbondingPeriod(unbondingPeriod_);
        _setMinStake(minStake_);
    }

    // ───────────────────────────── Provider actions ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function register(string calldata metadata) external {
        Account storage p = _accounts[msg.sender];
        if (p.registered) revert RegistryAlreadyRegistered(msg.sender);
        _checkMetadata(metadata);
        p.registered = true;
        _metadata[msg.sender] = metadata;
        emit ProviderRegistered(msg.sender, metadata);
    }

    /// @inheritdoc IProviderRegistry
    function updateMetadata(string calldata metadata) external {
        if (!_accounts[msg.sender].registered) revert RegistryNotRegistered(msg.sender);
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
        Account storage p = _accounts[msg.sender];
        uint256 free = _free(p);
        if (amount > free) revert RegistryInsufficientFreeStake(msg.sender, free, amount);
        // Effect: move it from the bond to the pending request and restart the request's clock.
        uint256 readyAt = block.timestamp + _unbondingPeriod;
        uint256 unbonding = p.unbonding + amount;
        p.bonded -= uint96(amount); // safe: amount ≤ free ≤ bonded
        p.unbonding = uint96(unbonding); // safe: ≤ staked < 2^96
        p.unbondingReadyAt = uint40(readyAt); // safe: timestamps fit 40 bits until year 36812
        emit UnbondRequested(msg.sender, amount, unbonding, readyAt);
    }

    /// @inheritdoc IProviderRegistry
    function cancelUnbond() external {
        Account storage p = _accounts[msg.sender];
        uint256 amount = p.unbonding;
        if (amount == 0) revert RegistryNothingUnbonding(msg.sender);
        p.bonded += uint96(amount); // safe: bonded + unbonding == staked < 2^96
        p.unbonding = 0;
        p.unbondingReadyAt = 0;
        emit UnbondCancelled(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function withdrawUnbonded() external nonReentrant returns (uint256 amount) {
        // Check: something is unbonding and its period has passed.
        Account storage p = _accounts[msg.sender];
        amount = p.unbonding;
        if (amount == 0) revert RegistryNothingUnbonding(msg.sender);
        if (block.timestamp < p.unbondingReadyAt) {
            revert RegistryUnbondingNotReady(msg.sender, p.unbondingReadyAt, block.timestamp);
        }
        // Effect: the unbonded tokens leave the stake (they were already out of the bond).
        p.unbonding = 0;
        p.unbondingReadyAt = 0;
        // Interaction: pay the provider.
        stakeToken.safeTransfer(msg.sender, amount);
        emit UnbondedWithdrawn(msg.sender, amount);
    }

    // ───────────────────────────── Market hooks ─────────────────────────────

    /// @inheritdoc IProviderRegistry
    function lock(address provider, uint256 amount) external onlyMarket {
        Account storage p = _accounts[provider];
        uint256 bonded = p.bonded;
        uint256 locked = p.locked;
        uint256 min = _minStake;
        if (!p.registered || bonded < min) revert RegistryProviderNotActive(provider, bonded, min);
        uint256 free = bonded - locked;
        if (amount > free) revert RegistryInsufficientFreeStake(provider, free, amount);
        locked += amount;
        p.locked = uint96(locked); // safe: locked ≤ bonded, a uint96
        emit CollateralLocked(provider, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function unlock(address provider, uint256 amount) external onlyMarket {
        Account storage p = _accounts[provider];
        uint256 locked = p.locked;
        if (amount > locked) revert RegistryInsufficientLocked(provider, locked, amount);
        unchecked {
            locked -= amount; // checked just above
        }
        p.locked = uint96(locked);
        emit CollateralUnlocked(provider, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyMarket
        nonReentrant
    {
        // Check: a slash is bounded by the locked collateral and lands exactly at its recipients.
        Account storage p = _accounts[provider];
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
        p.locked = uint96(locked - amount); // safe: amount ≤ locked
        p.bonded -= uint96(amount); // safe: amount ≤ locked ≤ bonded
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
        Account storage p = _accounts[provider];
        return Provider({
            staked: uint128(p.bonded) + p.unbonding,
            locked: p.locked,
            unbonding: p.unbonding,
            unbondingReadyAt: p.unbondingReadyAt,
            registered: p.registered
        });
    }

    /// @inheritdoc IProviderRegistry
    function freeStakeOf(address provider) external view returns (uint256) {
        return _free(_accounts[provider]);
    }

    /// @inheritdoc IProviderRegistry
    function isActive(address provider) external view returns (bool) {
        Account storage p = _accounts[provider];
        return p.registered && p.bonded >= _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @inheritdoc IProviderRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function metadataOf(address provider) external view returns (string memory) {
        return _metadata[provider];
    }

    // ───────────────────────────── Internal ─────────────────────────────

    function _stake(uint256 amount) internal {
        // Check: only registered providers stake, and never zero.
        if (amount == 0) revert RegistryZeroAmount();
        Account storage p = _accounts[msg.sender];
        if (!p.registered) revert RegistryNotRegistered(msg.sender);
        // Effect: credit the stake before pulling (the token is ComputeToken, and the call is nonReentrant).
        // An amount above 2^96 − 1 is refused by name (SafeCastOverflowedUintDowncast) before the sum.
        uint256 bonded = uint256(p.bonded) + amount.toUint96();
        p.bonded = bonded.toUint96();
        uint256 staked = bonded + p.unbonding;
        // Interaction: pull the tokens.
        stakeToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, staked);
    }

    function _free(Account storage p) internal view returns (uint256) {
        return p.bonded - p.locked;
    }

    function _checkMetadata(string calldata metadata) internal pure {
        uint256 len = bytes(metadata).length;
        if (len == 0 || len > MAX_METADATA_LENGTH) revert RegistryInvalidMetadata(len);
    }

    function _setUnbondingPeriod(uint256 value) internal {
        if (value < MIN_UNBONDING_PERIOD || value > MAX_UNBONDING_PERIOD) {
            revert RegistryParameterOutOfBounds(value, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
        }
        _unbondingPeriod = uint32(value); // safe: ≤ MAX_UNBONDING_PERIOD
        emit UnbondingPeriodSet(value);
    }

    function _setMinStake(uint256 value) internal {
        if (value > MAX_MIN_STAKE) revert RegistryParameterOutOfBounds(value, 0, MAX_MIN_STAKE);
        _minStake = uint96(value); // safe: ≤ MAX_MIN_STAKE < 2^96
        emit MinStakeSet(value);
    }
}
