"""ComputeMarket.extend: the self-funding renter buys more hours of a running rental at its own rate."""

import pytest

from conftest import HOUR
from reverts import reverts

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def fund_extension(market, token, renter, fund, cost):
    fund(renter, token, cost)
    token.approve(market, cost, sender=renter)


def test_extend__pulls_the_cost_at_the_same_rate_and_moves_the_end(
    market, pay_token, price, active_id, renter, provider, stranger, fund, time_travel
):
    rate = 8 * price
    start = market.getRental(active_id).startedAt
    ends = start + 24 * HOUR
    cost = rate * 6
    fund_extension(market, pay_token, renter, fund, cost)
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    provider_before = pay_token.balanceOf(provider)

    time_travel.at(start + HOUR)
    tx = market.extend(active_id, 6, sender=renter)

    assert tx.return_value == cost
    assert pay_token.balanceOf(renter) == renter_before - cost
    assert pay_token.balanceOf(market) == market_before + cost
    assert pay_token.balanceOf(provider) == provider_before
    r = market.getRental(active_id)
    assert (r.total, r.hoursPaid, r.endsAt, r.startedAt, r.status) == (rate * 30, 30, ends + 6 * HOUR, start, 2)
    [event] = tx.decode_logs(market.RentalExtended)
    assert (event.rentalId, event.hoursAdded, event.cost, event.endsAt) == (active_id, 6, cost, ends + 6 * HOUR)

    # The stream keeps its rate: two hours in, exactly two hours' worth has accrued.
    time_travel.at(start + 2 * HOUR)
    assert market.claim(active_id, sender=stranger).return_value == 2 * rate


@usd_only
def test_extend__one_second_before_the_end__succeeds(market, usd, price, active_id, renter, fund, time_travel):
    ends = market.getRental(active_id).endsAt
    fund_extension(market, usd, renter, fund, 8 * price)
    time_travel.at(ends - 1)
    market.extend(active_id, 1, sender=renter)
    assert market.getRental(active_id).endsAt == ends + HOUR


@usd_only
def test_extend__exactly_at_the_end__reverts(market, usd, price, active_id, renter, fund, time_travel):
    ends = market.getRental(active_id).endsAt
    fund_extension(market, usd, renter, fund, 8 * price)
    time_travel.at(ends)
    with reverts(market.MarketRentalEnded, rentalId=active_id, endsAt=ends):
        market.extend(active_id, 1, sender=renter)


@usd_only
def test_extend__up_to_the_offers_max_hours__succeeds(market, usd, price, active_id, renter, fund):
    fund_extension(market, usd, renter, fund, 8 * price * 696)
    market.extend(active_id, 696, sender=renter)
    assert market.getRental(active_id).hoursPaid == 720


@usd_only
@pytest.mark.parametrize("hours", [0, 697], ids=["zero", "past_max"])
def test_extend__hours_out_of_bounds__reverts(market, active_id, renter, hours):
    with reverts(market.MarketInvalidHours, hoursRequested=hours, minHours=1, maxHours=720 - 24):
        market.extend(active_id, hours, sender=renter)


@usd_only
def test_extend__by_someone_else__reverts(market, active_id, stranger):
    with reverts(market.MarketNotRenter, rentalId=active_id, caller=stranger.address):
        market.extend(active_id, 1, sender=stranger)


@usd_only
def test_extend__pending_rental__reverts(market, rental_id, renter):
    with reverts(market.MarketRentalNotActive, rentalId=rental_id, status=1):
        market.extend(rental_id, 1, sender=renter)


@usd_only
def test_extend__rental_paid_by_a_third_party__reverts(market, offer_id, open_rental, renter, payer, provider):
    rid = open_rental(offer_id, renter, payer=payer)
    market.activate(rid, sender=provider)
    with reverts(market.MarketExtensionNotSelfFunded, rentalId=rid, payer=payer.address):
        market.extend(rid, 1, sender=renter)


@usd_only
def test_extend__offer_paused__reverts(market, offer_id, active_id, provider, renter):
    market.pauseOffer(offer_id, sender=provider)
    with reverts(market.MarketOfferNotActive, offerId=offer_id, status=2):
        market.extend(active_id, 1, sender=renter)


@usd_only
def test_extend__market_paused__reverts(market, owner, active_id, renter):
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.extend(active_id, 1, sender=renter)
