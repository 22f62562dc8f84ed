// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "../types/Offer.sol";
import { Rental } from "../types/Rental.sol";
import { IProviderRegistryErrors } from "./IProviderRegistryErrors.sol";

/// @title IComputeMarketErrors
/// @notice Every custom error the market and its modules raise, in one place, each with the values
/// that caused it. It inherits the registry's errors, so a registry error raised inside a market call
/// (not enough free stake to lock collateral, say) decodes from the market's ABI alone.
interface IComputeMarketErrors is IProviderRegistryErrors {
    // ── configuration and tokens ──

    /// @notice A zero address where an account is needed (registry, owner, treasury, arbiter, renter, token).
    error MarketZeroAddress();
    /// @notice A governance parameter outside its bound [min, max].
    error MarketParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @notice The payment token is not (or no longer) on the allowlist.
    error MarketTokenNotAllowed(address token);
    /// @notice A pull delivered less than asked (a fee-on-transfer token).
    error MarketTokenDeliveredLess(address token, uint256 expected, uint256 received);
    /// @notice `renounceOwnership` is disabled: a market without an owner could stay paused for good.
    error MarketRenounceDisabled();
    /// @notice A market module was called directly instead of through the market.
    error MarketModuleCalledDirectly(address module);
    /// @notice A module given to the market's constructor is zero or was deployed for another registry.
    error MarketInvalidModule(address module);

    // ── offers ──

    /// @notice A GPU model or region label of 0 or more than 32 bytes.
    error MarketInvalidLabel(uint256 length);
    /// @notice A price of zero.
    error MarketInvalidPrice(uint256 price);
    /// @notice A GPU count of zero (offered or rented) or above the 16-bit maximum (in a quote).
    error MarketInvalidGpuCount(uint256 gpus);
    /// @notice Hour bounds that are not 1 ≤ minHours ≤ maxHours ≤ MAX_RENTAL_HOURS.
    error MarketInvalidHourBounds(uint256 minHours, uint256 maxHours);
    /// @notice A broker cut above the offer's maximum, or an offer's maximum above MAX_BROKER_FEE_BPS.
    error MarketBrokerBpsAboveMax(uint256 brokerBps, uint256 maxBrokerBps);
    /// @notice A broker fee without a broker.
    error MarketInvalidBroker(address broker, uint256 brokerBps);
    /// @notice Volume tiers that are too many, not strictly increasing, or above the discount cap (at `index`).
    error MarketInvalidTiers(uint256 index);
    /// @notice The caller is not a registered provider with bonded stake ≥ the minimum.
    error MarketProviderNotActive(address provider);
    /// @notice No offer has this id.
    error MarketOfferNotFound(uint256 offerId);
    /// @notice The offer is not Active (it is Paused or Closed).
    error MarketOfferNotActive(uint256 offerId, Offer.Status status);
    /// @notice `resumeOffer` on an offer that is not Paused.
    error MarketOfferNotPaused(uint256 offerId, Offer.Status status);
    /// @notice The offer is Closed for good.
    error MarketOfferClosed(uint256 offerId);
    /// @notice The caller is not the offer's provider.
    error MarketNotOfferProvider(uint256 offerId, address caller);
    /// @notice An update would offer fewer GPUs than are in use.
    error MarketGpusOfferedBelowInUse(uint256 offerId, uint256 gpusInUse, uint256 gpusOffered);

    /// @notice An on-chain offer id would reach the signed offers' range (or a signed offer's id would
    /// pass 32 bits): no offer id is ever given twice.
    error MarketOfferIdsExhausted(uint256 offerId);
    /// @notice A signed offer's terms are fixed by its signature: its record cannot be updated (sign a
    /// new offer, and cancel or close this one).
    error MarketSignedOfferTermsFixed(uint256 offerId);
    /// @notice A signed offer's record is filled only with its signature ({IComputeMarket-openSignedRental},
    /// a cluster's signed part), so that its expiry and its provider's nonce floor are checked on every
    /// fill: {IComputeMarket-openRental}, {IComputeMarket-openRentalFor} and a cluster's on-chain part
    /// refuse its id.
    error MarketSignedOfferNeedsSignature(uint256 offerId);

    // ── signed offers and clusters ──

    /// @notice The signed offer's expiry has passed.
    error MarketSignedOfferExpired(bytes32 offerHash, uint256 expiry);
    /// @notice The provider cancelled this signed offer ({IComputeMarket-cancelSignedOffer}).
    error MarketSignedOfferCancelled(bytes32 offerHash);
    /// @notice The signed offer's nonce is below its provider's nonce floor ({IComputeMarket-cancelSignedOffersBelow}).
    error MarketSignedOfferNonceCancelled(bytes32 offerHash, uint256 nonce, uint256 nonceFloor);
    /// @notice The signature is not the provider's over this offer in this market's domain (a wrong
    /// signer, other terms, another chain or another deployment); ERC-1271 for a contract provider.
    error MarketInvalidSignature(bytes32 offerHash, address provider);
    /// @notice Only the signed offer's provider may cancel it.
    error MarketNotSignedOfferProvider(bytes32 offerHash, address caller);
    /// @notice A new nonce floor must be above the current one.
    error MarketNonceFloorNotRaised(uint256 nonce, uint256 nonceFloor);
    /// @notice A cluster booking with no parts.
    error MarketClusterEmpty();
    /// @notice A cluster's parts must all be paid in one token: part `part` (on-chain parts first,
    /// then signed ones) is in `token`, the first in `expected`.
    error MarketClusterTokenMismatch(uint256 part, address token, address expected);
    /// @notice The cluster costs more than the renter's cap.
    error MarketClusterCostAboveMax(uint256 cost, uint256 maxCost);

    // ── opening and running rentals ──

    /// @notice The offer is reserved for another renter.
    error MarketOfferReserved(uint256 offerId, address reservedFor, address renter);
    /// @notice The provider (as renter or as payer) tried to rent its own offer.
    error MarketSelfRental(uint256 offerId, address provider);
    /// @notice More GPUs asked for than the offer has free.
    error MarketInsufficientCapacity(uint256 offerId, uint256 available, uint256 requested);
    /// @notice Hours outside [minHours, maxHours] (for an extension: the hours that may still be added).
    error MarketInvalidHours(uint256 hoursRequested, uint256 minHours, uint256 maxHours);
    /// @notice The effective price per GPU-hour (discount included) is above the renter's maximum.
    error MarketPriceAboveMax(uint256 offerId, uint256 price, uint256 maxPrice);
    /// @notice Only a Pending rental can be activated or cancelled.
    error MarketRentalNotPending(uint256 rentalId, Rental.Status status);
    /// @notice Only an Active rental can be stopped or extended.
    error MarketRentalNotActive(uint256 rentalId, Rental.Status status);
    /// @notice Only an Active or Ended rental can be claimed.
    error MarketRentalNotClaimable(uint256 rentalId, Rental.Status status);
    /// @notice The rental's paid time is over: stop and extend no longer apply (release it instead).
    error MarketRentalEnded(uint256 rentalId, uint256 endsAt);
    /// @notice `release` has nothing to do yet (`releasableAt` is when it will), or nothing ever (0).
    error MarketRentalNotReleasable(uint256 rentalId, Rental.Status status, uint256 releasableAt);
    /// @notice Only the renter may stop, extend, cancel or dispute.
    error MarketNotRenter(uint256 rentalId, address caller);
    /// @notice Only the offer's provider may activate.
    error MarketNotProvider(uint256 rentalId, address caller);
    /// @notice The activation deadline has passed (the renter may cancel with the no-show penalty).
    error MarketActivationExpired(uint256 rentalId, uint256 activationDeadline);
    /// @notice `claim` when nothing has accrued since the last claim.
    error MarketNothingToClaim(uint256 rentalId);
    /// @notice Only a rental the renter paid for itself can be extended.
    error MarketExtensionNotSelfFunded(uint256 rentalId, address payer);
    /// @notice A withdrawal of protocol fees or credits when there are none.
    error MarketNoFees(address account, address token);

    // ── disputes ──

    /// @notice Only the arbiter rules.
    error MarketNotArbiter(address caller);
    /// @notice Only an Active or Ended rental can be disputed.
    error MarketRentalNotDisputable(uint256 rentalId, Rental.Status status);
    /// @notice The dispute window (endsAt + disputeWindow) has closed.
    error MarketDisputeWindowClosed(uint256 rentalId, uint256 closedAt);
    /// @notice A ruling on a rental that is not Disputed.
    error MarketRentalNotDisputed(uint256 rentalId, Rental.Status status);
    /// @notice A provider share above 10,000 bps.
    error MarketInvalidShare(uint256 providerShareBps);
    /// @notice A slash above the disputed rental's collateral.
    error MarketSlashAboveCollateral(uint256 rentalId, uint256 slashAmount, uint256 collateral);
    /// @notice The arbiter ruled at or after the dispute's deadline (anyone may apply the default ruling).
    error MarketArbitrationTimedOut(uint256 rentalId, uint256 timeoutAt);
    /// @notice The default ruling before the dispute's deadline (the arbiter may still rule).
    error MarketArbitrationPending(uint256 rentalId, uint256 timeoutAt);
}
