// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { RentalMath } from "../libraries/RentalMath.sol";
import { TierMath } from "../libraries/TierMath.sol";

/// @notice Exposes the RentalMath and TierMath libraries for tests.
contract RentalMathHarness {
    function hourlyRateUp(uint256 gpus, uint256 price, uint256 discountBps) external pure returns (uint256) {
        return RentalMath.hourlyRateUp(gpus, price, discountBps);
    }

    function accruedDown(uint256 total, uint256 startedAt, uint256 endsAt, uint256 t) external pure returns (uint256) {
        return RentalMath.accruedDown(total, startedAt, endsAt, t);
    }

    function splitClaim(uint256 before, uint256 after_, uint256 protocolFeeBps, uint256 brokerBps)
        external
        pure
        returns (uint256, uint256, uint256)
    {
        return RentalMath.splitClaim(before, after_, protocolFeeBps, brokerBps);
    }

    function stopChargeUp(uint256 total, uint256 hoursPaid, uint256 discountBps, uint256 elapsed)
        external
        pure
        returns (uint256)
    {
        return RentalMath.stopChargeUp(total, hoursPaid, discountBps, elapsed);
    }

    function disputeBondUp(uint256 billed, uint256 billedSeconds, uint256 arbitrationTimeout, uint256 disputeWindow)
        external
        pure
        returns (uint256)
    {
        return RentalMath.disputeBondUp(billed, billedSeconds, arbitrationTimeout, disputeWindow);
    }

    function discountBpsFor(uint256 tiers, uint256 gpuHours) external pure returns (uint256) {
        return TierMath.discountBpsFor(tiers, gpuHours);
    }
}
