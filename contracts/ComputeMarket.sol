// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { Ownable2Step } from "@openzeppelin/contracts/access/Ownable2Step.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

import { IComputeMarket } from "./interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "./interfaces/IProviderRegistry.sol";
import { RentalMath } from "./libraries/RentalMath.sol";
import { Offer } from "./types/Offer.sol";
import { Rental } from "./types/Rental.sol";

/// @title ComputeMarket
/// @notice Offers, rentals and the streaming escrow. See {IComputeMarket}.
/// @dev The owner configures bounded parameters and pauses new business; it can never move escrow
/// or stake. Solvency: for every payment token, balance ≥ Σ over non-terminal rentals of
/// (total − claimed) + the bonds of Disputed rentals + protocol fees + credits, with equality absent
/// donations.
contract ComputeMarket is IComputeMarket, Ownable2Step, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

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
    uint32 public nextOfferId; // Rental.Record stores offer ids as uint32
    uint64 public nextRentalId;
    // Slot 3: read when a rental settles or is disputed.
    address public treasury;
    uint32 public disputeWindow;
    uint32 public arbitrationTimeout;
    uint16 public slashTreasuryBps;
    // Slot 4.
    address public arbiter;
    uint16 public noShowPenaltyBps;

    mapping(uint256 offerId => Offer.Record) internal _offers;
    mapping(uint256 offerId => string) internal _gpuModels;
    mapping(uint256 offerId => string) internal _regions;
    mapping(uint256 rentalId => Rental.Record) internal _rentals;
    mapping(address token => bool) internal _paymentTokens;
    mapping(address token => uint256) internal _protocolFees;
    /// @dev Broker fees, and payouts the token refused to push; withdrawn with {withdrawCredits}.
    mapping(address account => mapping(address token => uint256)) internal _credits;
    mapping(address provider => Reputation) internal _reputation;
    /// @dev The bond the renter posted with {dispute} and the ruling's deadline, fixed at the dispute.
    mapping(uint256 rentalId => Rental.Dispute) internal _disputes;

    constructor(IProviderRegistry registry_, address owner_, address treasury_, address arbiter_) Ownable(owner_) {
        if (address(registry_) == address(0)) revert MarketZeroAddress();
        registry = registry_;
        _setTreasury(treasury_);
        _setArbiter(arbiter_);
        _setProtocolFee(DEFAULT_PROTOCOL_FEE_BPS);
        _setStakePerGpu(DEFAULT_STAKE_PER_GPU);
        _setActivationWindow(DEFAULT_ACTIVATION_WINDOW);
        _setDisputeWindow(DEFAULT_DISPUTE_WINDOW);
        _setNoShowPenalty(DEFAULT_NO_SHOW_PENALTY_BPS);
        _setArbitrationTimeout(DEFAULT_ARBITRATION_TIMEOUT);
        _setSlashTreasuryShare(DEFAULT_SLASH_TREASURY_BPS);
        nextOfferId = 1;
        nextRentalId = 1;
    }

    // ───────────────────────────── Offers ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function createOffer(Offer.Params calldata p) external whenNotPaused returns (uint256 offerId) {
        // Check: an active provider, sane labels and terms, an allowlisted token.
        if (!registry.isActive(msg.sender)) revert MarketProviderNotActive(msg.sender);
        _checkLabel(p.gpuModel);
        _checkLabel(p.region);
        if (!_paymentTokens[p.paymentToken]) revert MarketTokenNotAllowed(p.paymentToken);
        _checkTerms(p.pricePerGpuHour, p.gpusOffered, p.minHours, p.maxHours, p.maxBrokerBps);
        uint256 tiers = RentalMath.packTiers(p.tiers, MAX_DISCOUNT_BPS);

        // Effect: store the offer.
        offerId = nextOfferId++;
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

    /// @inheritdoc IComputeMarket
    function updateOffer(
        uint256 offerId,
        uint96 pricePerGpuHour,
        uint16 gpusOffered,
        uint16 minHours,
        uint16 maxHours,
        address reservedFor,
        uint16 maxBrokerBps,
        Offer.Tier[] calldata tiers
    ) external {
        // Check: the provider of an offer that is not closed, with sane terms.
        Offer.Record storage o = _ownOpenOffer(offerId);
        _checkTerms(pricePerGpuHour, gpusOffered, minHours, maxHours, maxBrokerBps);
        if (gpusOffered < o.gpusInUse) revert MarketGpusOfferedBelowInUse(offerId, o.gpusInUse, gpusOffered);
        uint256 packed = RentalMath.packTiers(tiers, MAX_DISCOUNT_BPS);

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

    /// @inheritdoc IComputeMarket
    function pauseOffer(uint256 offerId) external {
        Offer.Record storage o = _ownOpenOffer(offerId);
        if (o.status != Offer.Status.Active) revert MarketOfferNotActive(offerId, o.status);
        o.status = Offer.Status.Paused;
        emit OfferStatusChanged(offerId, Offer.Status.Paused);
    }

    /// @inheritdoc IComputeMarket
    function resumeOffer(uint256 offerId) external {
        Offer.Record storage o = _ownOpenOffer(offerId);
        if (o.status != Offer.Status.Paused) revert MarketOfferNotPaused(offerId, o.status);
        o.status = Offer.Status.Active;
        emit OfferStatusChanged(offerId, Offer.Status.Active);
    }

    /// @inheritdoc IComputeMarket
    function closeOffer(uint256 offerId) external {
        Offer.Record storage o = _ownOpenOffer(offerId);
        o.status = Offer.Status.Closed;
        emit OfferStatusChanged(offerId, Offer.Status.Closed);
    }

    // ───────────────────────────── Rentals ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function openRental(
        uint256 offerId,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external whenNotPaused nonReentrant returns (uint256 rentalId) {
        return _open(msg.sender, offerId, gpus, hoursPaid, maxPricePerGpuHour, broker, brokerBps);
    }

    /// @inheritdoc IComputeMarket
    function openRentalFor(
        address renter,
        uint256 offerId,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external whenNotPaused nonReentrant returns (uint256 rentalId) {
        if (renter == address(0)) revert MarketZeroAddress();
        return _open(renter, offerId, gpus, hoursPaid, maxPricePerGpuHour, broker, brokerBps);
    }

    /// @inheritdoc IComputeMarket
    function activate(uint256 rentalId) external {
        // Check: the provider of a Pending rental, before the activation deadline.
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Pending) revert MarketRentalNotPending(rentalId, status);
        if (msg.sender != _offers[r.offerId].provider) revert MarketNotProvider(rentalId, msg.sender);
        uint256 deadline = r.activationDeadline;
        if (block.timestamp > deadline) revert MarketActivationExpired(rentalId, deadline);

        // Effect: the stream starts now and runs for the hours paid (one slot written).
        uint256 endsAt = block.timestamp + uint256(r.hoursPaid) * RentalMath.SECONDS_PER_HOUR;
        r.startedAt = uint40(block.timestamp); // safe: timestamps fit 40 bits until year 36812
        r.endsAt = uint40(endsAt); // safe: hoursPaid ≤ MAX_RENTAL_HOURS
        r.status = Rental.Status.Active;
        emit RentalActivated(rentalId, block.timestamp, endsAt);
    }

    /// @inheritdoc IComputeMarket
    function claim(uint256 rentalId) external nonReentrant returns (uint256 gross) {
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Active && status != Rental.Status.Ended) {
            revert MarketRentalNotClaimable(rentalId, status);
        }
        uint256 net;
        address provider;
        address token;
        (gross, net, provider, token) = _accrueClaim(rentalId, r);
        // slither-disable-next-line incorrect-equality — internal accounting, not a balance: no donation can move it
        if (gross == 0) revert MarketNothingToClaim(rentalId);
        // Interaction: pay the provider its net.
        _pay(token, provider, net);
    }

    /// @inheritdoc IComputeMarket
    function claimMany(uint256[] calldata rentalIds) external nonReentrant returns (uint256 gross) {
        address payTo;
        address payToken;
        uint256 pending;
        for (uint256 i; i < rentalIds.length; ++i) {
            Rental.Record storage r = _rentals[rentalIds[i]];
            Rental.Status status = r.status;
            if (status != Rental.Status.Active && status != Rental.Status.Ended) continue;
            (uint256 g, uint256 net, address provider, address token) = _accrueClaim(rentalIds[i], r);
            // slither-disable-next-line incorrect-equality — internal accounting, not a balance
            if (g == 0) continue;
            gross += g;
            // Batch consecutive payouts to the same provider in the same token into one transfer.
            if (provider != payTo || token != payToken) {
                _pay(payToken, payTo, pending);
                (payTo, payToken, pending) = (provider, token, 0);
            }
            pending += net;
        }
        _pay(payToken, payTo, pending);
    }

    /// @inheritdoc IComputeMarket
    function extend(uint256 rentalId, uint256 hoursAdded) external whenNotPaused nonReentrant returns (uint256 cost) {
        // Check: the self-funding renter of a running rental, on an offer still open, within its bounds.
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Active) revert MarketRentalNotActive(rentalId, status);
        if (msg.sender != r.renter) revert MarketNotRenter(rentalId, msg.sender);
        if (r.sponsored) revert MarketExtensionNotSelfFunded(rentalId, r.payer);
        uint256 endsAt = r.endsAt;
        if (block.timestamp >= endsAt) revert MarketRentalEnded(rentalId, endsAt);
        Offer.Record storage o = _offers[r.offerId];
        if (o.status != Offer.Status.Active) revert MarketOfferNotActive(r.offerId, o.status);
        uint256 hoursPaid = r.hoursPaid;
        uint256 maxHours = o.maxHours;
        uint256 newHours = hoursPaid + (hoursAdded > maxHours ? maxHours + 1 : hoursAdded); // no overflow
        if (hoursAdded == 0 || newHours > maxHours) {
            revert MarketInvalidHours(hoursAdded, 1, maxHours > hoursPaid ? maxHours - hoursPaid : 0);
        }
        address token = o.paymentToken;
        if (!_paymentTokens[token]) revert MarketTokenNotAllowed(token);

        // Effect: the same hourly rate for longer. While Active, total == rate × hoursPaid exactly.
        uint256 total = r.total;
        // slither-disable-next-line divide-before-multiply — exact: total == rate × hoursPaid while Active
        cost = total / hoursPaid * hoursAdded;
        endsAt += hoursAdded * RentalMath.SECONDS_PER_HOUR;
        r.total = (total + cost).toUint112();
        r.endsAt = uint40(endsAt); // safe: hours ≤ MAX_RENTAL_HOURS
        r.hoursPaid = uint16(newHours); // safe: ≤ MAX_RENTAL_HOURS

        // Interaction: pull the cost from the renter.
        _pullExact(token, msg.sender, cost);
        emit RentalExtended(rentalId, hoursAdded, cost, endsAt);
    }

    /// @inheritdoc IComputeMarket
    function stopRental(uint256 rentalId) external nonReentrant returns (uint256 refund) {
        // Check: only the renter stops, and only while the rental runs.
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Active) revert MarketRentalNotActive(rentalId, status);
        if (msg.sender != r.renter) revert MarketNotRenter(rentalId, msg.sender);
        uint256 endsAt = r.endsAt;
        if (block.timestamp >= endsAt) revert MarketRentalEnded(rentalId, endsAt);

        // Effect: close the stream now and give the GPUs back.
        address token;
        (refund, token) = _stopStream(r);

        // Interaction: refund the unused deposit to its payer.
        _pay(token, _payer(r), refund);
        emit RentalStopped(rentalId, block.timestamp, refund);
    }

    /// @inheritdoc IComputeMarket
    function cancelPending(uint256 rentalId) external nonReentrant returns (uint256 refund) {
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Pending) revert MarketRentalNotPending(rentalId, status);
        if (msg.sender != r.renter) revert MarketNotRenter(rentalId, msg.sender);
        return _cancel(rentalId, r);
    }

    /// @inheritdoc IComputeMarket
    function release(uint256 rentalId) external nonReentrant {
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status == Rental.Status.Pending) {
            // A no-show: the provider let the activation deadline pass.
            uint256 deadline = r.activationDeadline;
            if (block.timestamp <= deadline) revert MarketRentalNotReleasable(rentalId, status, deadline + 1);
            _cancel(rentalId, r);
            return;
        }
        if (status != Rental.Status.Active && status != Rental.Status.Ended) {
            revert MarketRentalNotReleasable(rentalId, status, 0);
        }
        uint256 endsAt = r.endsAt;
        if (block.timestamp < endsAt) revert MarketRentalNotReleasable(rentalId, status, endsAt);
        Offer.Record storage o = _offers[r.offerId];
        if (status == Rental.Status.Active) {
            // Effect: the stream ran out; the GPUs go back to the offer.
            o.gpusInUse -= r.gpus;
            r.status = Rental.Status.Ended;
            emit RentalEnded(rentalId);
        }
        uint256 settleAt = endsAt + disputeWindow;
        if (block.timestamp < settleAt) {
            if (status == Rental.Status.Active) return; // capacity released; settle later
            revert MarketRentalNotReleasable(rentalId, status, settleAt);
        }
        // Effect: pay the rest of the stream, close the rental for good, credit the provider's record.
        (, uint256 net, address provider, address token) = _accrueClaim(rentalId, r);
        r.status = Rental.Status.Settled;
        uint256 collateral = r.collateral;
        _recordServed(provider, r.gpus, endsAt - r.startedAt);
        // Interaction: unlock the collateral (trusted registry), then pay the provider.
        registry.unlock(provider, collateral);
        _pay(token, provider, net);
        emit RentalSettled(rentalId, collateral);
    }

    // ───────────────────────────── Disputes ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function dispute(uint256 rentalId, bytes32 evidenceHash) external nonReentrant returns (uint256 bond) {
        // Check: the renter, on a rental that ran, within the dispute window after its end.
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status != Rental.Status.Active && status != Rental.Status.Ended) {
            revert MarketRentalNotDisputable(rentalId, status);
        }
        if (msg.sender != r.renter) revert MarketNotRenter(rentalId, msg.sender);
        uint256 closesAt = uint256(r.endsAt) + disputeWindow;
        if (block.timestamp >= closesAt) revert MarketDisputeWindowClosed(rentalId, closesAt);

        // Effect: a running rental ends here exactly as a stop would end it (the time used is billed,
        // the rest refunded, the GPUs freed), so a dispute is never a cheaper exit than a stop; one
        // past its end only gives its GPUs back. What is billed and unclaimed is frozen until a ruling.
        uint256 refund;
        address token = _offers[r.offerId].paymentToken;
        if (status == Rental.Status.Active) {
            if (block.timestamp < r.endsAt) (refund,) = _stopStream(r);
            else _offers[r.offerId].gpusInUse -= r.gpus;
        }
        r.status = Rental.Status.Disputed;
        r.disputedAt = uint40(block.timestamp);
        uint256 total = r.total;
        uint256 timeout = arbitrationTimeout;
        bond = RentalMath.disputeBondUp(total, uint256(r.endsAt) - r.startedAt, timeout, disputeWindow);
        // The ruling's deadline is fixed here, with the bond it was priced with: a later change of the
        // timeout reaches only disputes raised after it.
        _disputes[rentalId] = Rental.Dispute({
            bond: uint128(bond), // safe: ≤ total × (60 days + 1 h) / 1 h < 2^112 × 2^11
            timeoutAt: uint40(block.timestamp + timeout)
        });
        emit RentalDisputed(rentalId, msg.sender, evidenceHash, total - r.claimed, refund, bond);

        // Interaction: a renter who paid for itself has the bond taken out of its refund first (one
        // transfer, and no pull at all when the refund covers it); a sponsor gets its refund, and the
        // renter posts the bond.
        address payer = _payer(r);
        if (payer == msg.sender) {
            if (refund >= bond) _pay(token, payer, refund - bond);
            else _pullExact(token, msg.sender, bond - refund);
        } else {
            _pay(token, payer, refund);
            _pullExact(token, msg.sender, bond);
        }
    }

    /// @inheritdoc IComputeMarket
    function resolveDispute(uint256 rentalId, uint256 providerShareBps, uint256 slashAmount) external nonReentrant {
        // Check: the arbiter, on time, within the bounds of this rental's escrow and collateral.
        if (msg.sender != arbiter) revert MarketNotArbiter(msg.sender);
        Rental.Record storage r = _disputed(rentalId);
        uint256 timeoutAt = _disputes[rentalId].timeoutAt;
        if (block.timestamp >= timeoutAt) revert MarketArbitrationTimedOut(rentalId, timeoutAt);
        if (providerShareBps > RentalMath.BPS) revert MarketInvalidShare(providerShareBps);
        if (slashAmount > r.collateral) revert MarketSlashAboveCollateral(rentalId, slashAmount, r.collateral);

        // The provider's share of the frozen escrow, rounded down (the rest is the payer's). The provider
        // lost if the ruling goes against it: a share below 100 % (even of nothing frozen), or a slash.
        uint256 providerGross = RentalMath.bpsOfDown(r.total - r.claimed, providerShareBps);
        bool lost = providerShareBps < RentalMath.BPS || slashAmount != 0;
        _resolve(rentalId, r, providerGross, slashAmount, lost, false);
    }

    /// @inheritdoc IComputeMarket
    function applyDefaultRuling(uint256 rentalId) external nonReentrant {
        Rental.Record storage r = _disputed(rentalId);
        uint256 timeoutAt = _disputes[rentalId].timeoutAt;
        if (block.timestamp < timeoutAt) revert MarketArbitrationPending(rentalId, timeoutAt);
        // Default: the provider keeps everything billed (what a stop at the dispute would have billed),
        // no slash, and the bond compensates it for the collateral the dispute kept locked.
        _resolve(rentalId, r, r.total - r.claimed, 0, false, true);
    }

    // ───────────────────────────── Fees ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function withdrawProtocolFees(address token) external nonReentrant returns (uint256 amount) {
        amount = _protocolFees[token];
        if (amount == 0) revert MarketNoFees(treasury, token);
        _protocolFees[token] = 0;
        IERC20(token).safeTransfer(treasury, amount);
        emit ProtocolFeesWithdrawn(token, treasury, amount);
    }

    /// @inheritdoc IComputeMarket
    function withdrawCredits(address token) external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender][token];
        if (amount == 0) revert MarketNoFees(msg.sender, token);
        _credits[msg.sender][token] = 0;
        IERC20(token).safeTransfer(msg.sender, amount);
        emit CreditsWithdrawn(msg.sender, token, amount);
    }

    // ───────────────────────────── Owner ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function setProtocolFee(uint256 bps) external onlyOwner {
        _setProtocolFee(bps);
    }

    /// @inheritdoc IComputeMarket
    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IComputeMarket
    function setArbiter(address arbiter_) external onlyOwner {
        _setArbiter(arbiter_);
    }

    /// @inheritdoc IComputeMarket
    function setPaymentToken(address token, bool allowed) external onlyOwner {
        if (token == address(0)) revert MarketZeroAddress();
        _paymentTokens[token] = allowed;
        emit PaymentTokenSet(token, allowed);
    }

    /// @inheritdoc IComputeMarket
    function setStakePerGpu(uint256 value) external onlyOwner {
        _setStakePerGpu(value);
    }

    /// @inheritdoc IComputeMarket
    function setActivationWindow(uint256 value) external onlyOwner {
        _setActivationWindow(value);
    }

    /// @inheritdoc IComputeMarket
    function setDisputeWindow(uint256 value) external onlyOwner {
        _setDisputeWindow(value);
    }

    /// @inheritdoc IComputeMarket
    function setNoShowPenalty(uint256 bps) external onlyOwner {
        _setNoShowPenalty(bps);
    }

    /// @inheritdoc IComputeMarket
    function setArbitrationTimeout(uint256 value) external onlyOwner {
        _setArbitrationTimeout(value);
    }

    /// @inheritdoc IComputeMarket
    function setSlashTreasuryShare(uint256 bps) external onlyOwner {
        _setSlashTreasuryShare(bps);
    }

    /// @notice Disabled: a market without an owner could be left paused for good.
    function renounceOwnership() public view override onlyOwner {
        revert MarketRenounceDisabled();
    }

    /// @inheritdoc IComputeMarket
    function pause() external onlyOwner {
        _pause();
    }

    /// @inheritdoc IComputeMarket
    function unpause() external onlyOwner {
        _unpause();
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function getOffer(uint256 offerId) external view returns (Offer.Record memory) {
        return _offers[offerId];
    }

    /// @inheritdoc IComputeMarket
    function offerLabels(uint256 offerId) external view returns (string memory gpuModel, string memory region) {
        return (_gpuModels[offerId], _regions[offerId]);
    }

    /// @inheritdoc IComputeMarket
    function offerTiers(uint256 offerId) external view returns (Offer.Tier[] memory) {
        return RentalMath.unpackTiers(_offers[offerId].tiers);
    }

    /// @inheritdoc IComputeMarket
    function getRental(uint256 rentalId) external view returns (Rental.Record memory) {
        return _rentals[rentalId];
    }

    /// @inheritdoc IComputeMarket
    function payerOf(uint256 rentalId) external view returns (address) {
        return _payer(_rentals[rentalId]);
    }

    /// @inheritdoc IComputeMarket
    function accruedOf(uint256 rentalId) public view returns (uint256) {
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (status == Rental.Status.None || status == Rental.Status.Pending || status == Rental.Status.Cancelled) {
            return 0; // never activated
        }
        return RentalMath.accruedDown(r.total, r.startedAt, r.endsAt, block.timestamp);
    }

    /// @inheritdoc IComputeMarket
    function claimableOf(uint256 rentalId) external view returns (uint256) {
        Rental.Record storage r = _rentals[rentalId];
        if (r.status != Rental.Status.Active && r.status != Rental.Status.Ended) return 0;
        return accruedOf(rentalId) - r.claimed;
    }

    /// @inheritdoc IComputeMarket
    function refundableOf(uint256 rentalId) external view returns (uint256) {
        Rental.Record storage r = _rentals[rentalId];
        if (r.status == Rental.Status.Pending) return r.total;
        if (r.status != Rental.Status.Active || block.timestamp >= r.endsAt) return 0;
        return r.total - _stopCharge(r);
    }

    /// @inheritdoc IComputeMarket
    function releasableAt(uint256 rentalId) external view returns (uint256) {
        Rental.Record storage r = _rentals[rentalId];
        if (r.status == Rental.Status.Pending) return uint256(r.activationDeadline) + 1;
        if (r.status != Rental.Status.Active && r.status != Rental.Status.Ended) return 0;
        return uint256(r.endsAt) + disputeWindow;
    }

    /// @inheritdoc IComputeMarket
    function quote(uint256 offerId, uint256 gpus, uint256 hoursPaid)
        public
        view
        returns (uint256 cost, uint256 discountBps, uint256 hourlyRate)
    {
        Offer.Record storage o = _offers[offerId];
        if (o.status == Offer.Status.None) revert MarketOfferNotFound(offerId);
        if (gpus == 0 || gpus > type(uint16).max) revert MarketInvalidGpuCount(gpus);
        if (hoursPaid == 0 || hoursPaid > MAX_RENTAL_HOURS) revert MarketInvalidHours(hoursPaid, 1, MAX_RENTAL_HOURS);
        discountBps = RentalMath.discountBpsFor(o.tiers, gpus * hoursPaid);
        hourlyRate = RentalMath.hourlyRateUp(gpus, o.pricePerGpuHour, discountBps);
        cost = hourlyRate * hoursPaid;
    }

    /// @inheritdoc IComputeMarket
    function protocolFees(address token) external view returns (uint256) {
        return _protocolFees[token];
    }

    /// @inheritdoc IComputeMarket
    function credits(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc IComputeMarket
    function reputationOf(address provider) external view returns (Reputation memory) {
        return _reputation[provider];
    }

    /// @inheritdoc IComputeMarket
    function disputeOf(uint256 rentalId)
        external
        view
        returns (uint256 frozen, uint256 bond, uint256 collateral, uint256 disputedAt, uint256 timeoutAt)
    {
        Rental.Record storage r = _rentals[rentalId];
        disputedAt = r.disputedAt;
        if (r.status != Rental.Status.Disputed) return (0, 0, 0, disputedAt, 0);
        frozen = r.total - r.claimed;
        Rental.Dispute storage d = _disputes[rentalId];
        (bond, timeoutAt) = (d.bond, d.timeoutAt);
        collateral = r.collateral;
    }

    /// @inheritdoc IComputeMarket
    function isPaymentToken(address token) external view returns (bool) {
        return _paymentTokens[token];
    }

    // ───────────────────────────── Internal: rentals ─────────────────────────────

    function _open(
        address renter,
        uint256 offerId,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPrice,
        address broker,
        uint256 brokerBps
    ) internal returns (uint256 rentalId) {
        // Check: an Active offer with room, terms within bounds, the renter's price guard.
        Offer.Record storage o = _offers[offerId];
        (address provider, address token, uint256 deposit, uint256 discountBps) =
            _checkAndPrice(o, offerId, renter, gpus, hoursPaid, maxPrice, broker, brokerBps);

        // Effect: take the capacity and record the rental.
        // The configuration is read before the writes, so that each slot's writes fold into one SSTORE.
        uint256 collateral = uint256(stakePerGpu) * gpus;
        uint16 feeBps = protocolFeeBps;
        uint256 deadline = block.timestamp + activationWindow;
        o.gpusInUse += uint16(gpus); // safe: gpus ≤ gpusOffered − gpusInUse, checked above
        rentalId = nextRentalId++;
        Rental.Record storage r = _rentals[rentalId];
        // Slot 0.
        r.total = deposit.toUint112();
        r.offerId = uint32(offerId); // safe: an existing offer id, below nextOfferId (a uint32)
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
        emit RentalOpened(rentalId, offerId, renter, msg.sender, gpus, hoursPaid, deposit, collateral, broker, brokerBps);

        // Interaction: lock the provider's collateral (trusted registry), then pull the deposit.
        registry.lock(provider, collateral);
        _pullExact(token, msg.sender, deposit);
    }

    /// @dev The checks of {openRental}; returns the offer's provider and token and the rental's cost.
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
        discountBps = RentalMath.discountBpsFor(o.tiers, gpus * hoursPaid);
        uint256 rate = RentalMath.hourlyRateUp(gpus, o.pricePerGpuHour, discountBps);
        // The guard is on what the renter will pay per GPU-hour, discount included.
        uint256 effectivePrice = Math.ceilDiv(rate, gpus);
        if (effectivePrice > maxPrice) revert MarketPriceAboveMax(offerId, effectivePrice, maxPrice);
        deposit = rate * hoursPaid;
    }

    /// @dev Advances `claimed` to what has accrued by now and books the fees. Returns the gross paid
    /// out of the stream, the provider's net (the caller transfers it), the provider and the token.
    function _accrueClaim(uint256 rentalId, Rental.Record storage r)
        internal
        returns (uint256 gross, uint256 net, address provider, address token)
    {
        Offer.Record storage o = _offers[r.offerId];
        provider = o.provider;
        token = o.paymentToken;
        uint256 claimed = r.claimed;
        uint256 accrued = RentalMath.accruedDown(r.total, r.startedAt, r.endsAt, block.timestamp);
        // slither-disable-next-line incorrect-equality — internal accounting, not a balance
        if (accrued == claimed) return (0, 0, provider, token);
        gross = accrued - claimed;
        r.claimed = uint112(accrued); // safe: accrued ≤ total, a uint112
        uint256 brokerBps = r.brokerBps;
        uint256 protocolFee;
        uint256 brokerFee;
        (net, protocolFee, brokerFee) = RentalMath.splitClaim(claimed, accrued, r.protocolFeeBps, brokerBps);
        if (protocolFee != 0) _protocolFees[token] += protocolFee;
        if (brokerFee != 0) _credits[r.broker][token] += brokerFee;
        emit RentalClaimed(rentalId, provider, gross, net, protocolFee, brokerFee);
    }

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

    /// @dev Cancels a Pending rental: frees the capacity, refunds the payer in full, and after the
    /// activation deadline slashes the no-show penalty to the renter; unlocks the rest of the collateral.
    function _cancel(uint256 rentalId, Rental.Record storage r) internal returns (uint256 refund) {
        // Effect: terminal state, capacity back to the offer.
        refund = r.total;
        r.status = Rental.Status.Cancelled;
        Offer.Record storage o = _offers[r.offerId];
        o.gpusInUse -= r.gpus;
        address provider = o.provider;
        uint256 collateral = r.collateral;
        uint256 penalty;
        if (block.timestamp > r.activationDeadline) {
            // Rounded down: the renter is (usually) the caller.
            penalty = RentalMath.bpsOfDown(collateral, noShowPenaltyBps);
            if (penalty != 0) _reputation[provider].amountSlashed += uint128(penalty); // safe: ≤ collateral
        }
        // Interaction: collateral via the trusted registry, then the refund.
        if (penalty != 0) {
            address[] memory recipients = new address[](1);
            uint256[] memory amounts = new uint256[](1);
            recipients[0] = r.renter;
            amounts[0] = penalty;
            registry.slash(provider, penalty, recipients, amounts);
        }
        registry.unlock(provider, collateral - penalty);
        _pay(o.paymentToken, _payer(r), refund);
        emit RentalCancelled(rentalId, refund, penalty);
    }

    function _disputed(uint256 rentalId) internal view returns (Rental.Record storage r) {
        r = _rentals[rentalId];
        if (r.status != Rental.Status.Disputed) revert MarketRentalNotDisputed(rentalId, r.status);
    }

    /// @dev Applies a ruling: `providerGross` of the frozen escrow to the provider (fees apply as on a
    /// claim), the rest refunded to the payer; `slashAmount` of the collateral slashed to the renter and
    /// the treasury; the rest of the collateral unlocked; the dispute bond back to the renter if the
    /// provider `lost`, else to the provider; the provider's record updated.
    function _resolve(
        uint256 rentalId,
        Rental.Record storage r,
        uint256 providerGross,
        uint256 slashAmount,
        bool lost,
        bool byDefault
    ) internal {
        // Effect: the stream pays exactly claimed + providerGross; the rest is refunded.
        uint256 claimed = r.claimed;
        uint256 refund = r.total - claimed - providerGross;
        uint256 newTotal = claimed + providerGross;
        r.total = uint112(newTotal); // safe: ≤ total
        r.claimed = uint112(newTotal);
        r.status = Rental.Status.Resolved;
        Offer.Record storage o = _offers[r.offerId];
        address provider = o.provider;
        address token = o.paymentToken;
        (uint256 net, uint256 protocolFee, uint256 brokerFee) =
            RentalMath.splitClaim(claimed, newTotal, r.protocolFeeBps, r.brokerBps);
        if (protocolFee != 0) _protocolFees[token] += protocolFee;
        if (brokerFee != 0) _credits[r.broker][token] += brokerFee;
        uint256 toTreasury = RentalMath.bpsOfDown(slashAmount, slashTreasuryBps);
        uint256 bond = _disputes[rentalId].bond;
        delete _disputes[rentalId];
        address bondTo = lost ? r.renter : provider;
        Reputation storage rep = _reputation[provider];
        if (lost) {
            rep.disputesLost += 1;
            rep.amountSlashed += uint128(slashAmount); // safe: ≤ collateral
        } else {
            _recordServed(provider, r.gpus, uint256(r.endsAt) - r.startedAt); // the stream ended by the dispute
        }
        emit DisputeResolved(
            rentalId,
            byDefault,
            providerGross,
            net,
            protocolFee,
            brokerFee,
            refund,
            slashAmount - toTreasury,
            toTreasury,
            bondTo,
            bond
        );

        // Interaction: collateral through the trusted registry, then the payouts.
        uint256 collateral = r.collateral;
        if (slashAmount != 0) {
            address[] memory recipients = new address[](2);
            uint256[] memory amounts = new uint256[](2);
            (recipients[0], amounts[0]) = (r.renter, slashAmount - toTreasury);
            (recipients[1], amounts[1]) = (treasury, toTreasury);
            registry.slash(provider, slashAmount, recipients, amounts);
        }
        registry.unlock(provider, collateral - slashAmount);
        _pay(token, provider, net);
        _pay(token, _payer(r), refund);
        _pay(token, bondTo, bond);
    }

    /// @dev Pushes `amount` of `token` to `to`; if the token refuses (a blocklisted recipient, a
    /// recipient contract that reverts), credits it instead, so no recipient can block a settlement.
    function _pay(address token, address to, uint256 amount) internal {
        // slither-disable-next-line incorrect-equality — skips a zero push; not a balance
        if (amount == 0) return;
        if (!IERC20(token).trySafeTransfer(to, amount)) {
            // slither-disable-next-line reentrancy-no-eth,reentrancy-benign — every caller is nonReentrant; the credit can only follow the refused push
            _credits[to][token] += amount;
            emit PaymentDeferred(to, token, amount);
        }
    }

    function _recordServed(address provider, uint256 gpus, uint256 seconds_) internal {
        Reputation storage rep = _reputation[provider];
        rep.gpuSecondsServed += uint64(gpus * seconds_); // safe: ≤ 65535 GPUs × 1 year × rentals < 2^64 for 10^6 rentals
        rep.rentalsCompleted += 1;
    }

    function _payer(Rental.Record storage r) internal view returns (address) {
        return r.sponsored ? r.payer : r.renter;
    }

    /// @dev Pulls exactly `amount`; a token that delivers less (fee-on-transfer) is refused.
    function _pullExact(address token, address from, uint256 amount) internal {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert MarketTokenDeliveredLess(token, amount, received);
    }

    // ───────────────────────────── Internal: offers and config ─────────────────────────────

    function _ownOpenOffer(uint256 offerId) internal view returns (Offer.Record storage o) {
        o = _offers[offerId];
        if (o.status == Offer.Status.None) revert MarketOfferNotFound(offerId);
        if (o.provider != msg.sender) revert MarketNotOfferProvider(offerId, msg.sender);
        if (o.status == Offer.Status.Closed) revert MarketOfferClosed(offerId);
    }

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

    function _checkLabel(string calldata label) internal pure {
        uint256 len = bytes(label).length;
        if (len == 0 || len > MAX_LABEL_LENGTH) revert MarketInvalidLabel(len);
    }

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
