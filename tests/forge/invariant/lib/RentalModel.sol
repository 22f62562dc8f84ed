// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title RentalModel
/// @notice An independent restatement of the rental money (tests/rental_model.py), for the handlers to
/// predict every amount themselves: the contracts' own RentalMath is never called. Each name says its
/// rounding: `Down` rounds toward zero, `Up` away from it.
library RentalModel {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;

    function ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    /// @notice What a stream of `total` from `started` to `ends` has paid out by `t`, rounded down. The end
    /// comes first: a stream stopped in its activation second has accrued its whole billed total.
    function accruedDown(uint256 total, uint256 started, uint256 ends, uint256 t) internal pure returns (uint256) {
        if (t >= ends) return total;
        if (t <= started) return 0;
        return total * (t - started) / (ends - started);
    }

    /// @notice (provider net, protocol fee, broker fee) of claiming the cumulative gross from `before` to
    /// `after`: one combined fee, ⌊gross × (p + b) / 10 000⌋ taken cumulatively, its protocol part
    /// ⌊fee × p / (p + b)⌋ taken cumulatively, the broker the rest.
    function splitClaimDown(uint256 before, uint256 after_, uint256 protocolBps, uint256 brokerBps)
        internal
        pure
        returns (uint256 net, uint256 protocolFee, uint256 brokerFee)
    {
        uint256 feeBps = protocolBps + brokerBps;
        if (feeBps == 0) return (after_ - before, 0, 0);
        uint256 feeBefore = before * feeBps / BPS;
        uint256 feeAfter = after_ * feeBps / BPS;
        protocolFee = feeAfter * protocolBps / feeBps - feeBefore * protocolBps / feeBps;
        brokerFee = (feeAfter - feeBefore) - protocolFee;
        net = after_ - before - protocolFee - brokerFee;
    }

    /// @notice What a renter stopping (or disputing) a running rental at `t` is billed: the time used at the
    /// list rate (the discount forfeited), rounded up once, at least one hour at the rental's rate, at
    /// most `total`.
    function stopChargeUp(uint256 total, uint256 started, uint256 t, uint256 hoursPaid, uint256 discountBps)
        internal
        pure
        returns (uint256)
    {
        uint256 rate = total / hoursPaid;
        uint256 listed = ceilDiv(rate * (t - started) * BPS, HOUR * (BPS - discountBps));
        uint256 charge = listed > rate ? listed : rate;
        return charge < total ? charge : total;
    }

    /// @notice The renter's dispute bond: the billed hourly rate × (timeout + window) / window, rounded up once.
    function disputeBondUp(uint256 billed, uint256 billedSeconds, uint256 arbitrationTimeout, uint256 disputeWindow)
        internal
        pure
        returns (uint256)
    {
        uint256 seconds_ = billedSeconds > HOUR ? billedSeconds : HOUR;
        return ceilDiv(billed * HOUR * (arbitrationTimeout + disputeWindow), seconds_ * disputeWindow);
    }

    /// @notice The volume discount of the project's tiered offers ([(24 GPU-h, 2.5 %), (96 GPU-h, 5 %)]).
    function tierDiscountBps(bool tiered, uint256 gpuHours) internal pure returns (uint256) {
        if (!tiered || gpuHours < 24) return 0;
        return gpuHours < 96 ? 250 : 500;
    }

    /// @notice The cost of opening: the hourly rate ⌈gpus × price × (10000 − discount) / 10000⌉ × hours.
    function hourlyRateUp(uint256 gpus, uint256 price, uint256 discountBps) internal pure returns (uint256) {
        return ceilDiv(gpus * price * (BPS - discountBps), BPS);
    }
}
