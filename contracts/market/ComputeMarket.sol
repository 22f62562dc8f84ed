// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { Multicall } from "@openzeppelin/contracts/utils/Multicall.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { RentalMath } from "../libraries/RentalMath.sol";
import { TierMath } from "../libraries/TierMath.sol";
import { Cluster } from "../types/Cluster.sol";
import { Offer } from "../types/Offer.sol";
import { Rental } from "../types/Rental.sol";
import { MarketStorage } from "./MarketStorage.sol";

/// @title ComputeMarket
/// @notice Rentals and the streaming escrow: the market's one address and its money. See {IComputeMarket}.
/// @dev The paths that move escrow on every rental (open, activate, claim, extend, stop, cancel,
/// release, withdrawals) run here, inline. Offers, disputes and governance run in modules by
/// DELEGATECALL on this contract's storage ({OfferModule}, {DisputeModule}, {AdminModule}); their
/// entry points below only forward the call (docs/architecture.md says why the line is there).
/// Solvency: for every payment token, balance ≥ Σ over non-terminal rentals of (total − claimed) +
/// the bonds of Disputed rentals + protocol fees + credits, with equality absent donations.
contract ComputeMarket is MarketStorage, EIP712, Multicall, IComputeMarket {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Where offers, disputes and governance run (by DELEGATECALL); fixed at deployment.
    address public immutable offerModule;
    address public immutable disputeModule;
    address public immutable adminModule;
    address public immutable bookingModule;

    /// @param modules The offer, dispute, admin and booking modules, each deployed with `registry_`.
    constructor(
        IProviderRegistry registry_,
        address owner_,
        address treasury_,
        address arbiter_,
        address[4] memory modules
    ) MarketStorage(registry_, owner_) EIP712(EIP712_NAME, EIP712_VERSION) {
        for (uint256 i; i < 4; ++i) {
            // A module compiled against another registry would lock and slash in the wrong place.
            // slither-disable-next-line calls-loop — four view calls, once, in the constructor
            if (modules[i] == address(0) || MarketStorage(modules[i]).registry() != registry_) {
                revert MarketInvalidModule(modules[i]);
            }
        }
        (offerModule, disputeModule, adminModule, bookingModule) = (modules[0], modules[1], modules[2], modules[3]);
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
        _checkOnChainOffer(offerId);
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
        _checkOnChainOffer(offerId);
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
        if (!Rental.hasOpenStream(status)) revert MarketRentalNotClaimable(rentalId, status);
        uint256 net;
        address provider;
        address token;
        (gross, net, provider, token) = _accrueClaim(rentalId, r);
        // slither-disable-next-line incorrect-equality — internal accounting, not a balance: no donation can move it
        if (gross == 0) revert MarketNothingToClaim(rentalId);
        // Interaction: pay the provider its net.
        _pay(rentalId, token, provider, net);
    }

    /// @inheritdoc IComputeMarket
    function claimMany(uint256[] calldata rentalIds) external nonReentrant returns (uint256 gross) {
        address payTo;
        address payToken;
        uint256 pending;
        uint256 batchLast; // the last rental of the pending batch (named if its payout is deferred)
        for (uint256 i; i < rentalIds.length; ++i) {
            uint256 rentalId = rentalIds[i];
            Rental.Record storage r = _rentals[rentalId];
            Rental.Status status = r.status;
            if (!Rental.hasOpenStream(status)) continue;
            (uint256 g, uint256 net, address provider, address token) = _accrueClaim(rentalId, r);
            // slither-disable-next-line incorrect-equality — internal accounting, not a balance
            if (g == 0) continue;
            gross += g;
            // Batch consecutive payouts to the same provider in the same token into one transfer.
            if (provider != payTo || token != payToken) {
                _pay(batchLast, payToken, payTo, pending);
                (payTo, payToken, pending) = (provider, token, 0);
            }
            pending += net;
            batchLast = rentalId;
        }
        _pay(batchLast, payToken, payTo, pending);
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
        cost = RentalMath.extensionCostExact(total, hoursPaid, hoursAdded);
        endsAt += hoursAdded * RentalMath.SECONDS_PER_HOUR;
        r.total = (total + cost).toUint112();
        r.endsAt = uint40(endsAt); // safe: hours ≤ MAX_RENTAL_HOURS
        r.hoursPaid = uint16(newHours); // safe: ≤ MAX_RENTAL_HOURS

        // Interaction: pull the cost from the renter.
        _pullExactFromCaller(token, cost);
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
        _pay(rentalId, token, _payer(r), refund);
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
        if (status == Rental.Status.Pending) return _releaseNoShow(rentalId, r);
        if (!Rental.hasOpenStream(status)) revert MarketRentalNotReleasable(rentalId, status, 0);
        uint256 endsAt = r.endsAt;
        if (block.timestamp < endsAt) revert MarketRentalNotReleasable(rentalId, status, endsAt);
        if (status == Rental.Status.Active) _endStream(rentalId, r);
        uint256 settleAt = endsAt + disputeWindow;
        if (block.timestamp < settleAt) {
            if (status == Rental.Status.Active) return; // the GPUs are back; it settles later
            revert MarketRentalNotReleasable(rentalId, status, settleAt);
        }
        _settle(rentalId, r, endsAt);
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


    // ───────────────────────────── Offers, disputes, governance: forwarded to modules ─────────────────────────────

    /// @inheritdoc IComputeMarket
    function createOffer(Offer.Params calldata params) external returns (uint256) {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        params;
        // slither-disable-next-line incorrect-return — returns the module's return data, as the forwarder is meant to
        _forward(offerModule);
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
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        (offerId, pricePerGpuHour, gpusOffered, minHours, maxHours, reservedFor, maxBrokerBps, tiers);
        _forward(offerModule);
    }

    /// @inheritdoc IComputeMarket
    function pauseOffer(uint256 offerId) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        offerId;
        _forward(offerModule);
    }

    /// @inheritdoc IComputeMarket
    function resumeOffer(uint256 offerId) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        offerId;
        _forward(offerModule);
    }

    /// @inheritdoc IComputeMarket
    function closeOffer(uint256 offerId) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        offerId;
        _forward(offerModule);
    }

    /// @inheritdoc IComputeMarket
    /// @dev An offer already recorded is filled here, as {openRentalFor} fills an on-chain offer; its
    /// first fill (the signature check and the record) runs in the booking module.
    // slither-disable-next-line incorrect-return — a first fill returns the module's return data, as the forwarder is meant to
    function openSignedRental(
        Offer.Signed calldata offer,
        bytes calldata signature,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPricePerGpuHour,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 rentalId) {
        bytes32 offerHash = _hashTypedDataV4(Offer.structHash(offer));
        Offer.SignedState memory state = _signedOffers[offerHash];
        // slither-disable-next-line incorrect-equality — a record id, not a balance
        if (state.offerId == 0) _forward(bookingModule); // returns or reverts: never comes back
        // slither-disable-next-line redundant-statements — checked when the offer was recorded
        signature;
        return _fillRecorded(offer, offerHash, state, renter, gpus, hoursPaid, maxPricePerGpuHour, broker, brokerBps);
    }

    /// @dev {openSignedRental} of a recorded offer: its fill checks, then {openRentalFor} on its record.
    function _fillRecorded(
        Offer.Signed calldata offer,
        bytes32 offerHash,
        Offer.SignedState memory state,
        address renter,
        uint256 gpus,
        uint256 hoursPaid,
        uint256 maxPrice,
        address broker,
        uint256 brokerBps
    ) private whenNotPaused nonReentrant returns (uint256) {
        if (renter == address(0)) revert MarketZeroAddress();
        _checkSignedFillable(offer, offerHash, state.cancelled);
        return _open(renter, state.offerId, gpus, hoursPaid, maxPrice, broker, brokerBps);
    }

    /// @inheritdoc IComputeMarket
    // slither-disable-next-line incorrect-return — returns the module's return data, as a forwarder is meant to
    function bookCluster(
        address renter,
        uint256 hoursPaid,
        Cluster.Part[] calldata parts,
        Cluster.SignedPart[] calldata signedParts,
        uint256 maxTotalCost,
        address broker,
        uint256 brokerBps
    ) external returns (uint256 firstRentalId, uint256 totalCost) {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        (renter, hoursPaid, parts, signedParts, maxTotalCost, broker, brokerBps, firstRentalId, totalCost);
        _forward(bookingModule);
    }

    /// @inheritdoc IComputeMarket
    function cancelSignedOffer(Offer.Signed calldata offer) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        offer;
        _forward(bookingModule);
    }

    /// @inheritdoc IComputeMarket
    function cancelSignedOffersBelow(uint256 nonce) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        nonce;
        _forward(bookingModule);
    }

    /// @inheritdoc IComputeMarket
    // slither-disable-next-line incorrect-return — returns the module's return data (the bond), as a forwarder is meant to
    function dispute(uint256 rentalId, bytes32 evidenceHash) external returns (uint256 bond) {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        (rentalId, evidenceHash, bond);
        _forward(disputeModule);
    }

    /// @inheritdoc IComputeMarket
    function resolveDispute(uint256 rentalId, uint256 providerShareBps, uint256 slashAmount) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        (rentalId, providerShareBps, slashAmount);
        _forward(disputeModule);
    }

    /// @inheritdoc IComputeMarket
    function applyDefaultRuling(uint256 rentalId) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        rentalId;
        _forward(disputeModule);
    }

    /// @inheritdoc IComputeMarket
    function setProtocolFee(uint256 protocolFeeBps_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        protocolFeeBps_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setTreasury(address treasury_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        treasury_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setArbiter(address arbiter_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        arbiter_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setPaymentToken(address token, bool allowed) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        (token, allowed);
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setStakePerGpu(uint256 stakePerGpu_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        stakePerGpu_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setActivationWindow(uint256 activationWindow_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        activationWindow_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setDisputeWindow(uint256 disputeWindow_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        disputeWindow_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setNoShowPenalty(uint256 noShowPenaltyBps_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        noShowPenaltyBps_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setArbitrationTimeout(uint256 arbitrationTimeout_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        arbitrationTimeout_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function setSlashTreasuryShare(uint256 slashTreasuryBps_) external {
        // slither-disable-next-line redundant-statements — named for the ABI; the module reads them from the calldata
        slashTreasuryBps_;
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function pause() external {
        _forward(adminModule);
    }

    /// @inheritdoc IComputeMarket
    function unpause() external {
        _forward(adminModule);
    }

    /// @notice Disabled: a market without an owner could be left paused for good.
    function renounceOwnership() public view override onlyOwner {
        revert MarketRenounceDisabled();
    }

    /// @dev Runs this call's calldata in `module` by DELEGATECALL (on this contract's storage, with
    /// this call's `msg.sender`) and returns or reverts with exactly what the module did. The module's
    /// entry point has the same signature as the function that forwards to it.
    function _forward(address module) private {
        // slither-disable-next-line assembly — a plain delegating forwarder: copy in, call, copy out
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
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
        return TierMath.unpack(_offers[offerId].tiers);
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
        if (!Rental.wasActivated(r.status)) return 0;
        return RentalMath.accruedDown(r.total, r.startedAt, r.endsAt, block.timestamp);
    }

    /// @inheritdoc IComputeMarket
    function claimableOf(uint256 rentalId) external view returns (uint256) {
        Rental.Record storage r = _rentals[rentalId];
        if (!Rental.hasOpenStream(r.status)) return 0;
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
        if (!Rental.hasOpenStream(r.status)) return 0;
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
        discountBps = TierMath.discountBpsFor(o.tiers, gpus * hoursPaid);
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
    function hashSignedOffer(Offer.Signed calldata offer) external view returns (bytes32) {
        return _hashTypedDataV4(Offer.structHash(offer));
    }

    /// @inheritdoc IComputeMarket
    function signedOfferOf(bytes32 offerHash) external view returns (uint256 offerId, bool cancelled) {
        Offer.SignedState storage state = _signedOffers[offerHash];
        return (state.offerId, state.cancelled);
    }

    /// @inheritdoc IComputeMarket
    function signedNonceFloor(address provider) external view returns (uint256) {
        return _signedNonceFloor[provider];
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
        // Effect: take the capacity and record the rental; interactions: lock the collateral, then
        // pull the deposit.
        rentalId = _recordRental(o, offerId, provider, renter, gpus, hoursPaid, deposit, discountBps, broker, brokerBps);
        _pullExactFromCaller(token, deposit);
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

    /// @dev Cancels a Pending rental: frees the capacity, refunds the payer in full, and after the
    /// activation deadline slashes the no-show penalty to the renter; unlocks the rest of the collateral.
    // slither-disable-next-line reentrancy-events — every caller is nonReentrant; the calls go to the trusted registry and the payment token
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
        _pay(rentalId, o.paymentToken, _payer(r), refund);
        emit RentalCancelled(rentalId, refund, penalty);
    }

    /// @dev `release` of a Pending rental: after the activation deadline it is a no-show, cancelled as
    /// {cancelPending} would cancel it (penalty included).
    function _releaseNoShow(uint256 rentalId, Rental.Record storage r) internal {
        uint256 deadline = r.activationDeadline;
        if (block.timestamp <= deadline) revert MarketRentalNotReleasable(rentalId, Rental.Status.Pending, deadline + 1);
        _cancel(rentalId, r);
    }

    /// @dev `release` of an Active rental whose paid time ran out: the GPUs go back to the offer (→ Ended).
    function _endStream(uint256 rentalId, Rental.Record storage r) internal {
        _offers[r.offerId].gpusInUse -= r.gpus;
        r.status = Rental.Status.Ended;
        emit RentalEnded(rentalId);
    }

    /// @dev `release` after the dispute window: the rest of the stream is paid, the collateral unlocked,
    /// the provider's record credited (→ Settled).
    // slither-disable-next-line reentrancy-events — every caller is nonReentrant; the calls go to the trusted registry and the payment token
    function _settle(uint256 rentalId, Rental.Record storage r, uint256 endsAt) internal {
        // Effect: pay the rest of the stream, close the rental for good, credit the provider's record.
        (, uint256 net, address provider, address token) = _accrueClaim(rentalId, r);
        r.status = Rental.Status.Settled;
        uint256 collateral = r.collateral;
        _recordServed(provider, r.gpus, endsAt - r.startedAt);
        // Interaction: unlock the collateral (trusted registry), then pay the provider.
        registry.unlock(provider, collateral);
        _pay(rentalId, token, provider, net);
        emit RentalSettled(rentalId, collateral);
    }
}
