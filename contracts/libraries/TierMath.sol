// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarketErrors } from "../interfaces/IComputeMarketErrors.sol";
import { Offer } from "../types/Offer.sol";

/// @title TierMath
/// @notice An offer's volume-discount tiers, packed into one storage word: tier i sits at bits
/// [48i, 48i + 48) as (uint32 minGpuHours | uint16 discountBps << 32). At most four tiers, strictly
/// increasing in both fields, the first above zero GPU-hours, each discount within the cap.
library TierMath {
    uint256 internal constant MAX_TIERS = 4;

    /// @notice Packs `tiers`; reverts {IComputeMarketErrors-MarketInvalidTiers} with the index of the
    /// first bad tier (MAX_TIERS when there are too many).
    function pack(Offer.Tier[] memory tiers, uint256 maxDiscountBps) internal pure returns (uint256 packed) {
        if (tiers.length > MAX_TIERS) revert IComputeMarketErrors.MarketInvalidTiers(MAX_TIERS);
        uint256 prevHours;
        uint256 prevBps;
        for (uint256 i; i < tiers.length; ++i) {
            Offer.Tier memory t = tiers[i];
            if (t.minGpuHours <= prevHours || t.discountBps <= prevBps || t.discountBps > maxDiscountBps) {
                revert IComputeMarketErrors.MarketInvalidTiers(i);
            }
            packed |= (uint256(t.minGpuHours) | (uint256(t.discountBps) << 32)) << (i * 48);
            prevHours = t.minGpuHours;
            prevBps = t.discountBps;
        }
    }

    /// @notice The inverse of {pack}.
    function unpack(uint256 packed) internal pure returns (Offer.Tier[] memory tiers) {
        uint256 n;
        while (n < MAX_TIERS && uint32(packed >> (n * 48)) != 0) ++n;
        tiers = new Offer.Tier[](n);
        for (uint256 i; i < n; ++i) {
            uint256 tier = packed >> (i * 48);
            tiers[i] = Offer.Tier({ minGpuHours: uint32(tier), discountBps: uint16(tier >> 32) });
        }
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
}
