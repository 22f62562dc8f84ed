"""Pausing the market stops new business only: money already in the escrow can always move.

(openRental, openRentalFor and extend revert while paused: see their own files.)
"""

import pytest

from conftest import HOUR
from rental_model import BPS, split_claim

pytestmark = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def test_pause__claim_and_fee_withdrawals__still_work(
    market, params, owner, usd, price, offer_id, open_rental, renter, provider, broker, treasury, stranger, time_travel
):
    rid = open_rental(offer_id, renter, broker=broker, broker_bps=200)
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(rid, sender=provider)
    market.pause(sender=owner)
    before = {a: usd.balanceOf(a) for a in (provider, broker, treasury)}

    time_travel.at(start + 3 * HOUR)
    market.claim(rid, sender=stranger)
    market.withdrawProtocolFees(usd, sender=stranger)
    market.withdrawCredits(usd, sender=broker)

    gross = 8 * price * 3
    net, protocol_fee, broker_fee = split_claim(0, gross, params["protocol_fee_bps"], 200)
    assert market.paused()
    assert protocol_fee > 0 and broker_fee > 0
    assert usd.balanceOf(provider) == before[provider] + net
    assert usd.balanceOf(treasury) == before[treasury] + protocol_fee
    assert usd.balanceOf(broker) == before[broker] + broker_fee


def test_pause__stop_rental__still_works(market, owner, usd, price, active_id, renter, time_travel):
    start = market.getRental(active_id).startedAt
    market.pause(sender=owner)
    before = usd.balanceOf(renter)
    time_travel.at(start + 6 * HOUR)
    market.stopRental(active_id, sender=renter)
    assert usd.balanceOf(renter) == before + 8 * price * 18
    assert market.getRental(active_id).status == 3


def test_pause__cancel_pending__still_works(market, owner, usd, price, rental_id, renter):
    market.pause(sender=owner)
    before = usd.balanceOf(renter)
    market.cancelPending(rental_id, sender=renter)
    assert usd.balanceOf(renter) == before + 8 * price * 24
    assert market.getRental(rental_id).status == 4


def test_pause__release__still_settles(market, registry, params, owner, usd, price, active_id, provider, stranger,
                                       time_travel):
    ends = market.getRental(active_id).endsAt
    market.pause(sender=owner)
    before = usd.balanceOf(provider)
    time_travel.at(ends + params["dispute_window"])
    market.release(active_id, sender=stranger)
    total = 8 * price * 24
    assert usd.balanceOf(provider) == before + total - total * params["protocol_fee_bps"] // BPS
    assert market.getRental(active_id).status == 5
    assert registry.providerOf(provider).locked == 0
