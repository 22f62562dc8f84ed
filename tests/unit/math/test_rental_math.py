"""RentalMath through a harness contract: the rounding and conservation rules, checked by hypothesis
against an independent Python model (integers, no floats)."""

import pytest
from ape import project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BPS = 10_000
MODEL = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def math(owner):
    return owner.deploy(project.RentalMathHarness)


def ceil_div(a, b):
    return -(-a // b)


bps = st.integers(0, 1000)
amounts = st.integers(0, 10**30)


@MODEL
@given(before=amounts, step=st.integers(0, 10**24), p=bps, b=bps)
def test_split_claim__conserves_and_never_takes_more_than_the_claim(math, before, step, p, b):
    after = before + step
    net, proto, brok = math.splitClaim(before, after, p, b)
    assert net + proto + brok == step
    assert proto + brok <= step
    # cumulative: the fee total over [0, after] is the same whether claimed in one go or in two
    _, p1, b1 = math.splitClaim(0, before, p, b)
    _, p2, b2 = math.splitClaim(0, after, p, b)
    assert (p1 + proto, b1 + brok) == (p2, b2)
    assert p2 + b2 == after * (p + b) // BPS


@pytest.mark.parametrize("claimed", [99, 199, 63058699, 10**18 - 1])
def test_split_claim__one_unit_claim_with_both_fees__does_not_underflow(math, claimed):
    # Regression: with separately rounded fees a one-unit claim could take one unit of each fee.
    net, proto, brok = math.splitClaim(claimed, claimed + 1, 100, 500)
    assert net + proto + brok == 1


@MODEL
@given(total=st.integers(1, 10**30), start=st.integers(0, 2**39), dur=st.integers(1, 8760 * 3600),
       frac=st.floats(0, 1.2))
def test_accrual__is_the_exact_value_rounded_down(math, total, start, dur, frac):
    t = start + int(dur * frac)
    end = start + dur
    el = min(max(t - start, 0), dur)
    assert math.accruedDown(total, start, end, t) == total * el // dur <= total


@pytest.mark.parametrize("t_offset", [0, 1, 3600])
def test_accrual__of_a_stream_stopped_in_its_activation_second__is_the_whole_total(math, t_offset):
    assert math.accruedDown(15_600_000, 1_800_000_000, 1_800_000_000, 1_800_000_000 + t_offset) == 15_600_000


@MODEL
@given(rate=st.integers(1, 10**24), hours=st.integers(1, 8760), frac=st.floats(0, 1), disc=st.integers(0, 5000))
def test_stop_charge__list_rate_rounded_up_once_at_least_an_hour_never_above_total(math, rate, hours, frac, disc):
    total = rate * hours
    elapsed = int(hours * 3600 * frac)
    charge = math.stopChargeUp(total, hours, disc, elapsed)
    listed = ceil_div(rate * elapsed * BPS, 3600 * (BPS - disc))
    assert charge == min(max(listed, rate), total)
    assert total * elapsed // (hours * 3600) <= charge <= total  # never below what a claim could have taken


@pytest.mark.parametrize("gpus,price,disc", [(8, 1_950_000, 0), (8, 1_950_001, 250), (3, 7, 333), (65535, 10**24, 5000)])
def test_hourly_rate__is_rounded_up(math, gpus, price, disc):
    assert math.hourlyRateUp(gpus, price, disc) == ceil_div(gpus * price * (BPS - disc), BPS)


def test_discount__highest_tier_reached_at_its_exact_boundary(math):
    tiers = (96 | 250 << 32) | ((192 | 500 << 32) << 48)
    assert [math.discountBpsFor(tiers, h) for h in (0, 95, 96, 191, 192, 10**6)] == [0, 0, 250, 250, 500, 500]
    assert math.discountBpsFor(0, 10**6) == 0
