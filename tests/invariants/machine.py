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
from hypothesis import seed as _seed, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, RuleStrategy, initialize, invariant, precondition, rule

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

STATUS_NAMES = {PENDING: "Pending", ACTIVE: "Active", ENDED: "Ended", CANCELLED: "Cancelled", SETTLED: "Settled",
                DISPUTED: "Disputed", RESOLVED: "Resolved"}

_SYSTEM: System | None = None
#: Across examples (for the report and the quick profile's minimums): every call that went as predicted,
#: by name (a valid call, or `bad:<error>` for an invalid one that reverted as predicted), and the meta
#: counters (`META`): steps, effective steps, steps and effective steps per rule, the edges of
#: `EDGES`, the rounding edges of `ROUNDING`, and per-rental tallies.
STEP_COUNTER: Counter = Counter()
META = ("steps", "examples", "effective")
META_PREFIXES = ("rule:", "eff:", "edge:", "round:", "rental:")

#: The money paths: the calls that move escrow, stake or income (STEP_COUNTER names; a name ending in
#: ':' is a family). The report and the quick profile's minimums both read this.
MONEY_PATHS = {
    "open": ("openRental", "openRentalFor"),
    "signed fill": ("openSignedRental:",),
    "cluster booking": ("bookCluster:",),
    "activate": ("activate",),
    "claim": ("claim",),
    "claimMany": ("claimMany",),
    "extend": ("extend",),
    "stop": ("stopRental",),
    "cancel": ("cancelPending",),
    "release": ("release",),
    "dispute": ("dispute",),
    "ruling": ("resolveDispute", "applyDefaultRuling"),
    "withdrawal": ("withdrawProtocolFees", "withdrawCredits", "withdrawUnbonded", "vault.withdrawIncome"),
    "vault deposit/redemption": ("vault.deposit", "vault.requestRedeem", "vault.startBatch", "vault.finishBatch",
                                 "vault.claimRedemption"),
}

#: The edges the coverage tables list (STEP_COUNTER["edge:" + label], counted where the model moves).
EDGES = {
    "rental lifecycle": (
        "Pending→Active (activate)", "Pending→Cancelled (cancelPending in the window)",
        "Pending→Cancelled (cancelPending after the deadline: no-show penalty)",
        "Pending→Cancelled (release after the deadline: no-show penalty)", "Active→Ended (stopRental)",
        "Active→Ended (release at its end)", "Active→Settled (release after the dispute window)",
        "Active→Disputed (running)", "Active→Disputed (after its end)", "Ended→Settled (release)",
        "Ended→Disputed (something frozen)", "Ended→Disputed (nothing frozen)", "Disputed→Resolved (arbiter)",
        "Disputed→Resolved (default ruling)", "Active: extend", "Active: claim", "Ended: claim"),
    "vault": (
        "deposit", "share transfer", "redemption requested", "batch started", "batch waits for collateral",
        "batch finished", "redemption claimed", "commission cut (at once)", "commission rise scheduled",
        "commission rise applied", "harvest", "income withdrawn", "rental activated through the vault"),
    "signed offers": (
        "published", "first fill (recorded)", "later fill", "later fill without a signature", "fill in its expiry second",
        "cancelled before a fill", "cancelled after a fill (record closed)", "nonce floor raised",
        "record paused", "record resumed", "record closed", "fill expired", "fill below the nonce floor",
        "cluster booked", "cluster failed (nothing stays)"),
}

#: Edges that are one call each: counted with the call (`_count`).
COUNT_EDGES = {
    "openSignedRental:first": "first fill (recorded)", "openSignedRental:recorded": "later fill",
    "openSignedRental:recorded, no signature": "later fill without a signature",
    "cancelSignedOffersBelow": "nonce floor raised", "vault.deposit": "deposit", "vault.transfer": "share transfer",
    "vault.requestRedeem": "redemption requested", "vault.startBatch": "batch started",
    "vault.finishBatch": "batch finished", "vault.claimRedemption": "redemption claimed", "vault.harvest": "harvest",
    "vault.withdrawIncome": "income withdrawn", "bad:VaultRedemptionWaitsForCollateral": "batch waits for collateral",
    "bad:MarketSignedOfferExpired": "fill expired", "bad:cluster:MarketSignedOfferExpired": "fill expired",
    "bad:MarketSignedOfferNonceCancelled": "fill below the nonce floor",
    "bad:cluster:MarketSignedOfferNonceCancelled": "fill below the nonce floor",
}

#: Rounding edges of the settlement math (STEP_COUNTER["round:" + label]).
ROUNDING = (
    "claim of exactly 1 unit", "claim in mUSD (6 decimals)", "claim in GPUC (18 decimals)",
    "claim whose fee rounds to 0", "fee split with a remainder (protocol/broker)", "stop in the first hour (1 h billed)",
    "stop at the last second (ends − 1)", "stop at a random second", "stop in the activation second",
    "stop charge rounded up", "stop in mUSD (6 decimals)", "stop in GPUC (18 decimals)", "dispute bond rounded up",
    "ruling share rounded down", "slash split with a remainder", "no-show penalty rounded down",
    "redemption claim rounded down")


#: Custom errors in the build that no caller can trigger against this deployment, and why (the
#: report lists them as unreachable; every other error of the market, the registry, the vault and
#: the factory must be hit in the deep run).
UNREACHABLE_ERRORS = {
    "MarketOfferIdsExhausted": "needs 10^9 on-chain offers (the id range below the signed offers')",
    "MarketInvalidModule": "constructor check: modules are fixed at deployment",
    "MarketModuleCalledDirectly": "a module reached without the market's delegatecall: the machine calls the "
                                  "market only (tests/test_modules.py covers it)",
    "MarketTokenDeliveredLess": "fee-on-transfer tokens only: test_hostile_tokens.py",
    "ReentrancyGuardReentrantCall": "re-entrant tokens only: test_hostile_tokens.py",
    "SafeERC20FailedOperation": "false-returning tokens only: test_hostile_tokens.py",
    "RegistryInsufficientLocked": "defensive: only the market unlocks or slashes, never above what it locked",
    "RegistrySlashLengthMismatch": "defensive: only the market slashes, with matching arrays",
    "RegistrySlashMismatch": "defensive: only the market slashes, with amounts that sum up",
    "RegistryInvalidRecipient": "defensive: the market slashes to the renter and the treasury, never zero",
    "RegistryZeroAddress": "constructor and setMarket: the market is set once at deployment "
                           "(RegistryMarketAlreadySet comes first)",
    "RegistryInvalidMetadata": "register/updateMetadata by a registered provider: the machine's providers "
                               "re-register (RegistryAlreadyRegistered comes first)",
    "OwnableInvalidOwner": "transferOwnership(0) is the only path: ownership transfer is not in the machine",
    "SafeCastOverflowedUintDowncast": "defensive: amounts are bounded far below the casts' widths",
    "AddressEmptyCode": "the vault calls the market only, which has code",
    "FailedCall": "the vault's callMarket passes the market's revert on (its own error)",
    "InsufficientBalance": "OpenZeppelin Address: the vault sends no ether",
    "InvalidShortString": "EIP-712 name of fixed length at deployment",
    "StringTooLong": "EIP-712 name of fixed length at deployment",
    "VaultFactoryRegistryMismatch": "constructor check of the factory",
    "ERC4626ExceededMaxDeposit": "the vault's maxDeposit is unlimited",
    "ERC4626ExceededMaxMint": "the vault's maxMint is unlimited",
    "ERC4626ExceededMaxRedeem": "redeem reverts VaultRedeemIsAsync first",
    "ERC4626ExceededMaxWithdraw": "withdraw reverts VaultRedeemIsAsync first",
    "ERC20InvalidApprover": "approve from the zero address: no caller is the zero address",
    "ERC20InvalidSender": "transfer from the zero address: no caller is the zero address",
}

def is_meta(name: str) -> bool:
    return name in META or name.startswith(META_PREFIXES)


def in_family(name: str, names) -> bool:
    """Whether counter `name` is one of `names` (a name ending in ':' is a family)."""
    return any(name == f or (f.endswith(":") and name.startswith(f)) for f in names)


def summary(c: Counter) -> dict:
    """The figures the report prints and the quick profile asserts, from a STEP_COUNTER (difference)."""
    steps = c["steps"] - c["examples"]  # check_invariants also runs once before the first step
    calls = {k: v for k, v in c.items() if not is_meta(k) and v}
    n_calls = sum(calls.values()) or 1
    money = {path: sum(v for k, v in calls.items() if in_family(k, names)) for path, names in MONEY_PATHS.items()}
    rules = sorted({k[5:] for k in c if k.startswith("rule:")})
    activated = c["edge:Pending→Active (activate)"] or 1
    return dict(
        steps=steps, examples=c["examples"], effective_steps=c["effective"],
        effective_pct=100 * c["effective"] / max(steps, 1), calls=sum(calls.values()),
        money_pct=100 * sum(money.values()) / n_calls,
        money_paths={k: {"calls": v, "pct": 100 * v / n_calls} for k, v in money.items()},
        rules={r: {"steps": c["rule:" + r], "effective": c["eff:" + r],
                   "pct_of_effective": 100 * c["eff:" + r] / max(c["effective"], 1)} for r in rules},
        claims_per_activated_rental=c["rental:claims"] / activated,
        extended_pct=100 * c["rental:extended"] / activated,
        edges={t: {e: c["edge:" + e] for e in labels} for t, labels in EDGES.items()},
        rounding={e: c["round:" + e] for e in ROUNDING},
        calls_by_name=dict(sorted(calls.items(), key=lambda kv: -kv[1])))


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
    extended: bool = False


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


class _WeightedRules(RuleStrategy):
    """Hypothesis's rule strategy without its swarm testing (a random subset of the rules disabled in each
    example): the registration weights (WEIGHTS) decide the mix here. Every pick of a disabled rule draws a
    choice, and with ~80 registered rules (the weights' aliases) that was about 40 % of a step's time;
    without it the machine runs ~1.6x the steps per second. Shrinking and replay are unchanged."""

    def _rule_is_enabled(self, r):
        return self.is_valid(r)


class MarketMachine(SignedRules, VaultRules, RuleBasedStateMachine):
    """Several providers — one of them a vault backed by three investors — renters, payers and brokers;
    both payment tokens; on-chain and signed offers, cluster bookings; time from 1 s to weeks."""

    #: Where the system comes from: the in-process EVM by default; a subclass can point this at
    #: another driver with the same interface (tests/invariants/evm.py's Chain and Contract).
    make_system = staticmethod(lambda: system())

    def __init__(self):
        super().__init__()
        self._rules_strategy = _WeightedRules(self)
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
        self.salt = 0
        self.pinned_pause = False  # exit_under_pause runs a rule under a pause that must stay
        self.rule_name: str | None = None  # the rule this step runs (set by its first `_n`)
        self.did = False  # whether a call of this step went as predicted (an effective step)
        self.touched_rental: RentalG | None = None
        self.touched_offer: OfferG | None = None
        self.touched_provider: str | None = None

    def _n(self, n: int) -> int:
        self.step_no += 1
        if self.rule_name is None:  # the rule's own draw (a rule another one runs keeps the step's name)
            self.rule_name = sys._getframe(1).f_code.co_name
        # Every draw so far joins this one: hypothesis draws the same few values (0, 2^32, …) again and
        # again, so similar examples would repeat each other step for step; the running hash of the
        # example's draws tells them apart (still a function of the example: a replay is exact).
        self.salt = _mix(n ^ self.salt, self.step_no)
        return self.salt

    def check_invariants(self, settings, output, runtimes):
        # Hypothesis checks the invariants once per step (and once at the start): the step's accounting.
        c = STEP_COUNTER
        c["steps"] += 1
        if self.rule_name is not None:
            c["rule:" + self.rule_name] += 1
            if self.did:
                c["effective"] += 1
                c["eff:" + self.rule_name] += 1
        self.rule_name, self.did = None, False
        return super().check_invariants(settings, output, runtimes)

    # ───────────────────────────── helpers ─────────────────────────────

    @property
    def now(self) -> int:
        return self.s.chain.time

    def _count(self, name: str) -> None:
        """A call went as predicted (valid, or `bad:…` reverted as predicted): the step was effective."""
        STEP_COUNTER[name] += 1
        self.did = True
        edge = COUNT_EDGES.get(name)
        if edge:
            STEP_COUNTER["edge:" + edge] += 1

    @staticmethod
    def _edge(label: str) -> None:
        STEP_COUNTER["edge:" + label] += 1

    @staticmethod
    def _round(label: str, hit: bool = True) -> None:
        if hit:
            STEP_COUNTER["round:" + label] += 1

    def _set_status(self, r: RentalG, status: int, how: str) -> None:
        """The model moves rental `r` along `ALLOWED` (anything else is a finding) and counts the edge."""
        assert status in ALLOWED[r.status], f"model: {STATUS_NAMES[r.status]} → {STATUS_NAMES[status]} on {r.id}"
        self._edge(f"{STATUS_NAMES[r.status]}→{STATUS_NAMES[status]} ({how})")
        r.status = status

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

    def _claim_model(self, r: RentalG, accrued: int, claim: bool = True) -> tuple[int, int, int, int]:
        """The model of paying the stream of `r` up to `accrued` (`claim`: by a claim, not a settlement)."""
        gross = accrued - r.claimed
        net, pf, bf = split_claim(r.claimed, accrued, r.protocol_bps, r.broker_bps)
        if claim and gross:
            c = STEP_COUNTER
            c["rental:claims"] += 1
            c[f"edge:{STATUS_NAMES[r.status]}: claim"] += 1
            self._round("claim of exactly 1 unit", gross == 1)
            self._round("claim in mUSD (6 decimals)" if r.offer.token == self.s.usd.address else "claim in GPUC (18 decimals)")
            self._round("claim whose fee rounds to 0", r.protocol_bps + r.broker_bps and not pf + bf)
            fee = accrued * (r.protocol_bps + r.broker_bps) // BPS
            self._round("fee split with a remainder (protocol/broker)", pf and bf and fee * r.protocol_bps % (r.protocol_bps + r.broker_bps))
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
        """Every example starts with an mUSD offer, a GPUC offer, the vault's mUSD offer and a low-rate mUSD
        offer (3 units per GPU-hour: its claims come a unit at a time), so rentals can open at step one,
        and with the starting signed offers published (signed_model.py)."""
        self.rule_name, self.did = "two_offers", True
        for p, usd in ((self.s.providers[0], True), (self.s.providers[1], False), (self.v.address, True)):
            self._create(p, usd, 1_950_000, 16, 200, True, 500)
        self._create(self.s.providers[2], True, 3, 16, 200, False, 1000)
        self._signed_start()

    # ───────────────────────────── stake ─────────────────────────────

    @rule(n=N)
    def stake_ops(self, n):
        """A provider stakes, requests an unbond of a share of its free stake, cancels it, or withdraws."""
        n = self._n(n)
        p = self.s.providers[n % 3]
        amount = n // 12 % 5000 + 1
        ops = [0] + [1] * (self._free(p) > 0) + [2, 3] * (self.g.unbonding[p] > 0)
        op = ops[n // 3 % len(ops)]
        reg = self.s.registry
        if op == 0:
            reg.call(p, "stake", amount * GPUC)
            self.g.staked[p] += amount * GPUC
            self._move(p, self.s.gpuc.address, -amount * GPUC)
            self._count("stake")
        elif op == 1:
            self._unbond(p, max(1, self._free(p) * (amount % 100 + 1) // 100))
        elif op == 2:
            if self.g.unbonding[p] == 0:
                return
            reg.call(p, "cancelUnbond")
            self.g.unbonding[p] = 0
            self._count("cancelUnbond")
        else:  # once the unbonding period is over (time moves there if need be)
            amount = self.g.unbonding[p]
            self.s.chain.set_time(max(self.now, self.g.ready_at[p]))
            (got,) = reg.call(p, "withdrawUnbonded")
            assert got == amount
            self.g.unbonding[p] = 0
            self.g.staked[p] -= amount
            self._move(p, self.s.gpuc.address, amount)
            self._count("withdrawUnbonded")
        self._touch(p=p)

    def _unbond(self, p: str, amount: int) -> None:
        """Provider `p` requests an unbond of `amount` (≤ its free stake: a valid call)."""
        self.s.registry.call(p, "requestUnbond", amount)
        self.g.unbonding[p] += amount
        self.g.ready_at[p] = self.now + 7 * 86_400
        self._count("requestUnbond")

    # ───────────────────────────── offers ─────────────────────────────

    @precondition(lambda self: len(self.g.offers) < 7)
    @rule(n=N)
    def create_offer(self, n):
        n = self._n(n)
        ps = [p for p in (*self.s.providers, self.v.address) if self._active_provider(p)]
        if not ps:
            return
        p = ps[n % len(ps)]
        self._unpause()
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
        offers = [o for o in (self.g.records if self.g.records and n >> 40 & 1 else self.g.offers) if o.status != 3]
        paused = [o for o in offers if o.status == 2]
        offers = paused if paused and n >> 41 & 1 else offers  # half the time a paused one, if any (it resumes)
        if not offers:
            return
        o = offers[n % len(offers)]
        op = n // 8 % 6
        if o.signed is not None and op < 3:
            op += 3
        if op in (3, 4):  # pause an Active offer, resume a Paused one
            op = 3 if o.status == 1 else 4
        if op < 3:
            price = max(1, o.price * (n // 48 % 150 + 50) // 100)
            offered = max(o.in_use, 1, o.offered + n // 7200 % 9 - 4)
            self._provider_call(o.provider, "updateOffer", o.id, price, offered, 1, o.max_hours, ZERO, o.max_broker_bps,
                               list(o.tiers))
            o.price, o.offered = price, offered
            self._count("updateOffer")
        else:
            action = ("pauseOffer", "resumeOffer", "closeOffer")[op - 3]
            self._provider_call(o.provider, action, o.id)
            o.status = {"pauseOffer": 2, "resumeOffer": 1, "closeOffer": 3}[action]
            if o.signed is not None:
                self._edge("record " + ("paused", "resumed", "closed")[op - 3])
            self._count(action)
        self._touch(o=o)

    # ───────────────────────────── rentals ─────────────────────────────
    # A rule picks among the rentals in the state it needs; when there is none it makes one first (opens,
    # activates, lets time pass), so that nearly every step does something on chain. Hypothesis's
    # shrunk output still names the rule (`state.claim(n=…)`); the preparation is part of it.

    #: Whether rules may prepare what they need (open, activate, lift a pause). The hostile-token machine
    #: turns it off: its opens go through its own rule, which knows when a token refuses.
    PREPARE = True

    @rule(n=N)
    def open_rental(self, n):
        self._open(self._n(n))

    def _unpause(self) -> None:
        """A call that a pause refuses comes next: the owner lifts the pause first (not while a rule tests
        an exit under pause)."""
        if self.paused and self.PREPARE and not self.pinned_pause:
            self.s.market.call(self.s.owner, "unpause")
            self.paused = False
            self._count("pause/unpause")

    def _open(self, n: int, self_paid: bool = False) -> RentalG | None:
        """Opens the rental `n` draws (half of them self-paid), trying the offers in turn from the drawn one;
        when none has room, a Pending rental past its deadline is released first (a no-show: its GPUs come
        back). None when no open is possible (24 rentals, stake, a pause that stays)."""
        if not self.PREPARE or len(self.g.rentals) >= 24:
            return None
        self._unpause()
        for attempt in range(2):
            for i in range(len(self.g.offers)):
                drawn = self._draw_open(n + i, self_paid or n // 5 % 2 == 0)
                if drawn is not None:
                    r, fn, args = drawn
                    (r.id,) = self.s.market.call(r.payer, fn, *args)
                    self._book_open(r)
                    self._count(fn)
                    return r
            expired = [r for r in self.g.rentals if r.status == PENDING and self.now > r.deadline]
            if attempt or not expired:
                return None
            self._release(expired[0])
        return None

    def _draw_open(self, n: int, self_paid: bool = False) -> tuple[RentalG, str, tuple] | None:
        """The rental `n` draws (offer, parties, size, the model's cost) with the call that opens it,
        or None when the model says no open is possible now. Shared with the hostile-token machine."""
        o = self.g.offers[n % len(self.g.offers)]
        n //= 8
        renter, payer, broker, broker_bps = self._parties(n, o.max_broker_bps)
        payer = renter if self_paid else payer
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

    def _pending(self, n: int, self_paid: bool = False) -> RentalG | None:
        """A Pending rental still in its activation window (self-paid if asked); one is opened first if
        there is none."""
        pool = [r for r in self.g.rentals if r.status == PENDING and self.now <= r.deadline
                and (r.payer == r.renter or not self_paid)]
        return pool[n % len(pool)] if pool else self._open(n, self_paid)

    def _running(self, n: int, ok=None, self_paid: bool = False) -> RentalG | None:
        """An Active rental before its end (for which `ok` holds); else a Pending one (opened first if there
        is none) is activated now, if `ok` holds for it."""
        pool = [r for r in self.g.rentals if r.status == ACTIVE and self.now < r.ends and (ok is None or ok(r))]
        if pool:
            return pool[n % len(pool)]
        r = self._pending(n, self_paid) if self.PREPARE else None
        if r is None or (ok is not None and not ok(r)):
            return None
        self._activate(r)
        return r

    def _claimable(self, n: int) -> RentalG | None:
        """An Active or Ended rental with something left to claim, now or later; else one activated now."""
        pool = [r for r in self.g.rentals if r.status in (ACTIVE, ENDED) and r.claimed < r.total]
        return pool[n % len(pool)] if pool else self._running(n)

    def _accrue_some(self, r: RentalG, k: int) -> int:
        """What `r` has accrued once something is claimable: when nothing is yet, time moves to the first
        second at which the next unit accrues (a claim of one unit, on a low rate), half the time up to ten
        minutes further."""
        accrued = accrued_down(r.total, r.started, r.ends, self.now)
        if accrued == r.claimed:
            t = r.started + ceil_div((r.claimed + 1) * (r.ends - r.started), r.total) + k % 2 * (k // 2 % 600)
            self.s.chain.set_time(max(self.now, min(t, r.ends)))
            accrued = accrued_down(r.total, r.started, r.ends, self.now)
        return accrued

    @rule(n=N)
    def activate(self, n):
        n = self._n(n)
        r = self._pending(n)
        if r is not None:
            self._activate(r)

    def _activate(self, r: RentalG) -> None:
        if r.offer.provider == self.v.address:  # the operator activates through the vault, which tracks it
            self.s.vault.call(self.s.operator, "activate", r.id)
            self._prune()  # activation drops the closed rentals first
            self.v.tracked.append(r.id)
            if r.offer.token not in self.v.tokens:
                self.v.tokens.append(r.offer.token)
            self.vault_touched = True
            self._edge("rental activated through the vault")
        else:
            self.s.market.call(r.offer.provider, "activate", r.id)
        r.started, r.ends = self.now, self.now + r.hours * HOUR
        self._set_status(r, ACTIVE, "activate")
        self._touch(r)
        self._count("activate")

    @rule(n=N)
    def accrue_and_claim(self, n):
        """Anyone claims for the provider (time first moves to where something accrues, if nothing has).
        Named so that it sorts first among the rules: hypothesis pads examples (and its simplest draws)
        with the first rule in sort order, and this one always claims something."""
        n = self._n(n)
        r = self._claimable(n)
        if r is None:
            return
        accrued = self._accrue_some(r, n // 256)
        caller = [self._signer(r.offer.provider), self.s.stranger, r.renter, self.s.owner][n // 64 % 4]  # anyone
        (gross,) = self.s.market.call(caller, "claim", r.id)
        g, net, _, _ = self._claim_model(r, accrued)
        assert gross == g, f"claim paid {gross}, model {g}"
        self._pay(r.offer.token, r.offer.provider, net)
        self._touch(r)
        self._count("claim")

    claim = accrue_and_claim  # (registered once more under this name: see WEIGHTS)

    @rule(n=N)
    def claim_many(self, n):
        """Anyone claims several rentals at once: one with something accrued (time moves if need be), up to
        three more drawn from all rentals (duplicates and unclaimable ones are skipped by the contract)."""
        n = self._n(n)
        first = self._claimable(n)
        if first is None:
            return
        self._accrue_some(first, n // 64)
        k = len(self.g.rentals)
        picked = [first] + [self.g.rentals[(n >> (5 * j + 16)) % k] for j in range(n % 4)]
        expect = 0
        for r in picked:
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

    @rule(n=N)
    def extend(self, n):
        n = self._n(n)
        self._unpause()
        drawn = self._draw_extend(n)
        if drawn is None:
            return
        r, hours = drawn
        (cost,) = self.s.market.call(r.renter, "extend", r.id, hours)
        assert cost == r.total // r.hours * hours
        self._book_extend(r, hours, cost)
        self._count("extend")

    def _draw_extend(self, n: int) -> tuple[RentalG, int] | None:
        """A running self-funded rental that may grow (one is made if there is none) and the hours it is
        extended by, or None."""
        if self.paused:
            return None
        r = self._running(n, lambda r: r.payer == r.renter and r.offer.status == 1 and r.hours < r.offer.max_hours,
                          self_paid=True)
        if r is None:
            return None
        return r, n // 64 % min(48, r.offer.max_hours - r.hours) + 1

    def _book_extend(self, r: RentalG, hours: int, cost: int) -> None:
        r.total += cost
        r.deposit += cost
        r.hours += hours
        r.ends += hours * HOUR
        self._move(r.payer, r.offer.token, -cost)
        self._touch(r)
        self._edge("Active: extend")
        if not r.extended:
            r.extended = True
            STEP_COUNTER["rental:extended"] += 1

    @rule(n=N)
    def stop(self, n):
        """The renter stops a running rental: now, at a random second of it, in its first hour (where the
        bill is one hour at least) or at its last second (ends − 1), where the rounding of the bill matters."""
        n = self._n(n)
        mode, k = n // 64 % 4, n // 256
        first_hour = [r for r in self.g.rentals if r.status == ACTIVE and self.now < r.started + HOUR] if mode == 2 else []
        r = first_hour[k % len(first_hour)] if first_hour else self._running(n)
        if r is None:
            return
        span = r.ends - r.started
        self.s.chain.set_time(max(self.now, (self.now, r.started + k % span, r.started + k % min(HOUR, span),
                                             r.ends - 1)[mode]))
        (refund,) = self.s.market.call(r.renter, "stopRental", r.id)
        charge = stop_charge(r.total, r.started, self.now, r.hours, r.discount_bps)
        assert refund == r.total - charge, f"stop refunded {refund}, model {r.total - charge}"
        elapsed, rate = self.now - r.started, r.total // r.hours
        self._round("stop at a random second", mode == 1)
        self._round("stop in the first hour (1 h billed)", elapsed < HOUR)
        self._round("stop in the activation second", elapsed == 0)
        self._round("stop at the last second (ends − 1)", self.now == r.ends - 1)
        self._round("stop charge rounded up", charge < r.total and charge > rate
                    and rate * elapsed * BPS % (3600 * (BPS - r.discount_bps)) != 0)
        self._round("stop in mUSD (6 decimals)" if r.offer.token == self.s.usd.address else "stop in GPUC (18 decimals)")
        r.refunded += refund
        r.total, r.ends = charge, self.now
        self._set_status(r, ENDED, "stopRental")
        self._release_capacity(r)
        self._pay(r.offer.token, r.payer, refund)
        self._touch(r, r.offer)
        self._count("stopRental")

    def _cancel_model(self, r: RentalG, how: str = "cancelPending") -> None:
        late = self.now > r.deadline
        penalty = r.collateral * self.no_show_bps // BPS if late else 0
        self._round("no-show penalty rounded down", late and r.collateral * self.no_show_bps % BPS != 0)
        r.refunded += r.total
        self._pay(r.offer.token, r.payer, r.total)
        self._set_status(r, CANCELLED, f"{how} after the deadline: no-show penalty" if late else f"{how} in the window")
        self._release_capacity(r)
        self._unlock(r, penalty)
        self.g.slashed[r.offer.provider] += penalty
        self._move(r.renter, self.s.gpuc.address, penalty)

    @rule(n=N)
    def cancel(self, n):
        """The renter cancels a Pending rental (one is opened first if there is none): in its activation
        window, or a third of the time just after its deadline (the no-show penalty)."""
        n = self._n(n)
        r = self._pick(n, PENDING) or self._open(n)
        if r is None:
            return
        if n // 64 % 3 == 0 and self.now <= r.deadline:
            self.s.chain.set_time(r.deadline + 1)
        (refund,) = self.s.market.call(r.renter, "cancelPending", r.id)
        assert refund == r.total
        self._cancel_model(r)
        self._touch(r, r.offer, r.offer.provider)
        self._count("cancelPending")

    def _releasable_at(self, r: RentalG, settle: bool) -> int:
        if r.status == PENDING:
            return r.deadline + 1
        return r.ends + (self.dispute_window if settle or r.status == ENDED else 0)

    @rule(n=N)
    def release(self, n):
        """Anyone releases: a Pending rental past its deadline (a no-show), an Active one at its end (Ended),
        or after the dispute window (Settled). When none is releasable, time moves to the earliest second
        one is (half the time: its settlement); with no rental at all, one is opened first."""
        n = self._n(n)
        settle = n // 64 % 2 == 1
        due = [(self._releasable_at(r, settle), i, r) for i, r in enumerate(self.g.rentals)
               if r.status in (PENDING, ACTIVE, ENDED)]
        if not due:
            r = self._open(n)
            if r is None:
                return
            due = [(r.deadline + 1, 0, r)]
        ready = [r for at, _, r in due if at <= self.now]
        if ready:
            r = ready[n % len(ready)]
        else:
            at, _, r = min(due)
            self.s.chain.set_time(at)
        self._release(r)

    def _release(self, r: RentalG) -> None:
        """Anyone releases `r`, which is releasable now."""
        self.s.market.call(self.s.stranger, "release", r.id)
        if r.status == PENDING:
            self._cancel_model(r, "release")
        else:
            settle_at = r.ends + self.dispute_window
            if r.status == ACTIVE:
                self._release_capacity(r)
            if self.now >= settle_at:
                _, net, _, _ = self._claim_model(r, r.total, claim=False)
                self._pay(r.offer.token, r.offer.provider, net)
                self._unlock(r)
                self._set_status(r, SETTLED, "release" if r.status == ENDED else "release after the dispute window")
            else:
                self._set_status(r, ENDED, "release at its end")
        self._touch(r, r.offer, r.offer.provider)
        self._count("release")

    # ───────────────────────────── disputes ─────────────────────────────

    @rule(n=N)
    def dispute(self, n):
        """The renter disputes an Active or Ended rental in its dispute window (one is activated first if
        there is none)."""
        self._dispute(self._n(n))

    def _dispute(self, n: int) -> RentalG | None:
        pool = [r for r in self.g.rentals if r.status in (ACTIVE, ENDED) and self.now < r.ends + self.dispute_window]
        if n // 128 % 4 == 0:  # a quarter: an Active rental past its end (time moves to the first end if need be)
            late = [r for r in pool if r.status == ACTIVE and self.now >= r.ends]
            running = [r for r in pool if r.status == ACTIVE]
            if not late and running:
                late = [min(running, key=lambda r: r.ends)]
                self.s.chain.set_time(max(self.now, late[0].ends))
            pool = late or pool
        r = pool[n % len(pool)] if pool else self._running(n)
        if r is None:
            return None
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
            return None
        (got,) = self.s.market.call(r.renter, "dispute", r.id, b"\x07" * 32)
        assert got == bond, f"dispute bond {got}, model {bond}"
        self._round("dispute bond rounded up", total * 3600 * (self.arbitration_timeout + self.dispute_window)
                    % (max(ends - r.started, 3600) * self.dispute_window) != 0)
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
        how = ("running" if running else "after its end") if r.status == ACTIVE else \
            ("something frozen" if total > r.claimed else "nothing frozen")
        r.total, r.ends, r.bond = total, ends, bond
        self._set_status(r, DISPUTED, how)
        r.disputed_at, r.timeout_at = self.now, self.now + self.arbitration_timeout
        self._touch(r, r.offer)
        self._count("dispute")
        return r

    def _dispute_pull(self, r: RentalG, refund: int, bond: int) -> int:
        """What a dispute pulls from the renter: the bond, less the refund when the renter is the payer."""
        return max(0, bond - refund) if r.payer == r.renter else bond

    def _dispute_refused(self, r: RentalG, refund: int, bond: int) -> bool:
        """Whether the token refuses the bond's pull (the hostile-token machine checks the revert)."""
        return False

    def _resolve_model(self, r: RentalG, provider_gross: int, slash: int, lost: bool, how: str) -> None:
        refund = r.total - r.claimed - provider_gross
        _, net, _, _ = self._claim_model(r, r.claimed + provider_gross, claim=False)
        r.total = r.claimed
        r.refunded += refund
        self._pay(r.offer.token, r.offer.provider, net)
        self._pay(r.offer.token, r.payer, refund)
        self._pay(r.offer.token, r.renter if lost else r.offer.provider, r.bond)
        r.bond = 0
        to_treasury = slash * self.slash_treasury_bps // BPS
        self._round("slash split with a remainder", slash * self.slash_treasury_bps % BPS != 0)
        self._move(r.renter, self.s.gpuc.address, slash - to_treasury)
        self._move(self.s.treasury, self.s.gpuc.address, to_treasury)
        self.g.slashed[r.offer.provider] += slash
        self._unlock(r, slash)
        self._set_status(r, RESOLVED, how)

    @rule(n=N)
    def resolve(self, n):
        """The arbiter rules before the timeout, or anyone applies the default ruling after it (on a
        rental disputed now if none is Disputed)."""
        n = self._n(n)
        r = self._pick(n, DISPUTED) or self._dispute(n)
        if r is None:
            return
        if n // 32 % 3 == 0 and self.now < r.timeout_at:
            self.s.chain.set_time(r.timeout_at)  # the arbiter never rules
        if self.now < r.timeout_at:
            # Rulings for the provider (the whole escrow, no slash) and against it, about as often.
            k = n // 64
            share = (BPS, 0, k // 4 % (BPS + 1), BPS)[k % 4]
            slash = 0 if k // 40_004 % 2 else max(0, r.collateral * (k // 80_008 % 101) // 100 - k % 5)
            if r.total == r.claimed and k // 160_016 % 2:
                # Nothing frozen: half of these rulings are the edge where only the bond decides who
                # lost (a ruling below 100 % without a slash is still a loss).
                share, slash = k // 320_032 % BPS, 0
            self.s.market.call(self.s.arbiter, "resolveDispute", r.id, share, slash)
            frozen = r.total - r.claimed
            self._round("ruling share rounded down", frozen * share % BPS != 0)
            self._resolve_model(r, frozen * share // BPS, slash, share < BPS or slash > 0, "arbiter")
            self._count("resolveDispute")
        else:
            self.s.market.call(self.s.stranger, "applyDefaultRuling", r.id)
            self._resolve_model(r, r.total - r.claimed, 0, False, "default ruling")
            self._count("applyDefaultRuling")
        self._touch(r, r.offer, r.offer.provider)

    # ───────────────────────────── fees ─────────────────────────────

    @rule(n=N)
    def withdraw(self, n):
        """The treasury's fees (anyone triggers) or a broker's credits, among those there are; with none,
        a withdrawal that must revert (`MarketNoFees`)."""
        n = self._n(n)
        owed = [(None, t) for t, v in self.g.protocol_fees.items() if v]
        owed += [(b, t) for (b, t), v in self.g.credits.items() if v]
        if not owed:
            token = (self.s.usd if n % 2 else self.s.gpuc).address
            b = self.s.brokers[n // 2 % 2]
            if n // 4 % 2:
                self._expect_revert("MarketNoFees", {"account": self.s.treasury, "token": token}, self.s.market,
                                    self.s.stranger, "withdrawProtocolFees", token)
            else:
                self._expect_revert("MarketNoFees", {"account": b, "token": token}, self.s.market, b,
                                    "withdrawCredits", token)
            return
        b, token = owed[n % len(owed)]
        if b is None:
            amount = self.g.protocol_fees[token]
            (got,) = self.s.market.call(self.s.stranger, "withdrawProtocolFees", token)
            assert got == amount
            self.g.protocol_fees[token] = 0
            self._move(self.s.treasury, token, amount)
            self._count("withdrawProtocolFees")
        else:
            amount = self.g.credits[(b, token)]
            (got,) = self.s.market.call(b, "withdrawCredits", token)
            assert got == amount
            self.g.credits[(b, token)] = 0
            self._move(b, token, amount)
            self._count("withdrawCredits")

    # ───────────────────────────── owner ─────────────────────────────

    @rule(n=N)
    def admin(self, n):
        """The owner: pause (a paused market is unpaused by the next admin step, or by a rule that needs it
        unpaused), fee, stake per GPU, dispute window, arbitration timeout, no-show penalty."""
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
            self.stake_per_gpu = (value % 301) * GPUC + value // 301 % 3  # not always round: penalties round
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

    @precondition(lambda self: any(r.status not in TERMINAL for r in self.g.rentals))
    @rule(n=N)
    def exit_under_pause(self, n):
        """7. Pause never traps funds: with the market paused, an exit path (stop, cancel, claim,
        release, dispute, ruling) on a rental must still go through (a revert fails the run). The rule
        it runs opens no rental under the pause (`pinned_pause`): it acts on the rentals there are."""
        n = self._n(n)
        was_paused = self.paused
        if not was_paused:
            self.s.market.call(self.s.owner, "pause")
            self.paused = True
        exits = [self.stop, self.cancel, self.claim, self.release, self.dispute]
        exits += [self.resolve] * any(r.status == DISPUTED for r in self.g.rentals)  # (no dispute in its preparation)
        did, self.did, self.pinned_pause = self.did, False, True
        try:
            exits[n % len(exits)](n // 6)
        finally:
            self.pinned_pause = False
        if not was_paused:
            self.s.market.call(self.s.owner, "unpause")
            self.paused = False
        if self.did:
            self._count("exitUnderPause")
        self.did |= did

    # ───────────────────────────── time ─────────────────────────────

    @rule(n=N)
    def warp(self, n):
        """Time passes: while a rental runs, up to an hour at most (rentals live for many steps); else from
        one second to three weeks, mostly short."""
        n = self._n(n)
        if any(r.status == ACTIVE and self.now < r.ends for r in self.g.rentals):
            scale = (60, 600, HOUR)[n % 3]
        else:
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

    #: `bad_call`'s kinds (see `_bad`): wrong roles (0–4), a terminal rental (5), a slash above the
    #: collateral (6), and the rest of the errors a caller can trigger on the market, the registry, the
    #: vault and the factory (7–). README: the error table; `UNREACHABLE_ERRORS`: those no caller can.
    BAD_KINDS = 42

    @rule(n=N)
    def bad_call(self, n):
        """A deliberately invalid call: it must revert with the expected custom error and all its
        arguments, and the invariants after the step show it left no trace. The draw orders the kinds;
        the first one the state allows is made (so nearly every step makes one)."""
        n = self._n(n)
        for kind in sorted(range(self.BAD_KINDS), key=lambda j: _mix(n, j)):
            bad = self._bad(kind, _mix(n, kind + 1000) >> 8)
            if bad is not None:
                name, inputs, contract, caller, fn, *args = bad
                self._expect_revert(name, inputs, contract, caller, fn, *args)
                return

    def _bad(self, kind: int, k: int) -> tuple | None:
        """The invalid call of `kind` the state allows now: (error, its arguments, contract, caller,
        function, args...), or None. Setting it up may make valid calls (time moves, a pause)."""
        s, m, reg = self.s, self.s.market, self.s.registry
        if kind == 0:  # 8: only the renter stops, extends, cancels, disputes
            r = self._pick(k, ACTIVE, PENDING)
            if r is None or (self.paused and r.status == ACTIVE and k // 256 % 3 == 2):
                return None
            caller = [self._signer(r.offer.provider), s.stranger, s.arbiter, s.owner][k // 64 % 4]
            fn, *args = (("cancelPending", r.id) if r.status == PENDING else
                         [("stopRental", r.id), ("dispute", r.id, b"\0" * 32), ("extend", r.id, 1)][k // 256 % 3])
            return ("MarketNotRenter", {"rentalId": r.id, "caller": caller}, m, caller, fn, *args)
        if kind == 1:  # 8: only the provider activates
            r = self._pick(k, PENDING) or self._open(k)
            return r and ("MarketNotProvider", {"rentalId": r.id, "caller": r.renter}, m, r.renter, "activate", r.id)
        if kind == 2:  # 8: only the arbiter resolves
            r = self._disputed(k)
            caller = r and [r.renter, self._signer(r.offer.provider), s.owner][k // 64 % 3]
            return r and ("MarketNotArbiter", {"caller": caller}, m, caller, "resolveDispute", r.id, BPS, 0)
        if kind == 3:  # 8: only the owner configures (the market and the registry)
            c, fn, args = [(m, "pause", ()), (m, "setProtocolFee", (0,)), (m, "setTreasury", (s.stranger,)),
                           (reg, "setMinStake", (0,)), (reg, "setMarket", (s.stranger,))][k % 5]
            caller = [s.stranger, s.arbiter, s.providers[0]][k // 5 % 3]
            return ("OwnableUnauthorizedAccount", {"account": caller}, c, caller, fn, *args)
        if kind == 4:  # 8: only the market moves collateral
            p = s.providers[k % 3]
            return ("RegistryCallerNotMarket", {"caller": p}, reg, p, ("lock", "unlock")[k // 3 % 2], p, 1)
        if kind == 5:  # 4: terminal states are absorbing
            r = self._pick(k, *TERMINAL)
            if r is None:
                return None
            fn, name = [("claim", "MarketRentalNotClaimable"), ("release", "MarketRentalNotReleasable"),
                        ("stopRental", "MarketRentalNotActive"), ("activate", "MarketRentalNotPending"),
                        ("dispute", "MarketRentalNotDisputable"), ("applyDefaultRuling", "MarketRentalNotDisputed")
                        ][k // 64 % 6]
            caller = {"stopRental": r.renter, "activate": self._signer(r.offer.provider), "dispute": r.renter
                      }.get(fn, s.stranger)
            inputs = {"rentalId": r.id, "status": r.status}
            if fn == "release":
                inputs["releasableAt"] = 0  # a terminal rental is never releasable
            return (name, inputs, m, caller, fn, r.id, *((b"\0" * 32,) if fn == "dispute" else ()))
        if kind in (6, 41):  # 5: a ruling cannot slash more than the rental's collateral (6), nor give more than all
            r = self._disputed(k)
            if r is None or self.now >= r.timeout_at:
                return None
            if kind == 41:
                share = BPS + 1 + k // 128 % BPS
                return ("MarketInvalidShare", {"providerShareBps": share}, m, s.arbiter, "resolveDispute", r.id, share, 0)
            slash = r.collateral + 1 + k // 128 % 10**18
            return ("MarketSlashAboveCollateral", {"rentalId": r.id, "slashAmount": slash, "collateral": r.collateral},
                    m, s.arbiter, "resolveDispute", r.id, 0, slash)
        if kind == 7:  # a ruling's clock: the arbiter after the timeout, the default ruling before it
            r = self._disputed(k)
            if r is None:
                return None
            t = {"rentalId": r.id, "timeoutAt": r.timeout_at}
            if k // 64 % 3 == 0:
                self.s.chain.set_time(max(self.now, r.timeout_at))
            if self.now >= r.timeout_at:
                return ("MarketArbitrationTimedOut", t, m, s.arbiter, "resolveDispute", r.id, BPS, 0)
            return ("MarketArbitrationPending", t, m, s.stranger, "applyDefaultRuling", r.id)
        if kind == 8:  # activation after the deadline (time moves past it)
            pool = [r for r in self.g.rentals if r.status == PENDING and r.offer.provider != self.v.address
                    and (self.now > r.deadline or k % 4 == 0)]  # now and then time moves: every Pending one expires
            r = pool[k // 4 % len(pool)] if pool else None
            if r is None:
                return None
            self.s.chain.set_time(max(self.now, r.deadline + 1))
            return ("MarketActivationExpired", {"rentalId": r.id, "activationDeadline": r.deadline}, m,
                    r.offer.provider, "activate", r.id)
        if kind == 9:  # a claim with nothing accrued since the last one
            pool = [r for r in self.g.rentals if r.status in (ACTIVE, ENDED)
                    and accrued_down(r.total, r.started, r.ends, self.now) == r.claimed]
            r = pool[k % len(pool)] if pool else None
            return r and ("MarketNothingToClaim", {"rentalId": r.id}, m, s.stranger, "claim", r.id)
        if kind == 10:  # stop or extend an Active rental past its end
            pool = [r for r in self.g.rentals if r.status == ACTIVE and self.now >= r.ends]
            if not pool and k % 4 == 0:  # time moves to the end of a running rental
                pool = [r for r in self.g.rentals if r.status == ACTIVE]
                if pool:
                    self.s.chain.set_time(max(self.now, pool[k // 4 % len(pool)].ends))
            r = pool[k // 4 % len(pool)] if pool else None
            return r and ("MarketRentalEnded", {"rentalId": r.id, "endsAt": r.ends}, m, r.renter, "stopRental", r.id)
        if kind == 11:  # extend a rental someone else pays for, or by hours beyond the offer's bounds
            if self.paused:
                return None
            pool = [r for r in self.g.rentals if r.status == ACTIVE and self.now < r.ends and r.offer.status == 1]
            r = pool[k % len(pool)] if pool else None
            if r is None:
                return None
            if r.payer != r.renter:
                return ("MarketExtensionNotSelfFunded", {"rentalId": r.id, "payer": r.payer}, m, r.renter, "extend",
                        r.id, 1)
            room = max(r.offer.max_hours - r.hours, 0)
            hours = (0, room + 1 + k // 64 % 100)[k // 32 % 2]
            return ("MarketInvalidHours", {"hoursRequested": hours, "minHours": 1, "maxHours": room}, m, r.renter,
                    "extend", r.id, hours)
        if kind == 12:  # a dispute after the window, or of a rental that did not run
            pool = [r for r in self.g.rentals if r.status in (ACTIVE, ENDED) and self.now >= r.ends + self.dispute_window]
            if not pool and k % 4 == 0:  # time moves past the window of the rental that closes first
                closing = [r for r in self.g.rentals if r.status in (ACTIVE, ENDED)]
                if closing:
                    r = min(closing, key=lambda r: r.ends)
                    self.s.chain.set_time(r.ends + self.dispute_window)
                    pool = [r]
            if pool:
                r = pool[k % len(pool)]
                return ("MarketDisputeWindowClosed", {"rentalId": r.id, "closedAt": r.ends + self.dispute_window}, m,
                        r.renter, "dispute", r.id, b"\0" * 32)
            r = self._pick(k, PENDING, DISPUTED)
            return r and ("MarketRentalNotDisputable", {"rentalId": r.id, "status": r.status}, m, r.renter, "dispute",
                          r.id, b"\0" * 32)
        if kind == 13:  # a ruling on a rental that is not Disputed
            r = self._pick(k, PENDING, ACTIVE, ENDED)
            return r and ("MarketRentalNotDisputed", {"rentalId": r.id, "status": r.status}, m, s.stranger,
                          "applyDefaultRuling", r.id)
        if 14 <= kind <= 21:  # opens that the offer's terms refuse
            return None if self.paused else self._bad_open(kind, k)
        if kind == 22:  # the pause: an open under it, a pause twice (the owner pauses first), an unpause of a
            # running market; the pause stays until a rule needs the market running
            o = self.g.offers[k % len(self.g.offers)]
            if not self.paused and k // 8 % 3 == 0:
                return ("ExpectedPause", {}, m, s.owner, "unpause")
            if not self.paused:
                m.call(s.owner, "pause")
                self.paused = True
                self._count("pause/unpause")
            return [("EnforcedPause", {}, m, s.renters[0], "openRental", o.id, 1, 1, o.price, ZERO, 0),
                    ("EnforcedPause", {}, m, s.owner, "pause")][k // 8 % 2]
        if kind == 23:  # the owner's bounds
            fn, value, lo, hi = [("setProtocolFee", 1001, 0, 1000), ("setStakePerGpu", 10**24 + 1, 0, 10**24),
                                 ("setDisputeWindow", HOUR - 1, HOUR, 30 * 86_400),
                                 ("setNoShowPenalty", BPS + 1, 0, BPS)][k % 4]
            value += k // 4 % 1000 * (1 if value > hi else 0)
            return ("MarketParameterOutOfBounds", {"value": value, "min": lo, "max": hi}, m, s.owner, fn, value)
        if kind == 24:  # no renouncing, no zero treasury, no zero renter
            return [("MarketRenounceDisabled", {}, m, s.owner, "renounceOwnership"),
                    ("RegistryRenounceDisabled", {}, reg, s.owner, "renounceOwnership"),
                    ("MarketZeroAddress", {}, m, s.owner, "setTreasury", ZERO),
                    ("RegistryMarketAlreadySet", {"market": m.address}, reg, s.owner, "setMarket", s.stranger),
                    ("RegistryParameterOutOfBounds", {"value": 10**27 + 1, "min": 0, "max": 10**27}, reg, s.owner,
                     "setMinStake", 10**27 + 1)][k % 5]
        if 25 <= kind <= 29:
            return self._bad_offer(kind, k)
        if 30 <= kind <= 33:
            return self._bad_stake(kind, k)
        return self._bad_vault(kind, k)

    def _disputed(self, k: int) -> RentalG | None:
        """A Disputed rental (rulings come soon after disputes: half the time one is disputed first)."""
        return self._pick(k, DISPUTED) or (self._dispute(k) if k % 2 and not self.pinned_pause else None)

    def _bad_open(self, kind: int, k: int) -> tuple | None:
        """An open (unpaused market) that the checks of the offer's terms refuse."""
        s, m = self.s, self.s.market
        pool = [o for o in self.g.offers if o.status == 1 and o.offered > o.in_use]
        if not pool:
            return None
        o = pool[k % len(pool)]
        renter = s.renters[k // 8 % 3]
        args = dict(gpus=1, hours=1, broker=ZERO, bps=0)
        if kind == 14:  # a provider renting its own offer
            if o.provider == self.v.address:
                return None
            renter = o.provider
            err = ("MarketSelfRental", {"offerId": o.id, "provider": o.provider})
        elif kind == 15:
            args["gpus"] = 0
            err = ("MarketInvalidGpuCount", {"gpus": 0})
        elif kind == 16:  # hours outside the offer's bounds
            args["hours"] = o.max_hours + 1 + k // 64 % 100
            err = ("MarketInvalidHours", {"hoursRequested": args["hours"], "minHours": 1, "maxHours": o.max_hours})
        elif kind == 17:  # a broker's cut without a broker, or above the offer's maximum
            if o.max_broker_bps < 1000 and k // 64 % 2:
                args.update(broker=s.brokers[0], bps=o.max_broker_bps + 1 + k // 128 % 100)
                err = ("MarketBrokerBpsAboveMax", {"brokerBps": args["bps"], "maxBrokerBps": o.max_broker_bps})
            else:
                args["bps"] = 1 + k // 128 % 1000
                err = ("MarketInvalidBroker", {"broker": ZERO, "brokerBps": args["bps"]})
        elif kind == 18:  # an offer that does not exist
            oid = max(x.id for x in self.g.offers) + 1 + k // 64 % 10
            return ("MarketOfferNotFound", {"offerId": oid}, m, renter, "openRental", oid, 1, 1, 10**30, ZERO, 0)
        elif kind == 19:  # more GPUs than are free
            args["gpus"] = o.offered - o.in_use + 1 + k // 64 % 4
            err = ("MarketInsufficientCapacity", {"offerId": o.id, "available": o.offered - o.in_use,
                                                  "requested": args["gpus"]})
        elif kind == 20:  # a price above the renter's maximum
            r = self._rental_for(o, renter, renter, ZERO, 0, 1, 1)
            return ("MarketPriceAboveMax", {"offerId": o.id, "price": r.total, "maxPrice": r.total - 1}, m, renter,
                    "openRental", o.id, 1, 1, r.total - 1, ZERO, 0)
        elif k // 64 % 2:  # 21: no renter
            return ("MarketZeroAddress", {}, m, s.payers[0], "openRentalFor", ZERO, o.id, 1, 1, o.price, ZERO, 0)
        else:  # 21: a cluster of nothing
            return ("MarketClusterEmpty", {}, m, renter, "bookCluster", renter, 1, [], [], 0, ZERO, 0)
        return (*err, m, renter, "openRental", o.id, args["gpus"], args["hours"], 10**30, args["broker"], args["bps"])

    def _bad_offer(self, kind: int, k: int) -> tuple | None:
        """Offers: creation with terms out of bounds, by a non-provider; someone else's offer; a closed one;
        a resume of an Active one; GPUs offered below those in use."""
        s, m = self.s, self.s.market
        p = s.providers[k % 3]
        if kind == 25:  # terms out of bounds (needs an active provider and no pause)
            if self.paused or not self._active_provider(p):
                return None
            terms = ["H100", "AU", s.usd.address, 100, 1, 1, 10, ZERO, 0, []]
            j = k // 4 % 8
            err = [("MarketInvalidPrice", {"price": 0}, 3, 0), ("MarketInvalidGpuCount", {"gpus": 0}, 4, 0),
                   ("MarketInvalidHourBounds", {"minHours": 5, "maxHours": 4}, 5, 5),
                   ("MarketBrokerBpsAboveMax", {"brokerBps": 1001, "maxBrokerBps": 1000}, 8, 1001),
                   ("MarketInvalidLabel", {"length": 0}, 0, ""), ("MarketInvalidLabel", {"length": 33}, 1, "x" * 33),
                   ("MarketTokenNotAllowed", {"token": s.stranger}, 2, s.stranger),
                   ("MarketInvalidTiers", {"index": 1}, 9, [(24, 500), (12, 600)])][j]
            terms[err[2]] = err[3]
            if j == 2:
                terms[6] = 4
            return (err[0], err[1], m, p, "createOffer", tuple(terms))
        if kind == 26:  # a creator that is no provider
            return ("MarketProviderNotActive", {"provider": s.stranger}, m, s.stranger, "createOffer",
                    ("H100", "AU", s.usd.address, 100, 1, 1, 10, ZERO, 0, [])) if not self.paused else None
        o = self.g.offers[k % len(self.g.offers)]
        if kind == 27:  # someone else's offer
            caller = next(x for x in (*s.providers, s.stranger) if x != o.provider and x != self._signer(o.provider))
            return ("MarketNotOfferProvider", {"offerId": o.id, "caller": caller}, m, caller, "pauseOffer", o.id)

        def call(name, inputs, fn, *args):  # by the offer's provider (the vault's: through its operator)
            if o.provider != self.v.address:
                return (name, inputs, m, o.provider, fn, *args)
            return (name, inputs, s.vault, s.operator, "callMarket", self._market_calldata(fn, *args))
        if kind == 28:  # a closed offer cannot change; an Active one cannot resume
            closed = [x for x in self.g.offers if x.status == 3]
            idle = [x for x in self.g.offers if x.status != 3 and x.in_use == 0]
            if not closed and idle and k // 8 % 8 == 0:  # its provider closes an idle offer first
                closed = [idle[k // 64 % len(idle)]]
                self._set_offer_status(closed[0], "closeOffer")
            if closed and k // 8 % 2:
                o = closed[k // 16 % len(closed)]
            if o.status == 3:
                return call("MarketOfferClosed", {"offerId": o.id}, "resumeOffer", o.id)
            if o.status == 1:
                return call("MarketOfferNotPaused", {"offerId": o.id, "status": 1}, "resumeOffer", o.id)
            return call("MarketOfferNotActive", {"offerId": o.id, "status": 2}, "pauseOffer", o.id)
        # 29: fewer GPUs offered than are in use (at least one: none is MarketInvalidGpuCount)
        if o.status == 3 or o.in_use < 2:
            return None
        return call("MarketGpusOfferedBelowInUse", {"offerId": o.id, "gpusInUse": o.in_use, "gpusOffered": o.in_use - 1},
                    "updateOffer", o.id, o.price, o.in_use - 1, 1, o.max_hours, ZERO, o.max_broker_bps, list(o.tiers))

    def _bad_stake(self, kind: int, k: int) -> tuple | None:
        """The registry: a zero stake, an unbond above the free stake, nothing unbonding, too early, a second
        registration, a stake by someone not registered."""
        s, reg = self.s, self.s.registry
        p = s.providers[k % 3]
        if kind == 30:
            return [("RegistryZeroAmount", {}, reg, p, "stake", 0),
                    ("RegistryNotRegistered", {"provider": s.stranger}, reg, s.stranger, "stake", 1),
                    ("RegistryAlreadyRegistered", {"provider": p}, reg, p, "register", "again")][k // 3 % 3]
        if kind == 31:
            free = self._free(p)
            return ("RegistryInsufficientFreeStake", {"provider": p, "free": free, "needed": free + 1 + k // 3 % GPUC},
                    reg, p, "requestUnbond", free + 1 + k // 3 % GPUC)
        if kind == 32:
            if not self.g.unbonding[p] and self._free(p) and k // 6 % 2:  # the provider requests an unbond first
                self._unbond(p, 1 + k // 12 % self._free(p))
            if self.g.unbonding[p]:
                if self.now >= self.g.ready_at[p]:
                    return None
                return ("RegistryUnbondingNotReady", {"provider": p, "readyAt": self.g.ready_at[p], "nowTime": self.now},
                        reg, p, "withdrawUnbonded")
            return ("RegistryNothingUnbonding", {"provider": p}, reg, p, ("cancelUnbond", "withdrawUnbonded")[k // 3 % 2])
        # 33: an open on a provider without the stake for it: not active (a drained vault, a provider that
        # unbonded all it could), or not enough free stake
        if self.paused:
            return None
        pool = [o for o in self.g.offers if o.status == 1 and o.offered > o.in_use
                and (not self._active_provider(o.provider) or self._free(o.provider) < self.stake_per_gpu)]
        if not pool and k // 3 % 8 == 0:  # a provider of an offer unbonds all its free stake first
            pool = [o for o in self.g.offers if o.status == 1 and o.offered > o.in_use and self._free(o.provider)
                    and o.provider != self.v.address]
            pool.sort(key=lambda o: self.g.locked[o.provider])  # the least locked: it may fall below the minimum
            if pool:
                pool = pool[:1]
                self._unbond(pool[0].provider, self._free(pool[0].provider))
        if not pool or not (not self._active_provider(pool[k % len(pool)].provider)
                            or self._free(pool[k % len(pool)].provider) < self.stake_per_gpu):
            return None
        o = pool[k % len(pool)]
        p = o.provider
        bonded = self.g.staked[p] - self.g.unbonding[p]
        if not self._active_provider(p):
            err = ("RegistryProviderNotActive", {"provider": p, "bonded": bonded, "minStake": self.min_stake})
        else:
            err = ("RegistryInsufficientFreeStake", {"provider": p, "free": self._free(p), "needed": self.stake_per_gpu})
        return (*err, self.s.market, s.renters[0], "openRental", o.id, 1, 1, 10**30, ZERO, 0)

    def _bad_vault(self, kind: int, k: int) -> tuple | None:
        """The vault and its factory: a non-operator, a call it does not pass on, a commission above the
        maximum, redemptions out of order, shares to the vault, synchronous redemption, a second vault."""
        s, v, vault = self.s, self.v, self.s.vault
        who = s.investors[k % 3]
        if kind == 34:
            caller = [s.stranger, who, s.providers[0]][k // 3 % 3]
            return [("VaultNotOperator", {"caller": caller}, vault, caller, "proposeCommission", 0),
                    ("VaultCommissionAboveMax", {"bps": 5001 + k // 9 % 5000, "maxBps": 5000}, vault, s.operator,
                     "proposeCommission", 5001 + k // 9 % 5000)][k // 9 % 2]
        if kind == 35:  # the operator's calls through the vault: offer management only
            data = self._market_calldata("withdrawCredits", s.usd.address)
            return ("VaultCallNotAllowed", {"selector": data[:4]}, vault, s.operator, "callMarket", data)
        if kind == 36:  # redemption out of order
            have = v.shares.get(who, 0)
            b = v.batches.get(v.queued)
            options = [("VaultInvalidRedeem", {"shares": have + 1 + k // 3 % 10**6, "balance": have}, vault, who,
                        "requestRedeem", have + 1 + k // 3 % 10**6, who),
                       ("VaultZeroAddress", {}, vault, who, "requestRedeem", 1, ZERO)]
            if v.unbonding:
                ready = v.batches[v.unbonding][2]
                options[:0] = [("VaultBatchInFlight", {"batch": v.unbonding, "readyAt": ready}, vault, s.stranger,
                                "startBatch")] * 3
                if self.now < ready:
                    options.append(("VaultBatchNotReady", {"batch": v.unbonding, "readyAt": ready}, vault, s.stranger,
                                    "finishBatch"))
            else:
                options.append(("VaultBatchNotReady", {"batch": 0, "readyAt": 0}, vault, s.stranger, "finishBatch"))
                if b is None or b[0] == 0:
                    options.append(("VaultNothingQueued", {}, vault, s.stranger, "startBatch"))
            waiting = [i for i, q in v.requests.items() if not v.batches[q[3]][3]]
            if waiting:
                rid = waiting[k // 3 % len(waiting)]
                options.append(("VaultRequestNotClaimable", {"requestId": rid, "batch": v.requests[rid][3]}, vault,
                                s.stranger, "claimRedemption", rid))
            return options[k // 7 % len(options)]
        if kind == 37:  # shares never go to the vault; transfers within the balance and allowance
            have = v.shares.get(who, 0)
            return [("VaultSharesToTheVault", {}, vault, who, "transfer", v.address, 0),
                    ("ERC20InsufficientBalance", {"sender": who, "balance": have, "needed": have + 1}, vault, who,
                     "transfer", s.investors[(k + 1) % 3], have + 1),
                    ("ERC20InsufficientAllowance", {"spender": s.stranger, "allowance": 0, "needed": 1}, vault,
                     s.stranger, "transferFrom", who, s.stranger, 1),
                    ("ERC20InvalidReceiver", {"receiver": ZERO}, vault, who, "transfer", ZERO, 0),
                    ("ERC20InvalidSpender", {"spender": ZERO}, vault, who, "approve", ZERO, 1)][k // 3 % 5]
        if kind == 38:  # redemption is asynchronous only
            return ("VaultRedeemIsAsync", {}, vault, who, ("redeem", "withdraw")[k // 3 % 2], 1, who, who)
        if kind == 40:  # a batch worth more than the vault's free stake waits (now and then: every backer
            # requests the redemption of all its shares first, which drains the vault once it goes through)
            if v.unbonding or k % 4 or not self.g.locked[v.address]:
                return None
            for backer in (*s.investors, s.operator):
                if v.shares.get(backer, 0):
                    self._request_redeem(backer, v.shares[backer])
            needed, free = self._assets_for(v.batches[v.queued][0]), self._free(v.address)
            return ("VaultRedemptionWaitsForCollateral", {"needed": needed, "free": free}, vault, s.stranger,
                    "startBatch") if needed > free else None
        # 39: one vault per operator
        return ("VaultFactoryOperatorHasVault", {"operator": s.operator, "vault": v.address}, s.factory, s.operator,
                "create", 0, "Vault", "V", "ipfs://vault")

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


# Hypothesis picks uniformly among the rules whose preconditions hold, so a rule's weight is how often it
# is registered: the money paths most, configuration least (admin and offer_ops: a few % of the steps).
# Every rule finds or prepares something to do (see the rental rules), so the weights are the shares.
# The aliases are `<rule>_2`, `<rule>_3`, …; hypothesis prints the rule's own name in a shrunk example.
WEIGHTS = {
    "accrue_and_claim": 11, "fill_signed": 5, "extend": 5, "claim_many": 4, "withdraw": 4, "resolve": 4, "stop": 4,
    "release": 4, "book_cluster": 4, "cancel": 4, "vault_redeem": 4, "bad_call": 3, "open_rental": 2, "dispute": 2,
    "bad_signed": 2,
}
ALIASES = [f"{name}_{i}" for name, w in WEIGHTS.items() for i in range(2, w + 1)]
for _alias in ALIASES:
    setattr(MarketMachine, _alias, getattr(MarketMachine, _alias.rsplit("_", 1)[0]))


def run_seeded(seed: int | None, test_settings) -> None:
    """Runs the machine's hypothesis test with `test_settings` from `seed` (None: hypothesis draws one).
    Hypothesis reads a state machine's seed from the machine's class; one put on TestCase.runTest is
    ignored. The counters of the run are STEP_COUNTER's growth."""
    MarketMachine.TestCase.settings = test_settings
    _seed(seed)(MarketMachine)
    MarketMachine.TestCase("runTest").runTest()
