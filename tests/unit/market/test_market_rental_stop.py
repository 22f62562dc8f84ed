"""ComputeMarket.stopRental: the renter ends a running rental early; the unaccrued part goes to the payer."""

import pytest

from conftest import HOUR
from rental_strict_reverts import reverts

BPS = 10_000
usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def accrued_up(total, started, ends, t):
    """Rounded up: against the renter, who calls stop."""
    if t <= started:
        return 0
    if t >= ends:
        return total
    return -(-total * (t - started) // (ends - started))


def test_stop_rental__refunds_the_unaccrued_part_and_frees_the_gpus(
    market, registry, params, pay_token, price, offer_id, active_id, renter, provider, stranger, time_travel
):
    total = 8 * price * 24
    start = market.getRental(active_id).startedAt
    ends = start + 24 * HOUR
    locked_before = registry.providerOf(provider).locked
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)

    t = start + 1001
    time_travel.at(t)
    tx = market.stopRental(active_id, sender=renter)

    accrued = accrued_up(total, start, ends, t)
    assert accrued * (ends - start) > total * (t - start)  # rounding up matters here
    refund = total - accrued
    assert tx.return_value == refund
    assert pay_token.balanceOf(renter) == renter_before + refund
    assert pay_token.balanceOf(market) == market_before - refund
    r = market.getRental(active_id)
    assert (r.status, r.total, r.endsAt, r.claimed) == (3, accrued, t, 0)
    assert market.getOffer(offer_id).gpusInUse == 0
    assert registry.providerOf(provider).locked == locked_before  # collateral stays until settlement
    [event] = tx.decode_logs(market.RentalStopped)
    assert (event.rentalId, event.stoppedAt, event.refund) == (active_id, t, refund)

    # The provider can still claim exactly what had accrued, however late.
    provider_before = pay_token.balanceOf(provider)
    time_travel.at(t + 5000)
    market.claim(active_id, sender=stranger)
    fee = accrued * params["protocol_fee_bps"] // BPS
    assert pay_token.balanceOf(provider) == provider_before + accrued - fee
    assert pay_token.balanceOf(market) == market_before - refund - (accrued - fee)


@usd_only
def test_stop_rental__paid_by_a_third_party__refunds_the_payer(
    market, usd, price, offer_id, open_rental, renter, payer, provider, time_travel
):
    rid = open_rental(offer_id, renter, payer=payer)
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(rid, sender=provider)
    renter_before, payer_before = usd.balanceOf(renter), usd.balanceOf(payer)

    t = start + 2 * HOUR
    time_travel.at(t)
    market.stopRental(rid, sender=renter)

    total = 8 * price * 24
    assert usd.balanceOf(payer) == payer_before + total - accrued_up(total, start, start + 24 * HOUR, t)
    assert usd.balanceOf(renter) == renter_before


@usd_only
def test_stop_rental__one_second_before_the_end__refunds_the_last_second(
    market, usd, price, active_id, renter, time_travel
):
    total = 8 * price * 24
    start = market.getRental(active_id).startedAt
    ends = start + 24 * HOUR
    before = usd.balanceOf(renter)
    time_travel.at(ends - 1)
    market.stopRental(active_id, sender=renter)
    assert usd.balanceOf(renter) == before + total - accrued_up(total, start, ends, ends - 1)
    assert market.getRental(active_id).status == 3


@usd_only
def test_stop_rental__exactly_at_the_end__reverts(market, active_id, renter, time_travel):
    ends = market.getRental(active_id).endsAt
    time_travel.at(ends)
    with reverts(market.MarketRentalEnded, rentalId=active_id, endsAt=ends):
        market.stopRental(active_id, sender=renter)


@usd_only
def test_stop_rental__by_the_payer_not_the_renter__reverts(market, offer_id, open_rental, renter, payer, provider):
    rid = open_rental(offer_id, renter, payer=payer)
    market.activate(rid, sender=provider)
    with reverts(market.MarketNotRenter, rentalId=rid, caller=payer.address):
        market.stopRental(rid, sender=payer)


@usd_only
def test_stop_rental__pending_rental__reverts(market, rental_id, renter):
    with reverts(market.MarketRentalNotActive, rentalId=rental_id, status=1):
        market.stopRental(rental_id, sender=renter)


@usd_only
def test_stop_rental__twice__reverts(market, active_id, renter):
    market.stopRental(active_id, sender=renter)
    with reverts(market.MarketRentalNotActive, rentalId=active_id, status=3):
        market.stopRental(active_id, sender=renter)
