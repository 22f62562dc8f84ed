// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { TierMath } from "../libraries/TierMath.sol";
import { Offer } from "../types/Offer.sol";
import { MarketModule } from "./MarketModule.sol";

/// @title OfferModule
/// @notice Offers: a provider lists GPUs, changes the terms for future rentals, pauses, resumes and
/// closes them. Runs by DELEGATECALL from {ComputeMarket}; the NatSpec of each entry point is in
/// {IComputeMarket}. Nothing here moves money.
contract OfferModule is MarketModule {
    constructor(IProviderRegistry registry_) MarketModule(registry_) { }

    /// @dev See {IComputeMarket-createOffer}.
    function createOffer(Offer.Params calldata p) external viaMarket whenNotPaused returns (uint256 offerId) {
        // Check: an active provider, sane labels and terms, an allowlisted token.
        if (!registry.isActive(msg.sender)) revert MarketProviderNotActive(msg.sender);
        _checkLabel(p.gpuModel);
        _checkLabel(p.region);
        if (!_paymentTokens[p.paymentToken]) revert MarketTokenNotAllowed(p.paymentToken);
        _checkTerms(p.pricePerGpuHour, p.gpusOffered, p.minHours, p.maxHours, p.maxBrokerBps);
        uint256 tiers = TierMath.pack(p.tiers, MAX_DISCOUNT_BPS);

        // Effect: store the offer (on-chain ids stay below the signed offers' range).
        offerId = nextOfferId++;
        if (offerId >= SIGNED_OFFER_ID_BASE) revert MarketOfferIdsExhausted(offerId);
        _offers[offerId] = Offer.Record({
            provider: msg.sender,
            gpusOffered: p.gpusOffered,
            gpusInUse: 0,
            minHours: p.minHours,
            maxHours: p.maxHours,
            maxBrokerBps: p.maxBrokerBps,
            status: Offer.Status.Active,
            reserved: p.reservedFor != address(0),
            paymentToken: p.paymentToken,
            pricePerGpuHour: p.pricePerGpuHour,
            reservedFor: p.reservedFor,
            tiers: tiers
        });
        _gpuModels[offerId] = p.gpuModel;
        _regions[offerId] = p.region;
        emit OfferCreated(
            offerId,
            msg.sender,
            p.paymentToken,
            p.gpuModel,
            p.region,
            p.pricePerGpuHour,
            p.gpusOffered,
            p.minHours,
            p.maxHours,
            p.reservedFor,
            p.maxBrokerBps,
            tiers
        );
    }

    /// @dev See {IComputeMarket-updateOffer}.
    function updateOffer(
        uint256 offerId,
        uint96 pricePerGpuHour,
        uint16 gpusOffered,
        uint16 minHours,
        uint16 maxHours,
        address reservedFor,
        uint16 maxBrokerBps,
        Offer.Tier[] calldata tiers
    ) external viaMarket {
        // Check: the provider of an offer that is not closed, with sane terms.
        Offer.Record storage o = _ownOpenOffer(offerId);
        if (offerId > SIGNED_OFFER_ID_BASE) revert MarketSignedOfferTermsFixed(offerId);
        _checkTerms(pricePerGpuHour, gpusOffered, minHours, maxHours, maxBrokerBps);
        if (gpusOffered < o.gpusInUse) revert MarketGpusOfferedBelowInUse(offerId, o.gpusInUse, gpusOffered);
        uint256 packed = TierMath.pack(tiers, MAX_DISCOUNT_BPS);

        // Effect: new terms for future rentals.
        o.gpusOffered = gpusOffered;
        o.minHours = minHours;
        o.maxHours = maxHours;
        o.maxBrokerBps = maxBrokerBps;
        o.pricePerGpuHour = pricePerGpuHour;
        o.reserved = reservedFor != address(0);
        o.reservedFor = reservedFor;
        o.tiers = packed;
        emit OfferUpdated(offerId, pricePerGpuHour, gpusOffered, minHours, maxHours, reservedFor, maxBrokerBps, packed);
    }

    /// @dev See {IComputeMarket-pauseOffer}.
    function pauseOffer(uint256 offerId) external viaMarket {
        Offer.Record storage o = _ownOpenOffer(offerId);
        if (o.status != Offer.Status.Active) revert MarketOfferNotActive(offerId, o.status);
        o.status = Offer.Status.Paused;
        emit OfferStatusChanged(offerId, Offer.Status.Paused);
    }

    /// @dev See {IComputeMarket-resumeOffer}.
    function resumeOffer(uint256 offerId) external viaMarket {
        Offer.Record storage o = _ownOpenOffer(offerId);
        if (o.status != Offer.Status.Paused) revert MarketOfferNotPaused(offerId, o.status);
        o.status = Offer.Status.Active;
        emit OfferStatusChanged(offerId, Offer.Status.Active);
    }

    /// @dev See {IComputeMarket-closeOffer}.
    function closeOffer(uint256 offerId) external viaMarket {
        Offer.Record storage o = _ownOpenOffer(offerId);
        o.status = Offer.Status.Closed;
        emit OfferStatusChanged(offerId, Offer.Status.Closed);
    }

    /// @dev The caller's own offer, which must exist and not be Closed.
    function _ownOpenOffer(uint256 offerId) internal view returns (Offer.Record storage o) {
        o = _offers[offerId];
        if (o.status == Offer.Status.None) revert MarketOfferNotFound(offerId);
        if (o.provider != msg.sender) revert MarketNotOfferProvider(offerId, msg.sender);
        if (o.status == Offer.Status.Closed) revert MarketOfferClosed(offerId);
    }
}
