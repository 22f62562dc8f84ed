// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { PENDING } from "../lib/Status.sol";
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
    uint256 internal constant MAX_RENTALS = 24;
    uint256 internal _draw; // the current call's seed, consumed by `_d`

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

    /// @notice The ghost's side of opening `r` (id set): the rental, its GPUs, its collateral, the payment.
    function _bookOpen(RentalG memory r) internal {
        _saveRental(r, true);
        store.addInUse(r.offerId, int256(r.gpus));
        _restake(r.provider, 0, int256(r.collateral));
        store.move(r.payer, r.token, -int256(r.deposit));
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
