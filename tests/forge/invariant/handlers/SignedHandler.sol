// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "gpumarket/interfaces/IComputeMarket.sol";
import { IComputeMarketErrors as E } from "gpumarket/interfaces/IComputeMarketErrors.sol";
import { Cluster } from "gpumarket/types/Cluster.sol";
import { Offer } from "gpumarket/types/Offer.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { SignedCatalog as C } from "../lib/SignedCatalog.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { SignedStore, SignedG } from "../stores/SignedStore.sol";
import { Sys } from "../System.sol";
import { GhostBridge } from "./GhostBridge.sol";

/// @notice The market's next rental id (MarketStorage's public variable; not in IComputeMarket).
interface INextRentalId {
    function nextRentalId() external view returns (uint64);
}

/// @title SignedHandler
/// @notice Signed offers and cluster bookings (tests/invariants/signed_model.py's rules): publish, fill
/// (first fill records, later fills share the record's capacity, sometimes with an empty signature, now
/// and then in the expiry second or exactly at the nonce floor), cancel one or raise a floor, book
/// clusters of on-chain and signed parts with the exact total as the cap; and `badSigned`, invalid calls
/// that must revert with the named error and all its arguments and leave no trace (inv10).
contract SignedHandler is GhostBridge {
    uint256 internal constant PUBLISHED_MAX = 16;
    uint8 internal constant CLOSED = 3;

    SignedStore public immutable signed;
    bytes32 internal immutable domain;
    uint256 internal immutable start;
    uint256[4] internal _keys; // the providers' keys, then the vault operator's
    address[3] internal _renters;

    struct Draft {
        address renter;
        address payer;
        address broker;
        uint256 bps;
        uint256 hoursPaid;
        address token;
        Cluster.Part[] parts;
        Cluster.SignedPart[] signedParts;
        RentalG[] rentals; // in the order the market opens them: on-chain parts first
        uint256[] entryOf; // per rental: its catalog entry + 1 (0: on-chain)
        uint256 total;
    }

    constructor(GhostStore store_, SignedStore signed_, Sys memory sys_) GhostBridge(store_, sys_) {
        signed = signed_;
        start = block.timestamp;
        domain = C.domainSeparator(address(sys.market));
        (_keys[0], _keys[1], _keys[2], _keys[3]) =
            (sys.providerKeys[0], sys.providerKeys[1], sys.providerKeys[2], sys.operatorKey);
        (_renters[0], _renters[1], _renters[2]) = (sys.renters[0], sys.renters[1], sys.renters[2]);
        for (uint256 si; si < 4; ++si) {
            for (uint256 j; j < C.CATALOG; ++j) {
                Offer.Signed memory s = _terms(si, j);
                bytes32 h = C.digest(s, domain);
                assertEq(sys.market.hashSignedOffer(s), h, "inv9: the market's digest = the EIP-712 digest");
                signed.addEntry(uint8(si), uint8(j), h, _sign(_keys[si], h));
            }
        }
        // Every run starts with five published (signed_model.py's STARTING_OFFERS).
        uint256[5] memory first = [uint256(0), 12 + 2, 24 + 9, 36 + 6, 36 + 7];
        for (uint256 i; i < 5; ++i) signed.publish(first[i]);
    }

    // ───────────────────────────── the catalog ─────────────────────────────

    function _signer(uint256 si) internal view returns (address) {
        return si == 3 ? address(sys.vault) : sys.providers[si];
    }

    function _terms(uint256 si, uint256 j) internal view returns (Offer.Signed memory) {
        return C.terms(_signer(si), j, start, address(sys.usd), address(sys.gpuc), _renters);
    }

    function _offerOf(SignedG memory e) internal view returns (Offer.Signed memory) {
        return _terms(e.signer, e.j);
    }

    function _sign(uint256 key, bytes32 h) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, h);
        return abi.encodePacked(r, s, v);
    }

    /// @notice The record's model: the GhostStore's offer once recorded, else what the first fill records.
    function _record(SignedG memory e, Offer.Signed memory s) internal view returns (OfferG memory o) {
        if (e.recordId != 0) return store.offer(e.recordId);
        o = OfferG(0, s.provider, s.paymentToken, s.pricePerGpuHour, s.gpus, 0, 1, s.maxHours, s.maxBrokerBps, C.tiered(e.j));
    }

    /// @notice Not cancelled, not expired, not below its signer's floor (its record may be paused or closed).
    function _live(SignedG memory e, Offer.Signed memory s) internal view returns (bool) {
        return !e.cancelled && _now() <= s.expiry && s.nonce >= signed.floor(s.provider);
    }

    /// @notice What a valid fill needs: live, its record (if any) Active, its signer an active provider.
    function _fillable(SignedG memory e, Offer.Signed memory s) internal view returns (bool) {
        return _live(e, s) && (e.recordId == 0 || store.offer(e.recordId).status == 1)
            && store.activeProvider(s.provider);
    }

    function _nextRecordId() internal view returns (uint256) {
        return C.SIGNED_OFFER_ID_BASE + signed.recorded() + 1;
    }

    /// @notice A published entry (index into the catalog) satisfying `kind`, drawn uniformly; or type(uint256).max.
    /// kinds: 0 fillable with room, 1 cancelled, 2 fillable with room and at its floor, 3 live and not
    /// recorded, 4 fillable with room and reserved, 5 not cancelled and expiring within two days, 6 live,
    /// 7 neither cancelled nor expired but below its signer's floor, 8 not cancelled.
    function _pick(uint256 kind) internal returns (uint256) {
        uint256 k = signed.publishedCount();
        uint256[] memory pool = new uint256[](k);
        uint256 m;
        for (uint256 i; i < k; ++i) {
            uint256 idx = signed.published(i);
            SignedG memory e = signed.entry(idx);
            Offer.Signed memory s = _offerOf(e);
            bool ok;
            if (kind == 0) ok = _fillable(e, s) && _available(e, s) > 0;
            else if (kind == 1) ok = e.cancelled;
            else if (kind == 2) ok = _fillable(e, s) && _available(e, s) > 0 && s.nonce == signed.floor(s.provider);
            else if (kind == 3) ok = _live(e, s) && e.recordId == 0;
            else if (kind == 4) ok = _fillable(e, s) && _available(e, s) > 0 && s.reservedFor != address(0);
            else if (kind == 5) ok = !e.cancelled && s.expiry <= _now() + 2 days;
            else if (kind == 6) ok = _live(e, s);
            else if (kind == 7) ok = !e.cancelled && _now() <= s.expiry && s.nonce < signed.floor(s.provider);
            else ok = !e.cancelled;
            if (ok) pool[m++] = idx;
        }
        return m == 0 ? type(uint256).max : pool[_d(m)];
    }

    /// @notice `_pick(kind)` with its entry and terms (empty when there is none).
    function _pickEntry(uint256 kind) internal returns (uint256 idx, SignedG memory e, Offer.Signed memory s) {
        idx = _pick(kind);
        if (idx != type(uint256).max) {
            e = signed.entry(idx);
            s = _offerOf(e);
        }
    }

    /// @notice Counts an invalid call of kind `label` made and checked.
    function _done(string memory label) internal returns (bool) {
        store.count(label, true);
        return true;
    }

    function _available(SignedG memory e, Offer.Signed memory s) internal view returns (uint256) {
        if (e.recordId == 0) return s.gpus;
        OfferG memory o = store.offer(e.recordId);
        return o.offered - o.inUse;
    }

    // ───────────────────────────── publish ─────────────────────────────

    /// @notice A provider (or the vault's operator) publishes one more offer of its catalog: nothing on chain.
    function signOffer(uint256 seed) external synced {
        _draw = _mix(seed);
        store.count("signOffer", _publishFresh() != type(uint256).max);
    }

    /// @notice Publishes an offer of the catalog drawn among those not published yet that could be filled
    /// (not expired, not below the floor, its signer an active provider with free stake for a GPU), while
    /// fewer than PUBLISHED_MAX are; returns its index, or type(uint256).max.
    function _publishFresh() internal returns (uint256) {
        if (signed.publishedCount() >= PUBLISHED_MAX) return type(uint256).max;
        uint256[] memory pool = new uint256[](4 * C.CATALOG);
        uint256 m;
        for (uint256 i; i < pool.length; ++i) {
            SignedG memory e = signed.entry(i);
            if (e.published) continue;
            Offer.Signed memory s = _offerOf(e);
            if (_live(e, s) && store.activeProvider(s.provider) && store.freeStake(s.provider) >= store.stakePerGpu()) {
                pool[m++] = i;
            }
        }
        if (m == 0) return type(uint256).max;
        uint256 idx = pool[_d(m)];
        signed.publish(idx);
        return idx;
    }

    // ───────────────────────────── fill ─────────────────────────────

    function fillSigned(uint256 seed) external synced {
        _draw = _mix(seed);
        store.count("openSignedRental", _fill());
    }

    function fillSignedAgain(uint256 seed) external synced {
        _draw = _mix(seed);
        store.count("openSignedRental", _fill());
    }

    /// @notice A fill (after lifting a pause and, with MAX_LIVE rentals live, closing one); with no
    /// published offer fillable, a provider first signs and publishes one more (`_publishFresh`).
    function _fill() internal returns (bool) {
        if (!_readyToOpen(_d(1 << 32))) return false;
        // A third of the fills take an offer exactly at its signer's floor (it must still fill): one that
        // is, or one whose signer raises its floor to its nonce now (a valid call).
        bool atFloor = _d(3) == 0;
        uint256 idx = atFloor ? _pick(2) : type(uint256).max;
        if (idx == type(uint256).max) idx = _pick(0);
        if (idx == type(uint256).max) idx = _publishFresh();
        if (idx == type(uint256).max) return false;
        SignedG memory e = signed.entry(idx);
        Offer.Signed memory s = _offerOf(e);
        if (atFloor && s.nonce > signed.floor(s.provider)) _raiseFloor(s.provider, s.nonce);
        // A quarter of the time in its last second (the expiry is inclusive), if that is within 30 days.
        bool atExpiry = _d(4) == 0 && s.expiry > _now() && s.expiry - _now() <= 30 days;
        if (atExpiry) _warpTo(s.expiry);
        OfferG memory o = _record(e, s);
        RentalG memory r = _fillRental(o, s);
        if (r.gpus == 0) return false;
        bool recorded = e.recordId != 0;
        bytes memory sig = recorded && _d(3) == 0 ? bytes("") : e.signature;
        uint256 maxPrice = _d(2) == 0 ? s.pricePerGpuHour : M.ceilDiv(r.total / r.hoursPaid, r.gpus);
        uint256 before = _balance(r.token, r.payer);
        vm.prank(r.payer);
        r.id = sys.market.openSignedRental(s, sig, r.renter, r.gpus, r.hoursPaid, maxPrice, r.broker, r.brokerBps);
        assertEq(r.id, store.rentalCount() + 1, "openSignedRental: the next rental id");
        assertEq(before - _balance(r.token, r.payer), r.deposit, "openSignedRental: the payer paid the model's cost");
        if (!recorded) r.offerId = _recordEntry(idx, o);
        _bookOpen(r);
        if (atExpiry) store.note("openSignedRental: in its expiry second");
        if (s.nonce == signed.floor(s.provider)) store.note("openSignedRental: at the floor");
        if (sig.length == 0) store.note("openSignedRental: recorded, no signature");
        return true;
    }

    /// @notice A valid fill's rental out of the draw: the GPUs drawn, within the free capacity and the
    /// provider's free stake (0 GPUs when there is no room for one).
    function _fillRental(OfferG memory o, Offer.Signed memory s) internal returns (RentalG memory r) {
        (address renter, address payer, address broker, uint256 bps) =
            _parties(s.reservedFor != address(0) ? s.reservedFor : _renters[_d(3)], s.maxBrokerBps);
        uint256 gpus = _d(8) + 1;
        if (gpus > _gpusFit(o)) gpus = _gpusFit(o);
        uint256 hoursPaid = s.minHours + _d(s.maxHours - s.minHours + 1);
        if (gpus == 0) return r;
        r = _rentalFor(o, renter, payer, broker, bps, gpus, hoursPaid);
    }

    /// @notice The model of a first fill: the entry is recorded under the next id, an Active offer with
    /// nothing in use, in the GhostStore's offers (invariant 6 covers records too).
    function _recordEntry(uint256 idx, OfferG memory o) internal returns (uint256 id) {
        id = signed.record(idx);
        o.id = id;
        store.saveOffer(o, true);
    }

    // ───────────────────────────── cancel ─────────────────────────────

    /// @notice Two thirds: a provider cancels one of its published offers (its record, if any, Closes): a
    /// live one, else one that is not cancelled, else one it publishes now.
    /// A third: it raises its nonce floor to a published offer's nonce (that offer stays fillable at the
    /// floor) or just above it (below the floor from now on).
    function cancelSigned(uint256 seed) external synced {
        _draw = _mix(seed);
        if (_d(3) != 0) {
            uint256 idx = _pick(6);
            if (idx == type(uint256).max) idx = _pick(8);
            if (idx == type(uint256).max) idx = _publishFresh();
            if (idx != type(uint256).max) _cancel(idx);
            store.count("cancelSignedOffer", idx != type(uint256).max);
        } else {
            SignedG memory e = signed.entry(signed.published(_d(signed.publishedCount())));
            Offer.Signed memory s = _offerOf(e);
            uint256 target = s.nonce + _d(2);
            uint256 f = signed.floor(s.provider);
            _raiseFloor(s.provider, target > f ? target : f + 1);
            store.count("cancelSignedOffersBelow", true);
        }
    }

    // `_cancel` and `_raiseFloor` are also the preparation of other calls (a fill at the floor, an invalid
    // fill of a cancelled offer): the call counts under its own label, one label per call.

    function _cancel(uint256 idx) internal {
        SignedG memory e = signed.entry(idx);
        Offer.Signed memory s = _offerOf(e);
        _asProvider(s.provider, abi.encodeCall(IComputeMarket.cancelSignedOffer, (s)));
        signed.cancel(idx);
        if (e.recordId != 0) {
            OfferG memory o = store.offer(e.recordId);
            if (o.status != CLOSED) {
                o.status = CLOSED;
                store.saveOffer(o, false);
            }
        }
    }

    function _raiseFloor(address p, uint256 nonce) internal {
        _asProvider(p, abi.encodeCall(IComputeMarket.cancelSignedOffersBelow, (nonce)));
        signed.setFloor(p, nonce);
    }

    /// @notice A market call by provider `p`: the vault's through its operator's `callMarket`.
    function _asProvider(address p, bytes memory data) internal {
        if (p == address(sys.vault)) {
            vm.prank(sys.operator);
            sys.vault.callMarket(data);
        } else {
            vm.prank(p);
            (bool ok, bytes memory ret) = address(sys.market).call(data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }

    // ───────────────────────────── clusters ─────────────────────────────

    /// @notice A renter (or a payer for it) books on-chain and signed offers of several providers at once
    /// with the exact total as the cap: consecutive rental ids, one pull of the total.
    function bookCluster(uint256 seed) external synced {
        _draw = _mix(seed);
        Draft memory c = _drawCluster();
        if (c.rentals.length == 0) return store.count("bookCluster", false);
        uint256 first = store.rentalCount() + 1;
        uint256 before = _balance(c.token, c.payer);
        vm.prank(c.payer);
        (uint256 firstId, uint256 total) =
            sys.market.bookCluster(c.renter, c.hoursPaid, c.parts, c.signedParts, c.total, c.broker, c.bps);
        assertEq(firstId, first, "bookCluster: the first rental id = model");
        assertEq(total, c.total, "bookCluster: the total = model");
        assertEq(before - _balance(c.token, c.payer), c.total, "bookCluster: the payer paid the total once");
        _bookCluster(c, first);
        store.count("bookCluster", true);
    }

    function _bookCluster(Draft memory c, uint256 first) internal {
        for (uint256 i; i < c.rentals.length; ++i) {
            RentalG memory r = c.rentals[i];
            if (c.entryOf[i] != 0) {
                SignedG memory e = signed.entry(c.entryOf[i] - 1);
                r.offerId = e.recordId != 0 ? e.recordId : _recordEntry(c.entryOf[i] - 1, _record(e, _offerOf(e)));
            }
            r.id = first + i;
            _bookOpen(r);
        }
    }

    /// @notice A valid cluster out of the draw (no rentals when nothing fits): one token, common hours,
    /// up to two on-chain parts and one to three signed parts (repeats share capacity), within every
    /// provider's free stake and the room for rentals (a pause is lifted and, with MAX_LIVE rentals live,
    /// one is closed first); each part's rental as the market opens it.
    function _drawCluster() internal returns (Draft memory c) {
        if (!_readyToOpen(_d(1 << 32))) return c;
        uint16[7] memory hourChoices = [uint16(1), 2, 5, 12, 24, 48, 100];
        c.token = _d(3) != 0 ? address(sys.usd) : address(sys.gpuc);
        c.hoursPaid = hourChoices[_d(7)];
        (c.renter, c.payer, c.broker, c.bps) = _parties(_renters[_d(3)], 1000);
        OfferG[] memory on = _onChainFits(c);
        uint256[] memory sg = _signedFits(c);
        uint256 nOn = on.length == 0 ? 0 : _d(3);
        uint256 nSigned = sg.length == 0 ? 0 : 1 + _d(3);
        if (sg.length == 0 && on.length != 0) nOn = 1 + _d(2);
        // Within the room for rentals (GhostBridge: MAX_LIVE live, MAX_RENTALS in all).
        while (!_roomFor(nOn + nSigned)) nSigned > 1 || (nSigned == 1 && nOn == 0) ? --nSigned : --nOn;
        // Picked parts: offers (records as the model sees them), their GPUs; capacity and stake left.
        OfferG[] memory picked = new OfferG[](nOn + nSigned);
        uint256[] memory gpus = new uint256[](nOn + nSigned);
        c.entryOf = new uint256[](nOn + nSigned);
        uint256 k;
        for (uint256 i; i < nOn + nSigned; ++i) {
            uint256 entry;
            OfferG memory o;
            if (i < nOn) {
                o = on[_d(on.length)];
            } else {
                entry = sg[_d(sg.length)] + 1;
                SignedG memory e = signed.entry(entry - 1);
                o = _record(e, _offerOf(e));
            }
            if (_addPart(c, picked, gpus, k, o, entry)) ++k;
        }
        _finishDraft(c, picked, gpus, k);
    }

    /// @notice Picks `o` (catalog entry `entry` − 1, or on-chain when 0) as part `k` with the drawn GPUs
    /// if its capacity and its provider's free stake (less what earlier parts took) allow.
    function _addPart(Draft memory c, OfferG[] memory picked, uint256[] memory gpus, uint256 k, OfferG memory o, uint256 entry)
        internal
        returns (bool)
    {
        uint256 g = _d(8) + 1;
        uint256 left = o.offered - o.inUse - _used(picked, gpus, c.entryOf, k, o, entry);
        if (g > left) g = left;
        if (g == 0 || store.freeStake(o.provider) < store.stakePerGpu() * (g + _stakeUsed(picked, gpus, k, o.provider))) {
            return false;
        }
        (picked[k], gpus[k], c.entryOf[k]) = (o, g, entry);
        return true;
    }

    /// @notice GPUs of the same offer (on-chain id, or catalog entry) already picked among the first `k`.
    function _used(OfferG[] memory picked, uint256[] memory gpus, uint256[] memory entryOf, uint256 k, OfferG memory o, uint256 entry)
        internal
        pure
        returns (uint256 used)
    {
        for (uint256 i; i < k; ++i) {
            if (entry != 0 ? entryOf[i] == entry : (entryOf[i] == 0 && picked[i].id == o.id)) used += gpus[i];
        }
    }

    function _stakeUsed(OfferG[] memory picked, uint256[] memory gpus, uint256 k, address p) internal pure returns (uint256 g) {
        for (uint256 i; i < k; ++i) {
            if (picked[i].provider == p) g += gpus[i];
        }
    }

    function _finishDraft(Draft memory c, OfferG[] memory picked, uint256[] memory gpus, uint256 k) internal {
        uint256[] memory entryOf = c.entryOf;
        assembly ("memory-safe") {
            mstore(entryOf, k)
        }
        uint256 nOn;
        for (uint256 i; i < k; ++i) {
            if (entryOf[i] == 0) ++nOn;
            if (c.broker != address(0) && picked[i].maxBrokerBps < c.bps) c.bps = picked[i].maxBrokerBps;
        }
        c.parts = new Cluster.Part[](nOn);
        c.signedParts = new Cluster.SignedPart[](k - nOn);
        c.rentals = new RentalG[](k);
        for (uint256 i; i < k; ++i) {
            c.rentals[i] = _rentalFor(picked[i], c.renter, c.payer, c.broker, c.bps, gpus[i], c.hoursPaid);
            c.total += c.rentals[i].total;
            if (i < nOn) {
                c.parts[i] = Cluster.Part(picked[i].id, gpus[i]);
            } else {
                SignedG memory e = signed.entry(entryOf[i] - 1);
                // Recorded before this part (earlier, or by an earlier part): a third go without a signature.
                bool recordedBefore = e.recordId != 0 || _seen(entryOf, nOn, i);
                bytes memory sig = recordedBefore && _d(3) == 0 ? bytes("") : e.signature;
                c.signedParts[i - nOn] = Cluster.SignedPart(_offerOf(e), sig, gpus[i]);
            }
        }
    }

    function _seen(uint256[] memory entryOf, uint256 from, uint256 i) internal pure returns (bool) {
        for (uint256 k = from; k < i; ++k) {
            if (entryOf[k] == entryOf[i]) return true;
        }
        return false;
    }

    /// @notice On-chain offers (not records) that fit the cluster's token, hours and renter.
    function _onChainFits(Draft memory c) internal view returns (OfferG[] memory fits) {
        uint256 k = store.offerCount();
        fits = new OfferG[](k);
        uint256 m;
        for (uint256 i; i < k; ++i) {
            OfferG memory o = store.offer(store.offerIds(i));
            if (
                o.id < C.SIGNED_OFFER_ID_BASE && o.token == c.token && o.status == 1 && c.hoursPaid <= o.maxHours
                    && store.activeProvider(o.provider) && o.offered > o.inUse
            ) fits[m++] = o;
        }
        assembly ("memory-safe") {
            mstore(fits, m)
        }
    }

    /// @notice Published signed offers, fillable with room, that fit the cluster's token, hours and renter.
    function _signedFits(Draft memory c) internal view returns (uint256[] memory fits) {
        uint256 k = signed.publishedCount();
        fits = new uint256[](k);
        uint256 m;
        for (uint256 i; i < k; ++i) {
            uint256 idx = signed.published(i);
            SignedG memory e = signed.entry(idx);
            Offer.Signed memory s = _offerOf(e);
            if (
                s.paymentToken == c.token && s.minHours <= c.hoursPaid && c.hoursPaid <= s.maxHours
                    && (s.reservedFor == address(0) || s.reservedFor == c.renter) && _fillable(e, s)
                    && _available(e, s) > 0
            ) fits[m++] = idx;
        }
        assembly ("memory-safe") {
            mstore(fits, m)
        }
    }

    // ───────────────────────────── invalid calls ─────────────────────────────

    function badSigned(uint256 seed) external synced {
        _draw = _mix(seed);
        _bad();
    }

    function badSignedAgain(uint256 seed) external synced {
        _draw = _mix(seed);
        _bad();
    }

    /// @notice One invalid signed call of a drawn kind (the next kind when the state offers none): it must
    /// revert with the named error and all its arguments, and a fill or cluster must leave no trace.
    function _bad() internal {
        if (store.paused()) return _badUnderPause();
        // A pause lasts until a call that needs none lifts it: one call in eleven pauses the market itself.
        if (_d(11) == 0) {
            _setPaused(true);
            _badUnderPause();
            return _setPaused(false);
        }
        // Up to ten draws of a kind the state allows; the last resort (a record named by an on-chain call) always is.
        for (uint256 t; t < 10; ++t) {
            if (_badKind(_d(10))) return;
        }
        _badKind(8);
    }

    /// @notice Under pause (7 keeps exits open, not fills): a valid fill of a published offer reverts
    /// EnforcedPause() and leaves no trace.
    function _badUnderPause() internal {
        uint256 k = signed.publishedCount();
        if (k == 0) return store.count("badSigned", false);
        uint256 idx = signed.published(_d(k));
        Offer.Signed memory s = _offerOf(signed.entry(idx));
        _badFill(idx, abi.encodeWithSignature("EnforcedPause()"), s, signed.entry(idx).signature, address(0), 1);
        store.count("badSigned: under pause", true);
    }

    function _badKind(uint256 kind) internal returns (bool) {
        if (kind == 0) return _badExpired();
        if (kind == 1) return _badCancelled();
        if (kind == 2) return _badBelowFloor();
        if (kind == 3) return _badSigner();
        if (kind == 4) return _badAltered();
        if (kind == 5) return _badReserved();
        if (kind == 6) return _badCapacity();
        if (kind == 7) return _badClusterCap();
        if (kind == 8) return _badNeedsSignature();
        return _badClusterPart();
    }

    /// @notice Expired: fillable up to and including its expiry, not a second later (a recorded one half
    /// the time with an empty signature: the record's fast path checks the expiry too).
    function _badExpired() internal returns (bool) {
        (uint256 idx, SignedG memory e, Offer.Signed memory s) = _pickEntry(5);
        if (idx == type(uint256).max) return false;
        if (_now() <= s.expiry) _warpTo(uint256(s.expiry) + 1);
        bytes memory sig = e.recordId != 0 && _d(2) == 0 ? bytes("") : e.signature;
        _badFill(
            idx, abi.encodeWithSelector(E.MarketSignedOfferExpired.selector, e.hash, s.expiry), s, sig, address(0), 1
        );
        store.count(e.recordId != 0 ? "badSigned: expired, recorded" : "badSigned: expired", true);
        return true;
    }

    /// @notice Cancelled by its provider (one is cancelled first when none is).
    function _badCancelled() internal returns (bool) {
        uint256 idx = _pick(1);
        if (idx == type(uint256).max) {
            idx = _pick(6);
            if (idx == type(uint256).max) return false;
            _cancel(idx);
        }
        SignedG memory e = signed.entry(idx);
        _badFill(idx, abi.encodeWithSelector(E.MarketSignedOfferCancelled.selector, e.hash), _offerOf(e), e.signature, address(0), 1);
        return _done("badSigned: cancelled");
    }

    /// @notice Below its provider's floor (the floor is raised just above a live offer's nonce first).
    function _badBelowFloor() internal returns (bool) {
        uint256 idx = _pick(7);
        bool raise = idx == type(uint256).max;
        if (raise) idx = _pick(6);
        if (idx == type(uint256).max) return false;
        SignedG memory e = signed.entry(idx);
        Offer.Signed memory s = _offerOf(e);
        if (raise) _raiseFloor(s.provider, s.nonce + 1);
        uint256 f = signed.floor(s.provider);
        bytes memory sig = e.recordId != 0 && _d(2) == 0 ? bytes("") : e.signature;
        _badFill(
            idx,
            abi.encodeWithSelector(E.MarketSignedOfferNonceCancelled.selector, e.hash, s.nonce, f),
            s,
            sig,
            address(0),
            1
        );
        return _done("badSigned: below the floor");
    }

    /// @notice Signed by another key, or not at all, at the first fill.
    function _badSigner() internal returns (bool) {
        (uint256 idx, SignedG memory e, Offer.Signed memory s) = _pickEntry(3);
        if (idx == type(uint256).max) return false;
        uint256 other = (e.signer + 1 + _d(4)) % 5; // 4: no signature
        bytes memory sig = other == 4 ? bytes("") : _sign(_keys[other], e.hash);
        _badFill(idx, abi.encodeWithSelector(E.MarketInvalidSignature.selector, e.hash, s.provider), s, sig, address(0), 1);
        return _done("badSigned: another signer");
    }

    /// @notice Terms altered after signing (price + 1, or one GPU more): the digest differs, the signature fails.
    function _badAltered() internal returns (bool) {
        (uint256 idx, SignedG memory e, Offer.Signed memory s) = _pickEntry(3);
        if (idx == type(uint256).max) return false;
        if (_d(2) == 0) s.pricePerGpuHour += 1;
        else s.gpus += 1;
        bytes32 h = C.digest(s, domain);
        _badFill(idx, abi.encodeWithSelector(E.MarketInvalidSignature.selector, h, s.provider), s, e.signature, address(0), 1);
        return _done("badSigned: altered terms");
    }

    /// @notice Reserved for another renter.
    function _badReserved() internal returns (bool) {
        (uint256 idx, SignedG memory e, Offer.Signed memory s) = _pickEntry(4);
        if (idx == type(uint256).max) return false;
        address renter = _renters[(_indexOf(s.reservedFor) + 1 + _d(2)) % 3];
        uint256 id = e.recordId != 0 ? e.recordId : _nextRecordId();
        _badFill(idx, abi.encodeWithSelector(E.MarketOfferReserved.selector, id, s.reservedFor, renter), s, e.signature, renter, 1);
        return _done("badSigned: reserved for another");
    }

    /// @notice More GPUs than the record has free (capacity is per signed offer, across fills).
    function _badCapacity() internal returns (bool) {
        (uint256 idx, SignedG memory e, Offer.Signed memory s) = _pickEntry(0);
        if (idx == type(uint256).max) return false;
        uint256 available = _available(e, s);
        uint256 gpus = available + 1 + _d(3);
        uint256 id = e.recordId != 0 ? e.recordId : _nextRecordId();
        bytes memory sig = e.recordId != 0 && _d(2) == 0 ? bytes("") : e.signature;
        _badFill(idx, abi.encodeWithSelector(E.MarketInsufficientCapacity.selector, id, available, gpus), s, sig, address(0), gpus);
        return _done("badSigned: over capacity");
    }

    /// @notice A valid cluster with the cap one unit below its total: the whole cluster fails.
    function _badClusterCap() internal returns (bool) {
        Draft memory c = _drawCluster();
        if (c.rentals.length == 0) return false;
        _expectNoTrace(
            abi.encodeCall(
                IComputeMarket.bookCluster, (c.renter, c.hoursPaid, c.parts, c.signedParts, c.total - 1, c.broker, c.bps)
            ),
            abi.encodeWithSelector(E.MarketClusterCostAboveMax.selector, c.total, c.total - 1),
            c.payer,
            _hashesOf(c)
        );
        return _done("badSigned: cluster cap one unit short");
    }

    /// @notice openRental / openRentalFor naming a record (or the id the next record will get), alone or
    /// as an on-chain part of a cluster: a record fills only with its signature.
    function _badNeedsSignature() internal returns (bool) {
        uint256 rec = signed.recorded();
        uint256 id = rec != 0 && _d(4) != 0 ? C.SIGNED_OFFER_ID_BASE + 1 + _d(rec) : _nextRecordId();
        address renter = _renters[_d(3)];
        address payer = _d(2) == 0 ? renter : sys.payers[_d(2)];
        bytes memory call = payer == renter
            ? abi.encodeCall(IComputeMarket.openRental, (id, 1, 1, type(uint96).max, address(0), 0))
            : abi.encodeCall(IComputeMarket.openRentalFor, (renter, id, 1, 1, type(uint96).max, address(0), 0));
        _expectNoTrace(call, abi.encodeWithSelector(E.MarketSignedOfferNeedsSignature.selector, id), payer, new bytes32[](0));
        return _done("badSigned: on-chain call naming a record");
    }

    /// @notice A cluster that fails as a whole at one bad part placed among valid ones (the parts before
    /// it have opened their rentals and recorded their offers when it fails): a record named as an
    /// on-chain part, or an expired signed part.
    function _badClusterPart() internal returns (bool) {
        Draft memory c = _drawCluster();
        if (c.rentals.length == 0) return false;
        bytes memory err;
        if (_d(2) == 0 || c.parts.length == 2) {
            // The last signed part's offer, altered: its signature no longer matches (checked at the first fill only).
            uint256 n = c.signedParts.length;
            if (n == 0) return false;
            uint256 at = _d(n);
            Offer.Signed memory s = c.signedParts[at].offer;
            bytes32 orig = C.digest(s, domain);
            (uint256 recId,) = sys.market.signedOfferOf(orig);
            if (recId != 0 || _seenHash(c, orig, at)) return false; // a recorded one skips the signature check
            s.pricePerGpuHour += 1;
            err = abi.encodeWithSelector(E.MarketInvalidSignature.selector, C.digest(s, domain), s.provider);
        } else {
            uint256 rec = signed.recorded();
            uint256 id = rec != 0 && _d(2) == 0 ? C.SIGNED_OFFER_ID_BASE + 1 + _d(rec) : _nextRecordId();
            Cluster.Part[] memory parts = new Cluster.Part[](c.parts.length + 1);
            uint256 at = _d(parts.length);
            for (uint256 i; i < parts.length; ++i) {
                parts[i] = i < at ? c.parts[i] : i == at ? Cluster.Part(id, 1) : c.parts[i - 1];
            }
            c.parts = parts;
            err = abi.encodeWithSelector(E.MarketSignedOfferNeedsSignature.selector, id);
        }
        _expectNoTrace(
            abi.encodeCall(
                IComputeMarket.bookCluster,
                (c.renter, c.hoursPaid, c.parts, c.signedParts, c.total + 1e30, c.broker, c.bps)
            ),
            err,
            c.payer,
            _hashesOf(c)
        );
        return _done("badSigned: cluster with a bad part");
    }

    /// @notice Whether signed part `at`'s digest appears in an earlier signed part (it would record it first).
    function _seenHash(Draft memory c, bytes32 h, uint256 at) internal view returns (bool) {
        for (uint256 i; i < at; ++i) {
            if (C.digest(c.signedParts[i].offer, domain) == h) return true;
        }
        return false;
    }

    function _hashesOf(Draft memory c) internal view returns (bytes32[] memory hs) {
        hs = new bytes32[](c.signedParts.length);
        for (uint256 i; i < hs.length; ++i) {
            hs[i] = C.digest(c.signedParts[i].offer, domain);
        }
    }

    function _indexOf(address renter) internal view returns (uint256) {
        for (uint256 i; i < 3; ++i) {
            if (_renters[i] == renter) return i;
        }
        return 0;
    }

    /// @notice A self-paid fill of entry `idx` (its terms `s`, maybe altered), no broker, its shortest
    /// rental, `gpus` GPUs, the list price as the guard, that must revert with `err` and leave no trace.
    function _badFill(uint256 idx, bytes memory err, Offer.Signed memory s, bytes memory sig, address renter, uint256 gpus)
        internal
    {
        if (renter == address(0)) renter = s.reservedFor != address(0) ? s.reservedFor : _renters[_d(3)];
        bytes32[] memory hs = new bytes32[](1);
        hs[0] = signed.entry(idx).hash;
        _expectNoTrace(
            abi.encodeCall(
                IComputeMarket.openSignedRental, (s, sig, renter, gpus, s.minHours, s.pricePerGpuHour, address(0), 0)
            ),
            err,
            renter,
            hs
        );
    }

    /// @notice Calls the market with `data` as `caller`, which must revert with exactly `err`, and checks
    /// that it left no trace (inv10): every followed account's balance in both tokens (the market's and
    /// the registry's too), every offer's and record's GPUs in use and status, the digests' states, every
    /// signer's locked stake, nextRentalId (= the model's) and the next record id (still empty).
    function _expectNoTrace(bytes memory data, bytes memory err, address caller, bytes32[] memory hashes) internal {
        bytes32 before = _trace(hashes);
        vm.expectRevert(err);
        vm.prank(caller);
        // A low-level call under expectRevert returns true when it reverted with exactly `err` (selector and
        // every argument), and false with forge's message when it did not revert or reverted otherwise.
        (bool matched, bytes memory why) = address(sys.market).call(data);
        assertTrue(matched, string.concat("inv8/10: an invalid signed call did not revert as expected: ", _reason(why)));
        assertEq(_trace(hashes), before, "inv10 atomicity: a failed signed call left a trace");
        assertEq(INextRentalId(address(sys.market)).nextRentalId(), store.rentalCount() + 1, "inv10: nextRentalId = model");
        assertEq(sys.market.getOffer(_nextRecordId()).provider, address(0), "inv10: the next record is still empty");
        signed.countFailed();
    }

    /// @notice The message of forge's Error(string) in `why` (the raw bytes if it is not one).
    function _reason(bytes memory why) internal pure returns (string memory) {
        if (why.length < 68 || bytes4(why) != bytes4(keccak256("Error(string)"))) return vm.toString(why);
        bytes memory body = new bytes(why.length - 4);
        for (uint256 i; i < body.length; ++i) {
            body[i] = why[i + 4];
        }
        return abi.decode(body, (string));
    }

    function _trace(bytes32[] memory hashes) internal view returns (bytes32 h) {
        address[2] memory tokens = [address(sys.usd), address(sys.gpuc)];
        for (uint256 k; k < 2; ++k) {
            IERC20 t = IERC20(tokens[k]);
            h = keccak256(abi.encode(h, t.balanceOf(address(sys.market)), t.balanceOf(address(sys.registry))));
            for (uint256 i; i < store.accountCount(); ++i) {
                h = keccak256(abi.encode(h, t.balanceOf(store.accounts(i))));
            }
        }
        for (uint256 i; i < store.offerCount(); ++i) {
            Offer.Record memory o = sys.market.getOffer(store.offerIds(i));
            h = keccak256(abi.encode(h, o.gpusInUse, o.status));
        }
        for (uint256 i; i < hashes.length; ++i) {
            (uint256 id, bool cancelled) = sys.market.signedOfferOf(hashes[i]);
            h = keccak256(abi.encode(h, id, cancelled));
        }
        for (uint256 si; si < 4; ++si) {
            h = keccak256(abi.encode(h, sys.registry.providerOf(_signer(si)).locked));
        }
        h = keccak256(abi.encode(h, INextRentalId(address(sys.market)).nextRentalId()));
    }
}
