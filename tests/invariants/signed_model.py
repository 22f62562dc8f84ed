"""Signed offers and cluster bookings in the settlement machine: the offers the providers sign, the
ghost of what the market knows of each one, the rules that sign, fill, cancel and book clusters,
and their invariants (tests/invariants/README.md).

- **The catalog.** Each signer (the three providers, and the vault through its operator's key) has
  `CATALOG` offers whose terms are fixed functions of their index: both tokens, prices, 1 to 16 GPUs,
  hour bounds, volume tiers, broker caps, some reserved for one renter, expiries from two hours to a
  year after the example's start, nonces 0 to CATALOG − 1. Terms, digests and signatures are made
  once per deployment and process (a signature costs ≈ 3 ms in pure Python; a step ≈ 0.2 ms), so the
  rules only pick from them.
- **The ghost.** `SignedG` per published offer: its entry (terms, digest), whether its provider
  cancelled it, and its record (an `OfferG`, id 0 until the first fill gives it the next id above
  SIGNED_OFFER_ID_BASE). Capacity is the record's: `offered` = the signed GPUs, `in_use` = the GPUs
  of its Pending and Active rentals, across every fill of the same digest. The providers' nonce
  floors.
- **Rules** make valid calls only (a revert is a finding): publish, fill (self-paid or by a payer,
  with or without a broker, at the offer's last second now and then, with an empty signature now and
  then once recorded), cancel, raise the floor, book clusters of on-chain and signed parts from
  several providers with the exact cap. `bad_signed` makes invalid ones that must revert with the
  named error and its arguments, and checks that the call left no trace (`_trace`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from eth_abi import encode
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from gpumarket.signed import Domain, SignedOffer, digest, sign_digest
from rental_model import BPS, ceil_div
from system import ZERO

HOUR, DAY = 3600, 86_400
N = st.integers(0, 2**32)  # as in machine.py: one draw per rule
SIGNED_OFFER_ID_BASE = 1_000_000_000
CATALOG = 12  # offers per signer
EXPIRIES = (2 * HOUR, 36 * HOUR, 10 * DAY, 400 * DAY)  # after the example's start
PUBLISHED_MAX = 10  # signed offers published per example
CLUSTER_HOURS = (1, 2, 5, 12, 24, 48, 100)  # a cluster's hours
#: Published when an example starts (signer, index): provider 0's mUSD offer with tiers that expires
#: in two hours, provider 1's GPUC offer, provider 2's year-long offer of 16 GPUs, two of the vault's
#: (one of them reserved for the second renter).
STARTING_OFFERS = ((0, 0), (1, 2), (2, 9), (3, 6), (3, 7))
HOLDS_CAPACITY = (1, 2)  # Pending, Active
ACTIVE_OFFER, PAUSED_OFFER, CLOSED_OFFER = 1, 2, 3


def _scramble(n: int, k: int) -> int:
    """Another draw out of `n` for the `k`-th try of a rule (splitmix64 of both)."""
    z = (n + (k + 1) * 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    return z ^ (z >> 27)


class _Draw:
    """Parameters out of one rule's draw: `d(k)` is the next value in [0, k)."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, k: int) -> int:
        v = self.n % k
        self.n //= k
        return v


@dataclass(eq=False)
class Entry:
    """One offer of a signer's catalog."""

    label: str  # "p0.3": provider 0's offer 3; "vault.5": the vault's (its operator signs)
    offer: SignedOffer
    hash: bytes  # its EIP-712 digest in the system's domain
    key: bytes  # the signer's private key
    args: tuple = ()  # the `Offer.Signed` argument


@dataclass(eq=False)
class SignedG:
    """A published signed offer, as the market should know it."""

    entry: Entry
    o: object  # its record (machine.OfferG): id 0 until the first fill
    cancelled: bool = False


_SIGNATURES: dict[tuple[bytes, bytes], bytes] = {}  # (key, digest) -> signature, for the whole process
_CATALOGS: dict[tuple, list[list[Entry]]] = {}  # per deployment
_DIGESTS: dict[tuple, bytes] = {}  # digests of altered offers or other domains


def signature(key: bytes, h: bytes) -> bytes:
    sig = _SIGNATURES.get((key, h))
    if sig is None:
        sig = _SIGNATURES[(key, h)] = sign_digest(key, h)
    return sig


def _terms(s, provider: str, j: int) -> SignedOffer:
    """Offer `j` of a signer's catalog (the same for every signer, but for the provider)."""
    gpuc = j % 3 == 2
    price = (1_950_000, 1_000_000, 3_333_333, 777_777)[j % 4] * (10**12 if gpuc else 1)
    return SignedOffer(
        provider=provider, gpu_model="H100-SXM-80GB", region=("AU-QLD", "EU-FRA")[j % 2],
        payment_token=(s.gpuc if gpuc else s.usd).address, price_per_gpu_hour=price, gpus=(4, 8, 2, 16, 1, 6)[j % 6],
        min_hours=2 if j % 5 == 3 else 1, max_hours=(200, 72, 500, 24)[j % 4], expiry=s.start_time + EXPIRIES[j // 3 % 4],
        nonce=j, reserved_for=s.renters[j // 4 % 3] if j % 4 == 3 else ZERO, max_broker_bps=(500, 0, 1000)[j // 4 % 3],
        tiers=((24, 250), (96, 500)) if j % 3 == 0 else ())


def catalog(s) -> list[list[Entry]]:
    """Every signer's catalog in system `s`: the providers', then the vault's. Made once per deployment
    (digests depend on the domain and the vault's address, expiries on the start time); the signatures
    are made here too, and named (with the digests) in `s.names` for the anvil replay."""
    key = (s.domain, s.vault.address, s.start_time)
    cat = _CATALOGS.get(key)
    if cat is None:
        signers = [(f"p{i}", p, s.keys[p]) for i, p in enumerate(s.providers)]
        signers.append(("vault", s.vault.address, s.keys[s.operator]))
        cat = []
        for label, provider, k in signers:
            entries = []
            for j in range(CATALOG):
                offer = _terms(s, provider, j)
                h = digest(offer, s.domain)
                entries.append(Entry(f"{label}.{j}", offer, h, k, offer.as_tuple()))
                signature(k, h)
            cat.append(entries)
        _CATALOGS[key] = cat
    if cat[0][0].hash not in s.names:
        for e in (e for entries in cat for e in entries):
            s.names[e.hash] = f"<hash {e.label}>"
            s.names[signature(e.key, e.hash)] = f"<signature {e.label}>"
    return cat


class SignedRules:
    """Mixed into MarketMachine: signed offers (`self.sg`) and cluster bookings."""

    def _signed_init(self) -> None:
        self.cat = catalog(self.s)
        self.sg: list[SignedG] = []
        self.published: set[str] = set()
        self.floor: Counter = Counter()  # provider -> nonce floor
        self.recorded = 0  # signed offers recorded so far
        self.touched_signed: list[SignedG] = []
        self.touched_cluster: list = []  # the rentals a cluster opened
        self.touched_floor: str | None = None

    # ── the model ──

    def _signers(self) -> list[str]:
        return [*self.s.providers, self.v.address]

    def _fillable(self, sg: SignedG) -> bool:
        """Whether the model lets `sg` be filled now (renter, size and stake aside)."""
        o = sg.entry.offer
        return (not sg.cancelled and self.now <= o.expiry and o.nonce >= self.floor[o.provider]
                and sg.o.status == ACTIVE_OFFER and self._active_provider(o.provider))

    @staticmethod
    def _available(o) -> int:
        return o.offered - o.in_use

    def _next_record_id(self, ahead: int = 0) -> int:
        return SIGNED_OFFER_ID_BASE + self.recorded + 1 + ahead

    def _record(self, sg: SignedG) -> None:
        """The model of a first fill: the offer is recorded under the next id, Active, nothing in use."""
        self.recorded += 1
        sg.o.id = SIGNED_OFFER_ID_BASE + self.recorded
        self.g.records.append(sg.o)

    def _sig(self, e: Entry, key: bytes | None = None, h: bytes | None = None, name: str = "") -> bytes:
        """`e`'s signature, or the signature of digest `h` by `key` (named for the anvil replay)."""
        if key is None:
            return signature(e.key, e.hash)
        sig = signature(key, h)
        self.s.names.setdefault(sig, f"<signature {e.label} {name}>")
        return sig

    def _renter_for(self, o, d: _Draw) -> str:
        return o.reserved_for if o.reserved_for != ZERO else self.s.renters[d(3)]

    # ── rules ──

    def _signed_start(self) -> None:
        """Every example starts with five signed offers published (none filled yet): run by the machine's
        initializer."""
        for si, j in STARTING_OFFERS:
            self._publish(self.cat[si][j])

    def _publish(self, e: Entry) -> SignedG:
        from machine import OfferG  # the record's model (machine.py imports this module)

        o = e.offer
        record = OfferG(0, o.provider, o.payment_token, o.price_per_gpu_hour, o.gpus, min_hours=o.min_hours,
                        max_hours=o.max_hours, max_broker_bps=o.max_broker_bps, tiers=tuple(o.tiers),
                        reserved_for=o.reserved_for)
        sg = SignedG(e, record)
        record.signed = sg
        self.sg.append(sg)
        self.published.add(e.label)
        self._edge("published")
        return sg

    @precondition(lambda self: self.sg)
    @rule(n=N)
    def fill_signed(self, n):
        """Anyone fills a published signed offer for a renter: the first fill records it, later fills
        (sometimes with no signature at all: it is not checked again) share its capacity. A third of the
        time (while fewer than PUBLISHED_MAX are) a provider first signs and publishes one more offer of
        its catalog (nothing on chain), which is filled."""
        d = _Draw(self._n(n))
        self._unpause()
        if self.paused or len(self.g.rentals) >= 24:
            return
        fresh = [e for entries in self.cat for e in entries if e.label not in self.published
                 and self.now <= e.offer.expiry and e.offer.nonce >= self.floor[e.offer.provider]
                 and self._active_provider(e.offer.provider)] if len(self.sg) < PUBLISHED_MAX and d(3) == 0 else []
        pool = [self._publish(fresh[d(len(fresh))])] if fresh else \
            [sg for sg in self.sg if self._fillable(sg) and self._available(sg.o) > 0]
        if not pool:
            return
        sg = pool[d(len(pool))]
        o, terms = sg.o, sg.entry.offer
        if d(4) == 0 and 0 < terms.expiry - self.now <= 2 * DAY:
            self.s.chain.set_time(terms.expiry)  # its last second
            self._edge("fill in its expiry second")
        renter, payer, broker, bps = self._parties(d(27 * 1001), o.max_broker_bps, self._renter_for(o, d))
        gpus = min(d(8) + 1, self._available(o))
        hours = o.min_hours + d(o.max_hours - o.min_hours + 1)
        if self._free(o.provider) < self.stake_per_gpu * gpus:
            return
        r = self._rental_for(o, renter, payer, broker, bps, gpus, hours)
        recorded = o.id != 0
        sig = b"" if recorded and d(3) == 0 else self._sig(sg.entry)
        max_price = o.price if d(2) else ceil_div(r.total // hours, gpus)  # the list price, or exactly the rate
        (rid,) = self.s.market.call(payer, "openSignedRental", sg.entry.args, sig, renter, gpus, hours, max_price,
                                    broker, bps)
        if not recorded:
            self._record(sg)
        assert rid == len(self.g.rentals) + 1, f"openSignedRental opened rental {rid}, model {len(self.g.rentals) + 1}"
        r.id = rid
        self._book_open(r)
        self.touched_signed.append(sg)
        self._count("openSignedRental:" + ("recorded, no signature" if not sig else "recorded" if recorded else "first"))

    @precondition(lambda self: self.sg)
    @rule(n=N)
    def cancel_signed(self, n):
        """A provider cancels one of its signed offers (its record, if any, is Closed) or raises its nonce
        floor; both work under pause."""
        n = self._n(n)
        self._touch()
        if n % 3:
            live = [sg for sg in self.sg if not sg.cancelled]
            if not live:
                return
            sg = live[n // 3 % len(live)]
            self._provider_call(sg.o.provider, "cancelSignedOffer", sg.entry.args)
            self._edge("cancelled after a fill (record closed)" if sg.o.id else "cancelled before a fill")
            sg.cancelled = True
            if sg.o.id:
                sg.o.status = CLOSED_OFFER
                self._touch(o=sg.o)
            self.touched_signed.append(sg)
            self._count("cancelSignedOffer")
        else:  # the provider of a published offer, to just above its nonce (so it is below the floor) or
            # to its nonce (so it is at the floor, still fillable); by one if the floor is there already
            sg = self.sg[n // 3 % len(self.sg)]
            p = sg.o.provider
            self._raise_floor(p, max(self.floor[p] + 1, sg.entry.offer.nonce + n // 3 // PUBLISHED_MAX % 2))

    def _draw_cluster(self, d: _Draw, token: str | None = None, fit=None, renter: str | None = None,
                      exclude: tuple = (), empty: bool = False, hours: int | None = None) -> dict | None:
        """A valid cluster from the draw: a renter, a payer, a broker, common hours, up to two on-chain
        and three signed parts in one token (repeats allowed: they share the offer's capacity) within
        every part's bounds and every provider's free stake; with the model's rentals, in the order
        the contract opens them (on-chain parts first). None when nothing fits (or, with `empty`, a
        cluster without parts). For a cluster that gets a bad part: its hours and broker cut suit the
        offer `fit`, its renter is `renter`, and the offers in `exclude` take no part."""
        if self.paused or len(self.g.rentals) > 24 - 5:
            return None
        token = token or (self.s.usd if d(3) else self.s.gpuc).address
        if hours is None:
            hours = [h for h in CLUSTER_HOURS if fit is None or fit.min_hours <= h <= fit.max_hours]
            if not hours:
                return None
            hours = hours[d(len(hours))]
        renter, payer, broker, bps = self._parties(d(27 * 1001), 1000 if fit is None else fit.max_broker_bps, renter)
        excluded = {id(o) for o in exclude}

        def fits(o):
            return (o.token == token and o.status == ACTIVE_OFFER and o.min_hours <= hours <= o.max_hours
                    and o.reserved_for in (ZERO, renter) and self._active_provider(o.provider)
                    and id(o) not in excluded)

        onchain = [o for o in self.g.offers if fits(o)]
        signed = [sg.o for sg in self.sg if self._fillable(sg) and fits(sg.o)]
        # Mostly one to three signed parts beside up to two on-chain ones; on-chain only when no signed fits.
        counts = [d(3) if onchain else 0, 1 + d(3) if signed else 0]
        if not signed and onchain:
            counts[0] = 1 + d(2)
        left, stake = {}, Counter()
        picked = []
        for pool, count in ((onchain, counts[0]), (signed, counts[1])):
            for _ in range(count):
                o = pool[d(len(pool))]
                gpus = min(d(8) + 1, left.setdefault(id(o), self._available(o)))
                collateral = self.stake_per_gpu * gpus
                if gpus == 0 or stake[o.provider] + collateral > self._free(o.provider):
                    continue
                left[id(o)] -= gpus
                stake[o.provider] += collateral
                picked.append((o, gpus))
        if not picked and not empty:
            return None
        if broker != ZERO:
            bps = min([bps] + [o.max_broker_bps for o, _ in picked])
        rentals = [self._rental_for(o, renter, payer, broker, bps, gpus, hours) for o, gpus in picked]
        seen: set = set()
        signed_args = []
        for o, gpus in picked:
            if o.signed is not None:
                empty_sig = (o.id or id(o) in seen) and d(3) == 0  # recorded before this part: not checked
                signed_args.append([o.signed.entry.args, b"" if empty_sig else self._sig(o.signed.entry), gpus])
                seen.add(id(o))
        return dict(renter=renter, payer=payer, broker=broker, bps=bps, hours=hours, token=token, rentals=rentals,
                    parts=[[o.id, gpus] for o, gpus in picked if o.signed is None], signed=signed_args,
                    total=sum(r.total for r in rentals))

    def _cluster_call(self, c: dict, cap: int | None = None) -> tuple:
        """(contract, caller, function, args...) of booking cluster `c`."""
        return (self.s.market, c["payer"], "bookCluster", c["renter"], c["hours"], c["parts"], c["signed"],
                c["total"] if cap is None else cap, c["broker"], c["bps"])

    @rule(n=N)
    def book_cluster(self, n):
        """A renter (or a payer for it) books on-chain and signed offers of several providers in one
        transaction, with the exact total as its cap: consecutive rental ids, one pull of the total."""
        c = self._draw_cluster(_Draw(self._n(n)))
        if c is None:
            return
        contract, payer, fn, *args = self._cluster_call(c)
        first, total = contract.call(payer, fn, *args)
        expect = len(self.g.rentals) + 1
        assert (first, total) == (expect, c["total"]), \
            f"bookCluster returned ({first}, {total}), model ({expect}, {c['total']})"
        for i, r in enumerate(c["rentals"]):
            sg = r.offer.signed
            if sg is not None:
                if r.offer.id == 0:
                    self._record(sg)
                self.touched_signed.append(sg)
            r.id = first + i
            self._book_open(r)
            self.touched_cluster.append(r)
        self._count(f"bookCluster:{len(c['parts'])}+{len(c['signed'])}")
        self._edge("cluster booked")

    # ── invalid calls ──

    def _expect_provider_revert(self, name: str, inputs: dict, p: str, fn: str, *args) -> None:
        """`fn(*args)` on the market by provider `p` (the vault: through its operator's `callMarket`,
        which passes the market's revert on) must revert with `name(inputs)`."""
        if p != self.v.address:
            self._expect_revert(name, inputs, self.s.market, p, fn, *args)
            return
        self._expect_revert(name, inputs, self.s.vault, self.s.operator, "callMarket", self._market_calldata(fn, *args))

    def _trace(self, signed: list[bytes]) -> tuple:
        """What a failed call must not have changed: every account's balance in both tokens (the market's
        and the registry's too), every offer's GPUs in use, the market's state of the digests `signed`,
        every signer's locked stake, and the next rental id."""
        s, m = self.s, self.s.market
        accounts = (*s.everyone, m.address, s.registry.address)
        return (tuple(t.uint("balanceOf", a) for t in s.tokens for a in accounts),
                tuple(m.view("getOffer", o.id)[2] for o in self.g.offers + self.g.records),
                tuple(m.view("signedOfferOf", h) for h in signed),
                tuple(s.registry.view("providerOf", p)[1] for p in self._signers()),
                m.uint("nextRentalId"), m.view("getOffer", self._next_record_id()))

    def _expect_no_trace(self, name: str, inputs: dict, signed: list[bytes], contract, caller: str, fn: str,
                         *args) -> None:
        """The call must revert with `name(inputs)` and leave no trace: all or nothing."""
        before = self._trace(signed)
        self._expect_revert(name, inputs, contract, caller, fn, *args, label="cluster:" if fn == "bookCluster" else "")
        if fn == "bookCluster":
            self._edge("cluster failed (nothing stays)")
        after = self._trace(signed)
        labels = ("balances", "GPUs in use", "signed offers' states", "locked stake", "next rental id",
                  "next signed offer record")
        for what, x, y in zip(labels, before, after):
            assert x == y, f"inv10 atomicity: a failed {fn} ({name}) changed the {what}: {x} -> {y}"
        assert after[4] == len(self.g.rentals) + 1, f"inv10 nextRentalId {after[4]}, model {len(self.g.rentals) + 1}"
        assert after[5][6] == 0, f"inv10 a failed {fn} ({name}) left a record at {self._next_record_id()}: {after[5]}"

    def _bad_fill(self, name: str, inputs: dict, sg: SignedG, d: _Draw, sig: bytes | None = None,
                  renter: str | None = None, gpus: int = 1, max_price: int | None = None,
                  offer: tuple | None = None, h: bytes | None = None) -> None:
        """A fill of `sg` (self-paid, no broker, its shortest rental, 1 GPU, its list price as the guard,
        its own signature, unless given) that must revert with `name(inputs)` and leave no trace."""
        o = sg.o
        renter = renter or self._renter_for(o, d)
        sig = self._sig(sg.entry) if sig is None else sig
        price = o.price if max_price is None else max_price
        self._expect_no_trace(name, inputs, [h or sg.entry.hash], self.s.market, renter, "openSignedRental",
                              offer or sg.entry.args, sig, renter, gpus, o.min_hours, price, ZERO, 0)

    #: `bad_signed`'s kinds: 0–13 and 24 single calls, 14–23 and 25 clusters that must fail as a whole.
    BAD_SIGNED_KINDS = 26

    @precondition(lambda self: self.sg)
    @rule(n=N)
    def bad_signed(self, n):
        """A deliberately invalid signed fill, cancel, floor or cluster: it must revert with the named
        error and its arguments, and (fills and clusters) leave no trace. The draw picks a kind; when
        the state offers nothing for it (no cancelled offer yet, say), the next kind is tried."""
        n = self._n(n)
        self._touch()
        # The kinds in an order drawn from `n`: the first one that can be made now is uniform among those.
        for kind in sorted(range(self.BAD_SIGNED_KINDS), key=lambda k: _scramble(n, k)):
            if self._bad_signed(kind, _Draw(_scramble(n, kind) >> 16)):
                return

    def _live(self, sg: SignedG) -> bool:
        """Neither cancelled, expired nor below its provider's floor (its record may be paused or closed)."""
        t = sg.entry.offer
        return not sg.cancelled and self.now <= t.expiry and t.nonce >= self.floor[t.provider]

    def _bad_signed(self, kind: int, d: _Draw) -> bool:
        """One invalid call of `kind`; False when there is nothing to make it with."""
        if 14 <= kind <= 23 or kind == 25:
            return self._bad_cluster(kind, d)
        if self.paused and kind not in (9, 10, 11, 12):
            return False  # a fill under pause reverts with EnforcedPause before any of these checks
        now, floor, live = self.now, self.floor, self._live
        if kind == 24:  # a record opened by its id (openRental, openRentalFor): only its signature fills it
            oid = self.g.records[d(len(self.g.records))].id if self.g.records and d(4) else self._next_record_id()
            renter, payer, _, _ = self._parties(d(27), 0)
            if payer == renter:
                fn, args = "openRental", (oid, 1, 1, 10**30, ZERO, 0)
            else:
                fn, args = "openRentalFor", (renter, oid, 1, 1, 10**30, ZERO, 0)
            self._expect_no_trace("MarketSignedOfferNeedsSignature", {"offerId": oid}, [], self.s.market, payer, fn,
                                  *args)
            return True

        def pick(ok):
            pool = [sg for sg in self.sg if ok(sg)]
            return pool[d(len(pool))] if pool else None

        if kind == 0:  # expired: fillable up to and including its expiry, not a second later
            sg = pick(lambda sg: not sg.cancelled and sg.entry.offer.expiry - now <= 2 * DAY)
            if sg is None:
                return False
            expiry = sg.entry.offer.expiry
            if now <= expiry:
                self.s.chain.set_time(expiry + 1)
            self._bad_fill("MarketSignedOfferExpired", {"offerHash": sg.entry.hash, "expiry": expiry}, sg, d,
                           sig=b"" if sg.o.id and d(2) else None)
        elif kind == 1:  # cancelled by its provider
            sg = pick(lambda sg: sg.cancelled)
            if sg is None:
                return False
            self._bad_fill("MarketSignedOfferCancelled", {"offerHash": sg.entry.hash}, sg, d)
        elif kind == 2:  # below its provider's nonce floor (raised first if none is)
            sg = self._below_floor(d)
            if sg is None:
                return False
            t = sg.entry.offer
            self._bad_fill("MarketSignedOfferNonceCancelled",
                           {"offerHash": sg.entry.hash, "nonce": t.nonce, "nonceFloor": floor[t.provider]}, sg, d,
                           sig=b"" if sg.o.id and d(2) else None)
        elif kind in (3, 4, 5):  # not its provider's signature: another key, another domain, other terms
            sg = pick(lambda sg: live(sg) and sg.o.id == 0)
            if sg is None:
                return False
            e = sg.entry
            invalid = {"offerHash": e.hash, "provider": e.offer.provider}
            if kind == 3:  # another signer's key, or no signature at all
                others = [k for k in self.s.keys.values() if k != e.key]
                k = d(len(others) + 1)
                sig = self._sig(e, others[k], e.hash, "by another key") if k < len(others) else b""
                self._bad_fill("MarketInvalidSignature", invalid, sg, d, sig=sig)
            elif kind == 4:
                self._bad_fill("MarketInvalidSignature", invalid, sg, d, sig=self._elsewhere(e, d(2)))
            else:
                altered = replace(e.offer, price_per_gpu_hour=e.offer.price_per_gpu_hour + 1)
                key = (e.label, "altered", self.s.domain)
                h = _DIGESTS.get(key)
                if h is None:
                    h = _DIGESTS[key] = digest(altered, self.s.domain)
                self.s.names.setdefault(h, f"<hash {e.label} altered>")
                self._bad_fill("MarketInvalidSignature", {"offerHash": h, "provider": e.offer.provider}, sg, d,
                               offer=altered.as_tuple(), h=h)
        elif kind in (6, 7, 13):  # reserved for another renter; over capacity; under the price guard
            sg = pick(lambda sg: live(sg) and sg.o.status == ACTIVE_OFFER and self._available(sg.o) > 0
                      and (kind != 6 or sg.o.reserved_for != ZERO))
            if sg is None:
                return False
            o = sg.o
            oid = o.id or self._next_record_id()
            if kind == 6:
                renter = [r for r in self.s.renters if r != o.reserved_for][d(2)]
                self._bad_fill("MarketOfferReserved", {"offerId": oid, "reservedFor": o.reserved_for,
                                                       "renter": renter}, sg, d, renter=renter)
            elif kind == 7:
                available = self._available(o)
                gpus = available + 1 + d(3)
                self._bad_fill("MarketInsufficientCapacity", {"offerId": oid, "available": available,
                                                              "requested": gpus}, sg, d, gpus=gpus)
            else:
                gpus = min(d(8) + 1, self._available(o))
                r = self._rental_for(o, o.reserved_for, o.reserved_for, ZERO, 0, gpus, o.min_hours)
                price = ceil_div(r.total // o.min_hours, gpus)
                self._bad_fill("MarketPriceAboveMax", {"offerId": oid, "price": price, "maxPrice": price - 1}, sg, d,
                               gpus=gpus, max_price=price - 1)
        elif kind == 8:  # its record is paused or closed (not by a cancel; paused first if none is)
            sg = pick(lambda sg: live(sg) and sg.o.id and sg.o.status != ACTIVE_OFFER)
            if sg is None:
                sg = pick(lambda sg: live(sg) and sg.o.id and sg.o.status == ACTIVE_OFFER)
                if sg is None:
                    return False
                self._set_offer_status(sg.o, "pauseOffer")
            self._bad_fill("MarketOfferNotActive", {"offerId": sg.o.id, "status": sg.o.status}, sg, d,
                           sig=b"" if d(2) else None)
        elif kind == 9:  # a record's terms are the signed ones
            sg = pick(lambda sg: sg.o.id and sg.o.status != CLOSED_OFFER)
            if sg is None:
                return False
            o = sg.o
            self._expect_provider_revert("MarketSignedOfferTermsFixed", {"offerId": o.id}, o.provider,
                                         "updateOffer", o.id, o.price + 1, o.offered, o.min_hours, o.max_hours,
                                         ZERO, o.max_broker_bps, list(o.tiers))
        elif kind == 10:  # only its provider cancels it (the vault's: through `callMarket`, not its operator)
            sg = pick(lambda sg: True)
            p = sg.o.provider
            caller = [a for a in (*self._signers(), self.s.operator, self.s.stranger, self.s.renters[0])
                      if a not in (p, self.v.address)][d(5)]
            self._expect_revert("MarketNotSignedOfferProvider", {"offerHash": sg.entry.hash, "caller": caller},
                                self.s.market, caller, "cancelSignedOffer", sg.entry.args)
        elif kind == 11:  # cancelled once
            sg = pick(lambda sg: sg.cancelled)
            if sg is None:
                return False
            self._expect_provider_revert("MarketSignedOfferCancelled", {"offerHash": sg.entry.hash},
                                         sg.o.provider, "cancelSignedOffer", sg.entry.args)
        else:  # 12: a floor only goes up
            p = self._signers()[d(4)]
            nonce = max(0, floor[p] - d(2))
            self._expect_provider_revert("MarketNonceFloorNotRaised", {"nonce": nonce, "nonceFloor": floor[p]}, p,
                                         "cancelSignedOffersBelow", nonce)
        return True

    def _below_floor(self, d: _Draw) -> SignedG | None:
        """A signed offer neither cancelled nor expired, below its provider's nonce floor: one there is, or
        a live one whose provider raises its floor just above its nonce now (a valid call)."""
        now, floor = self.now, self.floor
        pool = [sg for sg in self.sg if not sg.cancelled and now <= sg.entry.offer.expiry
                and sg.entry.offer.nonce < floor[sg.o.provider]]
        if pool:
            return pool[d(len(pool))]
        pool = [sg for sg in self.sg if self._live(sg)]
        if not pool:
            return None
        sg = pool[d(len(pool))]
        self._raise_floor(sg.o.provider, sg.entry.offer.nonce + 1)
        return sg

    def _raise_floor(self, p: str, floor: int) -> None:
        """Provider `p` raises its nonce floor to `floor` (a valid call: above the current floor)."""
        self._provider_call(p, "cancelSignedOffersBelow", floor)
        self.floor[p] = floor
        self.touched_floor = p
        self._count("cancelSignedOffersBelow")

    def _set_offer_status(self, o, action: str) -> None:
        """Provider pauses or closes offer `o` (on-chain or a record; a valid call)."""
        self._provider_call(o.provider, action, o.id)
        o.status = PAUSED_OFFER if action == "pauseOffer" else CLOSED_OFFER
        if o.signed is not None:
            self.touched_signed.append(o.signed)
        self._count(action)

    def _elsewhere(self, e: Entry, chain: int) -> bytes:
        """`e` signed by its provider's key for another market on this chain (0) or for this market on
        another chain (1): a valid signature of another digest."""
        key = (e.label, chain, self.s.domain)
        h = _DIGESTS.get(key)
        if h is None:
            dom = self.s.domain
            h = _DIGESTS[key] = digest(e.offer, Domain(dom.chain_id + 1, dom.market) if chain
                                       else Domain(dom.chain_id, self.s.registry.address))
        return self._sig(e, e.key, h, ("for another market", "on another chain")[chain])

    def _insert_bad(self, c: dict, d: _Draw, o, gpus: int = 1, sig: bytes | None = None) -> int:
        """Puts offer `o` into cluster `c` as one more part (on-chain or signed, at a random place among
        its kind), with its own signature unless `sig` is given. Returns its place in the order the
        contract opens the parts: every valid part before it opens its rental before it fails."""
        if o.signed is None:
            i = d(len(c["parts"]) + 1)
            c["parts"].insert(i, [o.id, gpus])
            return i
        i = d(len(c["signed"]) + 1)
        c["signed"].insert(i, [o.signed.entry.args, self._sig(o.signed.entry) if sig is None else sig, gpus])
        return len(c["parts"]) + i

    def _ids_ahead(self, rentals: list) -> dict:
        """The ids a cluster gives the signed offers it records in opening `rentals`, in order."""
        ids: dict = {}
        for r in rentals:
            o = r.offer
            if o.id == 0 and id(o) not in ids:
                ids[id(o)] = self._next_record_id(len(ids))
        return ids

    def _bad_cluster(self, kind: int, d: _Draw) -> bool:
        """A cluster that must fail as a whole: one part over its offer's capacity (14), the cap one unit
        short (15), a part in the other token (16), an expired (17), cancelled (18) or below-the-floor
        (19) signed part, a signed part with another signature (20), one reserved for another renter
        (21), one on a paused or closed offer (22), one whose hours bounds exclude the cluster's (23).
        Since signed records fill only by signature: an on-chain part that names a record (25).
        Parts before the failing one have opened their rentals (and recorded their signed offers) when
        it fails: none of it may stay (`_expect_no_trace`)."""
        if self.paused:
            return False
        if kind in (14, 15, 16):
            return self._bad_cluster_whole(kind, d)
        if kind == 25:  # an on-chain part naming a record (or the id the next record will get)
            c = self._draw_cluster(d, empty=True)
            if c is None:
                return False
            oid = self.g.records[d(len(self.g.records))].id if self.g.records and d(4) else self._next_record_id()
            c["parts"].insert(d(len(c["parts"]) + 1), [oid, 1])
            self._expect_no_trace("MarketSignedOfferNeedsSignature", {"offerId": oid},
                                  [r.offer.signed.entry.hash for r in c["rentals"] if r.offer.signed is not None],
                                  *self._cluster_call(c, c["total"] + 10**30))
            return True
        now, floor = self.now, self.floor
        sgs = self.sg
        if kind == 17:
            pool = [sg for sg in sgs if not sg.cancelled and sg.entry.offer.nonce >= floor[sg.o.provider]
                    and sg.entry.offer.expiry - now <= 2 * DAY]
        elif kind == 18:
            pool = [sg for sg in sgs if sg.cancelled]
        elif kind == 19:
            sg = self._below_floor(d)
            pool = [sg] if sg else []
        elif kind == 20:
            pool = [sg for sg in sgs if self._live(sg) and sg.o.id == 0]
        elif kind == 21:
            pool = [sg for sg in sgs if self._live(sg) and sg.o.reserved_for != ZERO and sg.o.status == ACTIVE_OFFER
                    and self._available(sg.o) > 0]
        elif kind == 22:  # paused first if none is
            pool = [o for o in self.g.offers if o.status != ACTIVE_OFFER]
            pool += [sg for sg in sgs if self._live(sg) and sg.o.id and sg.o.status != ACTIVE_OFFER]
            if not pool:
                active = [o for o in self.g.offers if o.status == ACTIVE_OFFER]
                active += [sg.o for sg in sgs if self._live(sg) and sg.o.id and sg.o.status == ACTIVE_OFFER]
                if not active:
                    return False
                o = active[d(len(active))]
                self._set_offer_status(o, ("pauseOffer", "closeOffer")[d(2)])
                pool = [o]
        else:
            return self._bad_cluster_hours(d)
        if not pool:
            return False
        bad = pool[d(len(pool))]
        o = bad if not isinstance(bad, SignedG) else bad.o
        if kind == 17 and now <= o.signed.entry.offer.expiry:
            self.s.chain.set_time(o.signed.entry.offer.expiry + 1)
        renter = [r for r in self.s.renters if r != o.reserved_for][d(2)] if kind == 21 else None
        c = self._draw_cluster(d, token=o.token, fit=o if kind == 21 else None, renter=renter, exclude=(o,),
                               empty=True)
        if c is None:
            return False
        sig = None
        if kind == 20:
            e = o.signed.entry
            others = [k for k in self.s.keys.values() if k != e.key]
            k = d(len(others) + 2)
            sig = (self._sig(e, others[k], e.hash, "by another key") if k < len(others)
                   else b"" if k == len(others) else self._elsewhere(e, d(2)))
        at = self._insert_bad(c, d, o, sig=sig)
        before = c["rentals"][:at]
        h = o.signed.entry.hash if o.signed is not None else None
        t = o.signed.entry.offer if o.signed is not None else None
        if kind == 17:
            name, inputs = "MarketSignedOfferExpired", {"offerHash": h, "expiry": t.expiry}
        elif kind == 18:
            name, inputs = "MarketSignedOfferCancelled", {"offerHash": h}
        elif kind == 19:
            name, inputs = "MarketSignedOfferNonceCancelled", {"offerHash": h, "nonce": t.nonce,
                                                               "nonceFloor": floor[t.provider]}
        elif kind == 20:
            name, inputs = "MarketInvalidSignature", {"offerHash": h, "provider": t.provider}
        elif kind == 21:
            oid = o.id or self._next_record_id(len(self._ids_ahead(before)))
            name, inputs = "MarketOfferReserved", {"offerId": oid, "reservedFor": o.reserved_for, "renter": renter}
        else:
            name, inputs = "MarketOfferNotActive", {"offerId": o.id, "status": o.status}
        self._expect_cluster_fails(c, name, inputs, [o])
        return True

    def _bad_cluster_hours(self, d: _Draw) -> bool:
        """A cluster with one part (on-chain or signed, with room) whose hour bounds exclude the cluster's
        hours (in either token: the hours are checked before the token)."""
        pool = [o for o in self.g.offers + [sg.o for sg in self.sg if self._fillable(sg)]
                if o.status == ACTIVE_OFFER and self._available(o) > 0]
        if not pool:
            return False
        o = pool[d(len(pool))]
        outside = [h for h in CLUSTER_HOURS + (o.max_hours + 1,) if not o.min_hours <= h <= o.max_hours]
        c = self._draw_cluster(d, exclude=(o,), empty=True, hours=outside[d(len(outside))])
        if c is None:
            return False
        self._insert_bad(c, d, o)
        self._expect_cluster_fails(c, "MarketInvalidHours", {"hoursRequested": c["hours"], "minHours": o.min_hours,
                                                             "maxHours": o.max_hours}, [o])
        return True

    def _expect_cluster_fails(self, c: dict, name: str, inputs: dict, bad: list) -> None:
        """Cluster `c` (with its bad part in) must revert with `name(inputs)` and leave no trace."""
        offers = [r.offer for r in c["rentals"]] + bad
        signed = [o.signed.entry.hash for o in offers if o.signed is not None]
        cap = c["total"] + 10**30  # the cap is checked after the parts: never the reason here
        self._expect_no_trace(name, inputs, signed, *self._cluster_call(c, cap))

    def _bad_cluster_whole(self, kind: int, d: _Draw) -> bool:
        """A cluster that fails as a whole: one part over its offer's capacity (14), the cap one unit
        short (15), a part in the other token (16)."""
        c = self._draw_cluster(d)
        if c is None:
            return False
        rentals = c["rentals"]
        extra = None
        if kind == 16:
            other = (self.s.gpuc if c["token"] == self.s.usd.address else self.s.usd).address
            fits = [o for o in self.g.offers + [sg.o for sg in self.sg if self._fillable(sg)]
                    if o.token == other and o.status == ACTIVE_OFFER and o.min_hours <= c["hours"] <= o.max_hours
                    and o.reserved_for in (ZERO, c["renter"]) and c["bps"] <= o.max_broker_bps
                    and self._available(o) > 0 and self._active_provider(o.provider)
                    and self._free(o.provider) >= self.stake_per_gpu]  # it opens first if no on-chain part did
            if not fits:
                return False
            o = fits[d(len(fits))]
            extra = self._rental_for(o, c["renter"], c["payer"], c["broker"], c["bps"], 1, c["hours"])
            if o.signed is None:
                c["parts"].append([o.id, 1])
                rentals.insert(len(c["parts"]) - 1, extra)
            else:
                c["signed"].append([o.signed.entry.args, self._sig(o.signed.entry), 1])
                rentals.append(extra)
        order = [r.offer for r in rentals]
        ids = self._ids_ahead(rentals)
        signed = [o.signed.entry.hash for o in order if o.signed is not None]
        if kind == 14:
            i = d(len(rentals))
            o = order[i]
            available = self._available(o) - sum(r.gpus for r in rentals[:i] if r.offer is o)
            gpus = available + 1 + d(3)
            onchain = len(c["parts"])
            (c["parts"][i] if i < onchain else c["signed"][i - onchain])[-1] = gpus
            name, inputs = "MarketInsufficientCapacity", {"offerId": o.id or ids[id(o)], "available": available,
                                                          "requested": gpus}
            cap = None
        elif kind == 15:
            name, inputs, cap = "MarketClusterCostAboveMax", {"cost": c["total"], "maxCost": c["total"] - 1}, c["total"] - 1
        else:
            i = next(i for i, o in enumerate(order) if o.token != order[0].token)
            name, inputs = "MarketClusterTokenMismatch", {"part": i, "token": order[i].token, "expected": order[0].token}
            cap = c["total"] + extra.total
        self._expect_no_trace(name, inputs, signed, *self._cluster_call(c, cap))
        return True

    # ── invariants ──

    @invariant()
    def inv_signed_offers(self):
        """9. Every signed offer the step touched: the market knows it by its digest exactly as modelled
        (its record's id once filled, else 0; cancelled or not), and its record holds the signed terms
        with GPUs in use = Σ GPUs of its Pending and Active rentals ≤ the signed GPUs."""
        if self.touched_signed:
            for sg in self.touched_signed:
                self._check_signed(sg)
            self.touched_signed.clear()
        if self.touched_floor is not None:
            p = self.touched_floor
            assert self.s.market.uint("signedNonceFloor", p) == self.floor[p], f"inv9 nonce floor of {p}"
            self.touched_floor = None

    @invariant()
    def inv_cluster_rentals(self):
        """10. Every rental a cluster opened is an ordinary rental (2, 3, 4 on each) and every offer it
        used holds their GPUs (6)."""
        if not self.touched_cluster:
            return
        offers = {}
        for r in self.touched_cluster:
            self._check_rental(r)
            offers[id(r.offer)] = r.offer
        self.touched_cluster.clear()
        touched = self.touched_offer
        for o in offers.values():
            self.touched_offer = o
            self.inv6_capacity()
        self.touched_offer = touched

    def _check_signed(self, sg: SignedG) -> None:
        e, o = sg.entry, sg.o
        oid, cancelled = self.s.market.view("signedOfferOf", e.hash)
        assert (oid, bool(cancelled)) == (o.id, sg.cancelled), \
            f"inv9 signed offer {e.label}: chain ({oid}, {bool(cancelled)}), model ({o.id}, {sg.cancelled})"
        if not o.id:
            return
        rec = self.s.market.view("getOffer", o.id)
        t = e.offer
        terms = (int(t.provider, 16), t.gpus, t.min_hours, t.max_hours, t.max_broker_bps, int(t.payment_token, 16),
                 t.price_per_gpu_hour, int(t.reserved_for, 16))
        assert (rec[0], rec[1], *rec[3:6], *rec[8:11]) == terms, \
            f"inv9 record {o.id} of {e.label}: chain {rec}, signed terms {terms}"
        holding = sum(r.gpus for r in self.g.rentals if r.offer is o and r.status in HOLDS_CAPACITY)
        assert rec[2] == holding == o.in_use <= t.gpus, \
            f"inv9 capacity of {e.label}: record {o.id} has {rec[2]} in use, its rentals hold {holding}, signed {t.gpus}"
        assert rec[6] == o.status, f"inv9 record {o.id} of {e.label} is {rec[6]}, model {o.status}"

    def _check_signed_all(self) -> None:
        """At teardown: every published signed offer, every signer's nonce floor."""
        for sg in self.sg:
            self._check_signed(sg)
        for p in self._signers():
            assert self.s.market.uint("signedNonceFloor", p) == self.floor[p], f"inv9 nonce floor of {p}"
