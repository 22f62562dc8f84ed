// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title VaultMath
/// @notice The income and redemption arithmetic of {ProviderVault}. Every division rounds down, against
/// the account being paid: what the rounding leaves stays in the vault as unallocated dust (at most one
/// base unit per account and distribution), never owed twice.
library VaultMath {
    uint256 internal constant BPS = 10_000;
    /// @notice Precision of the income-per-share accumulators: income per share × 1e36.
    uint256 internal constant SCALE = 1e36;

    /// @notice `bps` basis points of `amount`, rounded down (the operator's commission: favours backers).
    function bpsOfDown(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return amount * bps / BPS;
    }

    /// @notice The accumulator increment for `amount` shared among `shares`, rounded down.
    function perShareDown(uint256 amount, uint256 shares) internal pure returns (uint256) {
        return Math.mulDiv(amount, SCALE, shares);
    }

    /// @notice What `shares` earned over an accumulator increase of `deltaPerShare`, rounded down.
    function incomeDown(uint256 shares, uint256 deltaPerShare) internal pure returns (uint256) {
        return Math.mulDiv(shares, deltaPerShare, SCALE);
    }

    /// @notice A request's part of its batch's payout: payout × shares / batchShares, rounded down.
    function shareOfDown(uint256 payout, uint256 shares, uint256 batchShares) internal pure returns (uint256) {
        return Math.mulDiv(payout, shares, batchShares);
    }
}
