// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { RESOLVED } from "../lib/Status.sol";

import { CommonBase } from "forge-std/Base.sol";
import { StdAssertions } from "forge-std/StdAssertions.sol";
import { StdUtils } from "forge-std/StdUtils.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";

/// @title BaseHandler
/// @notice What every handler shares: the system, the ghost store, the store's clock (each call starts
/// at the store's time, so a warp in one handler holds for the next call whatever forge does with the
/// block between calls), the seed mixer and the call counter.
abstract contract BaseHandler is CommonBase, StdAssertions, StdUtils {
    uint256 internal constant HOUR = 3600;

    GhostStore public immutable store;
    Sys internal sys;
    uint256 internal step;

    constructor(GhostStore store_, Sys memory sys_) {
        store = store_;
        sys = sys_;
    }

    /// @notice Each call starts at the store's time.
    modifier synced() {
        vm.warp(store.currentTime());
        store.beginCall();
        _;
    }

    /// @notice Writes the rental's new state to the ghost after checking that what the chain reports as
    /// accrued never went down (3; a ruling may cut it back to what was claimed).
    function _saveRental(RentalG memory r, bool isNew) internal {
        uint256 accrued = sys.market.accruedOf(r.id);
        if (r.status != RESOLVED) assertGe(accrued, r.lastAccrued, "inv3 accrual: accruedOf never decreases");
        r.lastAccrued = accrued;
        store.saveRental(r, isNew);
    }

    /// @notice splitmix64 of the seed and the call number: the handlers derive every parameter from one
    /// fuzzed word, and forge's preference for edge values does not keep picking the same options.
    function _mix(uint256 seed) internal returns (uint256 z) {
        unchecked {
            z = uint64(seed + (++step) * 0x9E3779B97F4A7C15);
            z = uint64((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9);
            z = uint64((z ^ (z >> 27)) * 0x94D049BB133111EB);
            z = (z ^ (z >> 31)) | (uint256(keccak256(abi.encode(seed, step))) << 64);
        }
    }

    function _now() internal view returns (uint256) {
        return store.currentTime();
    }

    /// @notice Moves the clock to `t` (never back).
    function _warpTo(uint256 t) internal {
        if (t > store.currentTime()) {
            store.setTime(t);
            vm.warp(t);
        }
    }

    function _mask(uint8 a) internal pure returns (uint256) {
        return 1 << a;
    }

    function _mask(uint8 a, uint8 b) internal pure returns (uint256) {
        return (1 << a) | (1 << b);
    }

    function _balance(address token, address account) internal view returns (uint256) {
        return IERC20(token).balanceOf(account);
    }
}
