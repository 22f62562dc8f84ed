// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { Ownable2Step } from "@openzeppelin/contracts/access/Ownable2Step.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IComputeMarketErrors } from "../interfaces/IComputeMarketErrors.sol";
import { IComputeMarketEvents } from "../interfaces/IComputeMarketEvents.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { RentalMath } from "../libraries/RentalMath.sol";
import { TierMath } from "../libraries/TierMath.sol";
import { Offer } from "../types/Offer.sol";
import { Rental } from "../types/Rental.sol";

/// @title MarketStorage
/// @notice The market's state, its bounds and the few steps that more than one part of the market
/// takes (paying out, pulling in, ending a stream). {ComputeMarket} and its modules
/// ({OfferModule}, {DisputeModule}, {AdminModule}) all inherit it, so they agree on every storage slot
/// by construction: a module runs by DELEGATECALL from the market, on the market's storage.
/// @dev Immutables live in code, so each module is deployed with the same registry as the market
/// (the market's constructor checks it).
abstract contract MarketStorage is
    Ownable2Step,
    Pausable,
    ReentrancyGuardTransient,
    IComputeMarketEvents,
    IComputeMarketErrors
{
    using SafeERC20 for IERC20;

    // ───────────────────────────── Bounds ─────────────────────────────

    uint256 public constant MAX_PROTOCOL_FEE_BPS = 1000; // 10 %
    uint256 public constant MAX_BROKER_FEE_BPS = 1000; // 10 %
    uint256 public constant MAX_DISCOUNT_BPS = 5000; // 50 %
    uint256 public constant MAX_NO_SHOW_PENALTY_BPS = 10_000; // the whole collateral
    uint256 public constant MAX_STAKE_PER_GPU = 1e6 ether;
    uint256 public constant MIN_ACTIVATION_WINDOW = 5 minutes;
    uint256 public constant MAX_ACTIVATION_WINDOW = 7 days;
    uint256 public constant MIN_DISPUTE_WINDOW = 1 hours;
    uint256 public constant MAX_DISPUTE_WINDOW = 30 days;
    uint256 public constant MAX_RENTAL_HOURS = 8760; // one year
    uint256 public constant MAX_LABEL_LENGTH = 32;
    uint256 public constant MIN_ARBITRATION_TIMEOUT = 1 days;
    uint256 public constant MAX_ARBITRATION_TIMEOUT = 60 days;
    uint256 public constant MAX_SLASH_TREASURY_BPS = 5000; // at least half of a slash goes to the renter
    uint256 public constant MAX_TIERS = TierMath.MAX_TIERS; // volume tiers per offer
    uint256 public constant SIGNED_OFFER_ID_BASE = Offer.SIGNED_OFFER_ID_BASE; // signed offers' records: ids above

    /// @dev The EIP-712 domain's name and version, for signed offers (the market and its booking module).
    // slither-disable-next-line unused-state — read by the market and its booking module, not by the other modules
    string internal constant EIP712_NAME = "gpumarket";
    // slither-disable-next-line unused-state — read by the market and its booking module, not by the other modules
    string internal constant EIP712_VERSION = "1";

    // ───────────────────────────── Defaults ─────────────────────────────

    uint256 public constant DEFAULT_PROTOCOL_FEE_BPS = 100; // 1 %
    uint256 public constant DEFAULT_STAKE_PER_GPU = 100 ether; // 100 GPUC per GPU
    uint256 public constant DEFAULT_ACTIVATION_WINDOW = 1 hours;
    uint256 public constant DEFAULT_DISPUTE_WINDOW = 1 days;
    uint256 public constant DEFAULT_NO_SHOW_PENALTY_BPS = 1000; // 10 % of collateral
    uint256 public constant DEFAULT_ARBITRATION_TIMEOUT = 7 days;
    uint256 public constant DEFAULT_SLASH_TREASURY_BPS = 2000; // 20 % of a dispute slash

    // ───────────────────────────── State ─────────────────────────────

    /// @notice Where provider stake and collateral live.
    IProviderRegistry public immutable registry;

    // Slot 0 is Ownable's owner. State variables pack across the inheritance chain: slot 1 holds
    // Ownable2Step's pending owner, Pausable's flag and `stakePerGpu`; slot 2 the rest of what
    // `openRental` and `createOffer` read. Opening a rental reads these two slots (the first one for
    // the pause check anyway) and bumps the rental counter in slot 2.
    uint80 public stakePerGpu; // ≤ MAX_STAKE_PER_GPU = 1e24 < 2^80 (slot 1)
    uint16 public protocolFeeBps; // slot 2 from here
    uint32 public activationWindow;
    // slither-disable-next-line constable-states,immutable-states — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    uint32 public nextOfferId; // Rental.Record stores offer ids as uint32
    // slither-disable-next-line constable-states — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    uint64 public nextRentalId;
    /// @dev Signed offers recorded so far: the next one gets `SIGNED_OFFER_ID_BASE` + this + 1.
    // slither-disable-next-line constable-states,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    uint32 internal _signedOffersRecorded;
    // Slot 3: read when a rental settles or is disputed.
    address public treasury;
    uint32 public disputeWindow;
    uint32 public arbitrationTimeout;
    uint16 public slashTreasuryBps;
    // Slot 4.
    address public arbiter;
    uint16 public noShowPenaltyBps;

    mapping(uint256 offerId => Offer.Record) internal _offers;
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(uint256 offerId => string) internal _gpuModels;
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(uint256 offerId => string) internal _regions;
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(uint256 rentalId => Rental.Record) internal _rentals;
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(address token => bool) internal _paymentTokens;
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(address token => uint256) internal _protocolFees;
    /// @dev Broker fees, and payouts the token refused to push; withdrawn with {withdrawCredits}.
    mapping(address account => mapping(address token => uint256)) internal _credits;
    // slither-disable-next-line uninitialized-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(address provider => IComputeMarket.Reputation) internal _reputation;
    /// @dev The bond the renter posted with {dispute} and the ruling's deadline, fixed at the dispute.
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(uint256 rentalId => Rental.Dispute) internal _disputes;
    /// @dev Signed offers by EIP-712 digest: their record's id once filled, and cancellation.
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(bytes32 offerHash => Offer.SignedState) internal _signedOffers;
    /// @dev Per provider: signed offers with a lower nonce are cancelled.
    // slither-disable-next-line uninitialized-state,unused-state — shared layout: written and read by the market and its modules by DELEGATECALL, which Slither's per-contract view misses
    mapping(address provider => uint256) internal _signedNonceFloor;

    constructor(IProviderRegistry registry_, address owner_) Ownable(owner_) {
        if (address(registry_) == address(0)) revert MarketZeroAddress();
        registry = registry_;
    }

    // ───────────────────────────── Shared steps ─────────────────────────────

    /// @dev What {stopRental} would bill an Active rental now ({RentalMath-stopChargeUp}).
    function _stopCharge(Rental.Record storage r) internal view returns (uint256) {
        return RentalMath.stopChargeUp(r.total, r.hoursPaid, r.discountBps, block.timestamp - r.startedAt);
    }

    /// @dev Ends an Active rental's stream now, as {stopRental} does: the stop charge stays for the
    /// provider (rounded up, against the renter who stops or disputes), the rest is returned to be
    /// refunded, and the GPUs go back to the offer. Returns the refund and the payment token.
    function _stopStream(Rental.Record storage r) internal returns (uint256 refund, address token) {
        uint256 charge = _stopCharge(r);
        refund = r.total - charge;
        r.total = uint112(charge); // safe: charge ≤ total
        r.endsAt = uint40(block.timestamp);
        r.status = Rental.Status.Ended;
        Offer.Record storage o = _offers[r.offerId];
        o.gpusInUse -= r.gpus;
        token = o.paymentToken;
    }

    /// @dev The checks of {IComputeMarket-openRental} on the offer `o`; returns its provider and token
    /// and the rental's cost and discount.
    // slither-disable-next-line cyclomatic-complexity — one flat list of the open checks, each a single revert
    function _checkAndPrice(
        Offer.Record storage o,
        uint256 offerId,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPrice,
        address broker,
        uint256 brokerBps
    ) internal view returns (address provider, address token, uint256 deposit, uint256 discountBps) {
        Offer.Status offerStatus = o.status;
        if (offerStatus != Offer.Status.Active) {
            if (offerStatus == Offer.Status.None) revert MarketOfferNotFound(offerId);
            revert MarketOfferNotActive(offerId, offerStatus);
        }
        provider = o.provider;
        if (renter == provider || msg.sender == provider) revert MarketSelfRental(offerId, provider);
        if (gpus == 0) revert MarketInvalidGpuCount(0);
        uint256 available = o.gpusOffered - o.gpusInUse;
        if (gpus > available) revert MarketInsufficientCapacity(offerId, available, gpus);
        if (hoursPaid < o.minHours || hoursPaid > o.maxHours) {
            revert MarketInvalidHours(hoursPaid, o.minHours, o.maxHours);
        }
        if (broker == address(0)) {
            if (brokerBps != 0) revert MarketInvalidBroker(broker, brokerBps);
        } else if (brokerBps > o.maxBrokerBps) {
            revert MarketBrokerBpsAboveMax(brokerBps, o.maxBrokerBps);
        }
        if (o.reserved) {
            // Slot 2 is read only for a private offer.
            address reservedFor = o.reservedFor;
            if (reservedFor != renter) revert MarketOfferReserved(offerId, reservedFor, renter);
        }
        token = o.paymentToken;
        if (!_paymentTokens[token]) revert MarketTokenNotAllowed(token);
        discountBps = TierMath.discountBpsFor(o.tiers, gpus * hoursPaid);
        uint256 rate = RentalMath.hourlyRateUp(gpus, o.pricePerGpuHour, discountBps);
        // The guard is on what the renter will pay per GPU-hour, discount included.
        uint256 effectivePrice = RentalMath.effectivePriceUp(rate, gpus);
        if (effectivePrice > maxPrice) revert MarketPriceAboveMax(offerId, effectivePrice, maxPrice);
        deposit = rate * hoursPaid;
    }

    /// @dev The effects of opening a checked and priced rental on offer `o`: takes the capacity,
    /// records the rental (Pending) and locks the provider's collateral. The caller pulls `deposit`.
    // slither-disable-next-line calls-loop,costly-loop — a cluster opens a rental per part: each locks its collateral in the trusted registry and takes the next rental id
    function _recordRental(
        Offer.Record storage o,
        uint256 offerId,
        address provider,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 deposit,
        uint256 discountBps,
        address broker,
        uint256 brokerBps
    ) internal returns (uint256 rentalId) {
        // The configuration is read before the writes, so that each slot's writes fold into one SSTORE.
        uint256 collateral = uint256(stakePerGpu) * gpus;
        uint16 feeBps = protocolFeeBps;
        uint256 deadline = block.timestamp + activationWindow;
        o.gpusInUse += uint16(gpus); // safe: gpus ≤ gpusOffered − gpusInUse, checked by the caller
        rentalId = nextRentalId++;
        Rental.Record storage r = _rentals[rentalId];
        // Slot 0.
        r.total = SafeCast.toUint112(deposit);
        r.offerId = uint32(offerId); // safe: an existing offer id, ≤ type(uint32).max
        r.hoursPaid = uint16(hoursPaid); // safe: ≤ maxHours, a uint16
        r.status = Rental.Status.Pending;
        // Slot 1.
        r.activationDeadline = uint40(deadline); // safe: window ≤ 7 days
        r.gpus = uint16(gpus); // safe: ≤ gpusOffered, a uint16
        r.discountBps = uint16(discountBps); // safe: ≤ MAX_DISCOUNT_BPS
        r.protocolFeeBps = feeBps;
        r.brokerBps = uint16(brokerBps); // safe: ≤ maxBrokerBps, a uint16
        // Slot 2.
        r.renter = renter;
        r.collateral = uint96(collateral); // safe: ≤ MAX_STAKE_PER_GPU × type(uint16).max < 2^96
        // Slots 3 and 4 only when used.
        if (msg.sender != renter) (r.sponsored, r.payer) = (true, msg.sender);
        if (broker != address(0)) r.broker = broker;
        emit RentalOpened(
            rentalId, offerId, renter, msg.sender, provider, o.paymentToken, gpus, hoursPaid, deposit, collateral, broker,
            brokerBps
        );

        // Interaction: lock the provider's collateral (trusted registry).
        registry.lock(provider, collateral);
    }

    /// @dev The checks of every fill of a signed offer, recorded or not: not cancelled, not expired,
    /// nonce not below its provider's floor.
    function _checkSignedFillable(Offer.Signed calldata offer, bytes32 offerHash, bool cancelled) internal view {
        if (cancelled) revert MarketSignedOfferCancelled(offerHash);
        if (block.timestamp > offer.expiry) revert MarketSignedOfferExpired(offerHash, offer.expiry);
        uint256 floor = _signedNonceFloor[offer.provider];
        if (offer.nonce < floor) revert MarketSignedOfferNonceCancelled(offerHash, offer.nonce, floor);
    }

    /// @dev An offer filled by its id is an on-chain offer: a signed offer's record needs its signature.
    function _checkOnChainOffer(uint256 offerId) internal pure {
        if (offerId > SIGNED_OFFER_ID_BASE) revert MarketSignedOfferNeedsSignature(offerId);
    }

    /// @dev An offer's terms within bounds (at creation, update, and a signed offer's first fill).
    function _checkTerms(uint256 price, uint256 gpusOffered, uint256 minHours, uint256 maxHours, uint256 maxBrokerBps)
        internal
        pure
    {
        if (price == 0) revert MarketInvalidPrice(price);
        if (gpusOffered == 0) revert MarketInvalidGpuCount(gpusOffered);
        if (minHours == 0 || maxHours < minHours || maxHours > MAX_RENTAL_HOURS) {
            revert MarketInvalidHourBounds(minHours, maxHours);
        }
        if (maxBrokerBps > MAX_BROKER_FEE_BPS) revert MarketBrokerBpsAboveMax(maxBrokerBps, MAX_BROKER_FEE_BPS);
    }

    /// @dev A GPU model or region label of 1 to MAX_LABEL_LENGTH bytes.
    function _checkLabel(string calldata label) internal pure {
        uint256 len = bytes(label).length;
        if (len == 0 || len > MAX_LABEL_LENGTH) revert MarketInvalidLabel(len);
    }

    /// @dev Pushes `amount` of `token` to `to`; if the token refuses (a blocklisted recipient, a
    /// recipient contract that reverts), credits it instead, so no recipient can block a settlement.
    /// `rentalId` names the rental the payout is for, in {PaymentDeferred}.
    function _pay(uint256 rentalId, address token, address to, uint256 amount) internal {
        // slither-disable-next-line incorrect-equality — skips a zero push; not a balance
        if (amount == 0) return;
        if (!IERC20(token).trySafeTransfer(to, amount)) {
            // slither-disable-next-line reentrancy-no-eth,reentrancy-benign — every caller is nonReentrant; the credit can only follow the refused push
            _credits[to][token] += amount;
            emit PaymentDeferred(to, token, rentalId, amount);
        }
    }

    /// @dev Pulls exactly `amount` from the caller (the only account the market ever pulls from); a
    /// token that delivers less (fee-on-transfer) is refused.
    function _pullExactFromCaller(address token, uint256 amount) internal {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert MarketTokenDeliveredLess(token, amount, received);
    }

    /// @dev Books `gpus` × `seconds_` of service and one completed rental to the provider's record.
    function _recordServed(address provider, uint256 gpus, uint256 seconds_) internal {
        IComputeMarket.Reputation storage rep = _reputation[provider];
        rep.gpuSecondsServed += uint64(gpus * seconds_); // safe: ≤ 65535 GPUs × 1 year × rentals < 2^64 for 10^6 rentals
        rep.rentalsCompleted += 1;
    }

    /// @dev Who funded the rental and receives its refunds: the payer if a third party paid, else the renter.
    function _payer(Rental.Record storage r) internal view returns (address) {
        return r.sponsored ? r.payer : r.renter;
    }

    // ───────────────────────────── Parameters, within their bounds ─────────────────────────────

    function _setProtocolFee(uint256 bps) internal {
        if (bps > MAX_PROTOCOL_FEE_BPS) revert MarketParameterOutOfBounds(bps, 0, MAX_PROTOCOL_FEE_BPS);
        protocolFeeBps = uint16(bps);
        emit ProtocolFeeSet(bps);
    }

    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert MarketZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function _setArbiter(address arbiter_) internal {
        if (arbiter_ == address(0)) revert MarketZeroAddress();
        arbiter = arbiter_;
        emit ArbiterSet(arbiter_);
    }

    function _setStakePerGpu(uint256 value) internal {
        if (value > MAX_STAKE_PER_GPU) revert MarketParameterOutOfBounds(value, 0, MAX_STAKE_PER_GPU);
        stakePerGpu = uint80(value); // safe: ≤ MAX_STAKE_PER_GPU < 2^80
        emit StakePerGpuSet(value);
    }

    function _setActivationWindow(uint256 value) internal {
        if (value < MIN_ACTIVATION_WINDOW || value > MAX_ACTIVATION_WINDOW) {
            revert MarketParameterOutOfBounds(value, MIN_ACTIVATION_WINDOW, MAX_ACTIVATION_WINDOW);
        }
        activationWindow = uint32(value);
        emit ActivationWindowSet(value);
    }

    function _setDisputeWindow(uint256 value) internal {
        if (value < MIN_DISPUTE_WINDOW || value > MAX_DISPUTE_WINDOW) {
            revert MarketParameterOutOfBounds(value, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        }
        disputeWindow = uint32(value);
        emit DisputeWindowSet(value);
    }

    function _setArbitrationTimeout(uint256 value) internal {
        if (value < MIN_ARBITRATION_TIMEOUT || value > MAX_ARBITRATION_TIMEOUT) {
            revert MarketParameterOutOfBounds(value, MIN_ARBITRATION_TIMEOUT, MAX_ARBITRATION_TIMEOUT);
        }
        arbitrationTimeout = uint32(value);
        emit ArbitrationTimeoutSet(value);
    }

    function _setSlashTreasuryShare(uint256 bps) internal {
        if (bps > MAX_SLASH_TREASURY_BPS) revert MarketParameterOutOfBounds(bps, 0, MAX_SLASH_TREASURY_BPS);
        slashTreasuryBps = uint16(bps);
        emit SlashTreasuryShareSet(bps);
    }

    function _setNoShowPenalty(uint256 bps) internal {
        if (bps > MAX_NO_SHOW_PENALTY_BPS) revert MarketParameterOutOfBounds(bps, 0, MAX_NO_SHOW_PENALTY_BPS);
        noShowPenaltyBps = uint16(bps);
        emit NoShowPenaltySet(bps);
    }
}
