"""Offer: one listing of GPUs (ComputeMarket `getOffer`), its reads and its provider's actions
(`createOffer`, `updateOffer`, `pauseOffer`, `resumeOffer`, `closeOffer`).

The provider acts through a *seat*: the account itself (`OwnSeat`, the default: the calls go to the
market), or a vault the account operates (`Vault.as_provider()`: the vault is the provider, and the calls
go through its `callMarket`). The checks are the same, made for the seat's address."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from gpumarket.errors import InputError
from gpumarket.parse import ZERO, parse_address, parse_label, parse_pct, parse_tier, positive_int
from gpumarket.status import OfferStatus
from gpumarket.units import BPS

if TYPE_CHECKING:
    from gpumarket.market import Market
    from gpumarket.token import Token

__all__ = ["Offer", "OfferStatus", "OwnSeat"]


class OwnSeat:
    """The account as the provider: its offer functions and `activate` go straight to the market."""

    def __init__(self, market: Market):
        self.market = market

    @property
    def address(self) -> str:
        return self.market.me

    def send_market(self, label: str, function: str, *args):
        return self.market.send(label, getattr(self.market.contract, function), *args)


class Offer:
    """Offer #`id` as the chain has it now (`record`, re-read by `refresh`); a missing one raises the
    contract's `MarketOfferNotFound`."""

    def __init__(self, market: Market, offer_id):
        self.market = market
        self.id = positive_int(offer_id, "offer id")
        self.refresh()

    def refresh(self) -> Offer:
        self.record = self.market.contract.getOffer(self.id)
        if self.record.status == OfferStatus.NONE:
            raise self.market.error("MarketOfferNotFound", offerId=self.id)
        return self

    # ── reads ──

    @property
    def status(self) -> OfferStatus:
        return OfferStatus(self.record.status)

    @property
    def token(self) -> Token:
        return self.market.token_at(self.record.paymentToken)

    def info(self) -> dict[str, Any]:
        o, m, token = self.record, self.market.contract, self.token
        model, region = m.offerLabels(self.id)
        tiers = [{"min_gpu_hours": t.minGpuHours, "discount_bps": t.discountBps} for t in m.offerTiers(self.id)]
        return {
            "id": self.id, "provider": o.provider, "status": self.status.label,
            "gpu_model": model, "region": region, "token": token.symbol, "token_address": token.address,
            "price_per_gpu_hour": token.amount(o.pricePerGpuHour),
            "gpus_offered": o.gpusOffered, "gpus_in_use": o.gpusInUse, "gpus_free": o.gpusOffered - o.gpusInUse,
            "min_hours": o.minHours, "max_hours": o.maxHours,
            "reserved_for": None if o.reservedFor == ZERO else o.reservedFor,
            "max_broker_bps": o.maxBrokerBps, "tiers": tiers,
        }

    def quote(self, gpus, hours) -> dict[str, Any]:
        """What renting would cost now (`quote`), with its checks first."""
        limits = self.market.limits
        gpus, hours = positive_int(gpus, "GPU count", limits.MAX_GPUS), positive_int(hours, "number of hours")
        if hours > limits.MAX_RENTAL_HOURS:
            raise self.market.error("MarketInvalidHours", hoursRequested=hours, minHours=1,
                                    maxHours=limits.MAX_RENTAL_HOURS)
        return self.cost(gpus, hours)

    def cost(self, gpus: int, hours: int) -> dict[str, Any]:
        """`quote` for counts already checked: cost, discount, hourly rate, effective price, collateral."""
        token, m = self.token, self.market
        cost, discount, rate = m.contract.quote(self.id, gpus, hours)
        effective = -(-rate // gpus)
        return {"offer_id": self.id, "gpus": gpus, "hours": hours, "cost": token.amount(cost),
                "discount_bps": discount, "hourly_rate": token.amount(rate),
                "effective_price_per_gpu_hour": token.amount(effective),
                "collateral": m.gpuc.amount(m.contract.stakePerGpu() * gpus)}

    def rent_call(self, renter: str | None):
        """(label, function, leading arguments) of renting it, for `Rental.open`: for `renter`, or for the account."""
        if self.id > self.market.limits.SIGNED_OFFER_ID_BASE:
            raise self.market.error("MarketSignedOfferNeedsSignature", offerId=self.id)
        if renter:
            return f"rent offer #{self.id} for {renter}", self.market.contract.openRentalFor, (renter, self.id)
        return f"rent offer #{self.id}", self.market.contract.openRental, (self.id,)

    # ── the contract's checks ──

    def require_active(self) -> None:
        if self.status != OfferStatus.ACTIVE:
            raise self.market.error("MarketOfferNotActive", offerId=self.id, status=self.status)

    def _require_own_open(self, seat) -> None:
        """`_ownOpenOffer`: the seat is the provider, and the offer is not closed."""
        me = seat.address
        if self.record.provider != me:
            raise self.market.error("MarketNotOfferProvider", offerId=self.id, caller=me)
        if self.status == OfferStatus.CLOSED:
            raise self.market.error("MarketOfferClosed", offerId=self.id)

    # ── the provider's actions ──

    @classmethod
    def create(cls, market: Market, *, seat=None, **terms) -> dict:
        m = market
        seat = seat or OwnSeat(m)
        t = new_terms(m, seat.address, **terms)
        label = f"create offer {t.gpus} × {t.gpu_model} in {t.region} at {t.token.show(t.price)}/GPU-hour"
        r = seat.send_market(label, "createOffer", t.params())
        offer_id = m.events(r, "OfferCreated")[0].offerId
        return {"offer": cls(m, offer_id).info(), "tx": r.txn_hash}

    def update(self, *, price: str | None, gpus, min_hours, max_hours, reserved_for: str | None,
               max_broker_pct: str | None, tiers: list[str] | None, seat=None) -> dict:
        """New terms for future rentals; what is None keeps its current value."""
        m, limits, o = self.market, self.market.limits, self.record
        seat = seat or OwnSeat(m)
        raw_price = _parse_price(self.token, price, limits.MAX_PRICE) if price is not None else o.pricePerGpuHour
        gpus = positive_int(gpus, "GPU count", limits.MAX_GPUS) if gpus is not None else o.gpusOffered
        min_hours = positive_int(min_hours, "minimum hours") if min_hours is not None else o.minHours
        max_hours = positive_int(max_hours, "maximum hours") if max_hours is not None else o.maxHours
        broker_bps = parse_pct(max_broker_pct, "broker cap") if max_broker_pct is not None else o.maxBrokerBps
        if reserved_for is None:
            reserved = o.reservedFor
        else:
            reserved = ZERO if reserved_for.lower() in ("", "none", "public") else parse_address(reserved_for)
        parsed = [parse_tier(x, limits.MAX_TIER_GPU_HOURS) for x in tiers] if tiers is not None else \
            [(x.minGpuHours, x.discountBps) for x in m.contract.offerTiers(self.id)]
        # The contract's checks, in updateOffer's order.
        self._require_own_open(seat)
        check_terms(m, raw_price, min_hours, max_hours, broker_bps)
        if gpus < o.gpusInUse:
            raise m.error("MarketGpusOfferedBelowInUse", offerId=self.id, gpusInUse=o.gpusInUse, gpusOffered=gpus)
        parsed = check_tiers(m, sorted(parsed))
        r = seat.send_market(f"update offer #{self.id}", "updateOffer", self.id, raw_price, gpus, min_hours,
                             max_hours, reserved, broker_bps, parsed)
        return {"offer": self.refresh().info(), "tx": r.txn_hash}

    def pause(self, seat=None) -> dict:
        seat = seat or OwnSeat(self.market)
        self._require_own_open(seat)
        self.require_active()
        return self._send_status(seat, "pause", "pauseOffer")

    def resume(self, seat=None) -> dict:
        seat = seat or OwnSeat(self.market)
        self._require_own_open(seat)
        if self.status != OfferStatus.PAUSED:
            raise self.market.error("MarketOfferNotPaused", offerId=self.id, status=self.status)
        return self._send_status(seat, "resume", "resumeOffer")

    def close(self, seat=None) -> dict:
        seat = seat or OwnSeat(self.market)
        self._require_own_open(seat)
        return self._send_status(seat, "close", "closeOffer")

    def _send_status(self, seat, action: str, function: str) -> dict:
        r = seat.send_market(f"{action} offer #{self.id}", function, self.id)
        return {"offer": self.refresh().info(), "tx": r.txn_hash}


class Terms(NamedTuple):
    """A new offer's terms, parsed and checked (`Offer.Params` in createOffer's order; `token` a `Token`)."""

    gpu_model: str
    region: str
    token: Token
    price: int
    gpus: int
    min_hours: int
    max_hours: int
    reserved_for: str
    max_broker_bps: int
    tiers: list[tuple[int, int]]

    def params(self) -> tuple:
        """The `Offer.Params` argument of createOffer."""
        return (self.gpu_model, self.region, self.token.address, *self[3:])


def new_terms(m: Market, provider: str, *, gpu_model: str, region: str, token: str, price: str, gpus, min_hours,
              max_hours, reserved_for: str | None, max_broker_pct: str, tiers: list[str], paused_matters: bool = True
              ) -> Terms:
    """The terms of a new offer by `provider`, parsed, then checked as createOffer checks them (in its order;
    `paused_matters`: False for an offer signed off-chain, which outlives a pause)."""
    limits = m.limits
    t = m.token(token)
    gpu_model, region = parse_label(gpu_model, "GPU model"), parse_label(region, "region")
    raw_price = _parse_price(t, price, limits.MAX_PRICE)
    gpus = positive_int(gpus, "GPU count", limits.MAX_GPUS)
    min_hours, max_hours = positive_int(min_hours, "minimum hours"), positive_int(max_hours, "maximum hours")
    broker_bps = parse_pct(max_broker_pct, "broker cap")
    parsed = [parse_tier(x, limits.MAX_TIER_GPU_HOURS) for x in tiers]
    reserved = parse_address(reserved_for, "reserved-for address") if reserved_for else ZERO
    # The contract's checks, in createOffer's order.
    if paused_matters:
        m.require_unpaused()
    if not m.registry.isActive(provider):
        raise m.error("MarketProviderNotActive", provider=provider)
    check_labels(m, gpu_model, region)
    if not m.contract.isPaymentToken(t.address):
        raise m.error("MarketTokenNotAllowed", token=t.address)
    check_terms(m, raw_price, min_hours, max_hours, broker_bps)
    return Terms(gpu_model, region, t, raw_price, gpus, min_hours, max_hours, reserved, broker_bps,
                 check_tiers(m, sorted(parsed)))


def check_labels(m: Market, *labels: str) -> None:
    for label in labels:
        if not 1 <= len(label.encode()) <= m.limits.MAX_LABEL_LENGTH:
            raise m.error("MarketInvalidLabel", length=len(label.encode()))


def _parse_price(token: Token, text: str, maximum: int) -> int:
    """A price per GPU-hour; zero is the contract's `MarketInvalidPrice`, the maximum the ABI's uint96."""
    raw = token.parse(text, "price per GPU-hour", allow_zero=True)
    if raw > maximum:
        raise InputError(f"The price {text} {token.symbol} is too large.")
    return raw


def check_terms(m: Market, price: int, min_hours: int, max_hours: int, broker_bps: int, gpus: int = 1) -> None:
    """ComputeMarket `_checkTerms` (a GPU count of zero gets past parsing only in a signed offer's file)."""
    if price == 0:
        raise m.error("MarketInvalidPrice", price=price)
    if gpus == 0:
        raise m.error("MarketInvalidGpuCount", gpus=gpus)
    if min_hours == 0 or max_hours < min_hours or max_hours > m.limits.MAX_RENTAL_HOURS:
        raise m.error("MarketInvalidHourBounds", minHours=min_hours, maxHours=max_hours)
    if broker_bps > m.limits.MAX_BROKER_FEE_BPS:
        raise m.error("MarketBrokerBpsAboveMax", brokerBps=broker_bps, maxBrokerBps=m.limits.MAX_BROKER_FEE_BPS)


def check_tiers(m: Market, tiers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """TierMath `pack`, on tiers in the order given (the CLI sorts what it takes by GPU-hours first)."""
    if len(tiers) > m.limits.MAX_TIERS:
        raise m.error("MarketInvalidTiers", index=m.limits.MAX_TIERS)
    previous = (0, 0)
    for index, (gpu_hours, bps) in enumerate(tiers):
        if gpu_hours <= previous[0] or bps <= previous[1] or bps > m.limits.MAX_DISCOUNT_BPS:
            raise m.error("MarketInvalidTiers", index=index)
        previous = (gpu_hours, bps)
    return tiers


def discount_for(tiers, gpu_hours: int) -> int:
    """TierMath `discountBpsFor`: the discount (bps) of the highest tier `gpu_hours` reaches."""
    bps = 0
    for min_gpu_hours, tier_bps in tiers:
        if gpu_hours < min_gpu_hours:
            break
        bps = tier_bps
    return bps


def hourly_rate(gpus: int, price: int, discount_bps: int) -> int:
    """RentalMath `hourlyRateUp`: what `gpus` GPUs stream per hour, ⌈gpus × price × (10000 − discount) / 10000⌉;
    a rental prepays it × its hours."""
    return -(-gpus * price * (BPS - discount_bps) // BPS)
