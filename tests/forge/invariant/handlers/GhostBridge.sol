// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { PENDING, ACTIVE, ENDED, CANCELLED, SETTLED } from "../lib/Status.sol";
import { SignedCatalog as C } from "../lib/SignedCatalog.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";
import { BaseHandler } from "./BaseHandler.sol";

/// @title GhostBridge
/// @notice What the handlers that open and settle rentals share (MarketHandler, SignedHandler,
/// VaultHandler): the model's rental of an offer (`_rentalFor`), the ghost's side of an open
/// (`_bookOpen`) and of a claim (`_claimModel`, also the vault's harvest), stake moves, and the draws.
/// Every rental and offer enters the one GhostStore the same way (`_saveRental`, `store.saveOffer`), so
/// invariants 1–6 cover the signed offers' records, the clusters' rentals and the vault's rentals too.
abstract contract GhostBridge is BaseHandler {
    // A run keeps at most MAX_LIVE rentals that are not terminal, and opens at most MAX_RENTALS in all
    // (the per-call checks read every rental): a long run keeps renting as old rentals close.
    uint256 internal constant MAX_RENTALS = 256;
    uint256 internal constant MAX_LIVE = 12;
    uint256 internal constant BPS = 10_000;
    uint256 internal _draw; // the current call's seed, consumed by `_d`
    bool internal _pinned; // an exit under pause is running: no preparation lifts the pause

    constructor(GhostStore store_, Sys memory sys_) BaseHandler(store_, sys_) { }

    /// @notice The next parameter in [0, k) out of the call's seed (refilled when it runs low).
    function _d(uint256 k) internal returns (uint256 v) {
        if (_draw < 1 << 64) _draw = uint256(keccak256(abi.encode(_draw, step, k)));
        v = _draw % k;
        _draw /= k;
    }

    /// @notice The model's rental of `gpus` GPUs of offer `o` for `hoursPaid` hours, opened now (id 0).
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
        (r.offerId, r.provider, r.token) = (o.id, o.provider, o.token);
        (r.renter, r.payer, r.broker, r.brokerBps) = (renter, payer, broker, brokerBps);
        (r.gpus, r.hoursPaid, r.total, r.deposit) = (gpus, hoursPaid, cost, cost);
        (r.collateral, r.protocolBps, r.discountBps) = (store.stakePerGpu() * gpus, store.protocolBps(), discount);
        (r.deadline, r.status) = (_now() + store.activationWindow(), PENDING);
    }

    /// @notice Room for `k` more rentals in this run.
    function _roomFor(uint256 k) internal view returns (bool) {
        return store.rentalCount() + k <= MAX_RENTALS && store.liveRentals() + k <= MAX_LIVE;
    }

    /// @notice Whether a rental can open now: a pause lifted (`_unpause`) and, with MAX_LIVE rentals not
    /// terminal, one closed first (`_freeSlot`).
    function _readyToOpen(uint256 n) internal returns (bool) {
        return _unpause() && (_roomFor(1) || _freeSlot(n));
    }

    /// @notice A renter rents GPUs of the on-chain offer `o` (never a signed offer's record: those need
    /// their signature, SignedHandler fills them), self-paid or by a payer (always self-paid with
    /// `selfPaid`, for fewer hours than the offer's maximum so that it can be extended), with or without a
    /// broker; as many GPUs as drawn, within the offer's free capacity and its provider's free stake; the
    /// payer pays the model's cost. Returns the rental (id 0 when it could not open: pause, room, offer).
    function _openOn(OfferG memory o, bool selfPaid) internal returns (RentalG memory r) {
        (address renter, address payer, address broker, uint256 bps) = _parties(sys.renters[_d(3)], o.maxBrokerBps);
        uint256 gpus = _d(8) + 1;
        if (gpus > _gpusFit(o)) gpus = _gpusFit(o);
        if (
            store.paused() || o.status != 1 || o.id > C.SIGNED_OFFER_ID_BASE || gpus == 0 || !_roomFor(1)
                || !store.activeProvider(o.provider)
        ) return r;
        uint256 hoursPaid = selfPaid && o.maxHours > 1 ? _d(o.maxHours - 1) + 1 : _d(o.maxHours) + 1;
        r = _rentalFor(o, renter, selfPaid ? renter : payer, broker, bps, gpus, hoursPaid);
        uint256 before = _balance(o.token, r.payer);
        vm.prank(r.payer);
        r.id = r.payer == r.renter
            ? sys.market.openRental(o.id, r.gpus, r.hoursPaid, o.price, r.broker, r.brokerBps)
            : sys.market.openRentalFor(r.renter, o.id, r.gpus, r.hoursPaid, o.price, r.broker, r.brokerBps);
        assertEq(before - _balance(o.token, r.payer), r.deposit, "open: the payer paid the model's cost");
        _bookOpen(r);
    }

    /// @notice The GPUs a rental of `o` can take now: its free capacity, within its provider's free stake.
    function _gpusFit(OfferG memory o) internal view returns (uint256 g) {
        g = o.offered - o.inUse;
        uint256 perGpu = store.stakePerGpu();
        uint256 staked = perGpu == 0 ? g : store.freeStake(o.provider) / perGpu;
        if (staked < g) g = staked;
    }

    /// @notice A call that a pause refuses comes next: the owner lifts the pause first (as the Python
    /// machine's `_unpause`), unless an exit under pause is running (`_pinned`). Returns whether the market
    /// is unpaused.
    function _unpause() internal returns (bool) {
        if (store.paused() && !_pinned) _setPaused(false);
        return !store.paused();
    }

    /// @notice The owner pauses or unpauses the market, and the ghost follows.
    function _setPaused(bool paused) internal {
        vm.prank(sys.owner);
        paused ? sys.market.pause() : sys.market.unpause();
        store.setPaused(paused);
    }

    /// @notice The ghost's side of opening `r` (id set): the rental, its GPUs, its collateral, the payment.
    function _bookOpen(RentalG memory r) internal {
        _saveRental(r, true);
        store.addInUse(r.offerId, int256(r.gpus));
        _restake(r.provider, 0, int256(r.collateral));
        store.move(r.payer, r.token, -int256(r.deposit));
    }

    /// @notice MAX_LIVE rentals are not terminal: one is closed so that another can open (a Pending one
    /// cancelled by its renter, else an Active or Ended one settled after its dispute window; MarketHandler
    /// also rules on a dispute). Returns whether there is room now.
    function _freeSlot(uint256 n) internal virtual returns (bool) {
        if (store.rentalCount() >= MAX_RENTALS) return false;
        RentalG memory r = store.pickRental(n, 1 << PENDING);
        if (r.id != 0) {
            _cancelNow(r);
        } else {
            r = store.pickRental(n, (1 << ACTIVE) | (1 << ENDED));
            if (r.id == 0) return false;
            _warpTo(r.ends + store.disputeWindow());
            _releaseNow(r);
        }
        return _roomFor(1);
    }

    /// @notice The renter cancels Pending rental `r`: the whole deposit back (after its deadline, a no-show:
    /// the provider's penalty to the renter).
    function _cancelNow(RentalG memory r) internal {
        vm.prank(r.renter);
        assertEq(sys.market.cancelPending(r.id), r.total, "cancelPending: the whole deposit back");
        _cancelModel(r);
    }

    function _cancelModel(RentalG memory r) internal {
        uint256 penalty = _now() > r.deadline ? r.collateral * store.noShowBps() / BPS : 0;
        r.refunded += r.total;
        store.move(r.payer, r.token, int256(r.total));
        r.status = CANCELLED;
        store.addInUse(r.offerId, -int256(r.gpus));
        _restake(r.provider, -int256(penalty), -int256(r.collateral));
        store.addSlashed(r.provider, penalty);
        store.move(r.renter, address(sys.gpuc), int256(penalty));
        _saveRental(r, false);
    }

    /// @notice Anyone releases `r` (Active or Ended, at or past its end): Ended, or Settled after the window.
    function _releaseNow(RentalG memory r) internal returns (string memory) {
        uint256 settleAt = r.ends + store.disputeWindow();
        vm.prank(sys.stranger);
        sys.market.release(r.id);
        if (r.status == ACTIVE) {
            store.addInUse(r.offerId, -int256(r.gpus));
            r.status = ENDED;
        }
        if (_now() >= settleAt) {
            _claimModel(r, r.total);
            _restake(r.provider, 0, -int256(r.collateral));
            r.status = SETTLED;
        }
        _saveRental(r, false);
        return "release";
    }

    /// @notice The model's side of a claim up to `accrued`: fees booked, the provider's net moved (for the
    /// vault, an income arrival); returns the net. The caller saves the rental.
    function _claimModel(RentalG memory r, uint256 accrued) internal returns (uint256 net) {
        (uint256 net_, uint256 pf, uint256 bf) = M.splitClaimDown(r.claimed, accrued, r.protocolBps, r.brokerBps);
        net = net_;
        r.claimed = accrued;
        (r.providerNet, r.protocolFee, r.brokerFee) = (r.providerNet + net, r.protocolFee + pf, r.brokerFee + bf);
        store.addProtocolFee(r.token, pf);
        if (bf != 0) store.addCredit(r.broker, r.token, bf);
        store.move(r.provider, r.token, int256(net));
    }

    /// @notice The provider's stake moves by `dStaked` (a slash) and its locked stake by `dLocked`.
    function _restake(address p, int256 dStaked, int256 dLocked) internal {
        store.setStake(
            p, uint256(int256(store.staked(p)) + dStaked), uint256(int256(store.locked(p)) + dLocked), store.unbonding(p)
        );
    }

    /// @notice (renter, payer, broker, bps) out of the draw: a third self-paid, a third without a broker.
    function _parties(address renter, uint256 maxBrokerBps) internal returns (address, address, address, uint256) {
        address payer = _d(3) == 0 ? renter : sys.payers[_d(2)];
        address broker = _d(3) == 0 ? address(0) : sys.brokers[_d(2)];
        uint256 bps = broker == address(0) ? 0 : _d(1001);
        return (renter, payer, broker, bps < maxBrokerBps ? bps : maxBrokerBps);
    }
}
