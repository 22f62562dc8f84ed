// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import { ERC4626 } from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { Address } from "@openzeppelin/contracts/utils/Address.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import { IERC1271 } from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IERC4626 } from "@openzeppelin/contracts/interfaces/IERC4626.sol";

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { IProviderVault } from "../interfaces/IProviderVault.sol";
import { VaultMath } from "../libraries/VaultMath.sol";
import { Rental } from "../types/Rental.sol";

/// @title ProviderVault
/// @notice Investors back an operator's GPUs: see {IProviderVault}. One per operator, created by
/// {VaultFactory}.
/// @dev Accounting, per payment token T:
/// - `_accounted[T]`: every unit of T income the vault has distributed and not paid out (commission
///   and backers' income owed, plus rounding dust); income that arrived since is
///   balanceOf(T) − _accounted[T] (− the GPUC principal when T is GPUC).
/// - `_incomePerShare[T]`: cumulative income per earning share (scaled by VaultMath.SCALE); an
///   account's income is settled against it before any change of its shares.
/// GPUC principal: the stake in the registry (bonded + unbonding, slashes included) plus `_idle`
/// (principal not staked yet) — that is totalAssets. `_reserved` is GPUC owed to finished
/// redemption batches, outside totalAssets.
contract ProviderVault is IProviderVault, ERC4626, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 public constant MAX_COMMISSION_BPS = 5000; // 50 % of the income, at most
    uint8 internal constant OFFSET = 6; // ERC-4626 virtual shares: 10^6 per unit of GPUC (inflation defence)

    IComputeMarket public immutable market;
    IProviderRegistry public immutable registry;
    /// @inheritdoc IProviderVault
    address public immutable operator;

    // One slot, read by every distribution: the commission, a pending change, and the escrowed shares
    // (in redemption requests not yet burned, held by the vault itself; they earn nothing).
    uint16 internal _commissionBps;
    uint16 internal _pendingBps;
    uint40 internal _pendingAt;
    bool internal _hasPending;
    uint128 internal _escrowed; // ≤ totalSupply

    // GPUC principal outside the registry: not yet staked, and owed to finished batches.
    uint128 internal _idle;
    uint128 internal _reserved;

    // Redemption batches: the one queued (requests join it) and the one unbonding (0 if none).
    uint64 internal _queuedBatch = 1;
    uint64 internal _unbondingBatch;
    uint64 internal _nextRequestId = 1;

    /// @dev Per income token, in one slot: what the vault distributed and has not paid out (commission
    /// and backers' income owed, plus rounding dust), and the part of it that is the operator's commission.
    struct Book {
        uint128 accounted;
        uint128 commission;
    }

    address[] internal _incomeTokens;
    uint256[] internal _tracked;
    mapping(address token => bool) internal _isIncomeToken;
    // slither-disable-next-line uninitialized-state — written by every distribution (_distribute)
    mapping(address token => Book) internal _books;
    // slither-disable-next-line uninitialized-state — written by every distribution (_distribute)
    mapping(address token => uint256) internal _incomePerShare;
    mapping(address account => mapping(address token => uint256)) internal _paidPerShare;
    mapping(address account => mapping(address token => uint256)) internal _owed;
    mapping(uint256 requestId => Request) internal _requests;
    mapping(uint256 batch => Batch) internal _batches;

    modifier onlyOperator() {
        if (msg.sender != operator) revert VaultNotOperator(msg.sender);
        _;
    }

    /// @dev Created by {VaultFactory}, which checked that `registry_` is `market_`'s registry.
    constructor(
        IComputeMarket market_,
        IProviderRegistry registry_,
        address operator_,
        uint256 commissionBps_,
        string memory name_,
        string memory symbol_,
        string memory metadata_
    ) ERC4626(registry_.stakeToken()) ERC20(name_, symbol_) {
        if (operator_ == address(0)) revert VaultZeroAddress();
        if (commissionBps_ > MAX_COMMISSION_BPS) revert VaultCommissionAboveMax(commissionBps_, MAX_COMMISSION_BPS);
        market = market_;
        registry = registry_;
        operator = operator_;
        _commissionBps = uint16(commissionBps_); // safe: ≤ MAX_COMMISSION_BPS
        registry.register(metadata_);
        IERC20(asset()).forceApprove(address(registry), type(uint256).max);
    }

    // ───────────────────────────── ERC-4626 ─────────────────────────────

    /// @notice The stake in the registry (bonded and unbonding, after any slash) and the GPUC not staked yet.
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        return registry.providerOf(address(this)).staked + _idle;
    }

    /// @notice 0: redemption goes through {requestRedeem}.
    function maxWithdraw(address) public pure override(ERC4626, IERC4626) returns (uint256) {
        return 0;
    }

    /// @notice 0: redemption goes through {requestRedeem}.
    function maxRedeem(address) public pure override(ERC4626, IERC4626) returns (uint256) {
        return 0;
    }

    /// @notice Reverts {VaultRedeemIsAsync}: the stake must unbond first.
    function withdraw(uint256, address, address) public pure override(ERC4626, IERC4626) returns (uint256) {
        revert VaultRedeemIsAsync();
    }

    /// @notice Reverts {VaultRedeemIsAsync}: the stake must unbond first.
    function redeem(uint256, address, address) public pure override(ERC4626, IERC4626) returns (uint256) {
        revert VaultRedeemIsAsync();
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return OFFSET;
    }

    /// @dev A deposit (or mint): the GPUC is staked as soon as it arrives, then the shares are minted —
    /// after the income so far is distributed to the holders before them (in `_update`). Staking
    /// first keeps the deposit itself from ever looking like GPUC income.
    // slither-disable-next-line arbitrary-send-erc20,reentrancy-benign — `caller` is the depositor (ERC-4626 passes msg.sender); nonReentrant
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override nonReentrant {
        if (receiver == address(this)) revert VaultSharesToTheVault();
        IERC20(asset()).safeTransferFrom(caller, address(this), assets);
        registry.stake(assets);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    /// @dev Share transfers claim and distribute income (in `_update`), which calls out: guarded.
    function transfer(address to, uint256 value) public override(ERC20, IERC20) nonReentrant returns (bool) {
        if (to == address(this)) revert VaultSharesToTheVault();
        return super.transfer(to, value);
    }

    /// @dev As {transfer}.
    function transferFrom(address from, address to, uint256 value)
        public
        override(ERC20, IERC20)
        nonReentrant
        returns (bool)
    {
        if (to == address(this)) revert VaultSharesToTheVault();
        return super.transferFrom(from, to, value);
    }

    /// @dev Every change of shares (mint, burn, transfer, into or out of escrow) first claims and
    /// distributes the income streamed so far, then settles both sides against it: income follows the
    /// share that earned it. The vault's own balance (escrowed shares) earns nothing.
    function _update(address from, address to, uint256 value) internal override {
        _harvest();
        if (from != address(0) && from != address(this)) _settle(from);
        if (to != address(0) && to != address(this)) _settle(to);
        super._update(from, to, value);
    }

    // ───────────────────────────── Operator ─────────────────────────────

    /// @inheritdoc IProviderVault
    function callMarket(bytes calldata data) external onlyOperator nonReentrant returns (bytes memory) {
        bytes4 selector = bytes4(data);
        if (
            selector != IComputeMarket.createOffer.selector && selector != IComputeMarket.updateOffer.selector
                && selector != IComputeMarket.pauseOffer.selector && selector != IComputeMarket.resumeOffer.selector
                && selector != IComputeMarket.closeOffer.selector && selector != IComputeMarket.cancelSignedOffer.selector
                && selector != IComputeMarket.cancelSignedOffersBelow.selector
        ) revert VaultCallNotAllowed(selector);
        return Address.functionCall(address(market), data);
    }

    /// @notice ERC-1271, for the market only: a signature is the vault's when the market asks
    /// (`msg.sender` is the market, whose SignatureChecker calls this when a signed offer with the vault
    /// as provider is first filled) and the operator made it (an ECDSA signature of the operator's key,
    /// or the operator's own ERC-1271 answer if it is a contract). Anyone else gets 0xffffffff.
    /// @dev Answering every caller would let the operator sign, in the vault's name, whatever another
    /// contract accepts ERC-1271 signatures for: an EIP-3009 `transferWithAuthorization` of a payment
    /// token that checks signatures with ERC-1271 (USDC v2.2 does) would move the backers' income out.
    /// Through the market, a signature can only offer the vault's GPUs, which the operator can already
    /// do through {callMarket}. Off-chain checks ask with `from` set to the market.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return msg.sender == address(market) && SignatureChecker.isValidSignatureNow(operator, hash, signature)
            ? IERC1271.isValidSignature.selector
            : bytes4(0xffffffff);
    }

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function activate(uint256 rentalId) external onlyOperator nonReentrant {
        market.activate(rentalId);
        address token = market.getOffer(market.getRental(rentalId).offerId).paymentToken;
        if (!_isIncomeToken[token]) {
            _isIncomeToken[token] = true;
            _incomeTokens.push(token);
        }
        _prune();
        _tracked.push(rentalId);
        emit RentalTracked(rentalId, token);
    }

    /// @inheritdoc IProviderVault
    function pruneRentals() external nonReentrant {
        _prune();
    }

    /// @inheritdoc IProviderVault
    function updateMetadata(string calldata metadata) external onlyOperator {
        registry.updateMetadata(metadata);
    }

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function proposeCommission(uint256 bps) external onlyOperator nonReentrant {
        if (bps > MAX_COMMISSION_BPS) revert VaultCommissionAboveMax(bps, MAX_COMMISSION_BPS);
        // Income so far is split at the rate it streamed under.
        _harvest();
        uint256 effectiveAt = bps <= _commissionBps ? block.timestamp : block.timestamp + 2 * registry.unbondingPeriod();
        (_pendingBps, _pendingAt, _hasPending) = (uint16(bps), uint40(effectiveAt), true); // safe: bounded
        emit CommissionProposed(bps, effectiveAt);
        _applyCommission();
    }

    // ───────────────────────────── Income ─────────────────────────────

    /// @inheritdoc IProviderVault
    function harvest() external nonReentrant {
        _harvest();
    }

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function withdrawIncome(address token) external nonReentrant returns (uint256 amount) {
        _harvest();
        _settle(msg.sender);
        Book storage book = _books[token];
        amount = _owed[msg.sender][token];
        _owed[msg.sender][token] = 0;
        if (msg.sender == operator) {
            amount += book.commission;
            book.commission = 0;
        }
        if (amount == 0) revert VaultNoIncome(msg.sender, token);
        book.accounted -= uint128(amount); // safe: owed and commission are parts of what is accounted
        IERC20(token).safeTransfer(msg.sender, amount);
        emit IncomeWithdrawn(msg.sender, token, amount);
    }

    /// @inheritdoc IProviderVault
    function incomeOf(address account, address token) external view returns (uint256) {
        uint256 owed = _owed[account][token] + (account == operator ? _books[token].commission : 0);
        if (account == address(this)) return owed;
        return owed + VaultMath.incomeDown(balanceOf(account), _incomePerShare[token] - _paidPerShare[account][token]);
    }

    /// @inheritdoc IProviderVault
    function incomeTokens() external view returns (address[] memory) {
        return _incomeTokens;
    }

    /// @inheritdoc IProviderVault
    function trackedRentals() external view returns (uint256[] memory) {
        return _tracked;
    }

    /// @inheritdoc IProviderVault
    function commission() external view returns (uint256 bps, uint256 pendingBps, uint256 effectiveAt) {
        bps = _commissionBps;
        if (_hasPending) (pendingBps, effectiveAt) = (_pendingBps, _pendingAt);
    }

    // ───────────────────────────── Redemption ─────────────────────────────

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function requestRedeem(uint256 shares, address receiver) external nonReentrant returns (uint256 requestId) {
        if (receiver == address(0)) revert VaultZeroAddress();
        uint256 balance = balanceOf(msg.sender);
        if (shares == 0 || shares > balance) revert VaultInvalidRedeem(shares, balance);
        // The shares go into escrow (settling the owner's income first): from now on they earn nothing.
        _transfer(msg.sender, address(this), shares);
        _escrowed += uint128(shares); // safe: ≤ totalSupply
        uint64 batch = _queuedBatch;
        _batches[batch].shares += shares.toUint128();
        requestId = _nextRequestId++;
        _requests[requestId] =
            Request({ owner: msg.sender, receiver: receiver, shares: shares.toUint128(), batch: batch, claimed: false });
        emit RedeemRequested(requestId, msg.sender, receiver, shares, batch);
    }

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function startBatch() external nonReentrant returns (uint256 batch) {
        if (_unbondingBatch != 0) revert VaultBatchInFlight(_unbondingBatch, _batches[_unbondingBatch].readyAt);
        batch = _queuedBatch;
        Batch storage b = _batches[batch];
        if (b.shares == 0) revert VaultNothingQueued();
        // The batch waits until the stake free of collateral covers it: never partially served.
        uint256 assets = _convertToAssets(b.shares, Math.Rounding.Floor);
        uint256 free = registry.freeStakeOf(address(this));
        if (assets > free) revert VaultRedemptionWaitsForCollateral(assets, free);
        uint256 readyAt = block.timestamp;
        if (assets != 0) {
            registry.requestUnbond(assets);
            readyAt += registry.unbondingPeriod();
        }
        b.readyAt = uint40(readyAt); // safe: timestamps fit 40 bits
        (_unbondingBatch, _queuedBatch) = (uint64(batch), uint64(batch + 1)); // safe: counters
        emit BatchStarted(batch, b.shares, assets, readyAt);
    }

    /// @inheritdoc IProviderVault
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — nonReentrant; it calls only the market, the registry and the vault's own tokens
    function finishBatch() external nonReentrant returns (uint256 batch) {
        batch = _unbondingBatch;
        Batch storage b = _batches[batch];
        if (batch == 0 || block.timestamp < b.readyAt) revert VaultBatchNotReady(batch, b.readyAt);
        // What the batch's shares are worth now: every slash since the request is shared by them too.
        uint256 shares = b.shares;
        uint256 payout = _convertToAssets(shares, Math.Rounding.Floor);
        if (registry.providerOf(address(this)).unbonding != 0) {
            uint256 got = registry.withdrawUnbonded();
            _idle += got.toUint128();
        }
        payout = Math.min(payout, _idle);
        // Effect: the batch's shares leave the supply (after the income so far is distributed, while
        // they are still escrowed: they earn none of it).
        _burn(address(this), shares);
        _escrowed -= uint128(shares); // safe: the batch's shares are escrowed
        b.payout = payout.toUint128();
        b.finished = true;
        _unbondingBatch = 0;
        _idle -= uint128(payout); // safe: payout ≤ _idle
        _reserved += uint128(payout);
        // Interaction: what the batch did not need goes back to the stake.
        uint256 restake = _idle;
        if (restake != 0) {
            _idle = 0;
            registry.stake(restake);
        }
        emit BatchFinished(batch, shares, payout, restake);
    }

    /// @inheritdoc IProviderVault
    function claimRedemption(uint256 requestId) external nonReentrant returns (uint256 assets) {
        Request storage q = _requests[requestId];
        Batch storage b = _batches[q.batch];
        if (!b.finished || q.claimed) revert VaultRequestNotClaimable(requestId, q.batch);
        q.claimed = true;
        assets = VaultMath.shareOfDown(b.payout, q.shares, b.shares);
        _reserved -= uint128(assets); // safe: Σ shares of a batch's requests = its shares, rounded down
        IERC20(asset()).safeTransfer(q.receiver, assets);
        emit RedemptionClaimed(requestId, q.receiver, assets);
    }

    /// @inheritdoc IProviderVault
    function requestOf(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IProviderVault
    function batchOf(uint256 batch) external view returns (Batch memory) {
        return _batches[batch];
    }

    /// @inheritdoc IProviderVault
    function batches() external view returns (uint256 queued, uint256 unbonding) {
        return (_queuedBatch, _unbondingBatch);
    }

    /// @inheritdoc IProviderVault
    function nextRequestId() external view returns (uint256) {
        return _nextRequestId;
    }

    // ───────────────────────────── Internal ─────────────────────────────

    /// @dev Claims every tracked stream (the market skips those with nothing to claim), then distributes
    /// whatever income arrived in each token since the last distribution.
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events — reached only from nonReentrant entry points
    function _harvest() internal {
        // slither-disable-next-line unused-return — the income is measured by what arrives, per token
        if (_tracked.length != 0) market.claimMany(_tracked);
        uint256 tokens = _incomeTokens.length;
        for (uint256 i; i < tokens; ++i) {
            _distribute(_incomeTokens[i]);
        }
        // A change that has come due applies from here on: what streamed before this harvest was
        // shared at the rate it streamed under (for a rise, the backers' side of the rounding).
        _applyCommission();
    }

    /// @dev Drops the tracked rentals whose stream is closed for good, or frozen by a dispute (whose
    /// ruling pays by push): they have nothing left to claim. One market read per tracked rental.
    // slither-disable-next-line calls-loop — one view call per tracked rental
    function _prune() internal {
        for (uint256 i = _tracked.length; i > 0; --i) {
            if (!Rental.hasOpenStream(market.getRental(_tracked[i - 1]).status)) {
                _tracked[i - 1] = _tracked[_tracked.length - 1];
                _tracked.pop();
            }
        }
    }

    /// @dev Shares what arrived in `token` since the last distribution: the commission to the operator,
    /// the rest per earning share (shares not in escrow). With no earning share, all of it is commission.
    // slither-disable-next-line calls-loop — one balance read per payment token the vault earns in (an allowlist)
    function _distribute(address token) internal {
        uint256 held = IERC20(token).balanceOf(address(this));
        if (token == asset()) held -= _idle + _reserved; // GPUC principal is not income
        Book storage book = _books[token];
        uint256 received = held - book.accounted;
        // slither-disable-next-line incorrect-equality — internal accounting, not a balance
        if (received == 0) return;
        uint256 earning = totalSupply() - _escrowed;
        uint256 toOperator = earning == 0 ? received : VaultMath.bpsOfDown(received, _commissionBps);
        (book.accounted, book.commission) = (held.toUint128(), (book.commission + toOperator).toUint128());
        if (earning != 0) _incomePerShare[token] += VaultMath.perShareDown(received - toOperator, earning);
        emit IncomeDistributed(token, received, toOperator, earning);
    }

    /// @dev Books `account`'s income since its last settlement, in every token.
    function _settle(address account) internal {
        uint256 shares = balanceOf(account);
        uint256 tokens = _incomeTokens.length;
        for (uint256 i; i < tokens; ++i) {
            address token = _incomeTokens[i];
            uint256 ips = _incomePerShare[token];
            uint256 paid = _paidPerShare[account][token];
            if (ips == paid) continue;
            _paidPerShare[account][token] = ips;
            if (shares != 0) _owed[account][token] += VaultMath.incomeDown(shares, ips - paid);
        }
    }

    function _applyCommission() internal {
        if (_hasPending && block.timestamp >= _pendingAt) {
            _commissionBps = _pendingBps;
            _hasPending = false;
            emit CommissionChanged(_pendingBps);
        }
    }
}
