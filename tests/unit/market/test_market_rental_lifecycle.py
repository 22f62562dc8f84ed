"""Conservation of a rental's money over whole lifecycles, and the market's solvency at every step:
token balance == Σ (total − claimed) over non-terminal rentals + protocol fees + credits (the brokers' fees)."""

import pytest

from conftest import HOUR
from rental_model import split_claim, stop_charge

NON_TERMINAL = (1, 2, 3)  # Pending, Active, Ended


def assert_solvent(market, token, accounts, step):
    """`accounts`: every account that may hold credits (here the brokers: no payout is deferred)."""
    escrow = 0
    for rid in range(1, market.nextRentalId()):
        r = market.getRental(rid)
        if r.status in NON_TERMINAL and market.getOffer(r.offerId).paymentToken == token.address:
            escrow += r.total - r.claimed
    fees = market.protocolFees(token) + sum(market.credits(a, token) for a in accounts)
    assert token.balanceOf(market) == escrow + fees, f"solvency after {step}"


def test_lifecycle__open_claim_stop_settle__every_unit_of_the_deposit_is_accounted_for(
    market, params, pay_token, price, offer_id, renter, payer, provider, broker, treasury, stranger, fund, time_travel
):
    broker_bps, protocol_bps = 300, params["protocol_fee_bps"]
    deposit = 8 * price * 24
    fund(payer, pay_token, deposit)
    pay_token.approve(market, deposit, sender=payer)
    parties = (payer, renter, provider, broker, treasury)
    before = {a: pay_token.balanceOf(a) for a in parties}
    market_before = pay_token.balanceOf(market)
    brokers = [broker]

    rid = market.openRentalFor(renter, offer_id, 8, 24, price, broker, broker_bps, sender=payer).return_value
    assert_solvent(market, pay_token, brokers, "open")
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(rid, sender=provider)
    assert_solvent(market, pay_token, brokers, "activate")
    for dt in (1001, 7777):
        time_travel.at(start + dt)
        market.claim(rid, sender=stranger)
        assert_solvent(market, pay_token, brokers, f"claim at +{dt}")
    stopped_at = start + 10_001
    time_travel.at(stopped_at)
    market.stopRental(rid, sender=renter)
    assert_solvent(market, pay_token, brokers, "stop")
    time_travel.at(stopped_at + params["dispute_window"])
    market.release(rid, sender=stranger)
    assert_solvent(market, pay_token, brokers, "release")
    market.withdrawProtocolFees(pay_token, sender=stranger)
    market.withdrawCredits(pay_token, sender=broker)
    assert_solvent(market, pay_token, brokers, "withdrawals")

    # Stopped after the first hour, no volume discount: the stop charge is the time used, rounded up once.
    streamed = stop_charge(deposit, start, stopped_at, 24)
    assert deposit // 24 < streamed < deposit
    # The fees of the claims at +1001 s, +7777 s and at settlement total those of one claim of the whole.
    net, protocol_fee, broker_fee = split_claim(0, streamed, protocol_bps, broker_bps)
    delta = {a: pay_token.balanceOf(a) - before[a] for a in parties}
    refund = delta[payer] + deposit  # the payer paid the deposit and got the refund back
    assert refund == deposit - streamed
    assert delta[renter] == 0
    assert delta[provider] == net
    assert delta[treasury] == protocol_fee
    assert delta[broker] == broker_fee
    assert delta[provider] + delta[treasury] + delta[broker] + refund == deposit
    assert pay_token.balanceOf(market) == market_before
    assert market.getRental(rid).status == 5


@pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])
def test_lifecycle__concurrent_rentals_in_every_state__the_market_stays_exactly_solvent(
    market, params, usd, price, offer_id, open_rental, renter, payer, stranger, provider, broker, fund, time_travel
):
    brokers = [broker]
    a = open_rental(offer_id, renter, gpus=3, hours=10, broker=broker, broker_bps=500)
    b = open_rental(offer_id, renter, gpus=2, hours=5, payer=payer)
    c = open_rental(offer_id, stranger, gpus=2, hours=7, broker=broker, broker_bps=123)
    d = open_rental(offer_id, payer, gpus=1, hours=3)
    assert_solvent(market, usd, brokers, "open")
    t = time_travel.now() + 3
    steps = [
        ("activate a", lambda: market.activate(a, sender=provider)),
        ("activate c", lambda: market.activate(c, sender=provider)),
        ("claim a, c", lambda: market.claimMany([a, b, c], sender=stranger)),
        ("extend a", lambda: market.extend(a, 4, sender=renter)),
        ("stop c", lambda: market.stopRental(c, sender=stranger)),
        ("cancel d", lambda: market.cancelPending(d, sender=payer)),
        ("claim a", lambda: market.claim(a, sender=provider)),
        ("claim c", lambda: market.claim(c, sender=stranger)),
    ]
    fund(renter, usd, 3 * price * 4)
    usd.approve(market, 3 * price * 4, sender=renter)
    for name, step in steps:
        t += 777
        time_travel.at(t)
        step()
        assert_solvent(market, usd, brokers, name)

    time_travel.at(t + params["activation_window"] + 1)
    market.release(b, sender=stranger)  # no-show
    assert_solvent(market, usd, brokers, "release b")
    time_travel.at(t + 24 * HOUR + params["dispute_window"])
    market.claimMany([a, c], sender=stranger)
    market.release(a, sender=stranger)
    market.release(c, sender=stranger)
    assert_solvent(market, usd, brokers, "settle a, c")
    market.withdrawProtocolFees(usd, sender=stranger)
    market.withdrawCredits(usd, sender=broker)
    assert [market.getRental(x).status for x in (a, b, c, d)] == [5, 4, 5, 4]
    assert usd.balanceOf(market) == 0
