"""ComputeMarket.claimMany: claims many rentals, skips those with nothing to claim, batches payouts."""

import pytest

from conftest import HOUR
from rental_model import accrued_down, split_claim

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def net_of(gross, fee_bps):
    """The provider's net of a first claim of `gross` on an unbrokered rental."""
    return split_claim(0, gross, fee_bps, 0)[0]


def transfers(tx, token, sender):
    logs = [log.event_arguments for log in tx.decode_logs(token.Transfer)]
    return [(log["to"], log["value"]) for log in logs if log["from"] == sender.address]


def test_claim_many__same_provider__pays_once_for_all(
    market, params, pay_token, price, offer_id, open_rental, renter, payer, provider, stranger, time_travel
):
    a = open_rental(offer_id, renter, gpus=4, hours=24)
    b = open_rental(offer_id, payer, gpus=4, hours=10)
    total_a, total_b = 4 * price * 24, 4 * price * 10
    start_a = time_travel.now() + 3
    time_travel.at(start_a)
    market.activate(a, sender=provider)
    start_b = start_a + 500
    time_travel.at(start_b)
    market.activate(b, sender=provider)
    provider_before = pay_token.balanceOf(provider)
    market_before = pay_token.balanceOf(market)

    t = start_b + 1001
    time_travel.at(t)
    tx = market.claimMany([a, b], sender=stranger)

    fee_bps = params["protocol_fee_bps"]
    gross_a = accrued_down(total_a, start_a, start_a + 24 * HOUR, t)
    gross_b = accrued_down(total_b, start_b, start_b + 10 * HOUR, t)
    net = net_of(gross_a, fee_bps) + net_of(gross_b, fee_bps)
    assert tx.return_value == gross_a + gross_b
    assert transfers(tx, pay_token, market) == [(provider.address, net)]
    assert pay_token.balanceOf(provider) == provider_before + net
    assert pay_token.balanceOf(market) == market_before - net
    assert [(e.rentalId, e.gross) for e in tx.decode_logs(market.RentalClaimed)] == [(a, gross_a), (b, gross_b)]
    assert (market.getRental(a).claimed, market.getRental(b).claimed) == (gross_a, gross_b)


@usd_only
def test_claim_many__nothing_to_claim__skips_without_reverting(
    market, params, usd, price, offer_id, open_rental, renter, payer, provider, stranger, time_travel
):
    pending = open_rental(offer_id, payer, gpus=4)
    active = open_rental(offer_id, renter, gpus=4)
    start = time_travel.now() + 3
    time_travel.at(start)
    market.activate(active, sender=provider)
    provider_before = usd.balanceOf(provider)

    t = start + 600
    time_travel.at(t)
    tx = market.claimMany([pending, active, active, 999], sender=stranger)

    gross = accrued_down(4 * price * 24, start, start + 24 * HOUR, t)
    assert tx.return_value == gross
    assert len(tx.decode_logs(market.RentalClaimed)) == 1
    assert usd.balanceOf(provider) == provider_before + net_of(gross, params["protocol_fee_bps"])

    tx = market.claimMany([pending, 999], sender=stranger)
    assert tx.return_value == 0
    assert transfers(tx, usd, market) == []
    assert tx.decode_logs(market.RentalClaimed) == []


@usd_only
def test_claim_many__providers_interleaved__pays_each_its_own_share(
    market, params, usd, price, offer_id, open_rental, create_offer, stake_provider, renter, payer, stranger,
    provider, provider2, time_travel,
):
    stake_provider(provider2)
    offer2 = create_offer(provider2, token=usd, price=price + 1)
    a = open_rental(offer_id, renter, gpus=4)
    b = open_rental(offer2, renter, gpus=2)
    c = open_rental(offer_id, payer, gpus=4)
    start = time_travel.now() + 3
    for i, (rid, who) in enumerate([(a, provider), (b, provider2), (c, provider)]):
        time_travel.at(start + i)
        market.activate(rid, sender=who)
    before = (usd.balanceOf(provider), usd.balanceOf(provider2))

    t = start + 3333
    time_travel.at(t)
    tx = market.claimMany([a, b, c], sender=stranger)

    fee_bps = params["protocol_fee_bps"]
    net_a = net_of(accrued_down(4 * price * 24, start, start + 24 * HOUR, t), fee_bps)
    net_b = net_of(accrued_down(2 * (price + 1) * 24, start + 1, start + 1 + 24 * HOUR, t), fee_bps)
    net_c = net_of(accrued_down(4 * price * 24, start + 2, start + 2 + 24 * HOUR, t), fee_bps)
    # Not consecutive: provider, provider2, provider again → three transfers.
    assert transfers(tx, usd, market) == [
        (provider.address, net_a),
        (provider2.address, net_b),
        (provider.address, net_c),
    ]
    assert usd.balanceOf(provider) == before[0] + net_a + net_c
    assert usd.balanceOf(provider2) == before[1] + net_b
