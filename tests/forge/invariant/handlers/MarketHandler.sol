// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "gpumarket/types/Offer.sol";
import { PENDING, ACTIVE, ENDED, CANCELLED, SETTLED, DISPUTED, RESOLVED } from "../lib/Status.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";
import { BaseHandler } from "./BaseHandler.sol";

/// @title MarketHandler
/// @notice The market's rental lifecycle (tests/invariants/machine.py's rules). Every function draws one
/// seed, finds a target in the right state (or counts a skip), makes only valid calls, and checks every
/// amount the call moves against the independent model (lib/RentalModel.sol) before writing the ghost.
contract MarketHandler is BaseHandler {
    uint256 internal constant MAX_RENTALS = 24;

    constructor(GhostStore store_, Sys memory sys_) BaseHandler(store_, sys_) {
        // Every run starts with an mUSD offer and a GPUC offer, so rentals can open at the first call.
        _create(sys.providers[0], true, 1_950_000, 8, 200, true, 500);
        _create(sys.providers[1], false, 1_950_000, 8, 200, true, 500);
    }

    // ───────────────────────────── offers ─────────────────────────────

    function _create(address p, bool usd, uint256 price, uint256 gpus, uint256 maxHours, bool tiered, uint256 maxBroker)
        internal
    {
        address token = usd ? address(sys.usd) : address(sys.gpuc);
        if (!usd) price *= 1e12; // an 18-decimal price of the same order
        Offer.Tier[] memory tiers = new Offer.Tier[](tiered ? 2 : 0);
        if (tiered) {
            tiers[0] = Offer.Tier(24, 250);
            tiers[1] = Offer.Tier(96, 500);
        }
        Offer.Params memory params = Offer.Params({
            gpuModel: "H100-SXM-80GB",
            region: "AU-QLD",
            paymentToken: token,
            pricePerGpuHour: uint96(price),
            gpusOffered: uint16(gpus),
            minHours: 1,
            maxHours: uint16(maxHours),
            reservedFor: address(0),
            maxBrokerBps: uint16(maxBroker),
            tiers: tiers
        });
        vm.prank(p);
        uint256 id = sys.market.createOffer(params);
        store.addOffer(OfferG(id, p, token, price, gpus, 0, 1, maxHours, maxBroker, tiered));
    }

    // ───────────────────────────── rentals ─────────────────────────────

    function openRental(uint256 seed) external synced {
        store.count("openRental", _open(_mix(seed)));
    }

    function _open(uint256 n) internal returns (bool) {
        OfferG memory o = store.offerAt(n);
        n /= 8;
        (address renter, address payer, address broker, uint256 brokerBps) = _parties(n, o.maxBrokerBps);
        uint256 gpus = n / 27_027 % 8 + 1;
        if (gpus > o.offered - o.inUse) gpus = o.offered - o.inUse;
        uint256 hoursPaid = n / 216_216 % o.maxHours + 1;
        if (
            store.paused() || o.status != 1 || o.id > 1_000_000_000 || gpus == 0 || store.rentalCount() >= MAX_RENTALS
                || !store.activeProvider(o.provider) || store.freeStake(o.provider) < store.stakePerGpu() * gpus
        ) return false;
        RentalG memory r = _rentalFor(o, renter, payer, broker, brokerBps, gpus, hoursPaid);
        uint256 before = _balance(o.token, payer);
        vm.prank(payer);
        r.id = payer == renter
            ? sys.market.openRental(o.id, gpus, hoursPaid, o.price, broker, brokerBps)
            : sys.market.openRentalFor(renter, o.id, gpus, hoursPaid, o.price, broker, brokerBps);
        assertEq(before - _balance(o.token, payer), r.deposit, "open: the payer paid the model's cost");
        _bookOpen(r);
        return true;
    }

    /// @notice (renter, payer, broker, bps): a third self-paid, a third without a broker, the cut up to the max.
    function _parties(uint256 n, uint256 maxBrokerBps) internal view returns (address, address, address, uint256) {
        address renter = sys.renters[n % 3];
        address payer = n / 3 % 3 == 0 ? renter : sys.payers[n / 3 % 2];
        address broker = n / 9 % 3 == 0 ? address(0) : sys.brokers[n / 9 % 2];
        uint256 bps = broker == address(0) ? 0 : n / 27 % 1001;
        return (renter, payer, broker, bps < maxBrokerBps ? bps : maxBrokerBps);
    }

    function _rentalFor(
        OfferG memory o,
        address renter,
        address payer,
        address broker,
        uint256 brokerBps,
        uint256 gpus,
        uint256 hoursPaid
    ) internal view returns (RentalG memory r) {
        uint256 discount = M.tierDiscountBps(o.tiered, gpus * hoursPaid);
        uint256 cost = M.hourlyRateUp(gpus, o.price, discount) * hoursPaid;
        r.offerId = o.id;
        r.provider = o.provider;
        r.token = o.token;
        r.renter = renter;
        r.payer = payer;
        r.broker = broker;
        r.brokerBps = brokerBps;
        r.gpus = gpus;
        r.hoursPaid = hoursPaid;
        r.total = cost;
        r.deposit = cost;
        r.collateral = store.stakePerGpu() * gpus;
        r.protocolBps = store.protocolBps();
        r.discountBps = discount;
        r.deadline = _now() + store.activationWindow();
        r.status = PENDING;
    }

    function _bookOpen(RentalG memory r) internal {
        store.addRental(r);
        store.addInUse(r.offerId, int256(r.gpus));
        _lock(r.provider, r.collateral);
        store.move(r.payer, r.token, -int256(r.deposit));
    }

    function activate(uint256 seed) external synced {
        uint256 n = _mix(seed);
        RentalG memory r = store.pickRental(n, _mask(PENDING));
        bool acts = r.id != 0 && _now() <= r.deadline && r.provider != address(sys.vault); // the vault: VaultHandler
        if (acts) {
            vm.prank(r.provider);
            sys.market.activate(r.id);
            (r.status, r.started, r.ends) = (ACTIVE, _now(), _now() + r.hoursPaid * HOUR);
            store.setRental(r);
        }
        store.count("activate", acts);
    }

    function claim(uint256 seed) external synced {
        uint256 n = _mix(seed);
        RentalG memory r = store.pickRental(n, _mask(ACTIVE, ENDED));
        if (r.id == 0 || M.accruedDown(r.total, r.started, r.ends, _now()) == r.claimed) {
            store.count("claim", false);
            return;
        }
        address[4] memory anyone = [r.provider, sys.stranger, r.renter, sys.owner];
        address caller = anyone[n / 64 % 4];
        uint256 accrued = M.accruedDown(r.total, r.started, r.ends, _now());
        uint256 before = _balance(r.token, r.provider);
        vm.prank(caller);
        uint256 gross = sys.market.claim(r.id);
        assertEq(gross, accrued - r.claimed, "claim: gross = accrued - claimed (model)");
        uint256 net = _claimModel(r, accrued);
        assertEq(_balance(r.token, r.provider) - before, net, "claim: the provider got the model's net");
        store.setRental(r);
        store.count("claim", true);
    }

    /// @notice The model's side of a claim up to `accrued`: fees booked, the provider's net moved; returns the net.
    function _claimModel(RentalG memory r, uint256 accrued) internal returns (uint256 net) {
        (uint256 net_, uint256 pf, uint256 bf) = M.splitClaimDown(r.claimed, accrued, r.protocolBps, r.brokerBps);
        net = net_;
        r.claimed = accrued;
        r.providerNet += net;
        r.protocolFee += pf;
        r.brokerFee += bf;
        store.addProtocolFee(r.token, pf);
        if (bf != 0) store.addCredit(r.broker, r.token, bf);
        store.move(r.provider, r.token, int256(net));
    }

    function stopRental(uint256 seed) external synced {
        store.count("stopRental", _stop(_mix(seed)));
    }

    /// @notice The renter stops; half the time at a random second of the rental, where the rounding matters.
    function _stop(uint256 n) internal returns (bool) {
        RentalG memory r = store.pickRental(n, _mask(ACTIVE));
        if (r.id == 0 || _now() >= r.ends) return false;
        if (n / 64 % 2 == 1) {
            _warpTo(r.started + n / 128 % (r.ends - r.started));
            if (_now() >= r.ends) return false;
        }
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
        store.setRental(r);
        return true;
    }

    // ───────────────────────────── time ─────────────────────────────

    /// @notice From one second to three weeks, mostly short: half the jumps are under two minutes.
    function warp(uint256 seed) external synced {
        uint256 n = _mix(seed);
        uint256[8] memory scales = [uint256(120), 120, 120, 120, HOUR, HOUR, 1 days, 21 days];
        _warpTo(_now() + n / 8 % scales[n % 8] + 1);
        store.count("warp", true);
    }

    // ───────────────────────────── stake helpers ─────────────────────────────

    function _lock(address p, uint256 amount) internal {
        store.setStake(p, store.staked(p), store.locked(p) + amount, store.unbonding(p));
    }
}
