"""ComputeMarket.openRentalFor: a third party (the payer) funds a rental that the renter controls."""

import pytest

from conftest import ZERO
from reverts import reverts

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def test_open_rental_for__the_payer_pays_and_is_recorded_as_payer(
    market, registry, params, pay_token, price, offer_id, renter, payer, provider, fund
):
    gpus, hours = 8, 24
    cost = gpus * price * hours
    fund(payer, pay_token, cost)
    pay_token.approve(market, cost, sender=payer)
    payer_before = pay_token.balanceOf(payer)
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    locked_before = registry.providerOf(provider).locked

    tx = market.openRentalFor(renter, offer_id, gpus, hours, price, ZERO, 0, sender=payer)

    [event] = tx.decode_logs(market.RentalOpened)
    rid = event.rentalId
    assert pay_token.balanceOf(payer) == payer_before - cost
    assert pay_token.balanceOf(renter) == renter_before
    assert pay_token.balanceOf(market) == market_before + cost
    assert registry.providerOf(provider).locked == locked_before + params["stake_per_gpu"] * gpus
    r = market.getRental(rid)
    assert (r.renter, r.payer, r.total, r.status) == (renter.address, payer.address, cost, 1)
    assert market.payerOf(rid) == payer.address
    assert (event.renter, event.payer, event.deposit) == (renter.address, payer.address, cost)


@usd_only
def test_open_rental_for__oneself__stores_no_payer(market, offer_id, usd, renter, price, fund):
    cost = 2 * price * 5
    fund(renter, usd, cost)
    usd.approve(market, cost, sender=renter)
    tx = market.openRentalFor(renter, offer_id, 2, 5, price, ZERO, 0, sender=renter)
    rid = tx.decode_logs(market.RentalOpened)[0].rentalId
    assert market.getRental(rid).payer == ZERO
    assert market.payerOf(rid) == renter.address


@usd_only
def test_open_rental_for__zero_renter__reverts(market, offer_id, payer, price):
    with reverts(market.MarketZeroAddress):
        market.openRentalFor(ZERO, offer_id, 8, 24, price, ZERO, 0, sender=payer)


@usd_only
def test_open_rental_for__paid_by_the_offers_provider__reverts(market, offer_id, provider, renter, price):
    with reverts(market.MarketSelfRental, offerId=offer_id, provider=provider.address):
        market.openRentalFor(renter, offer_id, 8, 24, price, ZERO, 0, sender=provider)


@usd_only
def test_open_rental_for__the_offers_provider_as_renter__reverts(market, offer_id, provider, payer, price):
    with reverts(market.MarketSelfRental, offerId=offer_id, provider=provider.address):
        market.openRentalFor(provider, offer_id, 8, 24, price, ZERO, 0, sender=payer)


@usd_only
def test_open_rental_for__market_paused__reverts(market, owner, offer_id, renter, payer, price):
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.openRentalFor(renter, offer_id, 8, 24, price, ZERO, 0, sender=payer)
