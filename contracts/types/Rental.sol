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

    /// @notice One rental and its escrow. Three storage slots (four with a third-party payer, five
    /// with a broker), laid out by who reads them: `claim` reads slots 0 and 1 and writes slot 1;
    /// `extend` reads slot 2 (the renter) and reads and writes slot 0; `activate` reads slots 0 and 1
    /// and writes slot 0; `openRental` writes slots 0 to 2 (3 and 4 only when there is a payer or a
    /// broker). Amounts are uint112 (5.2e33 base units: 5.2e15 tokens of 18 decimals per rental), so
    /// that the stream's amount, times, offer and status share one slot.
    /// @dev The stream pays `total` linearly over [startedAt, endsAt]: accrued(t) =
    /// total × (min(t, endsAt) − startedAt) / (endsAt − startedAt). While Active, total / duration is
    /// the rental's fixed rate, so extensions do not move what has already accrued. A stop (or a
    /// dispute of a running rental, which ends it the same way) replaces `total` by the stop charge
    /// ({RentalMath.stopChargeUp}) and `endsAt` by that second; from `endsAt` on the whole `total` has
    /// accrued. A dispute also records `disputedAt`.
    struct Record {
        // slot 0: the stream (read by claim, extend, stop, activate, dispute, release)
        uint112 total; // what the stream pays in total (the deposit, less any refund at stop)
        uint40 startedAt; // 0 while Pending
        uint40 endsAt; // 0 while Pending; the stop time if the renter stopped early
        uint32 offerId; // offer ids are sequential (the market's counter is a uint32)
        uint16 hoursPaid; // hours paid for (open + extensions), before any stop; ≤ MAX_RENTAL_HOURS
        Status status; // 1 byte
        bool sponsored; // a third-party payer funded it (payer != 0), so refunds need not read slot 3
        // slot 1: what has been paid out, and the terms fixed at open
        uint112 claimed; // gross paid out of the stream so far (provider net + fees)
        uint40 activationDeadline; // last second at which the provider may activate
        uint16 gpus;
        uint16 discountBps; // the volume discount the rental was priced with
        uint16 protocolFeeBps; // snapshot of the protocol fee at open
        uint16 brokerBps; // the broker's cut of the provider's gross
        uint40 disputedAt; // when the renter disputed (0 = never); ≥ endsAt once Disputed
        // slot 2: who may stop, extend, cancel and dispute, and the collateral
        address renter; // 20 bytes
        uint96 collateral; // provider stake locked for this rental, in ComputeToken base units
        // slot 3 (zero, and never written, when the renter pays for itself)
        address payer; // funded the rental; receives every refund (0 = the renter)
        // slot 4 (zero, and never written, without a broker)
        address broker;
    }

    /// @notice Active or Ended: the stream ran and is not closed for good, so `claim`, `dispute` and
    /// `release` apply to it.
    function hasOpenStream(Status status) internal pure returns (bool) {
        return status == Status.Active || status == Status.Ended;
    }

    /// @notice Was activated at some point (so `startedAt` and `endsAt` are set): not None, Pending or Cancelled.
    function wasActivated(Status status) internal pure returns (bool) {
        return status != Status.None && status != Status.Pending && status != Status.Cancelled;
    }

    /// @notice A dispute's terms, fixed when it is raised; one storage slot, cleared by the ruling.
    struct Dispute {
        uint128 bond; // what the renter posted ({RentalMath-disputeBondUp}); paid out by the ruling
        uint40 timeoutAt; // disputedAt + the arbitration timeout at the dispute: the arbiter rules before it
    }
}
