"""ComputeMarket.stopRental: the renter ends a running rental early and is billed the time used (at the
list rate, at least one hour); the rest of the deposit goes back to the payer."""

import pytest

from conftest import HOUR
from rental_model import BPS, ceil_div, split_claim, stop_charge
from reverts import reverts

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


@pytest.mark.parametrize("elapsed", [1001, HOUR + 1001], ids=["in_the_first_hour", "after_the_first_hour"])
def test_stop_rental__bills_the_time_used_refunds_the_rest_and_frees_the_gpus(
    market, registry, params, pay_token, price, offer_id, active_id, renter, provider, stranger, time_travel, elapsed
):
    total = 8 * price * 24
    start = market.getRental(active_id).startedAt
    ends = start + 24 * HOUR
    locked_before = registry.providerOf(provider).locked
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    assert market.getRental(active_id).discountBps == 0  # no tiers: nothing to forfeit

    t = start + elapsed
    time_travel.at(t)
    tx = market.stopRental(active_id, sender=renter)

    rate = 8 * price
    assert rate * elapsed % HOUR != 0  # rounding up matters here
    charge = stop_charge(total, start, t, 24)
    # Within the first hour the renter pays the one-hour minimum; after it, the time used rounded up once.
    assert charge == (rate if elapsed < HOUR else ceil_div(rate * elapsed * BPS, HOUR * BPS))
    refund = total - charge
    assert tx.return_value == refund
    assert pay_token.balanceOf(renter) == renter_before + refund
    assert pay_token.balanceOf(market) == market_before - refund
    r = market.getRental(active_id)
    assert (r.status, r.total, r.endsAt, r.claimed) == (3, charge, t, 0)
    assert market.getOffer(offer_id).gpusInUse == 0
    assert registry.providerOf(provider).locked == locked_before  # collateral stays until settlement
    [event] = tx.decode_logs(market.RentalStopped)
    assert (event.rentalId, event.stoppedAt, event.refund) == (active_id, t, refund)

    # The provider can still claim exactly the charge, however late.
    provider_before = pay_token.balanceOf(provider)
    time_travel.at(t + 5000)
    market.claim(active_id, sender=stranger)
    net, _, _ = split_claim(0, charge, params["protocol_fee_bps"], 0)
    assert pay_token.balanceOf(provider) == provider_before + net
    assert pay_token.balanceOf(market) == market_before - refund - net


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
    assert usd.balanceOf(payer) == payer_before + total - stop_charge(total, start, t, 24)
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
    assert usd.balanceOf(renter) == before + total - stop_charge(total, start, ends - 1, 24)
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
