"""ComputeMarket.claim: anyone pays the provider what the stream has accrued, less cumulative fees."""

import pytest

from conftest import DAY, HOUR
from rental_model import BPS, accrued_down, split_claim
from reverts import reverts

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def test_claim__pays_the_provider_its_net_and_books_the_fees(
    market, params, pay_token, price, offer_id, open_rental, renter, provider, broker, stranger, time_travel
):
    broker_bps = 250
    rid = open_rental(offer_id, renter, broker=broker, broker_bps=broker_bps)
    total = 8 * price * 24
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(rid, sender=provider)
    provider_before = pay_token.balanceOf(provider)
    market_before = pay_token.balanceOf(market)
    stranger_before = pay_token.balanceOf(stranger)

    t = start + 1001
    time_travel.at(t)
    tx = market.claim(rid, sender=stranger)

    gross = accrued_down(total, start, start + 24 * HOUR, t)
    net, protocol_fee, broker_fee = split_claim(0, gross, params["protocol_fee_bps"], broker_bps)
    assert gross * 24 * HOUR < total * (t - start)  # the stream's rounding is exercised
    assert protocol_fee + broker_fee == gross * (params["protocol_fee_bps"] + broker_bps) // BPS
    # the one-pass split is exercised: fees rounded separately would differ here
    assert (protocol_fee, broker_fee) != (gross * params["protocol_fee_bps"] // BPS, gross * broker_bps // BPS)
    assert pay_token.balanceOf(provider) == provider_before + net
    assert pay_token.balanceOf(market) == market_before - net
    assert pay_token.balanceOf(stranger) == stranger_before
    assert market.protocolFees(pay_token) == protocol_fee
    assert market.credits(broker, pay_token) == broker_fee
    assert market.getRental(rid).claimed == gross
    assert tx.return_value == gross
    [event] = tx.decode_logs(market.RentalClaimed)
    # `provider` is shadowed by ape's log attribute of the same name: read it from the arguments.
    assert (event.rentalId, event.event_arguments["provider"]) == (rid, provider.address)
    assert (event.gross, event.providerNet) == (gross, net)
    assert (event.protocolFee, event.brokerFee) == (protocol_fee, broker_fee)


@usd_only
def test_claim__in_several_steps__fees_total_the_fee_on_the_whole_stream(
    market, params, usd, price, offer_id, open_rental, renter, provider, broker, time_travel
):
    broker_bps, protocol_bps = 250, params["protocol_fee_bps"]
    rid = open_rental(offer_id, renter, broker=broker, broker_bps=broker_bps)
    total = 8 * price * 24
    start = time_travel.now() + 3
    ends = start + 24 * HOUR
    time_travel.at(start)
    market.activate(rid, sender=provider)
    provider_before = usd.balanceOf(provider)

    claimed = 0
    for t in (start + 1001, start + 4999, start + 7777, ends + 5):
        time_travel.at(t)
        tx = market.claim(rid, sender=provider)
        after = accrued_down(total, start, ends, t)
        [event] = tx.decode_logs(market.RentalClaimed)
        net, protocol_fee, broker_fee = split_claim(claimed, after, protocol_bps, broker_bps)
        assert event.gross == after - claimed
        assert (event.providerNet, event.protocolFee, event.brokerFee) == (net, protocol_fee, broker_fee)
        claimed = after

    # The claims in steps book exactly the fees of one claim of the whole stream.
    assert claimed == total
    whole_net, whole_protocol_fee, whole_broker_fee = split_claim(0, total, protocol_bps, broker_bps)
    assert whole_protocol_fee + whole_broker_fee == total * (protocol_bps + broker_bps) // BPS
    assert market.protocolFees(usd) == whole_protocol_fee
    assert market.credits(broker, usd) == whole_broker_fee
    assert usd.balanceOf(provider) - provider_before == whole_net


@usd_only
def test_claim__everything_already_claimed__reverts(market, active_id, stranger, time_travel):
    time_travel.at(market.getRental(active_id).endsAt + 1)
    market.claim(active_id, sender=stranger)
    with reverts(market.MarketNothingToClaim, rentalId=active_id):
        market.claim(active_id, sender=stranger)


@usd_only
@pytest.mark.parametrize("state", ["pending", "cancelled", "settled"])
def test_claim__rental_not_streaming__reverts(market, rental_id, provider, renter, time_travel, state):
    expected_status = {"pending": 1, "cancelled": 4, "settled": 5}[state]
    if state == "cancelled":
        market.cancelPending(rental_id, sender=renter)
    elif state == "settled":
        market.activate(rental_id, sender=provider)
        time_travel.at(market.getRental(rental_id).endsAt + DAY)
        market.release(rental_id, sender=provider)
    assert market.getRental(rental_id).status == expected_status
    with reverts(market.MarketRentalNotClaimable, rentalId=rental_id, status=expected_status):
        market.claim(rental_id, sender=provider)


def test_claim__unknown_rental__reverts(market, stranger):
    with reverts(market.MarketRentalNotClaimable, rentalId=999, status=0):
        market.claim(999, sender=stranger)

