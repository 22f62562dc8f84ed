"""Conservation of a rental's money over whole lifecycles, and the market's solvency at every step:
token balance == Σ (total − claimed) over non-terminal rentals + protocol fees + broker fees."""

import pytest

from conftest import HOUR

BPS = 10_000
NON_TERMINAL = (1, 2, 3)  # Pending, Active, Ended


def accrued_down(total, started, ends, t):
    if t <= started:
        return 0
    if t >= ends:
        return total
    return total * (t - started) // (ends - started)


def accrued_up(total, started, ends, t):
    if t <= started:
        return 0
    if t >= ends:
        return total
    return -(-total * (t - started) // (ends - started))


def assert_solvent(market, token, brokers, step):
    escrow = 0
    for rid in range(1, market.nextRentalId()):
        r = market.getRental(rid)
        if r.status in NON_TERMINAL and market.getOffer(r.offerId).paymentToken == token.address:
            escrow += r.total - r.claimed
    fees = market.protocolFees(token) + sum(market.brokerFees(b, token) for b in brokers)
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
    market.withdrawBrokerFees(pay_token, sender=broker)
    assert_solvent(market, pay_token, brokers, "withdrawals")

    streamed = accrued_up(deposit, start, start + 24 * HOUR, stopped_at)
    protocol_fee, broker_fee = streamed * protocol_bps // BPS, streamed * broker_bps // BPS
    delta = {a: pay_token.balanceOf(a) - before[a] for a in parties}
    refund = delta[payer] + deposit  # the payer paid the deposit and got the refund back
    assert refund == deposit - streamed
    assert delta[renter] == 0
    assert delta[provider] == streamed - protocol_fee - broker_fee
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
    market.withdrawBrokerFees(usd, sender=broker)
    assert [market.getRental(x).status for x in (a, b, c, d)] == [5, 4, 5, 4]
    assert usd.balanceOf(market) == 0
