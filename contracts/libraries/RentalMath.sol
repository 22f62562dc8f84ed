// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title RentalMath
/// @notice Pure math of the market: prices and discounts, the per-second stream, and the fee split.
/// Every function names its rounding direction, and its dev note says whom the rounding favours.
library RentalMath {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECONDS_PER_HOUR = 3600;

    /// @notice Hourly rate of a rental: GPUs × listed price, less the discount, rounded up.
    /// @dev Rounds up: favours the provider, since the renter is the caller who opens or extends.
    function hourlyRateUp(uint256 gpus, uint256 pricePerGpuHour, uint256 discountBps) internal pure returns (uint256) {
        return Math.mulDiv(gpus * pricePerGpuHour, BPS - discountBps, BPS, Math.Rounding.Ceil);
    }

    /// @notice What the stream has paid out by time `t` (the provider's gross), rounded down:
    /// `total` from `endsAt` on, 0 up to `startedAt`, and ⌊total × (t − startedAt) / (endsAt − startedAt)⌋
    /// in between. The end is checked first, so a stream stopped in its activation second
    /// (`startedAt == endsAt`) has accrued its whole billed total.
    /// @dev Rounds down: favours the renter; used by `claim`, which anyone (the provider included) calls.
    function accruedDown(uint256 total, uint256 startedAt, uint256 endsAt, uint256 t) internal pure returns (uint256) {
        if (t >= endsAt) return total;
        if (t <= startedAt) return 0;
        return Math.mulDiv(total, t - startedAt, endsAt - startedAt);
    }

    /// @notice Splits a claim of the stream from `claimedBefore` to `claimedAfter` (both cumulative gross).
    /// Fees are computed on the cumulative amount, so splitting a stream into many claims never changes
    /// the fee total: the combined fee is feeTotal(after) − feeTotal(before) with
    /// feeTotal(a) = ⌊a × (protocolBps + brokerBps) / 10000⌋, and that combined fee is then divided
    /// into its protocol part ⌊feeTotal × protocolBps / (protocolBps + brokerBps)⌋ and the broker part
    /// (the rest). Both parts grow monotonically and their sum never exceeds the amount claimed, so
    /// even a one-unit claim cannot take two units of fees.
    /// @dev Fees round down: favours the provider by less than one base unit per rental in total; the
    /// provider's net is the exact complement, so net + protocolFee + brokerFee == claimedAfter − claimedBefore.
    function splitClaim(uint256 claimedBefore, uint256 claimedAfter, uint256 protocolFeeBps, uint256 brokerBps)
        internal
        pure
        returns (uint256 providerNet, uint256 protocolFee, uint256 brokerFee)
    {
        uint256 feeBps = protocolFeeBps + brokerBps;
        if (feeBps != 0) {
            uint256 feeBefore = claimedBefore * feeBps / BPS;
            uint256 feeAfter = claimedAfter * feeBps / BPS;
            // slither-disable-next-line divide-before-multiply — by design: fees on the cumulative gross (see @notice)
            protocolFee = feeAfter * protocolFeeBps / feeBps - feeBefore * protocolFeeBps / feeBps;
            brokerFee = (feeAfter - feeBefore) - protocolFee;
        }
        providerNet = claimedAfter - claimedBefore - protocolFee - brokerFee;
    }

    /// @notice What a renter who stops an Active rental `elapsed` seconds after activation is billed:
    /// charge = min(total, max(rate, ⌈rate × elapsed × 10000 / (3600 × (10000 − discountBps))⌉)), with
    /// rate = total / hoursPaid, the rental's hourly rate (volume discount included). The time used is
    /// billed at the list rate (a volume discount rewards the committed GPU-hours, so stopping early
    /// forfeits it), rounded up once; at least one hour at the rental's rate; never more than `total`.
    /// @dev Rounds up: favours the provider, since the renter is the caller of `stopRental` and `dispute`.
    /// `total / hoursPaid` is exact while the rental is Active (total == rate × hoursPaid).
    function stopChargeUp(uint256 total, uint256 hoursPaid, uint256 discountBps, uint256 elapsed)
        internal
        pure
        returns (uint256 charge)
    {
        uint256 rate = total / hoursPaid;
        // slither-disable-next-line divide-before-multiply — exact: total == rate × hoursPaid while Active
        charge = Math.mulDiv(rate * elapsed, BPS, SECONDS_PER_HOUR * (BPS - discountBps), Math.Rounding.Ceil);
        if (charge < rate) charge = rate;
        if (charge > total) charge = total;
    }

    /// @notice The bond a renter posts to dispute a rental whose billed stream is `billed` over
    /// `billedSeconds`: the billed hourly rate (billed × 3600 / max(billedSeconds, 3600)) times
    /// (arbitrationTimeout + disputeWindow) / disputeWindow, rounded up once. With the defaults
    /// (7 days, 1 day) that is 8 hours of rent. A dispute can keep the collateral locked for the
    /// arbitration timeout where a stop keeps it for the dispute window; the bond makes the first at
    /// least as costly per unit of collateral and time as the second (see SECURITY.md).
    /// @dev Rounds up: favours the provider, since the renter is the caller of `dispute`.
    function disputeBondUp(uint256 billed, uint256 billedSeconds, uint256 arbitrationTimeout, uint256 disputeWindow)
        internal
        pure
        returns (uint256)
    {
        uint256 perHourOver = billedSeconds > SECONDS_PER_HOUR ? billedSeconds : SECONDS_PER_HOUR;
        return Math.mulDiv(
            billed, SECONDS_PER_HOUR * (arbitrationTimeout + disputeWindow), perHourOver * disputeWindow, Math.Rounding.Ceil
        );
    }

    /// @notice The effective price per GPU-hour of a rental streaming `hourlyRate` for `gpus` GPUs
    /// (discount included), rounded up: what the renter's `maxPricePerGpuHour` guard compares.
    /// @dev Rounds up: favours the renter's guard (a rate that does not divide evenly is never shown
    /// as cheaper than it is).
    function effectivePriceUp(uint256 hourlyRate, uint256 gpus) internal pure returns (uint256) {
        return Math.ceilDiv(hourlyRate, gpus);
    }

    /// @notice What `hoursAdded` more hours of a rental cost at its own rate: total / hoursPaid × hoursAdded.
    /// @dev Exact, not rounded: while a rental is Active its total is its hourly rate × hoursPaid.
    function extensionCostExact(uint256 total, uint256 hoursPaid, uint256 hoursAdded) internal pure returns (uint256) {
        // slither-disable-next-line divide-before-multiply — exact: total == rate × hoursPaid while Active
        return total / hoursPaid * hoursAdded;
    }

    /// @notice `bps` basis points of `amount`, rounded down.
    /// @dev Rounds down: used for shares paid to the side that did not choose the number (a ruling's
    /// provider share, the no-show penalty, the treasury's part of a slash).
    function bpsOfDown(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return amount * bps / BPS;
    }
}
