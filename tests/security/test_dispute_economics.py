"""What a dispute costs, against what a stop costs (SECURITY.md, "Disputes as an exit"), on the
in-process EVM, at random seconds, volume tiers and token decimals.

A dispute of a running rental first bills it exactly as a stop at that second would, and the renter
posts a bond of (arbitrationTimeout + disputeWindow) / disputeWindow hours of the billed rate, which
goes to the provider unless the ruling goes against it. These tests show, from the chain's balances:

1. through a dispute and the default ruling, the payer never pays less than a stop at the dispute's
   second would have billed;
2. locking a provider's collateral through disputes costs a griefer at least as much per GPUC-second
   (hence per GPUC-day) as the cheapest way of locking it through a stop, whether the dispute comes
   while the rental runs or after a stop;
3. an honest renter who was not served is still made whole by the arbiter's ruling;
4. the stop bill, the same-second edge and the refund view agree with the README's formula.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from world import DAY, GPUC, HOUR, PRICE, world

from rental_model import BPS, dispute_bond, split_claim

FAST = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
TIERS = {"none": [], "10%": [(1, 1000)], "50%": [(1, 5000)], "25%@64": [(64, 2500)]}
TOKENS = ("usd6", "gpuc18")


def _offer(w, token: str, tiers: str, max_hours: int = 200) -> int:
    tok, price = (w.usd, PRICE) if token == "usd6" else (w.gpuc, 2 * GPUC + 7)
    return w.create_offer(token=tok, price=price, tiers=TIERS[tiers], max_hours=max_hours)


def _token(w, token: str):
    return w.usd if token == "usd6" else w.gpuc


def _readme_stop_bill(total: int, hours: int, discount_bps: int, elapsed: int) -> int:
    """The README's formula, written out independently of tests/rental_model.py (Fraction + ceil)."""
    rate = total // hours
    used = ceil(Fraction(rate * elapsed * 10_000, 3600 * (10_000 - discount_bps)))
    return min(total, max(rate, used))


# ───────────────────────────── 1. the payer's cost ─────────────────────────────


@FAST
@given(token=st.sampled_from(TOKENS), tiers=st.sampled_from(sorted(TIERS)), gpus=st.integers(1, 8),
       hours=st.integers(1, 120), frac=st.floats(0, 1, exclude_max=True), sponsored=st.booleans())
@example(token="usd6", tiers="none", gpus=8, hours=10, frac=1 / 36_000, sponsored=False)  # the issue's 1-second case
@example(token="usd6", tiers="50%", gpus=8, hours=125, frac=0.08, sponsored=False)  # 50 % tier, 10 h used of 125
def test_dispute_then_default_ruling__the_payer_pays_at_least_a_stop_at_that_second(token, tiers, gpus, hours, frac,
                                                                                       sponsored):
    w = world()
    m, tok = w.market, _token(w, token)
    oid = _offer(w, token, tiers)
    payer = w.payer if sponsored else w.renter
    before = tok.uint("balanceOf", payer)
    rid = w.active(offer=oid, gpus=gpus, hours=hours, payer=payer)
    t = w.chain.time + int(hours * HOUR * frac)
    w.chain.set_time(t)
    base = w.chain.snapshot()
    m.call(w.renter, "stopRental", rid)
    stop_cost = before - tok.uint("balanceOf", payer)
    w.chain.restore(base)

    m.call(w.renter, "dispute", rid, b"\x01" * 32)
    w.chain.set_time(t + m.uint("arbitrationTimeout"))
    m.call(w.stranger, "applyDefaultRuling", rid)
    dispute_cost = before - tok.uint("balanceOf", payer)
    assert dispute_cost >= stop_cost > 0, f"through a dispute the payer paid {dispute_cost}, a stop bills {stop_cost}"
    # Exactly the stop bill; a self-funded renter also lost its bond (computed here from the bill) to the provider.
    bond = dispute_bond(stop_cost, t - w.rental(rid).startedAt, 7 * DAY, DAY)
    assert dispute_cost == stop_cost + (0 if sponsored else bond)


# ───────────────────────────── 2. griefing: collateral locked per unit cost ─────────────────────────────


def _lock_cost_of_a_stop(w, rid: int, opened_at: int, start: int, u: int, tok, before: int) -> Fraction:
    """The griefer's cost per collateral-second of stopping `u` seconds after activation: the stop
    bill over the time the collateral stays locked (from the open to the end of the dispute window)."""
    base = w.chain.snapshot()
    w.chain.set_time(start + u)
    w.market.call(w.renter, "stopRental", rid)
    cost = before - tok.uint("balanceOf", w.renter)
    unlock = start + u + w.market.uint("disputeWindow")
    w.chain.set_time(unlock)
    w.market.call(w.stranger, "release", rid)  # the collateral unlocks exactly here
    assert w.registry.view("providerOf", w.provider)[1] == 0
    w.chain.restore(base)
    return Fraction(cost, unlock - opened_at)


# (dispute window, arbitration timeout): the defaults, the bounds' extremes and one in between.
WINDOWS = [(DAY, 7 * DAY), (HOUR, 60 * DAY), (HOUR, DAY), (30 * DAY, 60 * DAY), (3 * HOUR, 10 * DAY)]


@FAST
@given(token=st.sampled_from(TOKENS), tiers=st.sampled_from(sorted(TIERS)), gpus=st.integers(1, 8),
       hours=st.integers(1, 48), delay=st.integers(0, HOUR), frac=st.floats(0, 1, exclude_max=True),
       after_stop=st.booleans(), late=st.floats(0, 1, exclude_max=True), windows=st.sampled_from(WINDOWS))
@example(token="usd6", tiers="none", gpus=8, hours=10, delay=0, frac=1 / 36_000, after_stop=False, late=0,
         windows=WINDOWS[0])
@example(token="usd6", tiers="50%", gpus=8, hours=1, delay=HOUR, frac=0.49, after_stop=True, late=0.999,
         windows=WINDOWS[0])
@example(token="gpuc18", tiers="50%", gpus=1, hours=1, delay=0, frac=0.07, after_stop=True, late=0.999,
         windows=WINDOWS[1])
def test_griefing__collateral_locked_by_disputes_costs_at_least_what_the_cheapest_stop_costs(
        token, tiers, gpus, hours, delay, frac, after_stop, late, windows):
    w = world()
    m, tok = w.market, _token(w, token)
    m.call(w.owner, "setDisputeWindow", windows[0])
    m.call(w.owner, "setArbitrationTimeout", windows[1])
    oid = _offer(w, token, tiers)
    before = tok.uint("balanceOf", w.renter)
    rid = w.open(offer=oid, gpus=gpus, hours=hours)
    opened_at = w.chain.time
    w.chain.set_time(opened_at + delay)
    m.call(w.provider, "activate", rid)
    start, duration = w.chain.time, hours * HOUR
    discount = w.rental(rid).discountBps

    # The stop path at some of its cheapest seconds: the one-hour minimum binds until u0, then the bill grows
    # with the time (the true minimum is at most the smallest of these, so comparing with it is stricter).
    u0 = 3600 * (BPS - discount) // BPS
    u = int(duration * frac)
    seconds = sorted({s for s in (0, u0, u0 + 1, HOUR, u, duration - 1) if 0 <= s < duration})
    cheapest_stop = min(_lock_cost_of_a_stop(w, rid, opened_at, start, s, tok, before) for s in seconds)

    # The dispute path: while running at `u`, or after a stop at `u`, as late in the window as `late` says.
    w.chain.set_time(start + u)
    if after_stop:
        m.call(w.renter, "stopRental", rid)
        w.chain.set_time(start + u + int(m.uint("disputeWindow") * late))
    m.call(w.renter, "dispute", rid, b"\x02" * 32)
    disputed_at = w.chain.time
    unlock = disputed_at + m.uint("arbitrationTimeout")  # the arbiter stays silent: the longest lock
    w.chain.set_time(unlock)
    m.call(w.stranger, "applyDefaultRuling", rid)
    assert w.registry.view("providerOf", w.provider)[1] == 0
    dispute = Fraction(before - tok.uint("balanceOf", w.renter), unlock - opened_at)
    assert dispute >= cheapest_stop, f"a dispute locks collateral for {float(dispute):.6g} per second, " \
                                     f"a stop for {float(cheapest_stop):.6g}"


def test_griefing__the_issues_example__measured_cost_per_gpuc_day():
    """The figures SECURITY.md quotes: 8 GPUs × 1.95 mUSD/GPU-hour for 10 h (156 mUSD), 800 GPUC of
    collateral, activated at once and exited one second later, defaults (1-day window, 7-day timeout)."""
    w = world()
    m = w.market
    usd = w.usd
    before = usd.uint("balanceOf", w.renter)
    rid = w.active(gpus=8, hours=10)
    start = w.chain.time
    collateral = w.rental(rid).collateral
    assert collateral == 800 * GPUC
    cost_per_gpuc_day = {}

    base = w.chain.snapshot()
    w.chain.set_time(start + 1)
    m.call(w.renter, "stopRental", rid)
    stop_cost, stop_days = before - usd.uint("balanceOf", w.renter), Fraction(1 + DAY, DAY)
    cost_per_gpuc_day["stop"] = Fraction(stop_cost, 800) / stop_days
    w.chain.restore(base)

    w.chain.set_time(start + 1)
    (bond,) = m.call(w.renter, "dispute", rid, b"\x03" * 32)
    w.chain.set_time(start + 1 + 7 * DAY)
    m.call(w.stranger, "applyDefaultRuling", rid)
    dispute_cost, dispute_days = before - usd.uint("balanceOf", w.renter), Fraction(1 + 7 * DAY, DAY)
    cost_per_gpuc_day["dispute"] = Fraction(dispute_cost, 800) / dispute_days

    assert (stop_cost, bond, dispute_cost) == (15_600_000, 124_800_000, 140_400_000)  # 15.60, 124.80, 140.40 mUSD
    # Per GPUC-day, in mUSD base units: the stop path 19.50, the dispute path 25.07 (before the fix: 0.0008).
    assert round(cost_per_gpuc_day["stop"]) == 19_500 and round(cost_per_gpuc_day["dispute"]) == 25_071
    assert cost_per_gpuc_day["dispute"] > cost_per_gpuc_day["stop"]


# ───────────────────────────── 3. the honest renter ─────────────────────────────


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("claimed_first", [False, True], ids=["nothing_claimed", "provider_claimed_first"])
def test_honest_renter_not_served__is_made_whole_by_the_arbiter(token, claimed_first):
    """The provider activated but never delivered; the renter disputes; the arbiter rules 0 % and slashes
    the whole collateral. The payer gets back everything the provider did not claim, the renter its bond
    in full and the slash (less the treasury's share)."""
    w = world()
    m, tok = w.market, _token(w, token)
    oid = _offer(w, token, "none")
    before = {who: tok.uint("balanceOf", who) for who in (w.payer, w.renter)}
    gpuc_before = w.gpuc.uint("balanceOf", w.renter)
    rid = w.active(offer=oid, gpus=4, hours=10, payer=w.payer)
    deposit = w.rental(rid).total
    w.chain.warp(20 * 60)
    claimed = m.call(w.stranger, "claim", rid)[0] if claimed_first else 0
    m.call(w.renter, "dispute", rid, b"\x04" * 32)
    collateral = w.rental(rid).collateral
    m.call(w.arbiter, "resolveDispute", rid, 0, collateral)
    to_treasury = collateral * m.uint("slashTreasuryBps") // BPS
    assert tok.uint("balanceOf", w.payer) == before[w.payer] - claimed  # everything unclaimed is back
    # The bond came back in full (in GPUC it went out and came back in the slash's token), and the slash.
    assert w.gpuc.uint("balanceOf", w.renter) - gpuc_before == collateral - to_treasury
    if token == "usd6":
        assert tok.uint("balanceOf", w.renter) == before[w.renter]
    assert m.view("reputationOf", w.provider)[2] == 1  # a lost dispute
    assert claimed == (deposit * 20 * 60 // (10 * HOUR) if claimed_first else 0)  # 20 minutes: all the provider got


# ───────────────────────────── 4. the stop bill, the same second, the refund view ─────────────────────────────


@pytest.mark.parametrize("tiers", ["none", "10%", "50%"])
def test_stop_bill__at_every_second_of_a_short_rental__is_the_readme_formula(tiers):
    """A 2-hour rental of 3 GPUs, stopped at each of its 7,200 seconds in turn (snapshot, stop, restore)."""
    w = world()
    oid = _offer(w, "usd6", tiers)
    rid = w.active(offer=oid, gpus=3, hours=2)
    r = w.rental(rid)
    base = w.chain.snapshot()
    for elapsed in range(2 * HOUR):
        w.chain.set_time(r.startedAt + elapsed)
        (refund,) = w.market.call(w.renter, "stopRental", rid)
        expect = _readme_stop_bill(r.total, 2, r.discountBps, elapsed)
        assert r.total - refund == expect, f"stop at +{elapsed} s billed {r.total - refund}, the formula {expect}"
        w.chain.restore(base)
        base = w.chain.snapshot()  # a checkpoint is used up by its restore


@FAST
@given(token=st.sampled_from(TOKENS), tiers=st.sampled_from(sorted(TIERS)), gpus=st.integers(1, 8),
       hours=st.integers(1, 150), frac=st.floats(0, 1, exclude_max=True))
@example(token="usd6", tiers="none", gpus=8, hours=10, frac=600 / 36_000)  # the issue's "10 minutes in"
@example(token="usd6", tiers="50%", gpus=8, hours=125, frac=10 / 125)  # the issue's "50 % tier, 10 h used"
def test_refundable_view__equals_what_a_stop_refunds_at_that_second(token, tiers, gpus, hours, frac):
    w = world()
    oid = _offer(w, token, tiers)
    rid = w.active(offer=oid, gpus=gpus, hours=hours)
    w.chain.set_time(w.chain.time + int(hours * HOUR * frac))
    shown = w.market.one("refundableOf", rid)
    (refund,) = w.market.call(w.renter, "stopRental", rid)
    assert shown == refund


def test_same_second__activate_stop_and_dispute__the_default_ruling_pays_the_one_hour_charge():
    """Many L2 blocks share a timestamp: activation, stop and dispute in one second. The stop billed one
    hour; the stopped stream has accrued all of it, so the default ruling pays it to the provider."""
    w = world()
    m = w.market
    rid = w.open(gpus=8, hours=10, broker=w.broker, broker_bps=200)
    m.call(w.provider, "activate", rid)
    (refund,) = m.call(w.renter, "stopRental", rid)
    rate = 8 * PRICE
    r = w.rental(rid)
    assert (r.startedAt, r.endsAt, r.total, refund) == (w.chain.time, w.chain.time, rate, 9 * rate)
    assert m.one("accruedOf", rid) == rate and m.one("claimableOf", rid) == rate
    m.call(w.renter, "dispute", rid, b"\x05" * 32)
    assert m.view("disputeOf", rid)[0] == rate  # all of it billed and frozen
    was = w.usd.uint("balanceOf", w.provider)
    w.chain.warp(m.uint("arbitrationTimeout"))
    m.call(w.stranger, "applyDefaultRuling", rid)
    bond = 8 * rate  # the billed hourly rate × 8 (1-day window, 7-day timeout)
    net, _, _ = split_claim(0, rate, 100, 200)
    assert w.usd.uint("balanceOf", w.provider) - was == net + bond


def test_same_second__activate_and_stop__the_provider_claims_the_whole_charge_at_once():
    w = world()
    m = w.market
    rid = w.open(gpus=2, hours=5)
    m.call(w.provider, "activate", rid)
    m.call(w.renter, "stopRental", rid)
    (gross,) = m.call(w.stranger, "claim", rid)
    assert gross == 2 * PRICE == w.rental(rid).claimed
