"""ComputeMarket.withdrawProtocolFees / withdrawCredits: fees booked at claim time leave the escrow
(a broker's fees are credits to it)."""

import pytest

from rental_model import accrued_down, split_claim
from reverts import reverts

BROKER_BPS = 300
usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


@pytest.fixture
def claimed(market, offer_id, open_rental, renter, provider, broker, stranger, time_travel):
    """A brokered rental claimed 5 000 s in; returns the gross claimed."""
    rid = open_rental(offer_id, renter, broker=broker, broker_bps=BROKER_BPS)
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(rid, sender=provider)
    time_travel.at(start + 5_000)
    return market.claim(rid, sender=stranger).return_value


def test_withdraw_protocol_fees__anyone_sends_them_to_the_treasury(
    market, params, pay_token, price, claimed, treasury, stranger
):
    gross = accrued_down(8 * price * 24, 0, 86_400, 5_000)
    assert claimed == gross
    _, fees, _ = split_claim(0, gross, params["protocol_fee_bps"], BROKER_BPS)
    treasury_before, market_before = pay_token.balanceOf(treasury), pay_token.balanceOf(market)

    tx = market.withdrawProtocolFees(pay_token, sender=stranger)

    assert tx.return_value == fees
    assert pay_token.balanceOf(treasury) == treasury_before + fees
    assert pay_token.balanceOf(market) == market_before - fees
    assert market.protocolFees(pay_token) == 0
    [event] = tx.decode_logs(market.ProtocolFeesWithdrawn)
    assert (event.token, event.treasury, event.amount) == (pay_token.address, treasury.address, fees)


def test_withdraw_broker_fees__pays_the_broker_its_own_fees(market, params, pay_token, price, claimed, broker):
    gross = accrued_down(8 * price * 24, 0, 86_400, 5_000)
    assert claimed == gross
    _, _, fees = split_claim(0, gross, params["protocol_fee_bps"], BROKER_BPS)
    assert market.credits(broker, pay_token) == fees
    broker_before, market_before = pay_token.balanceOf(broker), pay_token.balanceOf(market)

    tx = market.withdrawCredits(pay_token, sender=broker)

    assert tx.return_value == fees
    assert pay_token.balanceOf(broker) == broker_before + fees
    assert pay_token.balanceOf(market) == market_before - fees
    assert market.credits(broker, pay_token) == 0
    [event] = tx.decode_logs(market.CreditsWithdrawn)
    assert (event.account, event.token, event.amount) == (broker.address, pay_token.address, fees)


@usd_only
def test_withdraw_broker_fees__someone_elses_fees__reverts(market, usd, claimed, broker, stranger):
    owed = market.credits(broker, usd)
    with reverts(market.MarketNoFees, account=stranger.address, token=usd.address):
        market.withdrawCredits(usd, sender=stranger)
    assert owed > 0
    assert market.credits(broker, usd) == owed


@usd_only
def test_withdraw_protocol_fees__nothing_accrued__reverts(market, usd, gpuc, claimed, treasury, stranger):
    # Fees accrued in mUSD only: the GPUC balance is empty.
    with reverts(market.MarketNoFees, account=treasury.address, token=gpuc.address):
        market.withdrawProtocolFees(gpuc, sender=stranger)
    market.withdrawProtocolFees(usd, sender=stranger)
    with reverts(market.MarketNoFees, account=treasury.address, token=usd.address):
        market.withdrawProtocolFees(usd, sender=stranger)
