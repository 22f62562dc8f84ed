// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "gpumarket/types/Offer.sol";
import { Base_Test } from "./Base.t.sol";
import { SignedHandler, INextRentalId } from "./handlers/SignedHandler.sol";
import { PENDING, ACTIVE } from "./lib/Status.sol";
import { SignedCatalog as C } from "./lib/SignedCatalog.sol";
import { GhostStore, RentalG, OfferG } from "./stores/GhostStore.sol";
import { SignedStore, SignedG } from "./stores/SignedStore.sol";

/// @title SignedInvariants
/// @notice Invariants 9 and 10 of tests/invariants/README.md over SignedHandler's ghost. Invariant_Test
/// inherits it and registers the handler with `_handler(_newSignedHandler(store))`.
abstract contract SignedInvariants is Base_Test {
    SignedStore internal signedStore;
    GhostStore internal signedGhost; // the market's GhostStore (the rentals and records)
    uint256 internal signedStart; // the catalog's start time (expiries count from it)

    function _newSignedHandler(GhostStore ghost) internal returns (address) {
        signedGhost = ghost;
        signedStart = block.timestamp;
        signedStore = new SignedStore();
        return address(new SignedHandler(ghost, signedStore, sys));
    }

    function _signerOf(uint256 si) internal view returns (address) {
        return si == 3 ? address(sys.vault) : sys.providers[si];
    }

    /// @notice 9 and 10 in one campaign (forge runs a campaign per invariant function and checks only that
    /// function in it): `make invariants-forge`'s invariant_all calls this too.
    function invariant_signed_all() public view {
        invariant_inv9_signed();
        invariant_inv10_clusters();
    }

    /// @notice 9. Per published digest: signedOfferOf = (its record's id once filled, else 0; cancelled);
    /// a record holds the signed terms and the model's status, and GPUs in use = Σ GPUs of its Pending and
    /// Active rentals = the model's ≤ the signed GPUs (capacity per offer hash); every signer's nonce
    /// floor = the model's.
    function invariant_inv9_signed() public view {
        uint256[] memory holding = _recordsHolding();
        address[3] memory renters = [sys.renters[0], sys.renters[1], sys.renters[2]];
        for (uint256 i; i < signedStore.publishedCount(); ++i) {
            SignedG memory e = signedStore.entry(signedStore.published(i));
            (uint256 id, bool cancelled) = sys.market.signedOfferOf(e.hash);
            assertEq(id, e.recordId, "inv9 signedOfferOf: record id = model");
            assertEq(cancelled, e.cancelled, "inv9 signedOfferOf: cancelled = model");
            if (id == 0) continue;
            Offer.Signed memory s =
                C.terms(_signerOf(e.signer), e.j, signedStart, address(sys.usd), address(sys.gpuc), renters);
            Offer.Record memory r = sys.market.getOffer(id);
            assertEq(r.provider, s.provider, "inv9 record: provider = signed");
            assertEq(r.gpusOffered, s.gpus, "inv9 record: GPUs = signed");
            assertEq(r.minHours, s.minHours, "inv9 record: min hours = signed");
            assertEq(r.maxHours, s.maxHours, "inv9 record: max hours = signed");
            assertEq(r.maxBrokerBps, s.maxBrokerBps, "inv9 record: broker cap = signed");
            assertEq(r.paymentToken, s.paymentToken, "inv9 record: token = signed");
            assertEq(r.pricePerGpuHour, s.pricePerGpuHour, "inv9 record: price = signed");
            assertEq(r.reservedFor, s.reservedFor, "inv9 record: reserved for = signed");
            OfferG memory o = signedGhost.offer(id);
            assertEq(uint8(r.status), o.status, "inv9 record: status = model (a cancel Closes it)");
            assertEq(r.gpusInUse, holding[id - C.SIGNED_OFFER_ID_BASE], "inv9 record: in use = GPUs of its Pending/Active rentals");
            assertEq(r.gpusInUse, o.inUse, "inv9 record: in use = model");
            assertLe(r.gpusInUse, s.gpus, "inv9 record: in use <= signed GPUs");
        }
        for (uint256 si; si < 4; ++si) {
            address p = _signerOf(si);
            assertEq(sys.market.signedNonceFloor(p), signedStore.floor(p), "inv9 nonce floor = model");
        }
    }

    /// @notice GPUs held per record (index id − SIGNED_OFFER_ID_BASE) by Pending and Active rentals.
    function _recordsHolding() internal view returns (uint256[] memory holding) {
        holding = new uint256[](signedStore.recorded() + 1);
        for (uint256 i; i < signedGhost.liveRentals(); ++i) { // the terminal ones hold no GPUs
            RentalG memory r = signedGhost.rental(signedGhost.liveIds(i));
            if (r.offerId > C.SIGNED_OFFER_ID_BASE && (r.status == PENDING || r.status == ACTIVE)) {
                holding[r.offerId - C.SIGNED_OFFER_ID_BASE] += r.gpus;
            }
        }
    }

    /// @notice 10. Clusters and failed calls: nextRentalId = the model's (a failed fill or cluster took no
    /// id; a cluster's rentals took consecutive ones), the next record is empty (a failed call recorded
    /// nothing), every record id up to the model's is taken. The handler checks around every failing call
    /// that it left no trace at all (balances, GPUs in use, digests, locked stake: SignedHandler._expectNoTrace),
    /// and the cluster's rentals are in the GhostStore, so 1–6 hold for each.
    function invariant_inv10_clusters() public view {
        assertEq(INextRentalId(address(sys.market)).nextRentalId(), signedGhost.rentalCount() + 1, "inv10 nextRentalId = model");
        uint256 next = C.SIGNED_OFFER_ID_BASE + signedStore.recorded() + 1;
        assertEq(sys.market.getOffer(next).provider, address(0), "inv10: the next record id is still empty");
        if (next > C.SIGNED_OFFER_ID_BASE + 1) {
            assertTrue(sys.market.getOffer(next - 1).provider != address(0), "inv10: the last record = model's");
        }
    }
}
