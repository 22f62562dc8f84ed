// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Cluster } from "../types/Cluster.sol";
import { Offer } from "../types/Offer.sol";
import { Rental } from "../types/Rental.sol";
import { IComputeMarketErrors } from "./IComputeMarketErrors.sol";
import { IComputeMarketEvents } from "./IComputeMarketEvents.sol";

/// @title IComputeMarket
/// @notice GPU offers, rentals and the streaming escrow of gpumarket.
///
/// A provider lists GPUs in an offer; a renter (or a third-party payer for it) opens a rental and
/// pays the whole cost up front into this contract, and the provider's stake-per-GPU × GPUs is locked
/// in the {IProviderRegistry} as collateral. Once the provider activates the rental, the deposit
/// streams to the provider second by second; what has accrued can be claimed at any time (by anyone,
/// always paid to the provider), and whatever has not accrued goes back to the payer when the renter
/// stops early. Protocol and broker fees come out of the provider's gross at claim time and accrue
/// here for the treasury and brokers to withdraw. The renter pays exactly the quoted price.
///
/// Pause stops new offers, rentals and extensions only: claim, stop, cancel, release, disputes,
/// rulings and withdrawals always work. Events and errors are declared in {IComputeMarketEvents} and
/// {IComputeMarketErrors}; the market also offers OpenZeppelin's `multicall(bytes[])`, which runs
/// several of these calls atomically with `msg.sender` preserved.
interface IComputeMarket is IComputeMarketEvents, IComputeMarketErrors {
    /// @notice A provider's track record, updated by settlement, no-shows and disputes. One slot.
    struct Reputation {
        uint64 gpuSecondsServed; // GPU × seconds of rentals settled or won in dispute (÷ 3600 = GPU-hours)
        uint32 rentalsCompleted; // rentals settled, or resolved without a loss
        uint32 disputesLost; // rulings that slashed, or paid the provider less than had accrued
        uint128 amountSlashed; // GPUC slashed in total (no-shows and disputes)
    }

    // ───────────────────────────── Offers (provider) ─────────────────────────────

    /// @notice Lists GPUs for rent.
    /// @dev Emits {OfferCreated}.
    ///
    /// Requirements:
    /// - not paused; `msg.sender` is an active provider in the registry (bonded ≥ minStake).
    /// - `gpuModel` and `region` are 1 to 32 bytes; `paymentToken` is allowlisted; price > 0;
    ///   gpusOffered > 0; 1 ≤ minHours ≤ maxHours ≤ MAX_RENTAL_HOURS; maxBrokerBps ≤ MAX_BROKER_FEE_BPS;
    ///   at most 4 tiers, strictly increasing in GPU-hours and discount, discount ≤ MAX_DISCOUNT_BPS.
    function createOffer(Offer.Params calldata params) external returns (uint256 offerId);

    /// @notice Changes the terms of an offer for future rentals. Running rentals keep their terms.
    /// @dev Emits {OfferUpdated}.
    ///
    /// Requirements:
    /// - `msg.sender` is the offer's provider; the offer is not Closed.
    /// - the same bounds as {createOffer}, and `gpusOffered` ≥ the GPUs in use.
    function updateOffer(
        uint256 offerId,
        uint96 pricePerGpuHour,
        uint16 gpusOffered,
        uint16 minHours,
        uint16 maxHours,
        address reservedFor,
        uint16 maxBrokerBps,
        Offer.Tier[] calldata tiers
    ) external;

    /// @notice Stops new rentals and extensions on an Active offer. Emits {OfferStatusChanged}.
    function pauseOffer(uint256 offerId) external;

    /// @notice Re-opens a Paused offer. Emits {OfferStatusChanged}.
    function resumeOffer(uint256 offerId) external;

    /// @notice Closes an offer for good; running rentals are unaffected. Emits {OfferStatusChanged}.
    function closeOffer(uint256 offerId) external;

    // ───────────────────────────── Signed offers and clusters ─────────────────────────────

    /// @notice {openRentalFor} on an offer its provider signed off-chain instead of storing
    /// ({Offer-Signed}; EIP-712 in this market's domain, {eip712Domain}). Anyone may fill it for
    /// `renter` (`msg.sender` pays; refunds go back to it, as for {openRentalFor}). The first fill
    /// checks the signature (ECDSA, or ERC-1271 for a contract provider such as a vault) and the
    /// terms as {createOffer} would, and records the offer under a new id above SIGNED_OFFER_ID_BASE
    /// ({SignedOfferRecorded} with {OfferCreated}); later fills find that record by the offer's hash,
    /// so capacity is counted per signed offer across fills and comes back when rentals end. From then
    /// on its rentals are ordinary rentals of that offer.
    /// @dev Emits {RentalOpened}.
    ///
    /// Requirements: those of {openRentalFor} on the recorded offer, and
    /// - not cancelled ({MarketSignedOfferCancelled}), `block.timestamp` ≤ expiry
    ///   ({MarketSignedOfferExpired}), nonce ≥ the provider's floor ({MarketSignedOfferNonceCancelled});
    /// - at the first fill, a valid signature by `offer.provider` ({MarketInvalidSignature}) and terms
    ///   within {createOffer}'s bounds; a recorded offer's signature was checked when it was recorded.
    function openSignedRental(
        Offer.Signed calldata offer,
        bytes calldata signature,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 rentalId);

    /// @notice Opens one rental per part for `renter`, all for `hoursPaid` hours, across on-chain and
    /// signed offers (each part as {openRentalFor} or {openSignedRental} would open it, without the
    /// per-offer price guard), and pulls their total from `msg.sender` once. All open or none do.
    /// @param maxTotalCost The most the whole cluster may cost ({MarketClusterCostAboveMax}).
    /// @return firstRentalId The first of the cluster's consecutive rental ids (on-chain parts first).
    /// @dev Emits {RentalOpened} per part, then {ClusterBooked}.
    ///
    /// Requirements: those of each part, and at least one part ({MarketClusterEmpty}), one payment
    /// token for all ({MarketClusterTokenMismatch}), a total within `maxTotalCost`.
    function bookCluster(
        address renter,
        uint256 hoursPaid,
        Cluster.Part[] calldata parts,
        Cluster.SignedPart[] calldata signedParts,
        uint256 maxTotalCost,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 firstRentalId, uint256 totalCost);

    /// @notice The provider cancels one signed offer: no fill from now on, and its record (if it was
    /// filled) is Closed, so its rentals cannot be extended. Running rentals go on.
    /// @dev Emits {SignedOfferCancelled}. Works while paused.
    function cancelSignedOffer(Offer.Signed calldata offer) external;

    /// @notice The provider cancels every signed offer of its with a nonce below `nonce` (no fill from
    /// now on; records already made stay as they are: close them with {closeOffer}).
    /// @dev Emits {SignedNonceFloorRaised}. Works while paused.
    function cancelSignedOffersBelow(uint256 nonce) external;

    /// @notice The EIP-712 digest its provider signs for `offer` in this market's domain: the key of
    /// {signedOfferOf}.
    function hashSignedOffer(Offer.Signed calldata offer) external view returns (bytes32);

    /// @notice A signed offer's record id (0 until its first fill) and whether it was cancelled
    /// (one by one; see {signedNonceFloor} for the floor).
    function signedOfferOf(bytes32 offerHash) external view returns (uint256 offerId, bool cancelled);

    /// @notice Signed offers of `provider` with a nonce below this are cancelled.
    function signedNonceFloor(address provider) external view returns (uint256);

    // ───────────────────────────── Rentals ─────────────────────────────

    /// @notice Rents `gpus` GPUs of an offer for `hoursPaid` hours, paid in full by `msg.sender` now.
    /// @param maxPricePerGpuHour Guard against the provider repricing in front of this call: the
    /// effective price per GPU-hour (the hourly rate after any volume discount, ÷ gpus, rounded up)
    /// must not exceed it, so neither a price rise nor a removed discount tier can surprise the renter.
    /// @param broker Optional intermediary paid `brokerBps` of the provider's gross (0 for none).
    /// @dev Emits {RentalOpened}. Locks stake-per-GPU × `gpus` of the provider's stake.
    ///
    /// Requirements:
    /// - not paused; the offer is Active, not reserved for someone else, not the caller's own;
    /// - `gpus` > 0 ({MarketInvalidGpuCount}) and within the free capacity; minHours ≤ `hoursPaid` ≤ maxHours;
    /// - effective price per GPU-hour ≤ `maxPricePerGpuHour`; the payment token is still allowlisted;
    /// - `brokerBps` ≤ the offer's maxBrokerBps, and 0 without a broker;
    /// - the provider has enough free stake; the payer has approved the cost, and the token
    ///   delivers exactly what is asked;
    /// - the cost fits 112 bits (SafeCast reverts above 2^112 − 1 base units).
    function openRental(
        uint256 offerId,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 rentalId);

    /// @notice {openRental} paid by `msg.sender` for `renter`: the renter uses and controls the
    /// rental, every refund goes back to `msg.sender` (the payer).
    function openRentalFor(
        address renter,
        uint256 offerId,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 rentalId);

    /// @notice The provider confirms access was handed over; streaming starts now.
    /// @dev Emits {RentalActivated}.
    ///
    /// Requirements:
    /// - the rental is Pending; `msg.sender` is its provider; `block.timestamp` ≤ activation deadline.
    function activate(uint256 rentalId) external;

    /// @notice Pays the provider what has accrued and not been claimed, less fees. Anyone may call.
    /// @dev Emits {RentalClaimed}.
    ///
    /// Requirements:
    /// - the rental is Active or Ended, and something has accrued since the last claim.
    function claim(uint256 rentalId) external returns (uint256 gross);

    /// @notice {claim} over many rentals; rentals with nothing to claim (or not claimable) are skipped. Consecutive
    /// rentals with the same provider and token are paid in one transfer.
    function claimMany(uint256[] calldata rentalIds) external returns (uint256 gross);

    /// @notice Adds `hoursAdded` hours to an Active rental at the rental's own hourly rate.
    /// @dev Emits {RentalExtended}.
    ///
    /// Requirements:
    /// - not paused; `msg.sender` is the renter and paid for the rental itself (no third-party payer);
    /// - the rental is Active and has not reached its end; its offer is Active;
    /// - hours paid in total stay ≤ the offer's maxHours; the token is still allowlisted.
    function extend(uint256 rentalId, uint256 hoursAdded) external returns (uint256 cost);

    /// @notice Stops an Active rental early; the part that has not been used goes back to the payer
    /// at once, and the GPUs go back to the offer. The time used is billed at the list rate (a volume
    /// discount rewards the committed GPU-hours, so stopping early forfeits it), rounded up once, at
    /// least one hour at the rental's rate, never more than was paid: see {RentalMath-stopChargeUp}.
    /// The billed total is accrued in full at once (the provider may claim all of it).
    /// @dev Emits {RentalStopped}. The charge is rounded up (against the caller, the renter).
    ///
    /// Requirements:
    /// - the rental is Active and has not reached its end; `msg.sender` is its renter.
    function stopRental(uint256 rentalId) external returns (uint256 refund);

    /// @notice Cancels a Pending rental: the whole deposit goes back to the payer. After the activation
    /// deadline (a no-show), noShowPenaltyBps of the collateral is also slashed to the renter.
    /// @dev Emits {RentalCancelled}.
    ///
    /// Requirements:
    /// - the rental is Pending; `msg.sender` is its renter.
    function cancelPending(uint256 rentalId) external returns (uint256 refund);

    /// @notice Moves a rental on as far as time allows; anyone may call, money only goes to its owners.
    /// Payouts to an address that the token refuses are credited instead (see {withdrawCredits}), so
    /// no recipient can block a release or a ruling.
    /// - Pending past the activation deadline: cancelled as a no-show (as in {cancelPending}).
    /// - Active past its end: capacity goes back to the offer (→ Ended).
    /// - Ended (or Active) past end + disputeWindow: the provider is paid the rest, the collateral is
    ///   unlocked (→ Settled).
    /// @dev Emits {RentalCancelled}, {RentalEnded} and/or {RentalSettled}.
    function release(uint256 rentalId) external;

    // ───────────────────────────── Disputes ─────────────────────────────

    /// @notice The renter disputes a rental it was not served on. A running rental ends at once exactly
    /// as {stopRental} would end it (the time used is billed, the unused part goes back to the payer,
    /// the GPUs go back to the offer), so a dispute is never a cheaper exit than a stop. Everything
    /// billed that the provider has not claimed is frozen, and the collateral stays locked, until a
    /// ruling. The renter posts a bond in the payment token, {RentalMath-disputeBondUp}: the billed
    /// hourly rate × (arbitrationTimeout + disputeWindow) / disputeWindow; a renter who paid for the
    /// rental itself has it taken out of its refund first. The bond goes back to the renter if the
    /// ruling goes against the provider, and to the provider otherwise. The bond and the ruling's
    /// deadline (now + arbitrationTimeout) are fixed here.
    /// @param evidenceHash Hash of the off-chain evidence (logs, benchmarks) for the arbiter.
    /// @return bond What was taken from the renter.
    /// @dev Emits {RentalDisputed} (and {PaymentDeferred} if the refund cannot be pushed).
    ///
    /// Requirements:
    /// - `msg.sender` is the renter, has approved the market for the bond (less its refund when it is
    ///   the payer), and the token delivers it;
    /// - the rental is Active, or Ended, and `block.timestamp` < endsAt + disputeWindow.
    function dispute(uint256 rentalId, bytes32 evidenceHash) external returns (uint256 bond);

    /// @notice The arbiter rules on a dispute: `providerShareBps` of the frozen escrow goes to the
    /// provider (as gross, so fees apply as on a claim), the rest back to the payer; `slashAmount` of
    /// the rental's collateral is slashed, slashTreasuryBps of it to the treasury and the rest to the
    /// renter; the remaining collateral unlocks. If the ruling goes against the provider
    /// (`providerShareBps` < 10000, or a slash) the provider lost: the dispute bond goes back to the
    /// renter; otherwise it goes to the provider. The arbiter can never move more than the frozen
    /// escrow, this rental's collateral and its bond, and can only rule before the arbitration timeout.
    /// @dev Emits {DisputeResolved}.
    ///
    /// Requirements:
    /// - `msg.sender` is the arbiter; the rental is Disputed;
    /// - `block.timestamp` < the dispute's timeoutAt (disputedAt + the arbitration timeout at the dispute);
    /// - `providerShareBps` ≤ 10000 and `slashAmount` ≤ the rental's collateral.
    function resolveDispute(uint256 rentalId, uint256 providerShareBps, uint256 slashAmount) external;

    /// @notice Applies the default ruling to a dispute the arbiter left unruled: the provider is paid
    /// the whole frozen escrow (exactly what a stop at the dispute's second would have billed, less
    /// what it had claimed), no slash, and the dispute bond goes to the provider. Anyone may call.
    /// @dev Emits {DisputeResolved} with `byDefault` = true.
    ///
    /// Requirements:
    /// - the rental is Disputed and `block.timestamp` ≥ the dispute's timeoutAt.
    function applyDefaultRuling(uint256 rentalId) external;

    // ───────────────────────────── Fees ─────────────────────────────

    /// @notice Sends the protocol fees accrued in `token` to the treasury. Anyone may call.
    function withdrawProtocolFees(address token) external returns (uint256 amount);

    /// @notice Sends the caller's credits in `token` to the caller: broker fees, and any payout that
    /// could not be pushed to it (see {PaymentDeferred}).
    function withdrawCredits(address token) external returns (uint256 amount);

    // ───────────────────────────── Owner ─────────────────────────────

    /// @notice Protocol fee on providers' gross for rentals opened from now on, ≤ MAX_PROTOCOL_FEE_BPS.
    function setProtocolFee(uint256 protocolFeeBps) external;

    function setTreasury(address treasury) external;

    function setArbiter(address arbiter) external;

    /// @notice Adds or removes a payment token. Removal stops new rentals and extensions in it only.
    function setPaymentToken(address token, bool allowed) external;

    /// @notice Collateral per GPU for rentals opened from now on, ≤ MAX_STAKE_PER_GPU.
    function setStakePerGpu(uint256 stakePerGpu) external;

    /// @notice Time a provider has to activate, for rentals opened from now on.
    function setActivationWindow(uint256 activationWindow) external;

    /// @notice Time after a rental ends during which it can be disputed and its collateral stays locked.
    function setDisputeWindow(uint256 disputeWindow) external;

    /// @notice Share of collateral (bps) slashed to the renter on a no-show.
    function setNoShowPenalty(uint256 noShowPenaltyBps) external;

    /// @notice Time the arbiter has to rule on a dispute before anyone may apply the default ruling;
    /// fixed per dispute when it is raised.
    function setArbitrationTimeout(uint256 arbitrationTimeout) external;

    /// @notice Share (bps) of a dispute slash paid to the treasury; the rest goes to the renter.
    function setSlashTreasuryShare(uint256 slashTreasuryBps) external;

    function pause() external;

    function unpause() external;

    // ───────────────────────────── Views ─────────────────────────────

    function getOffer(uint256 offerId) external view returns (Offer.Record memory);

    function offerLabels(uint256 offerId) external view returns (string memory gpuModel, string memory region);

    function offerTiers(uint256 offerId) external view returns (Offer.Tier[] memory);

    function getRental(uint256 rentalId) external view returns (Rental.Record memory);

    /// @notice The payer of a rental (the renter unless a third party funded it).
    function payerOf(uint256 rentalId) external view returns (address);

    /// @notice What the stream has accrued by now (gross, claimed part included), for every rental that
    /// was activated: for a Disputed rental the billed total (its unclaimed part frozen), for a
    /// Resolved one what the ruling paid in total. 0 for a rental never activated.
    function accruedOf(uint256 rentalId) external view returns (uint256);

    /// @notice What {claim} would pay out now (gross); 0 unless the rental is Active or Ended.
    function claimableOf(uint256 rentalId) external view returns (uint256);

    /// @notice Exactly what {stopRental} (Active, before its end) or {cancelPending} (Pending) would
    /// refund at this second; 0 otherwise.
    function refundableOf(uint256 rentalId) external view returns (uint256);

    /// @notice When {release} can next move the rental on: for a Pending rental the first second it can
    /// cancel a no-show (activationDeadline + 1); for an Active or Ended one when it settles (endsAt +
    /// disputeWindow; an Active rental's GPUs are already released from endsAt); 0 for any other status.
    function releasableAt(uint256 rentalId) external view returns (uint256);

    /// @notice The cost of renting `gpus` × `hoursPaid` on an offer now, the discount it earns and
    /// the hourly rate the rental would stream at. Reverts {MarketOfferNotFound},
    /// {MarketInvalidGpuCount} (gpus outside [1, 65535]) or {MarketInvalidHours} (hours outside
    /// [1, MAX_RENTAL_HOURS]); the offer's own capacity and hour bounds are checked at open.
    function quote(uint256 offerId, uint256 gpus, uint256 hoursPaid)
        external
        view
        returns (uint256 cost, uint256 discountBps, uint256 hourlyRate);

    /// @notice A dispute as the arbiter sees it: the frozen escrow (billed and unclaimed; the default
    /// ruling pays exactly this to the provider), the renter's bond, the collateral at stake, when it
    /// was raised and when the default ruling becomes available. Zeros (but `disputedAt`) unless Disputed.
    function disputeOf(uint256 rentalId)
        external
        view
        returns (uint256 frozen, uint256 bond, uint256 collateral, uint256 disputedAt, uint256 timeoutAt);

    /// @notice A provider's on-chain track record, in one call.
    function reputationOf(address provider) external view returns (Reputation memory);

    function protocolFees(address token) external view returns (uint256);

    /// @notice What `account` can withdraw in `token` with {withdrawCredits}.
    function credits(address account, address token) external view returns (uint256);

    function isPaymentToken(address token) external view returns (bool);
}
