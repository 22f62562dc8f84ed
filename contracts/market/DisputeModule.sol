// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { RentalMath } from "../libraries/RentalMath.sol";
import { Offer } from "../types/Offer.sol";
import { Rental } from "../types/Rental.sol";
import { MarketModule } from "./MarketModule.sol";

/// @title DisputeModule
/// @notice Disputes: the renter disputes (a running rental is billed as a stop at that second, the
/// billed escrow freezes, the renter posts a bond), the arbiter rules within the frozen escrow, that
/// rental's collateral and its bond, or anyone applies the default ruling after the deadline. Runs by
/// DELEGATECALL from {ComputeMarket}; the NatSpec of each entry point is in {IComputeMarket}.
contract DisputeModule is MarketModule {
    constructor(IProviderRegistry registry_) MarketModule(registry_) { }


    /// @dev See {IComputeMarket-dispute}.
    function dispute(uint256 rentalId, bytes32 evidenceHash) external viaMarket nonReentrant returns (uint256 bond) {
        // Check: the renter, on a rental that ran, within the dispute window after its end.
        Rental.Record storage r = _rentals[rentalId];
        Rental.Status status = r.status;
        if (!Rental.hasOpenStream(status)) revert MarketRentalNotDisputable(rentalId, status);
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
            if (refund >= bond) _pay(rentalId, token, payer, refund - bond);
            else _pullExactFromCaller(token, bond - refund);
        } else {
            _pay(rentalId, token, payer, refund);
            _pullExactFromCaller(token, bond);
        }
    }

    /// @dev See {IComputeMarket-resolveDispute}.
    function resolveDispute(uint256 rentalId, uint256 providerShareBps, uint256 slashAmount)
        external
        viaMarket
        nonReentrant
    {
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

    /// @dev See {IComputeMarket-applyDefaultRuling}.
    function applyDefaultRuling(uint256 rentalId) external viaMarket nonReentrant {
        Rental.Record storage r = _disputed(rentalId);
        uint256 timeoutAt = _disputes[rentalId].timeoutAt;
        if (block.timestamp < timeoutAt) revert MarketArbitrationPending(rentalId, timeoutAt);
        // Default: the provider keeps everything billed (what a stop at the dispute would have billed),
        // no slash, and the bond compensates it for the collateral the dispute kept locked.
        _resolve(rentalId, r, r.total - r.claimed, 0, false, true);
    }

    /// @dev The rental, which must be Disputed.
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
        IComputeMarket.Reputation storage rep = _reputation[provider];
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
            bond,
            treasury
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
        _pay(rentalId, token, provider, net);
        _pay(rentalId, token, _payer(r), refund);
        _pay(rentalId, token, bondTo, bond);
    }
}
