"""Rental: one rental and its escrow (ComputeMarket `getRental`), its reads, and the actions on it: the
renter's (`open` = openRental/openRentalFor/openSignedRental, `extend`, `stop` = stopRental, `cancel` = cancelPending,
`dispute`), the provider's (`activate`, `claim_many` = claim/claimMany), the arbiter's (`resolve` =
resolveDispute) and anyone's (`release`, `timeout` = applyDefaultRuling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpumarket.errors import InputError, NotFoundError, WrongStateError
from gpumarket.offer import Offer, OwnSeat
from gpumarket.signed_offer import SignedOfferFile
from gpumarket.parse import ZERO, parse_address, parse_evidence, parse_pct, positive_int
from gpumarket.status import RentalStatus
from gpumarket.units import BPS, count, when

if TYPE_CHECKING:
    from gpumarket.market import Market

__all__ = ["Rental", "RentalStatus"]

ACTIVE, ENDED, PENDING, DISPUTED = RentalStatus.ACTIVE, RentalStatus.ENDED, RentalStatus.PENDING, RentalStatus.DISPUTED


class Rental:
    """Rental #`id` as the chain has it now (`record`, re-read by `refresh`)."""

    def __init__(self, market: Market, rental_id):
        self.market = market
        self.id = positive_int(rental_id, "rental id")
        self.refresh()

    def refresh(self) -> Rental:
        self.record = self.market.contract.getRental(self.id)
        if self.record.status == RentalStatus.NONE:
            # No contract error means "no such rental" (each names the status None), so the sentence is ours.
            raise NotFoundError(f"Rental #{self.id} does not exist (rentals run from #1 to "
                                f"#{self.market.contract.nextRentalId() - 1}).")
        self.offer = Offer(self.market, self.record.offerId)
        return self

    # ── reads ──

    @property
    def status(self) -> RentalStatus:
        return RentalStatus(self.record.status)

    def info(self) -> dict[str, Any]:
        m, r, o, token = self.market, self.record, self.offer.record, self.offer.token
        mc = m.contract
        now = m.now()
        status = self.status
        payer = r.payer if r.payer != ZERO else r.renter
        time_left = max(0, r.endsAt - now) if status == ACTIVE else 0
        dispute = None
        if status in (DISPUTED, RentalStatus.RESOLVED):
            frozen, bond, collateral, disputed_at, timeout_at = mc.disputeOf(self.id)
            dispute = {"frozen": token.amount(frozen), "bond": token.amount(bond),
                       "disputed_at": disputed_at, "timeout_at": timeout_at, "timeout_at_utc": when(timeout_at)}
        releasable = mc.releasableAt(self.id)
        return {
            "id": self.id, "offer_id": r.offerId, "status": status.label, "provider": o.provider,
            "renter": r.renter, "payer": payer, "broker": None if r.broker == ZERO else r.broker,
            "broker_bps": r.brokerBps, "gpus": r.gpus, "hours_paid": r.hoursPaid, "discount_bps": r.discountBps,
            "protocol_fee_bps": r.protocolFeeBps, "token": token.symbol, "token_address": token.address,
            "total": token.amount(r.total), "claimed": token.amount(r.claimed),
            "accrued": token.amount(mc.accruedOf(self.id)),
            "claimable": token.amount(mc.claimableOf(self.id)),
            "refundable": token.amount(mc.refundableOf(self.id)),
            "collateral": m.gpuc.amount(r.collateral),
            "started_at": r.startedAt, "ends_at": r.endsAt, "ends_at_utc": when(r.endsAt),
            "activation_deadline": r.activationDeadline, "time_left_s": time_left,
            "releasable_at": releasable, "releasable_at_utc": when(releasable), "now": now, "dispute": dispute,
        }

    def _result(self, tx, **extra) -> dict:
        return {"rental": self.refresh().info(), **extra, "tx": tx.txn_hash}

    # ── the contract's checks ──

    def _expect(self, error: str, *statuses: RentalStatus) -> None:
        if self.status not in statuses:
            raise self.market.error(error, rentalId=self.id, status=self.status)

    def _as_renter(self) -> None:
        if self.record.renter != self.market.me:
            raise self.market.error("MarketNotRenter", rentalId=self.id, caller=self.market.me)

    def _as_provider(self, seat) -> None:
        if self.offer.record.provider != seat.address:
            raise self.market.error("MarketNotProvider", rentalId=self.id, caller=seat.address)

    # ── the renter ──

    @classmethod
    def open(cls, offer: Offer | SignedOfferFile, *, gpus, hours, max_price: str, broker: str | None = None,
             broker_pct: str = "0", renter: str | None = None) -> dict:
        """`openRental` (or `openRentalFor` another renter, the account paying) of an `Offer`, or
        `openSignedRental` of a `SignedOfferFile` (its fill's checks are `require_active`'s): prepays GPUs × hours."""
        m, o, limits = offer.market, offer.record, offer.market.limits
        gpus, hours = positive_int(gpus, "GPU count", limits.MAX_GPUS), positive_int(hours, "number of hours")
        t = offer.token
        max_raw = t.parse(max_price, "maximum price per GPU-hour")
        broker_bps = parse_pct(broker_pct, "broker fee")
        broker_addr = parse_address(broker, "broker address") if broker else ZERO
        if broker_addr != ZERO and broker_bps == 0:
            # A client rule: the contract takes a broker without a fee, which here can only be a slip.
            raise InputError("--broker needs a fee (--broker-pct).")
        user = parse_address(renter, "renter address") if renter else m.me
        # The contract's checks, in openRental's order: whenNotPaused, _checkAndPrice, the registry's lock (a
        # signed offer's own checks come before _checkAndPrice).
        m.require_unpaused()
        offer.require_active()
        if o.provider in (user, m.me):
            raise m.error("MarketSelfRental", offerId=offer.id, provider=o.provider)
        free = o.gpusOffered - o.gpusInUse
        if gpus > free:
            raise m.error("MarketInsufficientCapacity", offerId=offer.id, available=free, requested=gpus)
        if not o.minHours <= hours <= o.maxHours:
            raise m.error("MarketInvalidHours", hoursRequested=hours, minHours=o.minHours, maxHours=o.maxHours)
        if broker_addr == ZERO and broker_bps:
            raise m.error("MarketInvalidBroker", broker=ZERO, brokerBps=broker_bps)
        if broker_bps > o.maxBrokerBps:
            raise m.error("MarketBrokerBpsAboveMax", brokerBps=broker_bps, maxBrokerBps=o.maxBrokerBps)
        if o.reservedFor not in (ZERO, user):
            raise m.error("MarketOfferReserved", offerId=offer.id, reservedFor=o.reservedFor, renter=user)
        if not m.contract.isPaymentToken(t.address):
            raise m.error("MarketTokenNotAllowed", token=t.address)
        q = offer.cost(gpus, hours)
        effective, cost, collateral = (int(q[k]["raw"]) for k in ("effective_price_per_gpu_hour", "cost", "collateral"))
        if effective > max_raw:
            raise m.error("MarketPriceAboveMax", offerId=offer.id, price=effective, maxPrice=max_raw)
        stake, min_stake = m.registry.providerOf(o.provider), m.registry.minStake()
        bonded = stake.staked - stake.unbonding
        if not stake.registered or bonded < min_stake:
            raise m.error("RegistryProviderNotActive", provider=o.provider, bonded=bonded, minStake=min_stake)
        free_stake = m.registry.freeStakeOf(o.provider)
        if free_stake < collateral:
            raise m.error("RegistryInsufficientFreeStake", provider=o.provider, free=free_stake, needed=collateral)
        t.require_balance(cost, f"Renting {count(gpus, 'GPU')} for {hours} h")
        approval = t.ensure_allowance(m.contract, cost)
        label, function, head = offer.rent_call(user if renter else None)
        r = m.send(f"{label}: {count(gpus, 'GPU')} × {hours} h = {t.show(cost)}", function, *head, gpus, hours, max_raw,
                   broker_addr, broker_bps)
        rental_id = m.events(r, "RentalOpened")[0].rentalId
        signed = {"offer_hash": "0x" + offer.hash.hex()} if isinstance(offer, SignedOfferFile) else {}
        return {"rental": cls(m, rental_id).info(), **signed, "paid": t.amount(cost), "approval_tx": approval,
                "tx": r.txn_hash}

    def extend(self, hours) -> dict:
        m, r = self.market, self.record
        hours = positive_int(hours, "number of hours")
        m.require_unpaused()
        self._expect("MarketRentalNotActive", ACTIVE)
        self._as_renter()
        if r.sponsored:
            raise m.error("MarketExtensionNotSelfFunded", rentalId=self.id, payer=r.payer)
        if m.now() >= r.endsAt:
            raise m.error("MarketRentalEnded", rentalId=self.id, endsAt=r.endsAt)
        o = self.offer.record
        self.offer.require_active()
        if r.hoursPaid + hours > o.maxHours:
            raise m.error("MarketInvalidHours", hoursRequested=hours, minHours=1,
                          maxHours=max(o.maxHours - r.hoursPaid, 0))
        t = self.offer.token
        if not m.contract.isPaymentToken(t.address):
            raise m.error("MarketTokenNotAllowed", token=t.address)
        cost = r.total // r.hoursPaid * hours
        t.require_balance(cost, f"Extending by {hours} h")
        approval = t.ensure_allowance(m.contract, cost)
        tx = m.send(f"extend rental #{self.id} by {hours} h for {t.show(cost)}", m.contract.extend, self.id, hours)
        return self._result(tx, cost=t.amount(cost), approval_tx=approval)

    def stop(self) -> dict:
        m, r = self.market, self.record
        self._expect("MarketRentalNotActive", ACTIVE)
        self._as_renter()
        if m.now() >= r.endsAt:
            raise m.error("MarketRentalEnded", rentalId=self.id, endsAt=r.endsAt)
        tx = m.send(f"stop rental #{self.id}", m.contract.stopRental, self.id)
        refund = m.events(tx, "RentalStopped")[0].refund
        return self._result(tx, refund=self.offer.token.amount(refund))

    def cancel(self) -> dict:
        m = self.market
        self._expect("MarketRentalNotPending", PENDING)
        self._as_renter()
        tx = m.send(f"cancel rental #{self.id}", m.contract.cancelPending, self.id)
        ev = m.events(tx, "RentalCancelled")[0]
        return self._result(tx, refund=self.offer.token.amount(ev.refund), penalty=m.gpuc.amount(ev.penalty))

    def dispute(self, evidence: str) -> dict:
        m, r = self.market, self.record
        evidence_hash = parse_evidence(evidence)
        self._expect("MarketRentalNotDisputable", ACTIVE, ENDED)
        self._as_renter()
        closes = r.endsAt + m.contract.disputeWindow()
        if m.now() >= closes:
            raise m.error("MarketDisputeWindowClosed", rentalId=self.id, closedAt=closes)
        t = self.offer.token
        bond_cap = self._dispute_bond_cap()
        t.require_balance(bond_cap, f"Disputing rental #{self.id} (a bond of up to {t.show(bond_cap)})")
        approval = t.ensure_allowance(m.contract, bond_cap)
        tx = m.send(f"dispute rental #{self.id} (bond up to {t.show(bond_cap)})", m.contract.dispute, self.id,
                    evidence_hash)
        ev = m.events(tx, "RentalDisputed")[0]
        return self._result(tx, evidence_hash="0x" + evidence_hash.hex(), frozen=t.amount(ev.frozen),
                            refund=t.amount(ev.refund), bond=t.amount(ev.bond), approval_tx=approval)

    def _dispute_bond_cap(self) -> int:
        """The most `dispute` can take as a bond in the block that includes it (contracts/libraries/
        RentalMath.sol `disputeBondUp`: the billed hourly rate × (timeout + window) / window, rounded up).
        Exact for an ended stream; for a running one the bill is that of a stop at the block's second, whose
        hourly rate is at most the list rate (the rental's rate grossed up by its discount) plus rounding."""
        m, r = self.market, self.record
        timeout, window = m.contract.arbitrationTimeout(), m.contract.disputeWindow()
        if self.status == ACTIVE and m.now() < r.endsAt:
            list_rate = -(-(r.total // r.hoursPaid) * BPS // (BPS - r.discountBps))
            return -(-list_rate * (timeout + window) // window) - (-(timeout + window) // window) + 1
        return -(-r.total * 3600 * (timeout + window) // (max(r.endsAt - r.startedAt, 3600) * window))

    # ── the provider ──

    def activate(self, seat=None) -> dict:
        """`activate`, by the provider: the account itself, or a vault it operates (which also tracks the stream)."""
        m, r = self.market, self.record
        seat = seat or OwnSeat(m)
        self._expect("MarketRentalNotPending", PENDING)
        self._as_provider(seat)
        if m.now() > r.activationDeadline:
            raise m.error("MarketActivationExpired", rentalId=self.id, activationDeadline=r.activationDeadline)
        return self._result(seat.send_market(f"activate rental #{self.id}", "activate", self.id))

    @classmethod
    def claim_many(cls, market: Market, rental_ids: list, *, all_mine: bool = False) -> dict:
        """Pays the providers what has accrued: `claim` for one rental, `claimMany` for several; `all_mine`:
        every rental of the account (as provider) with something to claim."""
        m = market
        if all_mine:
            rental_ids = [row["id"] for row in m.rentals(m.me, "provider") if int(row["claimable"]["raw"])]
            if not rental_ids:
                # A client rule: claimMany would succeed and pay nothing.
                raise WrongStateError(f"No rental of provider {m.me} has anything to claim.")
        if not rental_ids:
            raise InputError("Name at least one rental id to claim, or use --all.")
        ids = []
        for rental_id in rental_ids:
            rental = cls(m, rental_id)
            rental._expect("MarketRentalNotClaimable", ACTIVE, ENDED)
            if not m.contract.claimableOf(rental.id):
                raise m.error("MarketNothingToClaim", rentalId=rental.id)
            ids.append(rental.id)
        if len(ids) == 1:
            tx = m.send(f"claim rental #{ids[0]}", m.contract.claim, ids[0])
        else:
            tx = m.send(f"claim rentals {', '.join('#' + str(i) for i in ids)}", m.contract.claimMany, ids)
        claims = [{"rental_id": c.rentalId, "gross": str(c.gross), "provider_net": str(c.providerNet),
                   "protocol_fee": str(c.protocolFee), "broker_fee": str(c.brokerFee)}
                  for c in m.events(tx, "RentalClaimed")]
        return {"claims": claims, "tx": tx.txn_hash}

    # ── anyone ──

    def release(self) -> dict:
        """Moves the rental on: a no-show cancel, the end of its stream, its settlement after the dispute
        window. The checks are `release`'s, so a refusal names the second it becomes possible."""
        m, r, status = self.market, self.record, self.status
        now, at = m.now(), None  # at: when it can be released, if not now (0: never)
        if status == PENDING:
            at = r.activationDeadline + 1 if now <= r.activationDeadline else None
        elif status not in (ACTIVE, ENDED):
            at = 0
        elif now < r.endsAt:
            at = r.endsAt
        elif status == ENDED and now < r.endsAt + m.contract.disputeWindow():
            at = r.endsAt + m.contract.disputeWindow()
        if at is not None:
            raise m.error("MarketRentalNotReleasable", rentalId=self.id, status=status, releasableAt=at)
        return self._result(m.send(f"release rental #{self.id}", m.contract.release, self.id))

    # ── the arbiter, and anyone after the timeout ──

    def resolve(self, provider_share_pct: str, slash: str) -> dict:
        m = self.market
        share = parse_pct(provider_share_pct, "provider share")
        slash_raw = m.gpuc.parse(slash, "slash", allow_zero=True)
        if m.contract.arbiter() != m.me:
            raise m.error("MarketNotArbiter", caller=m.me)
        self._expect("MarketRentalNotDisputed", DISPUTED)
        _, _, collateral, _, timeout_at = m.contract.disputeOf(self.id)
        if m.now() >= timeout_at:
            raise m.error("MarketArbitrationTimedOut", rentalId=self.id, timeoutAt=timeout_at)
        if share > BPS:
            raise m.error("MarketInvalidShare", providerShareBps=share)
        if slash_raw > collateral:
            raise m.error("MarketSlashAboveCollateral", rentalId=self.id, slashAmount=slash_raw, collateral=collateral)
        g = m.gpuc
        return self._result(m.send(f"resolve rental #{self.id}: provider {share / 100:g} %, slash {g.show(slash_raw)}",
                                   m.contract.resolveDispute, self.id, share, slash_raw))

    def timeout(self) -> dict:
        """`applyDefaultRuling`: anyone, once the arbiter let the dispute's timeout pass."""
        m = self.market
        self._expect("MarketRentalNotDisputed", DISPUTED)
        timeout_at = m.contract.disputeOf(self.id)[4]
        if m.now() < timeout_at:
            raise m.error("MarketArbitrationPending", rentalId=self.id, timeoutAt=timeout_at)
        return self._result(m.send(f"apply the default ruling to rental #{self.id}", m.contract.applyDefaultRuling,
                                   self.id))
