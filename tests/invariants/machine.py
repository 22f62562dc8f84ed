"""The settlement state machine: rules are the handlers, `Ghost` is the store, `@invariant`s check
docs/protocol.md's settlement invariants after every step (see tests/invariants/README.md).

Rules generate only valid calls (preconditions + strategies), so any revert in a rule is a finding.
`bad_*` rules make deliberately invalid calls and must revert with the expected custom error and
leave no trace. Every amount a valid rule moves is predicted by the independent model in
tests/rental_model.py and compared with what the contracts return; the ghost ledger then tracks
what every account and the market should hold, and the invariants compare it with the chain.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from eth_abi import decode, encode
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for rental_model

from rental_model import BPS, accrued_down, ceil_div, dispute_bond, split_claim, stop_charge  # noqa: E402
from reverts import ExpectedRevert, raised_by  # noqa: E402
from signed_model import SignedRules  # noqa: E402
from system import GPUC, ZERO, System  # noqa: E402
from vault_model import VaultRules  # noqa: E402

HOUR = 3600
N = st.integers(0, 2**32)  # the one draw of a rule; every parameter of the rule is derived from it


def _mix(n: int, step: int) -> int:
    """Scrambles a rule's draw with the step number (splitmix64), so that hypothesis's preference for
    small numbers does not keep picking the same options; still deterministic for a given sequence."""
    z = (n + (step + 1) * 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)
PENDING, ACTIVE, ENDED, CANCELLED, SETTLED, DISPUTED, RESOLVED = 1, 2, 3, 4, 5, 6, 7
TERMINAL = {CANCELLED, SETTLED, RESOLVED}
HOLDS_CAPACITY = {PENDING, ACTIVE}
HOLDS_COLLATERAL = {PENDING, ACTIVE, ENDED, DISPUTED}
ALLOWED = {  # status transitions; anything else is a finding
    PENDING: {PENDING, ACTIVE, CANCELLED},
    ACTIVE: {ACTIVE, ENDED, SETTLED, DISPUTED},
    ENDED: {ENDED, SETTLED, DISPUTED},
    DISPUTED: {DISPUTED, RESOLVED},
    CANCELLED: {CANCELLED},
    SETTLED: {SETTLED},
    RESOLVED: {RESOLVED},
}

_SYSTEM: System | None = None
STEP_COUNTER: Counter = Counter()  # rule name -> times run, across examples (for the report)


def system() -> System:
    global _SYSTEM
    if _SYSTEM is None:
        _SYSTEM = System.fresh()
    return _SYSTEM


@dataclass
class OfferG:
    id: int
    provider: str
    token: str
    price: int
    offered: int
    in_use: int = 0
    status: int = 1  # 1 Active, 2 Paused, 3 Closed
    min_hours: int = 1
    max_hours: int = 200
    max_broker_bps: int = 500
    tiers: tuple = ()
    reserved_for: str = ZERO
    signed: object = None  # a signed offer's record: its `SignedG` (signed_model.py); None on-chain


@dataclass
class RentalG:
    id: int
    offer: OfferG
    renter: str
    payer: str
    broker: str
    broker_bps: int
    gpus: int
    hours: int
    total: int  # what the stream pays in total (model)
    deposit: int  # everything paid in (open + extensions)
    collateral: int
    protocol_bps: int
    discount_bps: int
    deadline: int
    status: int = PENDING
    claimed: int = 0
    started: int = 0
    ends: int = 0
    disputed_at: int = 0
    refunded: int = 0
    provider_net: int = 0
    protocol_fee: int = 0
    broker_fee: int = 0
    last_accrued: int = 0
    bond: int = 0  # the renter's dispute bond, held by the market while Disputed
    timeout_at: int = 0  # the ruling's deadline, fixed at the dispute


@dataclass
class Ghost:
    """What the chain should hold, from the model."""

    offers: list[OfferG] = field(default_factory=list)  # created on chain (createOffer)
    records: list[OfferG] = field(default_factory=list)  # signed offers recorded at their first fill
    rentals: list[RentalG] = field(default_factory=list)
    protocol_fees: Counter = field(default_factory=Counter)  # token -> amount
    credits: Counter = field(default_factory=Counter)  # (account, token) -> amount
    staked: dict = field(default_factory=dict)
    locked: Counter = field(default_factory=Counter)
    unbonding: Counter = field(default_factory=Counter)
    ready_at: Counter = field(default_factory=Counter)
    balances: Counter = field(default_factory=Counter)  # (account, token) -> change since the example began
    slashed: Counter = field(default_factory=Counter)


class MarketMachine(SignedRules, VaultRules, RuleBasedStateMachine):
    """Several providers — one of them a vault backed by three investors — renters, payers and brokers;
    both payment tokens; on-chain and signed offers, cluster bookings; time from 1 s to weeks."""

    #: Where the system comes from: the in-process EVM by default; a subclass can point this at
    #: another driver with the same interface (tests/invariants/evm.py's Chain and Contract).
    make_system = staticmethod(lambda: system())

    def __init__(self):
        super().__init__()
        self.s = self.make_system()
        self.s.reset()
        self.g = Ghost()
        self.paused = False
        self.protocol_bps = 100
        self.stake_per_gpu = 100 * GPUC
        self.activation_window = HOUR
        self.dispute_window = 86_400
        self.no_show_bps = 1000
        self.arbitration_timeout = 7 * 86_400
        self.slash_treasury_bps = 2000
        self.min_stake = 1_000 * GPUC
        for p in self.s.providers:
            self.g.staked[p] = 30_000 * GPUC
        self._vault_init()
        self._signed_init()
        self.step_no = 0
        self.touched_rental: RentalG | None = None
        self.touched_offer: OfferG | None = None
        self.touched_provider: str | None = None

    def _n(self, n: int) -> int:
        self.step_no += 1
        return _mix(n, self.step_no)

    def check_invariants(self, settings, output, runtimes):
        STEP_COUNTER["steps"] += 1  # hypothesis checks the invariants once per step (and once at the start)
        return super().check_invariants(settings, output, runtimes)

    # ───────────────────────────── helpers ─────────────────────────────

    @property
    def now(self) -> int:
        return self.s.chain.time

    def _count(self, name: str) -> None:
        STEP_COUNTER[name] += 1

    def _move(self, account: str, token: str, amount: int) -> None:
        self.g.balances[(account, token)] += amount

    def _free(self, p: str) -> int:
        return self.g.staked[p] - self.g.locked[p] - self.g.unbonding[p]

    def _active_provider(self, p: str) -> bool:
        return self.g.staked[p] - self.g.unbonding[p] >= self.min_stake

    def _token(self, address: str):
        return self.s.usd if address == self.s.usd.address else self.s.gpuc

    def _pay(self, token: str, to: str, amount: int) -> None:
        """A payout pushed by the market (no hostile tokens here: pushes succeed)."""
        self._move(to, token, amount)

    def _rentals(self, *statuses):
        return [r for r in self.g.rentals if r.status in statuses]

    def _claim_model(self, r: RentalG, accrued: int) -> tuple[int, int, int, int]:
        gross = accrued - r.claimed
        net, pf, bf = split_claim(r.claimed, accrued, r.protocol_bps, r.broker_bps)
        r.claimed = accrued
        r.provider_net += net
        r.protocol_fee += pf
        r.broker_fee += bf
        token = r.offer.token
        self.g.protocol_fees[token] += pf
        if bf:
            self.g.credits[(r.broker, token)] += bf
        return gross, net, pf, bf

    def _touch(self, r: RentalG | None = None, o: OfferG | None = None, p: str | None = None) -> None:
        self.touched_rental, self.touched_offer, self.touched_provider = r, o, p

    def _release_capacity(self, r: RentalG) -> None:
        r.offer.in_use -= r.gpus

    def _unlock(self, r: RentalG, slash: int = 0) -> None:
        p = r.offer.provider
        self.g.locked[p] -= r.collateral
        self.g.staked[p] -= slash

    # Every rule draws one integer `n` and derives its parameters from it (n % a, n // a % b, ...):
    # one draw per step keeps hypothesis's engine cost per step low, and shrinking still moves
    # every parameter towards 0.

    @initialize()
    def two_offers(self):
        """Every example starts with an mUSD offer, a GPUC offer and the vault's mUSD offer, so rentals
        can open at step one."""
        for p, usd in ((self.s.providers[0], True), (self.s.providers[1], False), (self.v.address, True)):
            self._create(p, usd, 1_950_000, 8, 200, True, 500)

    # ───────────────────────────── stake ─────────────────────────────

    @rule(n=N)
    def stake_ops(self, n):
        """A provider stakes, requests an unbond of a share of its free stake, cancels it, or withdraws."""
        n = self._n(n)
        p = self.s.providers[n % 3]
        op, amount = n // 3 % 4, n // 12 % 5000 + 1
        reg = self.s.registry
        if op == 0:
            reg.call(p, "stake", amount * GPUC)
            self.g.staked[p] += amount * GPUC
            self._move(p, self.s.gpuc.address, -amount * GPUC)
            self._count("stake")
        elif op == 1:
            amount = self._free(p) * (amount % 100 + 1) // 100
            if amount == 0:
                return
            reg.call(p, "requestUnbond", amount)
            self.g.unbonding[p] += amount
            self.g.ready_at[p] = self.now + 7 * 86_400
            self._count("requestUnbond")
        elif op == 2:
            if self.g.unbonding[p] == 0:
                return
            reg.call(p, "cancelUnbond")
            self.g.unbonding[p] = 0
            self._count("cancelUnbond")
        else:
            amount = self.g.unbonding[p]
            if amount == 0 or self.now < self.g.ready_at[p]:
                return
            (got,) = reg.call(p, "withdrawUnbonded")
            assert got == amount
            self.g.unbonding[p] = 0
            self.g.staked[p] -= amount
            self._move(p, self.s.gpuc.address, amount)
            self._count("withdrawUnbonded")
        self._touch(p=p)

    # ───────────────────────────── offers ─────────────────────────────

    @rule(n=N)
    def create_offer(self, n):
        n = self._n(n)
        p = (*self.s.providers, self.v.address)[n % 4]
        if self.paused or not self._active_provider(p) or len(self.g.offers) >= 7:
            return
        usd, price, gpus = n // 3 % 2 == 0, n // 6 % 5_000_000 + 1, n // 30_000_000 % 16 + 1
        self._create(p, usd, price, gpus, n % 200 + 1, n % 7 < 4, (0, 300, 1000)[n % 3])
        self._count("createOffer")

    def _signer(self, p: str) -> str:
        """Who sends a provider's own transactions: the provider, or for the vault (a contract) its operator."""
        return self.s.operator if p == self.v.address else p

    def _provider_call(self, p: str, fn: str, *args):
        """A provider's call to the market: directly, or for the vault through its operator's `callMarket`."""
        if p != self.v.address:
            return self.s.market.call(p, fn, *args)
        f = self.s.market._fns[fn]
        (out,) = self.s.vault.call(self.s.operator, "callMarket", self._market_calldata(fn, *args))
        return tuple(decode(f.outputs, bytes(out))) if f.outputs else ()

    def _market_calldata(self, fn: str, *args) -> bytes:
        """The calldata of the market's `fn(*args)`, for the vault's `callMarket`. Named in `s.names` when
        it holds the vault's address (a signed offer of the vault's), which differs between drivers."""
        f = self.s.market._fns[fn]
        data = f.selector + encode(f.inputs, list(args))
        vault = bytes.fromhex(self.v.address[2:])
        if vault in data:
            self.s.names.setdefault(data, "<callMarket " + data.hex().replace(vault.hex(), "<vault>") + ">")
        return data

    def _create(self, p, usd, price, gpus, max_hours, tiered, max_broker):
        token = self.s.usd if usd else self.s.gpuc
        if not usd:
            price *= 10**12  # an 18-decimal price of the same order
        tiers = [(24, 250), (96, 500)] if tiered else []
        (oid,) = self._provider_call(
            p, "createOffer", ("H100-SXM-80GB", "AU-QLD", token.address, price, gpus, 1, max_hours, ZERO, max_broker, tiers)
        )
        o = OfferG(oid, p, token.address, price, gpus, max_hours=max_hours, max_broker_bps=max_broker, tiers=tuple(tiers))
        self.g.offers.append(o)
        self._touch(o=o)

    @rule(n=N)
    def offer_ops(self, n):
        """A provider updates (most often), pauses, resumes or closes an offer; a signed offer's record
        is paused, resumed or closed (its terms are fixed: `bad_signed` tries to update one)."""
        n = self._n(n)
        offers = self.g.records if self.g.records and n >> 40 & 1 else self.g.offers
        o = offers[n % len(offers)]
        op = n // 8 % 6
        if o.status == 3:
            return
        if o.signed is not None and op < 3:
            op += 3
        if op < 3:
            price = max(1, o.price * (n // 48 % 150 + 50) // 100)
            offered = max(o.in_use, 1, o.offered + n // 7200 % 9 - 4)
            self._provider_call(o.provider, "updateOffer", o.id, price, offered, 1, o.max_hours, ZERO, o.max_broker_bps,
                               list(o.tiers))
            o.price, o.offered = price, offered
            self._count("updateOffer")
        else:
            action = ("pauseOffer", "resumeOffer", "closeOffer")[op - 3]
            if (action == "pauseOffer" and o.status != 1) or (action == "resumeOffer" and o.status != 2):
                return
            self._provider_call(o.provider, action, o.id)
            o.status = {"pauseOffer": 2, "resumeOffer": 1, "closeOffer": 3}[action]
            self._count(action)
        self._touch(o=o)

    # ───────────────────────────── rentals ─────────────────────────────

    @rule(n=N)
    def open_rental(self, n):
        drawn = self._draw_open(self._n(n))
        if drawn is None:
            return
        r, fn, args = drawn
        (r.id,) = self.s.market.call(r.payer, fn, *args)
        self._book_open(r)
        self._count("openRental")

    def _draw_open(self, n: int) -> tuple[RentalG, str, tuple] | None:
        """The rental `n` draws (offer, parties, size, the model's cost) with the call that opens it,
        or None when the model says no open is possible now. Shared with the hostile-token machine."""
        o = self.g.offers[n % len(self.g.offers)]
        n //= 8
        renter, payer, broker, broker_bps = self._parties(n, o.max_broker_bps)
        gpus = min(n // 27_027 % 8 + 1, o.offered - o.in_use)
        hours = n // 216_216 % o.max_hours + 1
        if (self.paused or o.status != 1 or gpus <= 0 or len(self.g.rentals) >= 24
                or not self._active_provider(o.provider) or self._free(o.provider) < self.stake_per_gpu * gpus):
            return None
        if payer == renter:
            fn, args = "openRental", (o.id, gpus, hours, o.price, broker, broker_bps)
        else:
            fn, args = "openRentalFor", (renter, o.id, gpus, hours, o.price, broker, broker_bps)
        return self._rental_for(o, renter, payer, broker, broker_bps, gpus, hours), fn, args

    def _parties(self, n: int, max_broker_bps: int, renter: str | None = None) -> tuple[str, str, str, int]:
        """(renter, payer, broker, broker bps) drawn from `n`: a third of the rentals self-paid, a third
        without a broker, the broker's cut up to the offer's maximum; `renter` fixed if given."""
        renter = renter or self.s.renters[n % 3]
        payer = renter if n // 3 % 3 == 0 else self.s.payers[n // 3 % 2]
        broker = ZERO if n // 9 % 3 == 0 else self.s.brokers[n // 9 % 2]
        return renter, payer, broker, 0 if broker == ZERO else min(n // 27 % 1001, max_broker_bps)

    def _rental_for(self, o: OfferG, renter: str, payer: str, broker: str, broker_bps: int, gpus: int,
                    hours: int) -> RentalG:
        """The model's rental of `gpus` GPUs of offer `o` for `hours`, opened now (id still 0)."""
        discount = max([bps for mh, bps in o.tiers if gpus * hours >= mh], default=0)
        cost = ceil_div(gpus * o.price * (BPS - discount), BPS) * hours
        return RentalG(0, o, renter, payer, broker, broker_bps, gpus, hours, cost, cost, self.stake_per_gpu * gpus,
                       self.protocol_bps, discount, self.now + self.activation_window)

    def _book_open(self, r: RentalG) -> None:
        """The model's side of an open that went through (`r.id` set from the call's return)."""
        self.g.rentals.append(r)
        r.offer.in_use += r.gpus
        self.g.locked[r.offer.provider] += r.collateral
        self._move(r.payer, r.offer.token, -r.deposit)
        self._touch(r, r.offer, r.offer.provider)

    def _pick(self, n: int, *statuses) -> RentalG | None:
        pool = [r for r in self.g.rentals if r.status in statuses]
        return pool[n % len(pool)] if pool else None

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def activate(self, n):
        n = self._n(n)
        r = self._pick(n, PENDING)
        if r is None or self.now > r.deadline:
            return
        if r.offer.provider == self.v.address:  # the operator activates through the vault, which tracks it
            self.s.vault.call(self.s.operator, "activate", r.id)
            self._prune()  # activation drops the closed rentals first
            self.v.tracked.append(r.id)
            if r.offer.token not in self.v.tokens:
                self.v.tokens.append(r.offer.token)
            self.vault_touched = True
        else:
            self.s.market.call(r.offer.provider, "activate", r.id)
        r.status, r.started, r.ends = ACTIVE, self.now, self.now + r.hours * HOUR
        self._touch(r)
        self._count("activate")

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def claim(self, n):
        n = self._n(n)
        r = self._pick(n, ACTIVE, ENDED)
        if r is None:
            return
        accrued = accrued_down(r.total, r.started, r.ends, self.now)
        if accrued == r.claimed:
            return
        caller = [self._signer(r.offer.provider), self.s.stranger, r.renter, self.s.owner][n // 64 % 4]  # anyone
        (gross,) = self.s.market.call(caller, "claim", r.id)
        g, net, _, _ = self._claim_model(r, accrued)
        assert gross == g, f"claim paid {gross}, model {g}"
        self._pay(r.offer.token, r.offer.provider, net)
        self._touch(r)
        self._count("claim")

    @precondition(lambda self: len(self.g.rentals) >= 2)
    @rule(n=N)
    def claim_many(self, n):
        n = self._n(n)
        k = len(self.g.rentals)
        picked = [self.g.rentals[(n >> (5 * j)) % k] for j in range(n % 4 + 1)]
        expect = 0
        for r in picked:  # duplicates and rentals that are not claimable are skipped by the contract too
            if r.status in (ACTIVE, ENDED):
                accrued = accrued_down(r.total, r.started, r.ends, self.now)
                if accrued > r.claimed:
                    g, net, _, _ = self._claim_model(r, accrued)
                    expect += g
                    self._pay(r.offer.token, r.offer.provider, net)
        (gross,) = self.s.market.call(self.s.stranger, "claimMany", [r.id for r in picked])
        assert gross == expect, f"claimMany paid {gross}, model {expect}"
        self._touch(picked[0])
        self._count("claimMany")

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def extend(self, n):
        drawn = self._draw_extend(self._n(n))
        if drawn is None:
            return
        r, hours = drawn
        (cost,) = self.s.market.call(r.renter, "extend", r.id, hours)
        assert cost == r.total // r.hours * hours
        self._book_extend(r, hours, cost)
        self._count("extend")

    def _draw_extend(self, n: int) -> tuple[RentalG, int] | None:
        """An active self-funded rental and the hours the model says it may be extended by, or None."""
        r = self._pick(n, ACTIVE)
        if r is None:
            return None
        o, hours = r.offer, n // 64 % 48 + 1
        if self.paused or self.now >= r.ends or r.payer != r.renter or o.status != 1 or r.hours + hours > o.max_hours:
            return None
        return r, hours

    def _book_extend(self, r: RentalG, hours: int, cost: int) -> None:
        r.total += cost
        r.deposit += cost
        r.hours += hours
        r.ends += hours * HOUR
        self._move(r.payer, r.offer.token, -cost)
        self._touch(r)

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def stop(self, n):
        """The renter stops; half the time first moves time to a random second of the rental (not only
        the first minutes), where the rounding of the bill matters."""
        n = self._n(n)
        r = self._pick(n, ACTIVE)
        if r is None or self.now >= r.ends:
            return
        if n // 64 % 2:
            self.s.chain.set_time(max(self.now, r.started + n // 128 % (r.ends - r.started)))
            if self.now >= r.ends:
                return
        (refund,) = self.s.market.call(r.renter, "stopRental", r.id)
        charge = stop_charge(r.total, r.started, self.now, r.hours, r.discount_bps)
        assert refund == r.total - charge, f"stop refunded {refund}, model {r.total - charge}"
        r.refunded += refund
        r.total, r.ends, r.status = charge, self.now, ENDED
        self._release_capacity(r)
        self._pay(r.offer.token, r.payer, refund)
        self._touch(r, r.offer)
        self._count("stopRental")

    def _cancel_model(self, r: RentalG) -> None:
        penalty = r.collateral * self.no_show_bps // BPS if self.now > r.deadline else 0
        r.refunded += r.total
        self._pay(r.offer.token, r.payer, r.total)
        r.status = CANCELLED
        self._release_capacity(r)
        self._unlock(r, penalty)
        self.g.slashed[r.offer.provider] += penalty
        self._move(r.renter, self.s.gpuc.address, penalty)

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def cancel(self, n):
        n = self._n(n)
        r = self._pick(n, PENDING)
        if r is None:
            return
        (refund,) = self.s.market.call(r.renter, "cancelPending", r.id)
        assert refund == r.total
        self._cancel_model(r)
        self._touch(r, r.offer, r.offer.provider)
        self._count("cancelPending")

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def release(self, n):
        n = self._n(n)
        r = self._pick(n, PENDING, ACTIVE, ENDED)
        if r is None:
            return
        if r.status == PENDING:
            if self.now <= r.deadline:
                return
            self.s.market.call(self.s.stranger, "release", r.id)
            self._cancel_model(r)
        else:
            settle_at = r.ends + self.dispute_window
            if self.now < r.ends or (r.status == ENDED and self.now < settle_at):
                return
            self.s.market.call(self.s.stranger, "release", r.id)
            if r.status == ACTIVE:
                self._release_capacity(r)
                r.status = ENDED
            if self.now >= settle_at:
                _, net, _, _ = self._claim_model(r, r.total)
                self._pay(r.offer.token, r.offer.provider, net)
                self._unlock(r)
                r.status = SETTLED
        self._touch(r, r.offer, r.offer.provider)
        self._count("release")

    # ───────────────────────────── disputes ─────────────────────────────

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def dispute(self, n):
        n = self._n(n)
        r = self._pick(n, ACTIVE, ENDED)
        if r is None or self.now >= r.ends + self.dispute_window:
            return
        if r.status == ENDED and n // 64 % 2 == 0:
            # Half of the disputes of an ended rental come after the provider claimed everything
            # billed: nothing is frozen, only the collateral and the bond are at stake.
            accrued = accrued_down(r.total, r.started, r.ends, self.now)
            if accrued > r.claimed:
                self.s.market.call(self._signer(r.offer.provider), "claim", r.id)
                _, net, _, _ = self._claim_model(r, accrued)
                self._pay(r.offer.token, r.offer.provider, net)
        # A running rental is billed as a stop at this second would bill it (so a dispute is never a
        # cheaper exit: the chain's total is compared with this model bill after the step, and every
        # balance at the end of the example); the bond follows from the bill and the current timeout.
        running = r.status == ACTIVE and self.now < r.ends
        total = stop_charge(r.total, r.started, self.now, r.hours, r.discount_bps) if running else r.total
        ends = self.now if running else r.ends
        refund = r.total - total
        bond = dispute_bond(total, ends - r.started, self.arbitration_timeout, self.dispute_window)
        if self._dispute_refused(r, refund, bond):
            return
        (got,) = self.s.market.call(r.renter, "dispute", r.id, b"\x07" * 32)
        assert got == bond, f"dispute bond {got}, model {bond}"
        if r.status == ACTIVE:
            self._release_capacity(r)
        r.refunded += refund
        token = r.offer.token
        if r.payer == r.renter:  # the bond comes out of the refund first
            if refund >= bond:
                self._pay(token, r.payer, refund - bond)
            else:
                self._move(r.renter, token, refund - bond)
        else:
            self._pay(token, r.payer, refund)
            self._move(r.renter, token, -bond)
        r.total, r.ends, r.bond = total, ends, bond
        r.status, r.disputed_at, r.timeout_at = DISPUTED, self.now, self.now + self.arbitration_timeout
        self._touch(r, r.offer)
        self._count("dispute")

    def _dispute_pull(self, r: RentalG, refund: int, bond: int) -> int:
        """What a dispute pulls from the renter: the bond, less the refund when the renter is the payer."""
        return max(0, bond - refund) if r.payer == r.renter else bond

    def _dispute_refused(self, r: RentalG, refund: int, bond: int) -> bool:
        """Whether the token refuses the bond's pull (the hostile-token machine checks the revert)."""
        return False

    def _resolve_model(self, r: RentalG, provider_gross: int, slash: int, lost: bool) -> None:
        refund = r.total - r.claimed - provider_gross
        _, net, _, _ = self._claim_model(r, r.claimed + provider_gross)
        r.total = r.claimed
        r.refunded += refund
        self._pay(r.offer.token, r.offer.provider, net)
        self._pay(r.offer.token, r.payer, refund)
        self._pay(r.offer.token, r.renter if lost else r.offer.provider, r.bond)
        r.bond = 0
        to_treasury = slash * self.slash_treasury_bps // BPS
        self._move(r.renter, self.s.gpuc.address, slash - to_treasury)
        self._move(self.s.treasury, self.s.gpuc.address, to_treasury)
        self.g.slashed[r.offer.provider] += slash
        self._unlock(r, slash)
        r.status = RESOLVED

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def resolve(self, n):
        """The arbiter rules before the timeout, or anyone applies the default ruling after it."""
        n = self._n(n)
        r = self._pick(n, DISPUTED)
        if r is None:
            return
        if n // 32 % 3 == 0 and self.now < r.timeout_at:
            self.s.chain.set_time(r.timeout_at)  # the arbiter never rules
        if self.now < r.timeout_at:
            # Rulings for the provider (the whole escrow, no slash) and against it, about as often.
            k = n // 64
            share = (BPS, 0, k // 4 % (BPS + 1), BPS)[k % 4]
            slash = 0 if k // 40_004 % 2 else r.collateral * (k // 80_008 % 101) // 100
            if r.total == r.claimed and k // 160_016 % 2:
                # Nothing frozen: half of these rulings are the edge where only the bond decides who
                # lost (a ruling below 100 % without a slash is still a loss).
                share, slash = k // 320_032 % BPS, 0
            self.s.market.call(self.s.arbiter, "resolveDispute", r.id, share, slash)
            self._resolve_model(r, (r.total - r.claimed) * share // BPS, slash, lost=share < BPS or slash > 0)
            self._count("resolveDispute")
        else:
            self.s.market.call(self.s.stranger, "applyDefaultRuling", r.id)
            self._resolve_model(r, r.total - r.claimed, 0, lost=False)
            self._count("applyDefaultRuling")
        self._touch(r, r.offer, r.offer.provider)

    # ───────────────────────────── fees ─────────────────────────────

    @rule(n=N)
    def withdraw(self, n):
        """The treasury's fees (anyone triggers) or a broker's credits."""
        n = self._n(n)
        token = (self.s.usd if n % 2 else self.s.gpuc).address
        if n // 2 % 3 == 0:
            amount = self.g.protocol_fees[token]
            if amount == 0:
                return
            (got,) = self.s.market.call(self.s.stranger, "withdrawProtocolFees", token)
            assert got == amount
            self.g.protocol_fees[token] = 0
            self._move(self.s.treasury, token, amount)
            self._count("withdrawProtocolFees")
        else:
            b = self.s.brokers[n // 6 % 2]
            amount = self.g.credits[(b, token)]
            if amount == 0:
                return
            (got,) = self.s.market.call(b, "withdrawCredits", token)
            assert got == amount
            self.g.credits[(b, token)] = 0
            self._move(b, token, amount)
            self._count("withdrawCredits")

    # ───────────────────────────── owner ─────────────────────────────

    @rule(n=N)
    def admin(self, n):
        """The owner: pause (a paused market is unpaused by the next admin step), fee, stake per GPU,
        dispute window, arbitration timeout, no-show penalty."""
        n = self._n(n)
        m, o, which, value = self.s.market, self.s.owner, n % 9, n // 9
        if self.paused or which == 0:  # pause in 1 of 9 admin steps; the next admin step unpauses
            m.call(o, "unpause" if self.paused else "pause")
            self.paused = not self.paused
            self._count("pause/unpause")
        elif which in (1, 5):
            self.protocol_bps = value % 1001
            m.call(o, "setProtocolFee", self.protocol_bps)
            self._count("setProtocolFee")
        elif which in (2, 6):
            self.stake_per_gpu = (value % 301) * GPUC
            m.call(o, "setStakePerGpu", self.stake_per_gpu)
            self._count("setStakePerGpu")
        elif which == 3:
            self.dispute_window = HOUR + value % (3 * 86_400)
            m.call(o, "setDisputeWindow", self.dispute_window)
            self._count("setDisputeWindow")
        elif which == 7:  # reaches the bonds and deadlines of disputes raised from now on only
            self.arbitration_timeout = 86_400 + value % (59 * 86_400 + 1)
            m.call(o, "setArbitrationTimeout", self.arbitration_timeout)
            self._count("setArbitrationTimeout")
        else:
            self.no_show_bps = value % (BPS + 1)
            m.call(o, "setNoShowPenalty", self.no_show_bps)
            self._count("setNoShowPenalty")

    @precondition(lambda self: self.g.rentals)
    @rule(n=N)
    def exit_under_pause(self, n):
        """7. Pause never traps funds: with the market paused, an exit path (stop, cancel, claim,
        release, dispute, ruling) on a random rental must still go through (a revert fails the run)."""
        n = self._n(n)
        was_paused = self.paused
        if not was_paused:
            self.s.market.call(self.s.owner, "pause")
            self.paused = True
        [self.stop, self.cancel, self.claim, self.release, self.dispute, self.resolve][n % 6](n // 6)
        if not was_paused:
            self.s.market.call(self.s.owner, "unpause")
            self.paused = False
        self._count("exitUnderPause")

    # ───────────────────────────── time ─────────────────────────────

    @rule(n=N)
    def warp(self, n):
        """From one second to three weeks, mostly short: half the jumps are under two minutes."""
        n = self._n(n)
        scale = (120, 120, 120, 120, HOUR, HOUR, 86_400, 21 * 86_400)[n % 8]
        self.s.chain.warp(n // 8 % scale + 1)
        self._touch()
        self._count("warp")

    # ───────────────────────────── invalid calls (must revert, and leave no trace) ─────────────────────────────

    @staticmethod
    def _reverts(why: str, error: tuple[str, dict], contract, caller: str, fn: str, *args) -> None:
        """`fn(*args)` sent by `caller` must revert with `error`: its name and every argument by name
        (tests/reverts.py)."""
        name, inputs = error
        problem = ExpectedRevert(name, **inputs).check(raised_by(lambda: contract.call(caller, fn, *args)))
        assert problem is None, f"{why}: {fn} by {caller}: {problem}"

    def _expect_revert(self, name: str, inputs: dict, contract, caller: str, fn: str, *args, label: str = "") -> None:
        self._reverts("inv8/4", (name, inputs), contract, caller, fn, *args)
        self._count(f"bad:{label}{name}")

    @rule(n=N)
    def bad_call(self, n):
        """A deliberately invalid call (wrong role or a terminal rental): it must revert with the
        expected custom error, and the invariants after the step show it left no trace."""
        n = self._n(n)
        m, kind, k = self.s.market, n % 7, n // 7
        if kind == 0:  # 8: only the renter stops, extends, cancels, disputes
            r = self._pick(k, ACTIVE, PENDING)
            if r is None:
                return
            caller = [self._signer(r.offer.provider), self.s.stranger, self.s.arbiter, self.s.owner][k // 64 % 4]
            not_renter = {"rentalId": r.id, "caller": caller}
            if r.status == PENDING:
                self._expect_revert("MarketNotRenter", not_renter, m, caller, "cancelPending", r.id)
            elif k // 256 % 3 == 0:
                self._expect_revert("MarketNotRenter", not_renter, m, caller, "stopRental", r.id)
            elif k // 256 % 3 == 1:
                self._expect_revert("MarketNotRenter", not_renter, m, caller, "dispute", r.id, b"\0" * 32)
            elif not self.paused:
                self._expect_revert("MarketNotRenter", not_renter, m, caller, "extend", r.id, 1)
        elif kind == 1:  # 8: only the provider activates
            r = self._pick(k, PENDING)
            if r is not None:
                self._expect_revert("MarketNotProvider", {"rentalId": r.id, "caller": r.renter}, m, r.renter, "activate",
                                    r.id)
        elif kind == 2:  # 8: only the arbiter resolves
            r = self._pick(k, DISPUTED)
            if r is not None:
                caller = [r.renter, self._signer(r.offer.provider), self.s.owner][k // 64 % 3]
                self._expect_revert("MarketNotArbiter", {"caller": caller}, m, caller, "resolveDispute", r.id, BPS, 0)
        elif kind == 3:  # 8: only the owner configures
            fn, args = [("pause", ()), ("setProtocolFee", (0,)), ("setTreasury", (self.s.stranger,))][k % 3]
            caller = [self.s.stranger, self.s.arbiter, self.s.providers[0]][k // 3 % 3]
            self._expect_revert("OwnableUnauthorizedAccount", {"account": caller}, m, caller, fn, *args)
        elif kind == 4:  # 8: only the market moves collateral
            p = self.s.providers[k % 3]
            self._expect_revert("RegistryCallerNotMarket", {"caller": p}, self.s.registry, p,
                                ("lock", "unlock")[k // 3 % 2], p, 1)
        elif kind == 6:  # 5: a ruling cannot slash more than the rental's collateral
            r = self._pick(k, DISPUTED)
            if r is not None and self.now < r.timeout_at:
                slash = r.collateral + 1 + k // 64 % 10**18
                self._expect_revert("MarketSlashAboveCollateral",
                                    {"rentalId": r.id, "slashAmount": slash, "collateral": r.collateral},
                                    m, self.s.arbiter, "resolveDispute", r.id, 0, slash)
        else:  # 4: terminal states are absorbing
            r = self._pick(k, *TERMINAL)
            if r is None:
                return
            fn, name = [("claim", "MarketRentalNotClaimable"), ("release", "MarketRentalNotReleasable"),
                        ("stopRental", "MarketRentalNotActive"), ("activate", "MarketRentalNotPending")][k // 64 % 4]
            caller = {"stopRental": r.renter, "activate": self._signer(r.offer.provider)}.get(fn, self.s.stranger)
            inputs = {"rentalId": r.id, "status": r.status}
            if fn == "release":
                inputs["releasableAt"] = 0  # a terminal rental is never releasable
            self._expect_revert(name, inputs, m, caller, fn, r.id)

    # ───────────────────────────── invariants ─────────────────────────────

    @invariant()
    def inv1_solvency(self):
        """1. For every payment token the market holds exactly the escrow of open rentals + dispute bonds
        + fees + credits."""
        for token in self.s.tokens:
            t = token.address
            escrow = sum(r.total - r.claimed + r.bond for r in self.g.rentals if r.offer.token == t and r.status not in TERMINAL)
            owed = escrow + self.g.protocol_fees[t] + sum(v for (a, tk), v in self.g.credits.items() if tk == t)
            held = token.uint("balanceOf", self.s.market.address)
            assert held == owed, f"inv1 solvency: market holds {held} of {t}, owes {owed}"
            booked = self.s.market.uint("protocolFees", t)
            assert booked == self.g.protocol_fees[t], f"inv1 solvency: fees booked {booked} of {t}, model {self.g.protocol_fees[t]}"

    @invariant()
    def inv2_3_4_touched_rental(self):
        """2. conservation, 3. accrual bounds and monotonicity, 4. statuses, on the rental this step touched."""
        r = self.touched_rental
        if r is None:
            return
        self._check_rental(r)

    def _check_rental(self, r: RentalG) -> None:
        rec = self.s.market.view("getRental", r.id)
        total, claimed, status = rec[0], rec[7], rec[5]  # Rental.Record field order
        assert status == r.status, f"inv4 status: rental {r.id} is {status}, model {r.status}"
        assert (total, claimed) == (r.total, r.claimed), f"inv3 rental {r.id}: chain {(total, claimed)}, model {(r.total, r.claimed)}"
        paid_out = r.provider_net + r.protocol_fee + r.broker_fee + r.refunded
        assert paid_out <= r.deposit, f"inv2 conservation: rental {r.id} paid out {paid_out} > deposit {r.deposit}"
        if r.status in TERMINAL:
            assert paid_out == r.deposit, f"inv2 conservation: closed rental {r.id} paid out {paid_out} != {r.deposit}"
        assert claimed <= total, f"inv3 accrual bounds: rental {r.id} claimed {claimed} > total {total}"
        accrued = self.s.market.uint("accruedOf", r.id)
        if r.status in (PENDING, CANCELLED):
            assert accrued == 0, f"inv3 accruedOf: rental {r.id} never activated but reports {accrued}"
        else:
            # Every status that started: the model's stream (the whole billed total from its end on, so
            # a stop or dispute in the activation second has accrued everything it billed).
            assert claimed <= accrued <= total <= r.deposit, \
                f"inv3 accrual bounds: rental {r.id} claimed {claimed}, accrued {accrued}, total {total}"
            assert accrued == accrued_down(r.total, r.started, r.ends, self.now), f"inv3 accrual off the model on {r.id}"
            if r.status != RESOLVED:  # a ruling may cut the total back to what was claimed
                assert accrued >= r.last_accrued, f"inv3 accrual decreased on rental {r.id}: {r.last_accrued} -> {accrued}"
            r.last_accrued = accrued
        # The refund view is exactly what the action would refund at this second.
        refundable = self.s.market.uint("refundableOf", r.id)
        if r.status == PENDING:
            expect = r.total
        elif r.status == ACTIVE and self.now < r.ends:
            expect = r.total - stop_charge(r.total, r.started, self.now, r.hours, r.discount_bps)
        else:
            expect = 0
        assert refundable == expect, f"inv3 refundableOf: rental {r.id} shows {refundable}, a stop/cancel refunds {expect}"
        if r.status == DISPUTED:
            frozen, bond, _, _, timeout_at = self.s.market.view("disputeOf", r.id)
            assert (frozen, bond, timeout_at) == (r.total - r.claimed, r.bond, r.timeout_at), \
                f"inv1/2 dispute of {r.id}: chain {(frozen, bond, timeout_at)}, model"

    @invariant()
    def inv5_stake(self):
        """5. Registry balance == Σ staked; locked + unbonding ≤ staked; locked == Σ collateral held."""
        held = self.s.gpuc.uint("balanceOf", self.s.registry.address)
        assert held == sum(self.g.staked.values()), f"inv5 stake: registry holds {held}, staked {sum(self.g.staked.values())}"
        p = self.touched_provider
        if p is not None:
            staked, locked, unbonding, _, _ = self.s.registry.view("providerOf", p)
            assert (staked, locked, unbonding) == (self.g.staked[p], self.g.locked[p], self.g.unbonding[p]), \
                f"inv5 stake of {p}: chain {(staked, locked, unbonding)}, model"
            assert locked + unbonding <= staked, "inv5 locked + unbonding > staked"
            held_collateral = sum(r.collateral for r in self.g.rentals if r.offer.provider == p and r.status in HOLDS_COLLATERAL)
            assert locked == held_collateral, f"inv5 locked {locked} != collateral of open rentals {held_collateral}"

    @invariant()
    def inv6_capacity(self):
        """6. GPUs in use == Σ GPUs of Pending/Active rentals on the offer ≤ GPUs offered."""
        o = self.touched_offer
        if o is None:
            return
        rec = self.s.market.view("getOffer", o.id)
        offered, in_use = rec[1], rec[2]
        holding = sum(r.gpus for r in self.g.rentals if r.offer is o and r.status in HOLDS_CAPACITY)
        assert in_use == holding == o.in_use, f"inv6 capacity: offer {o.id} in use {in_use}, rentals hold {holding}"
        assert in_use <= offered, f"inv6 capacity: offer {o.id} {in_use} in use > {offered} offered"

    def teardown(self):
        """The full sweep at the end of each example: every rental, offer, provider and balance."""
        try:
            for r in self.g.rentals:
                self._check_rental(r)
            for o in self.g.offers + self.g.records:
                self.touched_offer = o
                self.inv6_capacity()
            self._check_signed_all()
            for p in (*self.s.providers, self.v.address):
                self.touched_provider = p
                self.inv5_stake()
            self._check_vault()
            for (account, token), delta in self.g.balances.items():
                if delta == 0:
                    continue
                now = self._token(token).one("balanceOf", account)
                base = self._base_balance(account, token)
                assert now - base == delta, f"inv5/2 payouts: {account} got {now - base} of {token}, model {delta}"
        finally:
            self._count("examples")

    def _base_balance(self, account: str, token: str) -> int:
        return self.s.base_balances[(account, token)]


# Hypothesis picks uniformly among the rules whose preconditions hold. The money paths of a running
# rental and the invalid signed calls are registered a second time under another name so
# that they get a fair share of the steps (the admin, offer and stake rules always have something to
# do; these often find no rental or signed offer in the right state).
for _name in ("activate", "claim", "stop", "extend", "release", "dispute", "resolve", "bad_signed", "vault_redeem"):
    setattr(MarketMachine, f"{_name}_again", getattr(MarketMachine, _name))
# Disputes and rulings once more: since the signed-offer and cluster rules joined, a dispute of a fully
# claimed rental ruled at 0 % (a seeded bug hides there) came too rarely in the mutants' step budget.
for _name in ("dispute", "resolve"):
    setattr(MarketMachine, f"{_name}_third", getattr(MarketMachine, _name))
