// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { IComputeMarketErrors as E } from "gpumarket/interfaces/IComputeMarketErrors.sol";
import { IProviderRegistryErrors } from "gpumarket/interfaces/IProviderRegistryErrors.sol";
import { PENDING, ACTIVE, CANCELLED, SETTLED, DISPUTED, RESOLVED } from "../lib/Status.sol";
import { GhostStore, RentalG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";
import { BaseHandler } from "./BaseHandler.sol";

/// @title BadCallHandler
/// @notice 8 (access control) and 4 (terminal states absorb): deliberately invalid calls that must revert
/// with the expected custom error AND its arguments (vm.expectRevert with the encoded error). They change
/// nothing, so the ghost is not written: the invariants after the call show they left no trace.
contract BadCallHandler is BaseHandler {
    constructor(GhostStore store_, Sys memory sys_) BaseHandler(store_, sys_) { }

    function badCall(uint256 seed) external synced {
        uint256 n = _mix(seed);
        uint256 k = n / 7;
        // The drawn kind, else the next one the state allows (3 and 4 always do).
        bool acts;
        for (uint256 i; i < 7 && !acts; ++i) acts = _bad((n + i) % 7, k);
        store.count("badCall", acts);
    }

    function _bad(uint256 kind, uint256 k) internal returns (bool) {
        if (kind == 0) return _notRenter(k);
        if (kind == 1) return _notProvider(k);
        if (kind == 2) return _notArbiter(k);
        if (kind == 3) return _notOwner(k);
        if (kind == 4) return _notMarket(k);
        return kind == 5 ? _slashAboveCollateral(k) : _terminal(k);
    }

    /// @notice 8: only the renter stops, extends, cancels, disputes.
    function _notRenter(uint256 k) internal returns (bool) {
        RentalG memory r = store.pickRental(k, _mask(ACTIVE, PENDING));
        if (r.id == 0) return false;
        address[4] memory others = [r.provider, sys.stranger, sys.arbiter, sys.owner];
        address caller = others[k / 64 % 4];
        bytes memory err = abi.encodeWithSelector(E.MarketNotRenter.selector, r.id, caller);
        uint256 fn = r.status == PENDING ? 0 : k / 256 % 3 + 1;
        if (fn == 3 && store.paused()) return false; // extend under pause reverts on the pause first
        vm.prank(caller);
        vm.expectRevert(err);
        if (fn == 0) sys.market.cancelPending(r.id);
        else if (fn == 1) sys.market.stopRental(r.id);
        else if (fn == 2) sys.market.dispute(r.id, bytes32(0));
        else sys.market.extend(r.id, 1);
        return true;
    }

    /// @notice 8: only the provider activates.
    function _notProvider(uint256 k) internal returns (bool) {
        RentalG memory r = store.pickRental(k, _mask(PENDING));
        if (r.id == 0) return false;
        vm.prank(r.renter);
        vm.expectRevert(abi.encodeWithSelector(E.MarketNotProvider.selector, r.id, r.renter));
        sys.market.activate(r.id);
        return true;
    }

    /// @notice 8: only the arbiter rules.
    function _notArbiter(uint256 k) internal returns (bool) {
        RentalG memory r = store.pickRental(k, _mask(DISPUTED));
        if (r.id == 0) return false;
        address[3] memory others = [r.renter, r.provider, sys.owner];
        address caller = others[k / 64 % 3];
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(E.MarketNotArbiter.selector, caller));
        sys.market.resolveDispute(r.id, 10_000, 0);
        return true;
    }

    /// @notice 8: only the owner configures.
    function _notOwner(uint256 k) internal returns (bool) {
        address[3] memory others = [sys.stranger, sys.arbiter, sys.providers[0]];
        address caller = others[k / 3 % 3];
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        if (k % 3 == 0) sys.market.pause();
        else if (k % 3 == 1) sys.market.setProtocolFee(0);
        else sys.market.setTreasury(sys.stranger);
        return true;
    }

    /// @notice 8: only the market moves collateral.
    function _notMarket(uint256 k) internal returns (bool) {
        address p = sys.providers[k % 3];
        vm.prank(p);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistryErrors.RegistryCallerNotMarket.selector, p));
        if (k / 3 % 2 == 0) sys.registry.lock(p, 1);
        else sys.registry.unlock(p, 1);
        return true;
    }

    /// @notice 5: a ruling cannot slash more than the rental's collateral.
    function _slashAboveCollateral(uint256 k) internal returns (bool) {
        RentalG memory r = store.pickRental(k, _mask(DISPUTED));
        if (r.id == 0 || _now() >= r.timeoutAt) return false;
        uint256 slash = r.collateral + 1 + k / 64 % 1e18;
        vm.prank(sys.arbiter);
        vm.expectRevert(abi.encodeWithSelector(E.MarketSlashAboveCollateral.selector, r.id, slash, r.collateral));
        sys.market.resolveDispute(r.id, 0, slash);
        return true;
    }

    /// @notice 4: terminal states absorb: claim, release, stop and activate on them revert.
    function _terminal(uint256 k) internal returns (bool) {
        RentalG memory r = store.pickRental(k, _mask(CANCELLED, SETTLED) | _mask(RESOLVED));
        if (r.id == 0) return false;
        uint256 fn = k / 64 % 4;
        address caller = fn == 2 ? r.renter : fn == 3 ? r.provider : sys.stranger;
        vm.prank(caller);
        if (fn == 0) {
            vm.expectRevert(abi.encodeWithSelector(E.MarketRentalNotClaimable.selector, r.id, r.status));
            sys.market.claim(r.id);
        } else if (fn == 1) {
            vm.expectRevert(abi.encodeWithSelector(E.MarketRentalNotReleasable.selector, r.id, r.status, 0));
            sys.market.release(r.id);
        } else if (fn == 2) {
            vm.expectRevert(abi.encodeWithSelector(E.MarketRentalNotActive.selector, r.id, r.status));
            sys.market.stopRental(r.id);
        } else {
            vm.expectRevert(abi.encodeWithSelector(E.MarketRentalNotPending.selector, r.id, r.status));
            sys.market.activate(r.id);
        }
        return true;
    }
}
