// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { PENDING } from "../lib/Status.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { Sys } from "../System.sol";
import { BaseHandler } from "./BaseHandler.sol";

/// @title GhostBridge
/// @notice What SignedHandler and VaultHandler write to the market's GhostStore, in one place: a rental
/// they open (or a vault harvest claims) and a signed offer's record enter the store exactly as
/// MarketHandler's rentals and offers do, so invariants 1–6 cover them. The four `_ghost*` functions
/// are the only calls of the store's rental and offer writers (on merge with a store whose writers are
/// `saveRental(r, isNew)` / `saveOffer(o, isNew)`, only these four lines change).
abstract contract GhostBridge is BaseHandler {
    uint256 internal constant MAX_RENTALS = 24;
    uint256 internal _draw; // the current call's seed, consumed by `_d`

    constructor(GhostStore store_, Sys memory sys_) BaseHandler(store_, sys_) { }

    function _ghostNewRental(RentalG memory r) internal {
        store.addRental(r);
    }

    function _ghostSetRental(RentalG memory r) internal {
        store.setRental(r);
    }

    function _ghostNewOffer(OfferG memory o) internal {
        store.addOffer(o);
    }

    function _ghostSetOffer(OfferG memory o) internal {
        store.setOffer(o);
    }

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

    /// @notice The ghost's side of opening `r` (id set): the rental, its GPUs, its collateral, the payment.
    function _bookOpen(RentalG memory r) internal {
        _ghostNewRental(r);
        store.addInUse(r.offerId, int256(r.gpus));
        _lock(r.provider, r.collateral);
        store.move(r.payer, r.token, -int256(r.deposit));
    }

    function _lock(address p, uint256 amount) internal {
        store.setStake(p, store.staked(p), store.locked(p) + amount, store.unbonding(p));
    }

    /// @notice (renter, payer, broker, bps) out of the draw: a third self-paid, a third without a broker.
    function _parties(address renter, uint256 maxBrokerBps) internal returns (address, address, address, uint256) {
        address payer = _d(3) == 0 ? renter : sys.payers[_d(2)];
        address broker = _d(3) == 0 ? address(0) : sys.brokers[_d(2)];
        uint256 bps = broker == address(0) ? 0 : _d(1001);
        return (renter, payer, broker, bps < maxBrokerBps ? bps : maxBrokerBps);
    }
}
