// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "../types/Offer.sol";

/// @title IComputeMarketEvents
/// @notice Every event the market and its modules emit, in one place. Ids and parties are indexed;
/// each event is emitted right after the state change it reports.
interface IComputeMarketEvents {
    // ── offers ──

    /// @notice A provider listed GPUs (`tiers` packed as {TierMath-pack} packs them).
    event OfferCreated(
        uint256 indexed offerId,
        address indexed provider,
        address indexed paymentToken,
        string gpuModel,
        string region,
        uint256 pricePerGpuHour,
        uint256 gpusOffered,
        uint256 minHours,
        uint256 maxHours,
        address reservedFor,
        uint256 maxBrokerBps,
        uint256 tiers
    );
    /// @notice A provider changed an offer's terms for future rentals.
    event OfferUpdated(
        uint256 indexed offerId,
        uint256 pricePerGpuHour,
        uint256 gpusOffered,
        uint256 minHours,
        uint256 maxHours,
        address reservedFor,
        uint256 maxBrokerBps,
        uint256 tiers
    );
    /// @notice A provider paused, resumed or closed an offer.
    event OfferStatusChanged(uint256 indexed offerId, Offer.Status status);

    /// @notice A signed offer was filled for the first time and recorded as offer `offerId` (its terms
    /// in the {OfferCreated} emitted with it).
    event SignedOfferRecorded(
        uint256 indexed offerId, bytes32 indexed offerHash, address indexed provider, uint256 expiry, uint256 nonce
    );
    /// @notice A provider cancelled a signed offer (and closed its record `offerId`, if it had one).
    event SignedOfferCancelled(bytes32 indexed offerHash, address indexed provider, uint256 offerId);
    /// @notice A provider cancelled every signed offer with a nonce below `nonceFloor`.
    event SignedNonceFloorRaised(address indexed provider, uint256 nonceFloor);
    /// @notice A cluster was booked: `rentals` rentals from `firstRentalId` on (consecutive ids), for
    /// `renter`, paid by `payer` in one pull of `totalCost`.
    event ClusterBooked(
        uint256 indexed firstRentalId,
        address indexed renter,
        address indexed payer,
        address token,
        uint256 rentals,
        uint256 totalCost
    );

    // ── rentals ──

    /// @notice A rental was opened and paid in full into escrow; the collateral was locked. It names every
    /// party and the token, so that an indexer needs no other event to follow the rental's money.
    event RentalOpened(
        uint256 indexed rentalId,
        uint256 indexed offerId,
        address indexed renter,
        address payer,
        address provider,
        address paymentToken,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 deposit,
        uint256 collateral,
        address broker,
        uint256 brokerBps
    );
    /// @notice The provider activated a rental: its stream runs from `startedAt` to `endsAt`.
    event RentalActivated(uint256 indexed rentalId, uint256 startedAt, uint256 endsAt);
    /// @notice What had accrued was paid out: `gross` = `providerNet` + `protocolFee` + `brokerFee`.
    event RentalClaimed(
        uint256 indexed rentalId, address indexed provider, uint256 gross, uint256 providerNet, uint256 protocolFee, uint256 brokerFee
    );
    /// @notice The renter paid `cost` for `hoursAdded` more hours; the stream now ends at `endsAt`.
    event RentalExtended(uint256 indexed rentalId, uint256 hoursAdded, uint256 cost, uint256 endsAt);
    /// @notice The renter stopped a running rental; `refund` went back to the payer.
    event RentalStopped(uint256 indexed rentalId, uint256 stoppedAt, uint256 refund);
    /// @notice A Pending rental was cancelled: `refund` to the payer, `penalty` slashed to the renter (no-show).
    event RentalCancelled(uint256 indexed rentalId, uint256 refund, uint256 penalty);
    /// @notice A rental's paid time ran out and `release` gave its GPUs back.
    event RentalEnded(uint256 indexed rentalId);
    /// @notice A rental settled after its dispute window: the rest paid, `collateralUnlocked` freed.
    event RentalSettled(uint256 indexed rentalId, uint256 collateralUnlocked);

    // ── disputes ──

    /// @notice The renter disputed a rental. `frozen` is the billed, unclaimed escrow held until a
    /// ruling; `refund` what went back to the payer at once (the unused part of a rental disputed while
    /// running, as a stop would refund it); `bond` what the renter posted.
    event RentalDisputed(
        uint256 indexed rentalId, address indexed renter, bytes32 evidenceHash, uint256 frozen, uint256 refund, uint256 bond
    );
    /// @notice A dispute was ruled (`byDefault`: by the default ruling after the timeout). Every amount
    /// that moved: the frozen escrow split into the provider's gross (net + fees) and the refund to the
    /// payer, the slash split into the renter's and the treasury's parts (`treasury`: who got the
    /// treasury's part), and the bond paid to `bondTo`.
    event DisputeResolved(
        uint256 indexed rentalId,
        bool byDefault,
        uint256 providerGross,
        uint256 providerNet,
        uint256 protocolFee,
        uint256 brokerFee,
        uint256 refund,
        uint256 slashToRenter,
        uint256 slashToTreasury,
        address bondTo,
        uint256 bond,
        address treasury
    );

    // ── money owed ──

    /// @notice Protocol fees in `token` were sent to the treasury.
    event ProtocolFeesWithdrawn(address indexed token, address indexed treasury, uint256 amount);
    /// @notice A payout the token refused to push (a blocklisted recipient, say) was credited to `account`.
    /// `rentalId`: the rental it was for (for a {IComputeMarket-claimMany} payout batched over several
    /// rentals of one provider, the last of them; the batch's {RentalClaimed} events name them all).
    event PaymentDeferred(address indexed account, address indexed token, uint256 indexed rentalId, uint256 amount);
    /// @notice `account` withdrew its credits (broker fees, deferred payouts) in `token`.
    event CreditsWithdrawn(address indexed account, address indexed token, uint256 amount);

    // ── governance ──

    /// @notice The protocol fee for rentals opened from now on.
    event ProtocolFeeSet(uint256 protocolFeeBps);
    /// @notice Where protocol fees and the treasury's share of slashes go.
    event TreasurySet(address indexed treasury);
    /// @notice Who rules on disputes.
    event ArbiterSet(address indexed arbiter);
    /// @notice A payment token was added to (`allowed`) or removed from the allowlist.
    event PaymentTokenSet(address indexed token, bool allowed);
    /// @notice The collateral per GPU for rentals opened from now on.
    event StakePerGpuSet(uint256 stakePerGpu);
    /// @notice The time a provider has to activate, for rentals opened from now on.
    event ActivationWindowSet(uint256 activationWindow);
    /// @notice The dispute window after a rental's end.
    event DisputeWindowSet(uint256 disputeWindow);
    /// @notice The share of collateral slashed to the renter on a no-show.
    event NoShowPenaltySet(uint256 noShowPenaltyBps);
    /// @notice The time the arbiter has to rule, for disputes raised from now on.
    event ArbitrationTimeoutSet(uint256 arbitrationTimeout);
    /// @notice The treasury's share of a dispute slash.
    event SlashTreasuryShareSet(uint256 slashTreasuryBps);
}
