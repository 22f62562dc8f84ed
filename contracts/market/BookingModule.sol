// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { TierMath } from "../libraries/TierMath.sol";
import { Cluster } from "../types/Cluster.sol";
import { Offer } from "../types/Offer.sol";
import { MarketModule } from "./MarketModule.sol";

/// @title BookingModule
/// @notice Signed offers and cluster bookings: a provider signs an offer off-chain (EIP-712) instead
/// of storing it; anyone fills it for a renter; a renter books many offers, on-chain and signed, in one
/// transaction that opens all of its rentals or none. Runs by DELEGATECALL from {ComputeMarket}; the
/// NatSpec of each entry point is in {IComputeMarket}.
/// @dev The market fills an offer that is already recorded itself ({ComputeMarket-openSignedRental});
/// a first fill, and every cluster, runs here. The domain is the market's: under DELEGATECALL `address(this)` is the market, so
/// {EIP712-_hashTypedDataV4} builds the domain separator with the market as verifying contract (the
/// market's own {EIP712} views agree). A signed offer's first fill records it as an ordinary
/// {Offer-Record} (its labels only in the {OfferCreated} event); from then on its rentals read that
/// record exactly as they read an on-chain offer's, so stop, release, disputes and extensions need
/// no code of their own.
contract BookingModule is MarketModule, EIP712 {
    constructor(IProviderRegistry registry_) MarketModule(registry_) EIP712(EIP712_NAME, EIP712_VERSION) { }

    /// @dev See {IComputeMarket-openSignedRental}.
    function openSignedRental(
        Offer.Signed calldata offer,
        bytes calldata signature,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external viaMarket whenNotPaused nonReentrant returns (uint256 rentalId) {
        if (renter == address(0)) revert MarketZeroAddress();
        (Offer.Record storage o, uint256 offerId) = _signedRecord(offer, signature);
        (address provider, address token, uint256 deposit, uint256 discountBps) =
            _checkAndPrice(o, offerId, renter, gpus, hoursPaid, maxPricePerGpuHour, broker, brokerBps);
        rentalId = _recordRental(o, offerId, provider, renter, gpus, hoursPaid, deposit, discountBps, broker, brokerBps);
        _pullExactFromCaller(token, deposit);
    }

    /// @dev See {IComputeMarket-bookCluster}.
    // slither-disable-next-line reentrancy-no-eth — nonReentrant; the calls are the trusted registry's lock, a signer's ERC-1271 view and the one pull
    function bookCluster(
        address renter,
        uint256 hoursPaid,
        Cluster.Part[] calldata parts,
        Cluster.SignedPart[] calldata signedParts,
        uint256 maxTotalCost,
        address broker,
        uint256 brokerBps
    ) external viaMarket whenNotPaused nonReentrant returns (uint256 firstRentalId, uint256 totalCost) {
        if (renter == address(0)) revert MarketZeroAddress();
        uint256 onChain = parts.length;
        uint256 count = onChain + signedParts.length;
        if (count == 0) revert MarketClusterEmpty();
        firstRentalId = nextRentalId;
        address token;
        for (uint256 i; i < count; ++i) {
            Offer.Record storage o;
            uint256 offerId;
            uint256 gpus;
            if (i < onChain) {
                (offerId, gpus) = (parts[i].offerId, parts[i].gpus);
                _checkOnChainOffer(offerId);
                o = _offers[offerId];
            } else {
                Cluster.SignedPart calldata part = signedParts[i - onChain];
                (o, offerId) = _signedRecord(part.offer, part.signature);
                gpus = part.gpus;
            }
            // The cap is on the whole cluster, not per part: no per-offer price guard.
            (address provider, address partToken, uint256 deposit, uint256 discountBps) =
                _checkAndPrice(o, offerId, renter, gpus, hoursPaid, type(uint256).max, broker, brokerBps);
            if (i == 0) token = partToken;
            else if (partToken != token) revert MarketClusterTokenMismatch(i, partToken, token);
            totalCost += deposit;
            _recordRental(o, offerId, provider, renter, gpus, hoursPaid, deposit, discountBps, broker, brokerBps);
        }
        if (totalCost > maxTotalCost) revert MarketClusterCostAboveMax(totalCost, maxTotalCost);
        // One pull for the whole cluster: each rental's escrow is its own deposit, as if opened alone.
        _pullExactFromCaller(token, totalCost);
        emit ClusterBooked(firstRentalId, renter, msg.sender, token, count, totalCost);
    }

    /// @dev See {IComputeMarket-cancelSignedOffer}.
    function cancelSignedOffer(Offer.Signed calldata offer) external viaMarket {
        bytes32 offerHash = _hashTypedDataV4(Offer.structHash(offer));
        if (msg.sender != offer.provider) revert MarketNotSignedOfferProvider(offerHash, msg.sender);
        Offer.SignedState storage state = _signedOffers[offerHash];
        if (state.cancelled) revert MarketSignedOfferCancelled(offerHash);
        state.cancelled = true;
        uint256 offerId = state.offerId;
        if (offerId != 0 && _offers[offerId].status != Offer.Status.Closed) {
            _offers[offerId].status = Offer.Status.Closed;
            emit OfferStatusChanged(offerId, Offer.Status.Closed);
        }
        emit SignedOfferCancelled(offerHash, msg.sender, offerId);
    }

    /// @dev See {IComputeMarket-cancelSignedOffersBelow}.
    function cancelSignedOffersBelow(uint256 nonce) external viaMarket {
        uint256 floor = _signedNonceFloor[msg.sender];
        if (nonce <= floor) revert MarketNonceFloorNotRaised(nonce, floor);
        _signedNonceFloor[msg.sender] = nonce;
        emit SignedNonceFloorRaised(msg.sender, nonce);
    }

    /// @dev The record of a signed offer that may be filled now: checks that it is not cancelled, not
    /// expired and not below the nonce floor; at its first fill checks the signature and the terms and
    /// records it. Returns the record and its id.
    function _signedRecord(Offer.Signed calldata offer, bytes calldata signature)
        internal
        returns (Offer.Record storage o, uint256 offerId)
    {
        bytes32 offerHash = _hashTypedDataV4(Offer.structHash(offer));
        Offer.SignedState memory state = _signedOffers[offerHash];
        _checkSignedFillable(offer, offerHash, state.cancelled);
        offerId = state.offerId;
        if (offerId == 0) {
            // A contract provider answers through ERC-1271 (a staticcall: it cannot change state).
            if (!SignatureChecker.isValidSignatureNow(offer.provider, offerHash, signature)) {
                revert MarketInvalidSignature(offerHash, offer.provider);
            }
            offerId = _recordSignedOffer(offer, offerHash);
        }
        o = _offers[offerId];
    }

    /// @dev Records a signed offer at its first fill as an ordinary offer (Active, nothing in use),
    /// after the checks {createOffer} makes on its terms; the payment token is checked at every fill.
    // slither-disable-next-line costly-loop — a cluster records each signed offer at its first fill: one id each
    function _recordSignedOffer(Offer.Signed calldata s, bytes32 offerHash) internal returns (uint256 offerId) {
        _checkLabel(s.gpuModel);
        _checkLabel(s.region);
        _checkTerms(s.pricePerGpuHour, s.gpus, s.minHours, s.maxHours, s.maxBrokerBps);
        uint256 tiers = TierMath.pack(s.tiers, MAX_DISCOUNT_BPS);
        uint256 recorded = uint256(_signedOffersRecorded) + 1;
        offerId = SIGNED_OFFER_ID_BASE + recorded;
        if (offerId > type(uint32).max) revert MarketOfferIdsExhausted(offerId);
        _signedOffersRecorded = uint32(recorded); // safe: offerId ≤ 2^32 − 1, checked above
        _signedOffers[offerHash].offerId = uint32(offerId); // safe: checked above
        Offer.Record storage o = _offers[offerId];
        // Slots 0 and 1 always; 2 and 3 only when they are not zero.
        (o.provider, o.gpusOffered, o.minHours, o.maxHours, o.maxBrokerBps, o.status) =
            (s.provider, s.gpus, s.minHours, s.maxHours, s.maxBrokerBps, Offer.Status.Active);
        (o.paymentToken, o.pricePerGpuHour) = (s.paymentToken, s.pricePerGpuHour);
        if (s.reservedFor != address(0)) (o.reserved, o.reservedFor) = (true, s.reservedFor);
        if (tiers != 0) o.tiers = tiers;
        emit OfferCreated(
            offerId,
            s.provider,
            s.paymentToken,
            s.gpuModel,
            s.region,
            s.pricePerGpuHour,
            s.gpus,
            s.minHours,
            s.maxHours,
            s.reservedFor,
            s.maxBrokerBps,
            tiers
        );
        emit SignedOfferRecorded(offerId, offerHash, s.provider, s.expiry, s.nonce);
    }
}
