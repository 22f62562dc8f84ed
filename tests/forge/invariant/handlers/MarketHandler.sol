// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "gpumarket/types/Offer.sol";
import { PENDING, ACTIVE, ENDED, CANCELLED, SETTLED, DISPUTED, RESOLVED } from "../lib/Status.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";
import { GhostBridge } from "./GhostBridge.sol";
import { SignedCatalog as C } from "../lib/SignedCatalog.sol";

/// @title MarketHandler
/// @notice The market's rental lifecycle, offers, stake and owner (tests/invariants/machine.py's rules).
/// Every function draws one seed, finds a target in the right state (or counts a skip), makes only valid
/// calls, and checks every amount the call moves against the independent model (lib/RentalModel.sol)
/// before writing the ghost. Invalid calls live in BadCallHandler.
contract MarketHandler is GhostBridge {
    uint256 internal constant MAX_OFFERS = 7;

    constructor(GhostStore store_, Sys memory sys_) GhostBridge(store_, sys_) {
        // Every run starts with an mUSD offer and a GPUC offer, so rentals can open at the first call.
        _create(sys.providers[0], true, 1_950_000, 8, 200, true, 500);
        _create(sys.providers[1], false, 1_950_000, 8, 200, true, 500);
    }

    /// @notice One call of handler function `name`: `f` on the mixed seed returns the label of what it did
    /// (counted as an effective call of that label), or "" when it could not act; then the call counts
    /// under the label of what its preparation did (`_prepared`), or as an idle call of `name`. As in the
    /// Python machine, a money path that finds no target prepares one (`_running`, `_pending`: activates a
    /// Pending rental, opening one first if none is), and the money paths are registered two or three
    /// times (`…Again`, `…Third`) so that they get a fair share of forge's calls.
    function _run(string memory name, function(uint256) internal returns (string memory) f, uint256 seed) internal {
        _prepared = "";
        string memory did = f(_mix(seed));
        if (bytes(did).length == 0) did = _prepared;
        bool acted = bytes(did).length != 0;
        store.count(acted ? did : name, acted);
    }

    /// @notice What this call's preparation did ("openRental", "activate", …; "" when nothing).
    string internal _prepared;

    uint8 internal constant CLAIMABLE = 0;
    uint8 internal constant EXTENDABLE = 1;
    uint8 internal constant RUNNING = 2;
    uint8 internal constant DISPUTABLE = 3;
    uint8 internal constant ACTIVATABLE = 4;
    uint8 internal constant EXTENDABLE_WHEN_ACTIVE = 5; // activatable, and extendable once it runs

    /// @notice A rental the call can act on (`kind`), the search starting at a drawn one; id 0 when none is.
    function _pickWhere(uint256 n, uint8 kind) internal view returns (RentalG memory r) {
        uint256 k = store.liveRentals(); // every kind is a status that is not terminal
        for (uint256 i; i < k; ++i) {
            r = store.rental(store.liveIds((n + i) % k));
            if (_fits(r, kind)) return r;
        }
        r.id = 0;
    }

    function _fits(RentalG memory r, uint8 kind) internal view returns (bool) {
        bool running = r.status == ACTIVE && _now() < r.ends;
        if (kind == CLAIMABLE) {
            return running || ((r.status == ACTIVE || r.status == ENDED) && M.accruedDown(r.total, r.started, r.ends, _now()) > r.claimed);
        }
        if (kind == RUNNING) return running;
        if (kind == DISPUTABLE) return (r.status == ACTIVE || r.status == ENDED) && _now() < r.ends + store.disputeWindow();
        if (kind == ACTIVATABLE || kind == EXTENDABLE_WHEN_ACTIVE) {
            bool activatable = r.status == PENDING && _now() <= r.deadline && r.provider != address(sys.vault);
            return activatable && (kind == ACTIVATABLE || _extendable(r));
        }
        return running && !store.paused() && _extendable(r); // EXTENDABLE
    }

    /// @notice Self-funded, its offer Active with hours to spare.
    function _extendable(RentalG memory r) internal view returns (bool) {
        OfferG memory o = store.offer(r.offerId);
        return r.payer == r.renter && o.status == 1 && r.hoursPaid < o.maxHours;
    }

    // ───────────────────────────── stake ─────────────────────────────

    /// @notice A provider stakes, requests an unbond of a share of its free stake, cancels it, or withdraws.
    function stakeOps(uint256 seed) external synced {
        uint256 n = _mix(seed);
        address p = sys.providers[n % 3];
        uint256 op = n / 3 % 4;
        uint256 amount = n / 12 % 5000 + 1;
        (uint256 staked, uint256 locked, uint256 unbonding) = (store.staked(p), store.locked(p), store.unbonding(p));
        // Nothing to unbond, cancel or withdraw: stake instead; an unbond not ready yet: half the time the
        // clock moves to its ready second, else it is cancelled.
        if ((op == 1 && store.freeStake(p) == 0) || (op >= 2 && unbonding == 0)) op = 0;
        if (op == 3 && _now() < store.readyAt(p)) {
            if (n / 60_000 % 2 == 0) _warpTo(store.readyAt(p));
            else op = 2;
        }
        vm.startPrank(p);
        if (op == 0) {
            sys.registry.stake(amount * 1e18);
            store.setStake(p, staked + amount * 1e18, locked, unbonding);
            store.move(p, address(sys.gpuc), -int256(amount * 1e18));
            store.count("stake", true);
        } else if (op == 1) {
            amount = store.freeStake(p) * (amount % 100 + 1) / 100;
            if (amount != 0) {
                sys.registry.requestUnbond(amount);
                store.setStake(p, staked, locked, unbonding + amount);
                store.setReadyAt(p, _now() + store.unbondingPeriod());
            }
            store.count("requestUnbond", amount != 0);
        } else if (op == 2) {
            if (unbonding != 0) {
                sys.registry.cancelUnbond();
                store.setStake(p, staked, locked, 0);
            }
            store.count("cancelUnbond", unbonding != 0);
        } else {
            bool ready = unbonding != 0 && _now() >= store.readyAt(p);
            if (ready) {
                assertEq(sys.registry.withdrawUnbonded(), unbonding, "withdrawUnbonded: the unbonding amount");
                store.setStake(p, staked - unbonding, locked, 0);
                store.move(p, address(sys.gpuc), int256(unbonding));
            }
            store.count("withdrawUnbonded", ready);
        }
        vm.stopPrank();
    }

    // ───────────────────────────── offers ─────────────────────────────

    function createOffer(uint256 seed) external synced {
        uint256 n = _mix(seed);
        address p = sys.providers[n % 3];
        if (store.paused() || !store.activeProvider(p) || _openOffers() >= MAX_OFFERS || store.offerCount() >= 4 * MAX_OFFERS) {
            string memory did = _offerOp(n); // at the limit, a provider manages one of its offers instead
            return store.count(bytes(did).length != 0 ? did : "createOffer", bytes(did).length != 0);
        }
        uint256[3] memory brokerCaps = [uint256(0), 300, 1000];
        _create(p, n / 3 % 2 == 0, n / 6 % 5_000_000 + 1, n / 30_000_000 % 16 + 1, n % 200 + 1, n % 7 < 4, brokerCaps[n % 3]);
        store.count("createOffer", true);
    }

    /// @notice The providers' on-chain offers not closed (the vault's and the signed records aside).
    function _openOffers() internal view returns (uint256 m) {
        for (uint256 i; i < store.offerCount(); ++i) {
            OfferG memory o = store.offer(store.offerIds(i));
            if (o.status != 3 && o.provider != address(sys.vault) && o.id <= C.SIGNED_OFFER_ID_BASE) ++m;
        }
    }

    function _create(address p, bool usd, uint256 price, uint256 gpus, uint256 maxHours, bool tiered, uint256 maxBroker)
        internal
        returns (uint256 id)
    {
        address token = usd ? address(sys.usd) : address(sys.gpuc);
        if (!usd) price *= 1e12; // an 18-decimal price of the same order
        vm.prank(p);
        id = sys.market.createOffer(
            Offer.Params({
                gpuModel: "H100-SXM-80GB",
                region: "AU-QLD",
                paymentToken: token,
                pricePerGpuHour: uint96(price),
                gpusOffered: uint16(gpus),
                minHours: 1,
                maxHours: uint16(maxHours),
                reservedFor: address(0),
                maxBrokerBps: uint16(maxBroker),
                tiers: _tiers(tiered)
            })
        );
        store.saveOffer(OfferG(id, p, token, price, gpus, 0, 1, maxHours, maxBroker, tiered), true);
    }

    function _tiers(bool tiered) internal pure returns (Offer.Tier[] memory tiers) {
        tiers = new Offer.Tier[](tiered ? 2 : 0);
        if (tiered) (tiers[0], tiers[1]) = (Offer.Tier(24, 250), Offer.Tier(96, 500));
    }

    /// @notice A provider updates (most often), pauses, resumes or closes one of its offers (not the
    /// vault's: those are its operator's); a signed offer's record keeps its signed terms (an update reverts
    /// MarketSignedOfferTermsFixed) but its provider may pause, resume or close it.
    function offerOps(uint256 seed) external synced {
        _run("updateOffer", _offerOp, seed);
    }

    function _offerOp(uint256 n) internal returns (string memory) {
        uint256 k = store.offerCount();
        OfferG memory o;
        for (uint256 i; i < k && o.id == 0; ++i) {
            o = store.offerAt(n + i);
            if (o.status == 3 || o.provider == address(sys.vault)) o.id = 0;
        }
        if (o.id == 0) return "";
        uint256 op = n / 8 % 6;
        if (op < 3 && o.id > C.SIGNED_OFFER_ID_BASE) op = 3 + op % 3;
        if (op == 3 && o.status != 1) op = 4; // a paused offer is resumed, an active one paused
        else if (op == 4 && o.status != 2) op = 3;
        vm.startPrank(o.provider);
        if (op < 3) {
            uint256 price = o.price * (n / 48 % 150 + 50) / 100;
            uint256 offered = o.offered + n / 7200 % 9;
            offered = offered > 4 ? offered - 4 : 0;
            (o.price, o.offered) = (price == 0 ? 1 : price, _max3(o.inUse, 1, offered));
            sys.market.updateOffer(
                o.id, uint96(o.price), uint16(o.offered), 1, uint16(o.maxHours), address(0), uint16(o.maxBrokerBps), _tiers(o.tiered)
            );
        } else if (op == 3) {
            sys.market.pauseOffer(o.id);
            o.status = 2;
        } else if (op == 4) {
            sys.market.resumeOffer(o.id);
            o.status = 1;
        } else {
            sys.market.closeOffer(o.id);
            o.status = 3;
        }
        vm.stopPrank();
        store.saveOffer(o, false);
        return op < 3 ? "updateOffer" : op == 3 ? "pauseOffer" : op == 4 ? "resumeOffer" : "closeOffer";
    }

    function _max3(uint256 a, uint256 b, uint256 c) internal pure returns (uint256 m) {
        m = a > b ? a : b;
        if (c > m) m = c;
    }

    // ───────────────────────────── rentals ─────────────────────────────

    function openRental(uint256 seed) external synced { _run("openRental", _open, seed); }
    function openRentalAgain(uint256 seed) external synced { _run("openRental", _open, seed); }
    function openRentalThird(uint256 seed) external synced { _run("openRental", _open, seed); }

    /// @notice A renter rents GPUs of an on-chain offer (GhostBridge._openOn).
    function _open(uint256 n) internal returns (string memory) {
        return _openFor(n, false, false).id != 0 ? "openRental" : "";
    }

    /// @notice Opens a rental: on the first offer from the drawn one that can take one (one is created
    /// when none can), after lifting a pause and, with MAX_LIVE rentals not terminal, closing one
    /// (`_freeSlot`). `toActivate`: not the vault's (its operator activates those); `selfPaid`: the renter
    /// pays, for fewer hours than the offer's maximum (so that it can be extended). Id 0 when none opens.
    function _openFor(uint256 n, bool toActivate, bool selfPaid) internal returns (RentalG memory r) {
        if (!_readyToOpen(n)) return r;
        OfferG memory o;
        for (uint256 i; i < store.offerCount() && o.id == 0; ++i) {
            o = store.offerAt(n + i);
            if (!_openable(o, toActivate, selfPaid)) o.id = 0;
        }
        if (o.id == 0) o = _createFor(n);
        if (o.id == 0) return r;
        _draw = n / 8;
        r = _openOn(o, selfPaid);
        if (r.id != 0) _prepared = "openRental";
    }

    function _openable(OfferG memory o, bool toActivate, bool selfPaid) internal view returns (bool) {
        return o.status == 1 && o.id < C.SIGNED_OFFER_ID_BASE && _gpusFit(o) != 0 && store.activeProvider(o.provider)
            && !(toActivate && o.provider == address(sys.vault)) && !(selfPaid && o.maxHours < 2);
    }

    /// @notice No offer can take a rental: a provider with free stake lists one (none at the offer limit).
    function _createFor(uint256 n) internal returns (OfferG memory o) {
        if (_openOffers() >= MAX_OFFERS || store.offerCount() >= 4 * MAX_OFFERS) return o;
        for (uint256 i; i < 3; ++i) {
            address p = sys.providers[(n + i) % 3];
            if (!store.activeProvider(p) || store.freeStake(p) < store.stakePerGpu()) continue;
            uint256 id = _create(p, n / 3 % 2 == 0, n / 6 % 5_000_000 + 1, n / 30_000_000 % 16 + 1, n / 7 % 199 + 2, n % 7 < 4, 500);
            return store.offer(id);
        }
    }

    /// @notice GhostBridge._freeSlot, and a ruling when every live rental is Disputed.
    function _freeSlot(uint256 n) internal override returns (bool) {
        if (super._freeSlot(n)) return true;
        if (store.rentalCount() < MAX_RENTALS && store.pickRental(n, _mask(DISPUTED)).id != 0) _resolve(n);
        return _roomFor(1);
    }

    function activate(uint256 seed) external synced { _run("activate", _activate, seed); }
    function activateAgain(uint256 seed) external synced { _run("activate", _activate, seed); }

    /// @notice The provider activates a Pending rental (the vault's are activated by its operator through
    /// the vault: VaultHandler); one is opened first when none is Pending (`_pending`).
    function _activate(uint256 n) internal returns (string memory) {
        RentalG memory r = _pending(n, false);
        if (r.id == 0) return "";
        _activateNow(r);
        return "activate";
    }

    function _activateNow(RentalG memory r) internal {
        vm.prank(r.provider);
        sys.market.activate(r.id);
        (r.status, r.started, r.ends) = (ACTIVE, _now(), _now() + r.hoursPaid * HOUR);
        _saveRental(r, false);
        _prepared = "activate";
    }

    /// @notice A Pending rental MarketHandler can activate (self-paid, on an Active offer with hours to
    /// spare, if `selfPaid`), the search starting at a drawn one; else one opened now.
    function _pending(uint256 n, bool selfPaid) internal returns (RentalG memory r) {
        r = _pickWhere(n, selfPaid ? EXTENDABLE_WHEN_ACTIVE : ACTIVATABLE);
        if (r.id == 0) r = _openFor(n, true, selfPaid);
    }

    /// @notice A running rental (one that can be extended, with `selfPaid`); else a Pending one is
    /// activated now (opened first if none is). Id 0 when none can be.
    function _running(uint256 n, bool selfPaid) internal returns (RentalG memory r) {
        r = _pickWhere(n, selfPaid ? EXTENDABLE : RUNNING);
        if (r.id != 0) return r;
        r = _pending(n, selfPaid);
        if (r.id == 0) return r;
        _activateNow(r);
        if (selfPaid && !_fits(r, EXTENDABLE)) r.id = 0;
    }

    /// @notice What `claim` can act on: a rental with something accrued or still running; else one
    /// activated now.
    function _claimable(uint256 n) internal returns (RentalG memory r) {
        r = _pickWhere(n, CLAIMABLE);
        if (r.id == 0) r = _running(n, false);
    }

    /// @notice What `r` has accrued once something is: with nothing yet, the clock moves to the second at
    /// which the next unit accrues, half the time up to ten minutes further (within the rental).
    function _accrue(RentalG memory r, uint256 k) internal returns (uint256 accrued) {
        accrued = M.accruedDown(r.total, r.started, r.ends, _now());
        if (accrued == r.claimed) {
            uint256 t = r.started + M.ceilDiv((r.claimed + 1) * (r.ends - r.started), r.total) + k % 2 * (k / 2 % 600);
            _warpTo(t < r.ends ? t : r.ends);
            accrued = M.accruedDown(r.total, r.started, r.ends, _now());
        }
    }

    function claim(uint256 seed) external synced { _run("claim", _claim, seed); }
    function claimAgain(uint256 seed) external synced { _run("claim", _claim, seed); }

    /// @notice Anyone claims; the provider gets the model's net. With nothing accrued yet, the clock first
    /// moves to the next accrual second (`_accrue`); with nothing to claim at all, a rental is activated
    /// (`_claimable`).
    function _claim(uint256 n) internal returns (string memory) {
        RentalG memory r = _claimable(n);
        if (r.id == 0) return "";
        uint256 accrued = _accrue(r, n / 4096);
        address[4] memory anyone = [r.provider, sys.stranger, r.renter, sys.owner];
        uint256 before = _balance(r.token, r.provider);
        vm.prank(anyone[n / 64 % 4]);
        uint256 gross = sys.market.claim(r.id);
        assertEq(gross, accrued - r.claimed, "claim: gross = accrued - claimed (model)");
        uint256 net = _claimModel(r, accrued);
        assertEq(_balance(r.token, r.provider) - before, net, "claim: the provider got the model's net");
        _saveRental(r, false);
        return "claim";
    }

    /// @notice A stranger claims up to four rentals at once: a claimable one (prepared as `claim` does,
    /// the clock moved to its next accrual second if need be), then up to three drawn ones, most of them
    /// claimable (repeats and unclaimable ones are skipped by the market).
    function claimMany(uint256 seed) external synced { _run("claimMany", _claimMany, seed); }

    function _claimMany(uint256 n) internal returns (string memory) {
        RentalG memory first = _claimable(n);
        if (first.id == 0) return "";
        _accrue(first, n / 1024);
        uint256 k = store.rentalCount();
        uint256[] memory ids = new uint256[](n % 4 + 1);
        uint256 expect;
        for (uint256 j; j < ids.length; ++j) {
            uint256 at = n >> (5 * j + 2);
            // the store's state: an earlier id of this call may be it
            RentalG memory r = store.rental(j == 0 ? first.id : store.rentalIds(at % k));
            if (j != 0 && at / 64 % 4 != 0) {
                RentalG memory c = _pickWhere(at, CLAIMABLE);
                if (c.id != 0) r = store.rental(c.id);
            }
            ids[j] = r.id;
            if (r.status != ACTIVE && r.status != ENDED) continue;
            uint256 accrued = M.accruedDown(r.total, r.started, r.ends, _now());
            if (accrued == r.claimed) continue;
            expect += accrued - r.claimed;
            _claimModel(r, accrued);
            store.saveRental(r, false); // accruedOf is checked once the call has run, below
        }
        vm.prank(sys.stranger);
        assertEq(sys.market.claimMany(ids), expect, "claimMany: gross = the model's sum");
        return "claimMany";
    }

    function extend(uint256 seed) external synced { _run("extend", _extend, seed); }
    function extendAgain(uint256 seed) external synced { _run("extend", _extend, seed); }

    /// @notice The renter of a self-funded Active rental adds hours at the rental's own rate.
    /// With none that can extend (running, self-funded, its offer Active with hours to spare), one is
    /// activated (opened first, self-funded, if none is Pending) after the pause, if any, is lifted.
    function _extend(uint256 n) internal returns (string memory) {
        if (!_unpause()) return "";
        RentalG memory r = _running(n, true);
        if (r.id == 0) return "";
        uint256 room = store.offer(r.offerId).maxHours - r.hoursPaid;
        uint256 hoursAdded = n / 64 % (room < 48 ? room : 48) + 1;
        uint256 before = _balance(r.token, r.renter);
        vm.prank(r.renter);
        uint256 cost = sys.market.extend(r.id, hoursAdded);
        assertEq(cost, r.total / r.hoursPaid * hoursAdded, "extend: cost = the rental's rate x hours (model)");
        assertEq(before - _balance(r.token, r.renter), cost, "extend: the renter paid the cost");
        r.total = r.total + cost;
        r.deposit = r.deposit + cost;
        r.hoursPaid = r.hoursPaid + hoursAdded;
        r.ends = r.ends + hoursAdded * HOUR;
        store.move(r.payer, r.token, -int256(cost));
        _saveRental(r, false);
        return "extend";
    }

    function stopRental(uint256 seed) external synced { _run("stopRental", _stop, seed); }
    function stopRentalAgain(uint256 seed) external synced { _run("stopRental", _stop, seed); }

    /// @notice The renter stops; half the time at a random second of the rental, where the rounding matters.
    function _stop(uint256 n) internal returns (string memory) {
        RentalG memory r = _running(n, false);
        if (r.id == 0) return "";
        if (n / 64 % 2 == 1) _warpTo(r.started + n / 128 % (r.ends - r.started));
        uint256 before = _balance(r.token, r.payer);
        vm.prank(r.renter);
        uint256 refund = sys.market.stopRental(r.id);
        uint256 charge = M.stopChargeUp(r.total, r.started, _now(), r.hoursPaid, r.discountBps);
        assertEq(refund, r.total - charge, "stop: refund = total - the model's stop charge");
        assertEq(_balance(r.token, r.payer) - before, refund, "stop: the payer got the refund");
        r.refunded += refund;
        (r.total, r.ends, r.status) = (charge, _now(), ENDED);
        store.addInUse(r.offerId, -int256(r.gpus));
        store.move(r.payer, r.token, int256(refund));
        _saveRental(r, false);
        return "stopRental";
    }

    function cancelPending(uint256 seed) external synced { _run("cancelPending", _cancel, seed); }

    /// @notice The renter cancels a Pending rental (one is opened first if none is): on time, or after the
    /// deadline (a no-show, with the penalty).
    function _cancel(uint256 n) internal returns (string memory) {
        RentalG memory r = store.pickRental(n, _mask(PENDING));
        if (r.id == 0) r = _openFor(n, false, false);
        if (r.id == 0) return "";
        if (n / 64 % 8 == 0) _warpTo(r.deadline + 1 + n / 512 % 600); // a no-show
        _cancelNow(r);
        return "cancelPending";
    }

    function release(uint256 seed) external synced { _run("release", _release, seed); }
    function releaseAgain(uint256 seed) external synced { _run("release", _release, seed); }

    /// @notice Anyone moves a rental on: a no-show cancelled, an Active one past its end Ended, one past its
    /// dispute window Settled (the provider paid the rest). A third of the time the clock first moves there.
    /// With no such rental, one is activated (opened first).
    function _release(uint256 n) internal returns (string memory) {
        RentalG memory r = store.pickRental(n, _mask(PENDING) | _mask(ACTIVE, ENDED));
        if (r.id == 0) return _activate(n);
        if (r.status == PENDING) {
            if (n / 64 % 8 == 0) _warpTo(r.deadline + 1);
            if (_now() <= r.deadline) return _activate(n);
            vm.prank(sys.stranger);
            sys.market.release(r.id);
            _cancelModel(r);
            return "release";
        }
        uint256 settleAt = r.ends + store.disputeWindow();
        if (n / 64 % 2 == 0) _warpTo(n / 256 % 2 == 0 ? r.ends : settleAt);
        if (_now() < r.ends || (r.status == ENDED && _now() < settleAt)) return _claim(n);
        return _releaseNow(r);
    }

    // ───────────────────────────── disputes ─────────────────────────────

    function dispute(uint256 seed) external synced { _run("dispute", _dispute, seed); }
    function disputeAgain(uint256 seed) external synced { _run("dispute", _dispute, seed); }
    function disputeThird(uint256 seed) external synced { _run("dispute", _dispute, seed); }

    /// @notice The renter disputes a running or ended rental; a running one is billed as a stop at this second.
    /// Half of the disputes of an ended rental come after the provider claimed everything (nothing frozen).
    function _dispute(uint256 n) internal returns (string memory) {
        RentalG memory r = _pickWhere(n, DISPUTABLE);
        if (r.id == 0) r = _running(n, false);
        if (r.id == 0) return "";
        if (r.status == ENDED && n / 64 % 2 == 0) {
            uint256 accrued = M.accruedDown(r.total, r.started, r.ends, _now());
            if (accrued > r.claimed) {
                vm.prank(r.provider);
                sys.market.claim(r.id);
                _claimModel(r, accrued);
            }
        }
        bool running = r.status == ACTIVE && _now() < r.ends;
        uint256 total = running ? M.stopChargeUp(r.total, r.started, _now(), r.hoursPaid, r.discountBps) : r.total;
        uint256 ends = running ? _now() : r.ends;
        uint256 refund = r.total - total;
        uint256 bond = M.disputeBondUp(total, ends - r.started, store.arbitrationTimeout(), store.disputeWindow());
        int256 renterBefore = int256(_balance(r.token, r.renter));
        int256 payerBefore = int256(_balance(r.token, r.payer));
        vm.prank(r.renter);
        assertEq(sys.market.dispute(r.id, bytes32(uint256(7))), bond, "dispute: bond = the model's bond");
        if (r.status == ACTIVE) store.addInUse(r.offerId, -int256(r.gpus));
        r.refunded += refund;
        if (r.payer == r.renter) {
            // the bond comes out of the refund first
            store.move(r.renter, r.token, int256(refund) - int256(bond));
            assertEq(int256(_balance(r.token, r.renter)) - renterBefore, int256(refund) - int256(bond), "dispute: refund - bond");
        } else {
            store.move(r.payer, r.token, int256(refund));
            store.move(r.renter, r.token, -int256(bond));
            assertEq(int256(_balance(r.token, r.payer)) - payerBefore, int256(refund), "dispute: the payer's refund");
            assertEq(renterBefore - int256(_balance(r.token, r.renter)), int256(bond), "dispute: the renter's bond");
        }
        r.total = total;
        r.ends = ends;
        r.bond = bond;
        r.status = DISPUTED;
        r.timeoutAt = _now() + store.arbitrationTimeout();
        _saveRental(r, false);
        return "dispute";
    }

    function resolve(uint256 seed) external synced { _run("resolveDispute", _resolve, seed); }
    function resolveAgain(uint256 seed) external synced { _run("resolveDispute", _resolve, seed); }
    /// @notice The arbiter rules before the timeout, or anyone applies the default ruling after it (a third
    /// of the time the clock first moves to the timeout).
    /// With no dispute open, a rental is disputed.
    function _resolve(uint256 n) internal returns (string memory label) {
        RentalG memory r = store.pickRental(n, _mask(DISPUTED));
        if (r.id == 0) return _dispute(n);
        if (n / 32 % 3 == 0) _warpTo(r.timeoutAt);
        uint256[2] memory before = [_balance(r.token, r.renter), _balance(r.token, r.provider)];
        uint256 slash;
        bool lost;
        uint256 providerGross = r.total - r.claimed;
        if (_now() < r.timeoutAt) {
            uint256 k = n / 64;
            uint256[4] memory shares = [BPS, 0, k / 4 % (BPS + 1), BPS];
            uint256 share = shares[k % 4];
            slash = k / 40_004 % 2 == 1 ? 0 : r.collateral * (k / 80_008 % 101) / 100;
            if (r.total == r.claimed && k / 160_016 % 2 == 1) (share, slash) = (k / 320_032 % BPS, 0);
            vm.prank(sys.arbiter);
            sys.market.resolveDispute(r.id, share, slash);
            (providerGross, lost) = (providerGross * share / BPS, share < BPS || slash > 0);
            label = "resolveDispute";
            // V5: a slash of the vault's stake moves its price per share (VaultInvariants checks it).
            if (slash != 0 && r.provider == address(sys.vault)) store.note("resolveDispute: the vault slashed");
        } else {
            vm.prank(sys.stranger);
            sys.market.applyDefaultRuling(r.id);
            label = "applyDefaultRuling";
        }
        (uint256 refund, uint256 net, uint256 bond) = _resolveModel(r, providerGross, slash, lost);
        // The ruling's payouts, to the unit: the bond to the renter on a loss, else to the provider.
        uint256 toRenter = (lost ? bond : 0) + (r.payer == r.renter ? refund : 0);
        if (r.token == address(sys.gpuc)) toRenter += slash - slash * store.slashTreasuryBps() / BPS;
        assertEq(_balance(r.token, r.renter) - before[0], toRenter, "ruling: the renter got refund, bond and slash (model)");
        assertEq(_balance(r.token, r.provider) - before[1], net + (lost ? 0 : bond), "ruling: the provider got net and bond (model)");
    }

    /// @notice The model's side of a ruling; returns (the payer's refund, the provider's net, the bond).
    function _resolveModel(RentalG memory r, uint256 providerGross, uint256 slash, bool lost)
        internal
        returns (uint256 refund, uint256 net, uint256 bond)
    {
        refund = r.total - r.claimed - providerGross;
        net = _claimModel(r, r.claimed + providerGross);
        bond = r.bond;
        r.total = r.claimed;
        r.refunded += refund;
        store.move(r.payer, r.token, int256(refund));
        store.move(lost ? r.renter : r.provider, r.token, int256(bond));
        r.bond = 0;
        uint256 toTreasury = slash * store.slashTreasuryBps() / BPS;
        store.move(r.renter, address(sys.gpuc), int256(slash - toTreasury));
        store.move(sys.treasury, address(sys.gpuc), int256(toTreasury));
        store.addSlashed(r.provider, slash);
        _restake(r.provider, -int256(slash), -int256(r.collateral));
        r.status = RESOLVED;
        _saveRental(r, false);
    }

    // ───────────────────────────── fees ─────────────────────────────

    /// @notice The treasury's fees (anyone triggers) or a broker's credits.
    function withdraw(uint256 seed) external synced {
        _run("withdrawProtocolFees", _withdraw, seed);
    }

    /// The drawn one first, then the next of the six (fees or a broker's credits, in either token) that
    /// holds something; with nothing anywhere, a claim books some.
    function _withdraw(uint256 n) internal returns (string memory) {
        for (uint256 i; i < 6; ++i) {
            uint256 w = (n + i) % 6;
            address token = w % 2 == 1 ? address(sys.usd) : address(sys.gpuc);
            if (w < 2) {
                uint256 fees = store.protocolFees(token);
                if (fees == 0) continue;
                vm.prank(sys.stranger);
                assertEq(sys.market.withdrawProtocolFees(token), fees, "withdrawProtocolFees: the model's fees");
                store.clearProtocolFees(token);
                store.move(sys.treasury, token, int256(fees));
                return "withdrawProtocolFees";
            }
            address b = sys.brokers[w / 4];
            uint256 amount = store.credits(b, token);
            if (amount == 0) continue;
            vm.prank(b);
            assertEq(sys.market.withdrawCredits(token), amount, "withdrawCredits: the model's credits");
            store.clearCredits(b, token);
            store.move(b, token, int256(amount));
            return "withdrawCredits";
        }
        return _claim(n);
    }

    // ───────────────────────────── owner ─────────────────────────────

    /// @notice The owner: pause (the next admin call unpauses), fee, stake per GPU, dispute window,
    /// arbitration timeout, no-show penalty.
    function admin(uint256 seed) external synced {
        uint256 n = _mix(seed);
        (uint256 which, uint256 value) = (n % 9, n / 9);
        vm.startPrank(sys.owner);
        if (store.paused() || which == 0) {
            if (store.paused()) sys.market.unpause();
            else sys.market.pause();
            store.setPaused(!store.paused());
            store.count("pause/unpause", true);
        } else if (which == 1 || which == 5) {
            sys.market.setProtocolFee(value % 1001);
            store.setConfig("protocolBps", value % 1001);
            store.count("setProtocolFee", true);
        } else if (which == 2 || which == 6) {
            sys.market.setStakePerGpu(value % 301 * 1e18);
            store.setConfig("stakePerGpu", value % 301 * 1e18);
            store.count("setStakePerGpu", true);
        } else if (which == 3) {
            sys.market.setDisputeWindow(HOUR + value % (3 days));
            store.setConfig("disputeWindow", HOUR + value % (3 days));
            store.count("setDisputeWindow", true);
        } else if (which == 7) {
            sys.market.setArbitrationTimeout(1 days + value % (59 days + 1));
            store.setConfig("arbitrationTimeout", 1 days + value % (59 days + 1));
            store.count("setArbitrationTimeout", true);
        } else {
            sys.market.setNoShowPenalty(value % (BPS + 1));
            store.setConfig("noShowBps", value % (BPS + 1));
            store.count("setNoShowPenalty", true);
        }
        vm.stopPrank();
    }

    /// @notice 7. Pause never traps funds: with the market paused, an exit path (stop, cancel, claim,
    /// release, dispute, ruling) must still go through (a revert fails the run). The drawn exit first, then
    /// the next one that finds a rental (with no rental not terminal, one is opened before the pause);
    /// under the pause the exits prepare nothing but activations (`_pinned`: nothing lifts the pause).
    function exitUnderPause(uint256 seed) external synced {
        uint256 n = _mix(seed);
        _prepared = "";
        bool wasPaused = store.paused();
        if (!wasPaused) {
            if (store.liveRentals() == 0) _openFor(n, false, false);
            _setPaused(true);
        }
        _pinned = true;
        string memory did;
        for (uint256 i; i < 6 && bytes(did).length == 0; ++i) did = _exit((n + i) % 6, n / 6);
        _pinned = false;
        if (!wasPaused) _setPaused(false);
        store.count("exitUnderPause", bytes(did).length != 0);
    }

    function _exit(uint256 which, uint256 k) internal returns (string memory) {
        if (which == 0) return _stop(k);
        if (which == 1) return _cancel(k);
        if (which == 2) return _claim(k);
        if (which == 3) return _release(k);
        return which == 4 ? _dispute(k) : _resolve(k);
    }

    // ───────────────────────────── time ─────────────────────────────

    /// @notice From one second to three weeks, mostly short: half the jumps are under two minutes.
    function warp(uint256 seed) external synced { _warp(_mix(seed)); }
    function _warp(uint256 n) internal {
        uint256[8] memory scales = [uint256(120), 120, 120, 120, HOUR, HOUR, 1 days, 21 days];
        _warpTo(_now() + n / 8 % scales[n % 8] + 1);
        store.count("warp", true);
    }
}
