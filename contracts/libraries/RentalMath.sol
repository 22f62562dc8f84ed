// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { Offer } from "../types/Offer.sol";

/// @title RentalMath
/// @notice Pure math of the market: prices and discounts, the per-second stream, and the fee split.
/// Every function names its rounding direction, and its dev note says whom the rounding favours.
library RentalMath {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECONDS_PER_HOUR = 3600;
    uint256 internal constant MAX_TIERS = 4;

    /// @notice A tier list is malformed: too many, not strictly increasing, or a discount above the cap.
    error RentalMathInvalidTiers(uint256 index);

    /// @notice Hourly rate of a rental: GPUs × listed price, less the discount, rounded up.
    /// @dev Rounds up: favours the provider, since the renter is the caller who opens or extends.
    function hourlyRateUp(uint256 gpus, uint256 pricePerGpuHour, uint256 discountBps) internal pure returns (uint256) {
        return Math.mulDiv(gpus * pricePerGpuHour, BPS - discountBps, BPS, Math.Rounding.Ceil);
    }

    /// @notice What the stream has paid out by time `t` (the provider's gross), rounded down.
    /// @dev Rounds down: favours the renter; used by `claim`, which anyone (the provider included) calls.
    function accruedDown(uint256 total, uint256 startedAt, uint256 endsAt, uint256 t) internal pure returns (uint256) {
        if (t <= startedAt) return 0;
        if (t >= endsAt) return total;
        return Math.mulDiv(total, t - startedAt, endsAt - startedAt);
    }

    /// @notice What the stream has paid out by time `t`, rounded up.
    /// @dev Rounds up: favours the provider; used by `stopRental`, which the renter calls.
    function accruedUp(uint256 total, uint256 startedAt, uint256 endsAt, uint256 t) internal pure returns (uint256) {
        if (t <= startedAt) return 0;
        if (t >= endsAt) return total;
        return Math.mulDiv(total, t - startedAt, endsAt - startedAt, Math.Rounding.Ceil);
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

    /// @notice What a renter who stops early owes for the time used: the stream's accrual at the
    /// discounted rate, rounded up, grossed up to the undiscounted list rate (a volume discount is a
    /// discount for the committed GPU-hours, so stopping early forfeits it), and at least one hour
    /// at the rental's rate; never more than `total`.
    /// @dev Rounds up: favours the provider, since the renter is the caller of `stopRental`.
    function stopChargeUp(uint256 accruedUp_, uint256 total, uint256 hoursPaid, uint256 discountBps)
        internal
        pure
        returns (uint256 charge)
    {
        charge = discountBps == 0 ? accruedUp_ : Math.mulDiv(accruedUp_, BPS, BPS - discountBps, Math.Rounding.Ceil);
        uint256 oneHour = total / hoursPaid; // exact: total == hourly rate × hoursPaid while Active
        if (charge < oneHour) charge = oneHour;
        if (charge > total) charge = total;
    }

    /// @notice The discount (bps) that `gpuHours` earns under the packed `tiers`: the highest tier reached.
    function discountBpsFor(uint256 tiers, uint256 gpuHours) internal pure returns (uint256 bps) {
        for (uint256 i; i < MAX_TIERS; ++i) {
            uint256 tier = tiers >> (i * 48);
            uint256 minGpuHours = uint32(tier);
            if (minGpuHours == 0 || gpuHours < minGpuHours) break;
            bps = uint16(tier >> 32);
        }
    }

    /// @notice Packs up to four tiers into one word: tier i sits at bits [48i, 48i+48) as
    /// (uint32 minGpuHours | uint16 discountBps << 32). Tiers must be strictly increasing in both
    /// fields, start above zero GPU-hours, and stay within `maxDiscountBps`.
    function packTiers(Offer.Tier[] memory tiers, uint256 maxDiscountBps) internal pure returns (uint256 packed) {
        if (tiers.length > MAX_TIERS) revert RentalMathInvalidTiers(MAX_TIERS);
        uint256 prevHours;
        uint256 prevBps;
        for (uint256 i; i < tiers.length; ++i) {
            Offer.Tier memory t = tiers[i];
            if (t.minGpuHours <= prevHours || t.discountBps <= prevBps || t.discountBps > maxDiscountBps) {
                revert RentalMathInvalidTiers(i);
            }
            packed |= (uint256(t.minGpuHours) | (uint256(t.discountBps) << 32)) << (i * 48);
            prevHours = t.minGpuHours;
            prevBps = t.discountBps;
        }
    }

    /// @notice The inverse of {packTiers}.
    function unpackTiers(uint256 packed) internal pure returns (Offer.Tier[] memory tiers) {
        uint256 n;
        while (n < MAX_TIERS && uint32(packed >> (n * 48)) != 0) ++n;
        tiers = new Offer.Tier[](n);
        for (uint256 i; i < n; ++i) {
            uint256 tier = packed >> (i * 48);
            tiers[i] = Offer.Tier({ minGpuHours: uint32(tier), discountBps: uint16(tier >> 32) });
        }
    }
}
