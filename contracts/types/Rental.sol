// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Namespace for the rental types of the {ComputeMarket}.
library Rental {
    /// @notice Where a rental is in its life.
    /// Transitions: Pending → Active | Cancelled; Active → Ended | Settled | Disputed;
    /// Ended → Settled | Disputed; Disputed → Resolved.
    /// Pending and Active rentals hold capacity on their offer; Ended and Disputed ones do not.
    /// Collateral stays locked until Cancelled, Settled or Resolved. `Cancelled`, `Settled` and
    /// `Resolved` are terminal and hold no escrow.
    enum Status {
        None, // 0: no rental has this id
        Pending, // 1: paid, waiting for the provider to activate by the activation deadline
        Active, // 2: streaming from `startedAt` to `endsAt`
        Ended, // 3: stream over (stopped early, or ran out and released); capacity freed, collateral locked
        Cancelled, // 4: terminal; cancelled while Pending, deposit refunded in full
        Settled, // 5: terminal; provider paid in full, collateral unlocked
        Disputed, // 6: the renter disputed it; unclaimed escrow frozen, collateral locked, capacity freed
        Resolved // 7: terminal; the dispute was ruled (by the arbiter, or by default after the timeout)
    }

    /// @notice One rental and its escrow. Packed into three storage slots (four with a third-party
    /// payer, five with a broker). `activate` writes slot 2 only.
    /// @dev The stream pays `total` linearly over [startedAt, endsAt]: accrued(t) =
    /// total × (min(t, endsAt) − startedAt) / (endsAt − startedAt). While Active, total / duration is
    /// the rental's fixed rate, so extensions do not move what has already accrued. A stop replaces
    /// `total` by the stop charge ({RentalMath.stopChargeUp}) and `endsAt` by the stop time. A dispute
    /// changes neither: it records `disputedAt`, and the stream stops counting there.
    struct Record {
        // slot 0 (read by every operation)
        address renter; // 20 bytes: uses the GPUs, stops, extends, cancels
        uint32 offerId; // 4 bytes (offer ids are sequential; 2^32 is never reached)
        uint16 gpus; // 2 bytes
        uint16 discountBps; // 2 bytes: the volume discount the rental was priced with
        uint16 protocolFeeBps; // 2 bytes: snapshot of the protocol fee at open
        uint16 brokerBps; // 2 bytes: the broker's cut of the provider's gross
        // slot 1
        uint128 total; // what the stream pays in total (the deposit, less any refund at stop)
        uint128 claimed; // gross paid out of the stream so far (provider net + fees)
        // slot 2
        uint40 startedAt; // 0 while Pending
        uint40 endsAt; // 0 while Pending; the stop time if the renter stopped early
        uint40 activationDeadline; // last second at which the provider may activate
        uint32 hoursPaid; // hours paid for (open + extensions), before any stop
        uint96 collateral; // provider stake locked for this rental, in ComputeToken base units
        Status status; // 1 byte
        // slot 3 (zero, and never written, when the renter pays for itself and never disputes)
        address payer; // funded the rental; receives every refund (0 = the renter)
        uint40 disputedAt; // when the renter disputed (0 = never)
        // slot 4 (zero, and never written, without a broker)
        address broker;
    }
}
