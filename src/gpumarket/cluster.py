"""Cluster: many GPUs booked at once across offers, on-chain and signed (ComputeMarket `bookCluster`, which
opens one rental per part, all or none, and emits `ClusterBooked`; the cluster's id is its first rental's).

`Cluster.plan` gathers the candidates (the Active on-chain offers of a GPU model and region, and the signed
offers of a directory that pass a fill's checks), keeps those the renter can take for the hours, caps each
by its free capacity and its provider's free stake, and finds the cheapest mix that covers exactly the
GPUs asked for (`cheapest_mix`: an exact dynamic programme over GPU counts, volume discounts included).
`Plan.book` books it with the plan's total as the cap, so the chain books exactly the plan or nothing.

docs/signed-offers.md explains the search."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpumarket.errors import GpuMarketError, InputError, NotFoundError, WrongStateError, pct
from gpumarket.offer import Offer, discount_for, hourly_rate
from gpumarket.parse import ZERO, parse_address, parse_label, parse_pct, positive_int
from gpumarket.signed_offer import SignedOfferFile, short
from gpumarket.units import count, were

if TYPE_CHECKING:
    from gpumarket.market import Market
    from gpumarket.token import Token

__all__ = ["Candidate", "Cluster", "Plan", "cheapest_mix", "part_rates"]


# ───────────────────────────── The search ─────────────────────────────


def part_rates(price: int, tiers, hours: int, most: int) -> list[int]:
    """The hourly rate of renting k = 0 .. `most` GPUs of an offer for `hours` (its volume discount reached
    by k × hours included): a part of k GPUs costs rate[k] × hours."""
    return [hourly_rate(k, price, discount_for(tiers, k * hours)) for k in range(most + 1)]


def _add(best, rates: list[int], width: int):
    """Min-plus convolution: new[g] = min over k of best[g − k] + rates[k] for g < `width`, and the k of each."""
    import numpy as np

    new = np.full(width, _INF[best.dtype.kind], dtype=best.dtype)
    choice = np.zeros(width, dtype=np.int64)
    for k, rate in enumerate(rates[:width]):
        if rate >= _INF[best.dtype.kind]:
            break  # a provider's counts beyond what its offers and stake can take
        candidate = best[:width - k] + rate
        better = candidate < new[k:]
        new[k:][better] = candidate[better]
        choice[k:][better] = k
    return new, choice


_INF = {"i": 2**62, "O": 2**400}  # "impossible", above any sum of rates (int64 arrays, Python-int arrays)


def cheapest_mix(groups: list[tuple[int, list[list[int]]]], gpus: int) -> tuple[int, list[list[int]]] | None:
    """The cheapest way to take exactly `gpus` GPUs from offers grouped by provider: `groups` is a list of
    (the most GPUs the provider's stake backs, [each of its offers' `part_rates`]). Returns (the least sum of
    hourly rates, the GPUs taken from each offer, group by group), or None if no mix covers `gpus`.

    Exact: within a provider, its offers' rate tables are combined by min-plus convolution and cut at its
    stake's cap; across providers, the same. O(Σ capacities × gpus) additions, vectorised over the GPU count."""
    import numpy as np

    bound = sum(max(r) for _, offers in groups for r in offers)
    dtype = np.int64 if bound < _INF["i"] else object  # 18-decimal tokens can outgrow int64: exact Python ints
    inf = _INF[np.dtype(dtype).kind]
    total = np.full(gpus + 1, inf, dtype=dtype)
    total[0] = 0
    trail = []
    for cap, offers in groups:
        width = min(cap, gpus) + 1
        mine = np.full(width, inf, dtype=dtype)
        mine[0] = 0
        choices = []
        for rates in offers:
            mine, choice = _add(mine, rates, width)
            choices.append(choice)
        total, choice = _add(total, mine.tolist(), gpus + 1)
        trail.append((choice, choices))
    if total[gpus] >= inf:
        return None
    taken, left = [], gpus
    for choice, choices in reversed(trail):
        mine_left = int(choice[left])
        left -= mine_left
        parts = []
        for offer_choice in reversed(choices):
            k = int(offer_choice[mine_left])
            parts.append(k)
            mine_left -= k
        taken.append(parts[::-1])
    return int(total[gpus]), taken[::-1]


# ───────────────────────────── Candidates and the plan ─────────────────────────────


@dataclass
class Candidate:
    """An offer a cluster can take GPUs from: an on-chain `Offer` or a checked `SignedOfferFile`."""

    source: Offer | SignedOfferFile
    free: int  # GPUs free on the offer

    @property
    def signed(self) -> bool:
        return isinstance(self.source, SignedOfferFile)

    @property
    def label(self) -> str:
        return short(self.source.hash) if self.signed else f"#{self.source.id}"

    @property
    def provider(self) -> str:
        return self.source.record.provider

    @property
    def price(self) -> int:
        return self.source.record.pricePerGpuHour

    @cached_property
    def tiers(self) -> tuple:
        if self.signed:
            return self.source.tiers
        return tuple((t.minGpuHours, t.discountBps) for t in self.source.market.contract.offerTiers(self.source.id))


@dataclass
class Plan:
    market: Market
    renter: str
    hours: int
    gpus: int
    token: Token
    max_price: int
    broker: str
    broker_bps: int
    parts: list[tuple[Candidate, int]]  # (offer, GPUs), on-chain parts first, as the rentals are numbered
    total: int
    skipped: list[dict] = field(default_factory=list)

    def part_rows(self) -> list[dict]:
        t, rows = self.token, []
        for c, k in self.parts:
            discount = discount_for(c.tiers, k * self.hours)
            rate = hourly_rate(k, c.price, discount)
            rows.append({"offer": c.label, "offer_id": None if c.signed else c.source.id,
                         "offer_hash": "0x" + c.source.hash.hex() if c.signed else None,
                         "signed_file": str(c.source.path) if c.signed else None, "provider": c.provider,
                         "gpus": k, "discount_bps": discount, "cost": t.amount(rate * self.hours),
                         "effective_price_per_gpu_hour": t.amount(-(-rate // k))})
        return rows

    def as_dict(self) -> dict[str, Any]:
        t = self.token
        return {"renter": self.renter, "payer": self.market.me, "gpus": self.gpus, "hours": self.hours,
                "token": t.symbol, "token_address": t.address, "total": t.amount(self.total),
                "average_price_per_gpu_hour": t.amount(-(-self.total // (self.gpus * self.hours))),
                "max_price_per_gpu_hour": t.amount(self.max_price), "broker": None if self.broker == ZERO else self.broker,
                "broker_bps": self.broker_bps, "parts": self.part_rows(), "skipped": self.skipped}

    def book(self) -> dict[str, Any]:
        """bookCluster with the plan's total as the cap: the chain books exactly this plan, or nothing."""
        from gpumarket.rental import Rental

        m, t = self.market, self.token
        m.require_unpaused()
        t.require_balance(self.total, f"Booking {count(self.gpus, 'GPU')} for {self.hours} h")
        approval = t.ensure_allowance(m.contract, self.total)
        parts = [(c.source.id, k) for c, k in self.parts if not c.signed]
        signed_parts = [(c.source.offer.as_tuple(), c.source.signature_to_send(), k) for c, k in self.parts if c.signed]
        r = m.send(f"book a cluster of {count(self.gpus, 'GPU')} × {self.hours} h in "
                   f"{count(len(self.parts), 'rental')} for {t.show(self.total)}", m.contract.bookCluster, self.renter, self.hours, parts, signed_parts,
                   self.total, self.broker, self.broker_bps)
        booked = m.events(r, "ClusterBooked")[0]
        ids = range(booked.firstRentalId, booked.firstRentalId + booked.rentals)
        rows = [row | {"rental_id": rental_id} for row, rental_id in zip(self.part_rows(), ids)]
        return self.as_dict() | {"cluster_id": booked.firstRentalId, "parts": rows, "total": t.amount(booked.totalCost),
                                 "rentals": [Rental(m, i).info() for i in ids], "approval_tx": approval,
                                 "tx": r.txn_hash}


class Cluster:
    """Plans a cluster booking (`plan`) for the account, which pays."""

    @staticmethod
    def plan(market: Market, *, gpus, gpu_model: str, region: str, hours, max_price: str, signed_dir: str | None = None,
             token: str | None = None, broker: str | None = None, broker_pct: str = "0",
             renter: str | None = None) -> Plan:
        m = market
        gpus, hours = positive_int(gpus, "GPU count"), positive_int(hours, "number of hours")
        gpu_model, region = parse_label(gpu_model, "GPU model"), parse_label(region, "region")
        broker_bps = parse_pct(broker_pct, "broker fee")
        broker_addr = parse_address(broker, "broker address") if broker else ZERO
        if broker_addr != ZERO and broker_bps == 0:
            raise InputError("--broker needs a fee (--broker-pct).")  # a client rule, as for `rental rent`
        user = parse_address(renter, "renter address") if renter else m.me
        chosen = m.token(token) if token else None
        max_raw = chosen.parse(max_price, "maximum price per GPU-hour") if chosen else None
        directory = Path(signed_dir) if signed_dir else None
        if directory is not None and not directory.is_dir():
            raise NotFoundError(f"{directory} is not a directory of signed offers.")
        if broker_addr == ZERO and broker_bps:
            raise m.error("MarketInvalidBroker", broker=ZERO, brokerBps=broker_bps)
        m.require_unpaused()

        skipped: list[dict] = []
        candidates = [Candidate(m.offer(row["id"]), row["gpus_free"])
                      for row in m.offers(gpu_model=gpu_model, region=region)]
        for path in sorted(directory.glob("*.json")) if directory else []:
            try:
                f = SignedOfferFile(m, path)
                if (f.offer.gpu_model.lower(), f.offer.region.lower()) != (gpu_model.lower(), region.lower()):
                    continue
                f.require_active()
            except GpuMarketError as err:
                skipped.append({"offer": str(path), "reason": err.sentence})
                continue
            if all(not (c.signed and c.source.hash == f.hash) for c in candidates):
                candidates.append(Candidate(f, f.record.gpusOffered - f.record.gpusInUse))
        fitting = []
        for c in candidates:
            reason = _unfit(m, c, user, hours, broker_bps)
            if reason:
                skipped.append({"offer": c.label, "reason": reason})
            else:
                fitting.append(c)

        tokens = sorted({c.source.record.paymentToken for c in fitting})
        if chosen is None and len(tokens) > 1:
            names = " and ".join(sorted(m.token_at(a).symbol for a in tokens))
            raise InputError(f"The offers of {gpu_model} in {region} for {count(hours, 'hour')} are paid in {names}; "
                             "choose one with --token (a cluster is paid in one token).")
        if chosen is None and tokens:
            chosen = m.token_at(tokens[0])
            max_raw = chosen.parse(max_price, "maximum price per GPU-hour")
        for c in fitting:
            if c.source.record.paymentToken != chosen.address:
                skipped.append({"offer": c.label, "reason": f"It is paid in {c.source.token.symbol}, not {chosen.symbol}."})
        fitting = [c for c in fitting if c.source.record.paymentToken == chosen.address]
        return _cheapest_plan(m, fitting, user=user, gpus=gpus, hours=hours, gpu_model=gpu_model, region=region,
                              token=chosen, max_raw=max_raw, broker=broker_addr, broker_bps=broker_bps, skipped=skipped)


def _unfit(m: Market, c: Candidate, renter: str, hours: int, broker_bps: int) -> str | None:
    """Why no part of this offer could be opened for the renter and the hours, whatever its GPU count
    (`_checkAndPrice`'s checks, in its order), or None."""
    o = c.source.record
    if o.provider in (renter, m.me):
        return f"Its provider {o.provider} is the renter or the payer."
    if c.free == 0:
        return "It has no GPU free."
    if not o.minHours <= hours <= o.maxHours:
        return f"It takes {o.minHours} to {o.maxHours} hours, not {hours}."
    if broker_bps > o.maxBrokerBps:
        return f"It lets a broker take at most {pct(o.maxBrokerBps)}, not {pct(broker_bps)}."
    if o.reservedFor not in (ZERO, renter):
        return f"It is reserved for {o.reservedFor}."
    if not m.contract.isPaymentToken(o.paymentToken):
        return f"Its token {c.source.token.symbol} is not an allowed payment token."
    return None


def _stake_caps(m: Market, by_provider: dict[str, list[Candidate]], skipped: list[dict]) -> dict[str, int]:
    """The GPUs each provider's free stake can back: free stake ÷ stakePerGpu, 0 for one that is not active
    (its offers are skipped, with the reason)."""
    per_gpu, min_stake, caps = m.contract.stakePerGpu(), m.registry.minStake(), {}
    for p, offers in sorted(by_provider.items()):
        stake = m.registry.providerOf(p)
        if not stake.registered or stake.staked - stake.unbonding < min_stake:
            caps[p], reason = 0, "Its provider is not active: its bonded stake is below the minimum stake."
        else:
            free = m.registry.freeStakeOf(p)
            caps[p] = free // per_gpu if per_gpu else sum(c.free for c in offers)
            reason = "Its provider's free stake backs no more GPUs." if not caps[p] else None
        if reason:
            skipped.extend({"offer": c.label, "reason": reason} for c in offers)
    return caps


def _cheapest_plan(m: Market, candidates: list[Candidate], *, user: str, gpus: int, hours: int, gpu_model: str,
                   region: str, token: Token | None, max_raw: int | None, broker: str, broker_bps: int,
                   skipped: list[dict]) -> Plan:
    by_provider: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_provider.setdefault(c.provider, []).append(c)
    caps = _stake_caps(m, by_provider, skipped)
    order = [p for p in sorted(by_provider) if caps[p]]
    usable = sum(min(caps[p], sum(c.free for c in by_provider[p])) for p in order)
    if usable < gpus:
        paid_in = f" paid in {token.symbol}" if token else ""
        offers = count(sum(len(by_provider[p]) for p in order), "offer")
        raise WrongStateError(
            f"Only {count(usable, gpu_model + ' GPU')} in {region} can be booked for {count(hours, 'hour')} (free "
            f"capacity backed by free stake, across {offers}{paid_in}); {were(gpus)} asked for.")
    groups = [(caps[p], [part_rates(c.price, c.tiers, hours, min(c.free, gpus)) for c in by_provider[p]])
              for p in order]
    rate_sum, taken = cheapest_mix(groups, gpus)  # every count up to `usable` can be covered
    total = rate_sum * hours
    if total > max_raw * gpus * hours:
        average = -(-total // (gpus * hours))
        raise WrongStateError(
            f"The cheapest mix of {count(gpus, gpu_model + ' GPU')} in {region} for {count(hours, 'hour')} costs "
            f"{token.show(total)}, an average of {token.show(average)} per GPU-hour, above your maximum of "
            f"{token.show(max_raw)}.")
    parts = [(c, k) for p, ks in zip(order, taken) for c, k in zip(by_provider[p], ks) if k]
    parts.sort(key=lambda part: (part[0].signed, 0 if part[0].signed else part[0].source.id))
    return Plan(m, user, hours, gpus, token, max_raw, broker, broker_bps, parts, total, skipped)
