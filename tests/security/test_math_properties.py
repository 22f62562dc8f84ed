"""RentalMath on the in-process EVM, against the independent model in tests/rental_model.py.

tests/unit/math/test_rental_math.py checks the same library through ape and anvil; this twin runs
in milliseconds, so the mutation run (tools/mutation.py) can use it on every mutant of the library.
Every function of the harness is compared with the model exactly, on random and edge inputs.
"""

from __future__ import annotations

import world  # noqa: F401  (puts tests/invariants on sys.path)
from evm import Chain, Reverted
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rental_model import BPS, accrued_down, ceil_div, dispute_bond, split_claim, stop_charge

FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
_H = None


def harness():
    global _H
    if _H is None:
        c = Chain()
        deployer = c.address(0)
        c.fund_eth(deployer)
        _H = c.deploy(deployer, "RentalMathHarness")
    return _H


bps = st.integers(0, 1000)


@FAST
@given(before=st.integers(0, 10**30), step=st.integers(0, 10**24), p=bps, b=bps)
@example(before=99, step=1, p=100, b=500)
@example(before=0, step=10**18, p=0, b=0)
@example(before=10**18, step=10**18, p=1000, b=0)
@example(before=10**18, step=10**18, p=0, b=1000)
def test_split_claim__equals_the_model(before, step, p, b):
    assert harness().view("splitClaim", before, before + step, p, b) == split_claim(before, before + step, p, b)


@FAST
@given(total=st.integers(0, 10**30), start=st.integers(0, 2**39), dur=st.integers(1, 8760 * 3600),
       offset=st.integers(-10, 8760 * 3600 + 10))
@example(total=7, start=100, dur=3, offset=0)
@example(total=7, start=100, dur=3, offset=1)
@example(total=7, start=100, dur=3, offset=3)
@example(total=7, start=100, dur=3, offset=4)
def test_accrual__equals_the_model(total, start, dur, offset):
    t = max(start + offset, 0)
    assert harness().one("accruedDown", total, start, start + dur, t) == accrued_down(total, start, start + dur, t)


@FAST
@given(total=st.integers(0, 10**30), start=st.integers(1, 2**39), offset=st.integers(0, 10))
def test_accrual__of_a_zero_length_stream__is_the_whole_total_from_its_end(total, start, offset):
    """A stream stopped in its activation second (startedAt == endsAt) has accrued its whole billed total."""
    assert harness().one("accruedDown", total, start, start, start + offset) == total


@FAST
@given(rate=st.integers(1, 10**24), hours=st.integers(1, 8760), used=st.integers(0, 8760 * 3600),
       disc=st.integers(0, 5000))
@example(rate=3, hours=2, used=1, disc=0)
@example(rate=10**6, hours=10, used=3600 * 9, disc=5000)
@example(rate=10**6, hours=10, used=3600 * 10, disc=2500)
def test_stop_charge__equals_the_model(rate, hours, used, disc):
    total, t = rate * hours, min(used, hours * 3600)
    got = harness().one("stopChargeUp", total, hours, disc, t)
    assert got == stop_charge(total, 0, t, hours, disc)
    # Never below the discounted accrual the provider may already have claimed, never above total.
    assert accrued_down(total, 0, hours * 3600, t) <= got <= total


@FAST
@given(billed=st.integers(1, 2**112 - 1), seconds=st.integers(0, 8760 * 3600), timeout=st.integers(86_400, 60 * 86_400),
       window=st.integers(3600, 30 * 86_400))
@example(billed=15_600_000, seconds=1, timeout=7 * 86_400, window=86_400)
def test_dispute_bond__equals_the_model(billed, seconds, timeout, window):
    assert harness().one("disputeBondUp", billed, seconds, timeout, window) == dispute_bond(billed, seconds, timeout, window)


@FAST
@given(gpus=st.integers(1, 65535), price=st.integers(1, 2**96 - 1), disc=st.integers(0, 5000))
@example(gpus=3, price=7, disc=333)
@example(gpus=1, price=1, disc=1)
def test_hourly_rate__rounded_up__equals_the_model(gpus, price, disc):
    assert harness().one("hourlyRateUp", gpus, price, disc) == ceil_div(gpus * price * (BPS - disc), BPS)


def _pack(tiers):
    return sum((h | d << 32) << (48 * i) for i, (h, d) in enumerate(tiers))


tier_lists = st.lists(st.tuples(st.integers(1, 2**32 - 1), st.integers(1, 5000)), max_size=4).map(
    lambda ts: sorted({h: d for h, d in ts}.items()))


@FAST
@given(tiers=tier_lists, gpu_hours=st.integers(0, 2**33))
@example(tiers=[(96, 250), (192, 500)], gpu_hours=95)
@example(tiers=[(96, 250), (192, 500)], gpu_hours=96)
@example(tiers=[(96, 250), (192, 500)], gpu_hours=192)
@example(tiers=[(1, 1), (2, 2), (3, 3), (4, 4)], gpu_hours=4)
def test_discount__the_highest_tier_reached(tiers, gpu_hours):
    want = max([d for h, d in tiers if gpu_hours >= h], default=0) if all(
        d1 < d2 for (_, d1), (_, d2) in zip(tiers, tiers[1:])) else None
    if want is None:
        return  # not a valid tier list (discounts must increase); packTiers refuses those
    assert harness().one("discountBpsFor", _pack(tiers), gpu_hours) == want


def test_harness_reverts_decode():
    """The harness has no reverting paths of its own; the error table is loaded (sanity)."""
    assert Reverted and harness().chain.errors
