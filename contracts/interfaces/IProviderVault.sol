// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC4626 } from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import { IERC1271 } from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import { IComputeMarketErrors } from "./IComputeMarketErrors.sol";

/// @title IProviderVault
/// @notice A provider backed by investors: an ERC-4626 vault over GPUC whose shares investors get for
/// their deposits. The vault is the provider in the registry: it stakes every deposit, so its
/// collateral capacity grows with each one, and its operator runs the business through it (offers,
/// activations). Rental income arrives here in every payment token; the operator's commission is
/// taken from it and the rest is shared among the shareholders pro rata to the shares they held
/// while it streamed. A slash of the vault's stake lowers every share's value by the same ratio.
///
/// **When income is earned.** Income accrues to the holders of the moment it *streams*, not the
/// moment someone claims it: every change of shares (deposit, transfer, redemption request, burn)
/// first claims everything the vault's running rentals have accrued and distributes it to the
/// holders before the change. A deposit made just before a large claim therefore gets nothing of
/// what streamed before it. Lump sums that do not stream — a dispute's ruling, a bond, a donation —
/// count as income at the next distribution after they arrive.
///
/// **Redemption** is asynchronous, because the stake must unbond: {requestRedeem} moves the shares
/// into escrow (they stop earning income at once, and still bear any slash until paid); the
/// requests queue into a batch, which anyone starts unbonding with {startBatch} once the vault's
/// free stake covers it (the batch waits while collateral backs running rentals; it is never
/// partially served) and finishes with {finishBatch} after the registry's unbonding period; then
/// each request collects its share of the batch's payout with {claimRedemption}. The synchronous
/// ERC-4626 `withdraw` and `redeem` revert.
/// The vault's ABI also declares the market's and the registry's errors ({IComputeMarketErrors}): one
/// raised inside a call the vault makes for its operator (an offer refused, a rental not Pending)
/// decodes from the vault's ABI alone.
/// The vault signs as a provider through ERC-1271: a signature is the vault's when its operator made it
/// ({isValidSignature}), so the operator publishes signed offers for the vault (docs/signed-offers.md).
interface IProviderVault is IERC4626, IERC1271, IComputeMarketErrors {
    /// @notice A redemption request: shares in escrow for `receiver`, in batch `batch`.
    struct Request {
        address owner;
        address receiver;
        uint128 shares;
        uint64 batch;
        bool claimed;
    }

    /// @notice A batch of redemption requests: its shares, and once finished what they are paid.
    struct Batch {
        uint128 shares; // escrowed shares of every request in the batch
        uint128 payout; // GPUC the batch's shares were worth when it finished (0 until then)
        uint40 readyAt; // when the unbonding it started is withdrawable (0 while queued)
        bool finished;
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice The operator's commission changes to `bps` from `effectiveAt` (at once for a cut).
    event CommissionProposed(uint256 bps, uint256 effectiveAt);
    /// @notice A proposed commission took effect.
    event CommissionChanged(uint256 bps);
    /// @notice `received` of `token` arrived since the last distribution: `commission` to the operator,
    /// the rest shared among `earningShares` (shares not in redemption).
    event IncomeDistributed(address indexed token, uint256 received, uint256 commission, uint256 earningShares);
    /// @notice `account` withdrew its income in `token`.
    event IncomeWithdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice The vault activated a rental; its stream's income is claimed at every distribution.
    event RentalTracked(uint256 indexed rentalId, address indexed token);
    /// @notice `owner` asked to redeem `shares` for `receiver`; they are in escrow in `batch`.
    event RedeemRequested(uint256 indexed requestId, address indexed owner, address receiver, uint256 shares, uint256 batch);
    /// @notice A batch started unbonding `assets` of stake, withdrawable at `readyAt`.
    event BatchStarted(uint256 indexed batch, uint256 shares, uint256 assets, uint256 readyAt);
    /// @notice A batch finished: its `shares` were burned for `payout` GPUC (less than it unbonded if the
    /// vault was slashed meanwhile; the rest went back to the stake).
    event BatchFinished(uint256 indexed batch, uint256 shares, uint256 payout, uint256 restaked);
    /// @notice A request collected its share of its batch's payout.
    event RedemptionClaimed(uint256 indexed requestId, address indexed receiver, uint256 assets);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice Only the vault's operator runs its business.
    error VaultNotOperator(address caller);
    /// @notice {callMarket} with a function other than the market's offer functions.
    error VaultCallNotAllowed(bytes4 selector);
    /// @notice A zero address where an account or contract is needed.
    error VaultZeroAddress();
    /// @notice A commission above MAX_COMMISSION_BPS.
    error VaultCommissionAboveMax(uint256 bps, uint256 maxBps);
    /// @notice ERC-4626's synchronous withdraw and redeem: use {requestRedeem} (the stake must unbond).
    error VaultRedeemIsAsync();
    /// @notice A redemption of zero shares, or more shares than the owner holds.
    error VaultInvalidRedeem(uint256 shares, uint256 balance);
    /// @notice {startBatch} while a batch is unbonding (the registry keeps one unbonding request per provider).
    error VaultBatchInFlight(uint256 batch, uint256 readyAt);
    /// @notice {startBatch} with no request queued.
    error VaultNothingQueued();
    /// @notice {startBatch} while the vault's free stake does not cover the batch (collateral backs rentals).
    error VaultRedemptionWaitsForCollateral(uint256 needed, uint256 free);
    /// @notice {finishBatch} before the unbonding period has passed, or with no batch unbonding.
    error VaultBatchNotReady(uint256 batch, uint256 readyAt);
    /// @notice {claimRedemption} of a request whose batch has not finished, or that was already claimed.
    error VaultRequestNotClaimable(uint256 requestId, uint256 batch);
    /// @notice {withdrawIncome} with nothing owed.
    error VaultNoIncome(address account, address token);
    /// @notice Shares sent or minted to the vault's own address (only a redemption request puts them there).
    error VaultSharesToTheVault();

    // ───────────────────────────── Operator ─────────────────────────────

    /// @notice The address that runs the vault's business, fixed at creation.
    function operator() external view returns (address);

    /// @notice Runs one of the market's offer functions as the vault (the provider): `data` is the
    /// calldata of {IComputeMarket-createOffer}, `updateOffer`, `pauseOffer`, `resumeOffer`,
    /// `closeOffer`, `cancelSignedOffer` or `cancelSignedOffersBelow`, and anything else is refused.
    /// Only the operator. Returns the market's return data.
    function callMarket(bytes calldata data) external returns (bytes memory);

    /// @notice Activates a rental of the vault's offers and tracks its stream. Only the operator.
    function activate(uint256 rentalId) external;

    /// @notice Replaces the vault's metadata in the registry. Only the operator.
    function updateMetadata(string calldata metadata) external;

    /// @notice Proposes a new commission: a cut takes effect at once; a rise after the notice period
    /// (twice the registry's unbonding period: time for a backer to queue a redemption and be paid,
    /// unless its batch waits for collateral), from the first distribution at or after it (what was
    /// harvested before is shared at the old rate).
    function proposeCommission(uint256 bps) external;

    // ───────────────────────────── Income ─────────────────────────────

    /// @notice Claims every tracked rental's accrued stream and distributes all income that arrived.
    /// Anyone may call; the money only goes to the vault.
    function harvest() external;

    /// @notice Sends `msg.sender` its income in `token` (the operator: its commission too).
    function withdrawIncome(address token) external returns (uint256 amount);

    /// @notice Stops tracking rentals whose stream is closed (or frozen by a dispute): each costs a
    /// little in every harvest until then. Anyone may call; {activate} does it too.
    function pruneRentals() external;

    /// @notice What `account` can withdraw in `token`, as of the last distribution (a {harvest} first
    /// distributes what has streamed since).
    function incomeOf(address account, address token) external view returns (uint256);

    /// @notice The payment tokens the vault has earned in.
    function incomeTokens() external view returns (address[] memory);

    /// @notice The rentals whose streams the vault claims at every distribution.
    function trackedRentals() external view returns (uint256[] memory);

    /// @notice The commission the next distribution uses, and a proposed one with when it takes effect
    /// (0, 0 if none; a due change applies after the next distribution).
    function commission() external view returns (uint256 bps, uint256 pendingBps, uint256 effectiveAt);

    // ───────────────────────────── Redemption ─────────────────────────────

    /// @notice Moves `shares` of `msg.sender` into escrow for `receiver`, queued in the next batch.
    function requestRedeem(uint256 shares, address receiver) external returns (uint256 requestId);

    /// @notice Starts unbonding the queued batch. Anyone may call.
    function startBatch() external returns (uint256 batch);

    /// @notice Finishes the unbonding batch: withdraws it, burns its shares, fixes its payout. Anyone.
    function finishBatch() external returns (uint256 batch);

    /// @notice Pays a request its share of its finished batch's payout. Anyone; paid to its receiver.
    function claimRedemption(uint256 requestId) external returns (uint256 assets);

    function requestOf(uint256 requestId) external view returns (Request memory);

    function batchOf(uint256 batch) external view returns (Batch memory);

    /// @notice The batch requests join now, and the batch unbonding (0 if none).
    function batches() external view returns (uint256 queued, uint256 unbonding);

    /// @notice The id the next redemption request gets (requests are numbered from 1).
    function nextRequestId() external view returns (uint256);
}
