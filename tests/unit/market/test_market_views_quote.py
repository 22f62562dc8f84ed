"""quote(offerId, gpus, hours) -> (cost, discountBps, hourlyRate): tier selection and rounding."""

import pytest

from conftest import PRICE_USD
from reverts import reverts

TIERS = [(100, 500), (1_000, 1_500), (10_000, 3_000)]  # (minGpuHours, discountBps)


def ceil_div(a, b):
    return -(-a // b)


@pytest.fixture
def tiered_offer(staked, create_offer):
    return create_offer(staked, gpus=64, max_hours=8_760, tiers=TIERS)


@pytest.mark.parametrize(
    "gpus, hours, bps",
    [
        (9, 11, 0),  # 99 GPU-hours: one short of the first tier
        (4, 25, 500),  # 100: exactly the first tier
        (37, 27, 500),  # 999
        (8, 125, 1_500),  # 1 000: exactly the second tier
        (50, 200, 3_000),  # 10 000: exactly the last tier
    ],
)
def test_quote__picks_the_highest_tier_reached(market, tiered_offer, gpus, hours, bps):
    q = market.quote(tiered_offer, gpus, hours)
    assert q.discountBps == bps
    assert q.hourlyRate == ceil_div(gpus * PRICE_USD * (10_000 - bps), 10_000)
    assert q.cost == q.hourlyRate * hours


def test_quote__rounds_the_hourly_rate_up(market, staked, create_offer):
    price = 1_950_001
    offer_id = create_offer(staked, price=price, tiers=[(100, 500)])
    gpus, hours = 4, 25  # 100 GPU-hours: 5 % off
    exact = gpus * price * 9_500  # 74_100_038_000: not a multiple of 10 000
    assert exact % 10_000 != 0

    cost, bps, rate = market.quote(offer_id, gpus, hours)
    assert bps == 500
    assert rate == exact // 10_000 + 1 == 7_410_004
    assert cost == rate * hours == 185_250_100


def test_quote__without_tiers__is_the_list_price(market, staked, create_offer):
    offer_id = create_offer(staked, price=PRICE_USD)
    cost, bps, rate = market.quote(offer_id, 8, 8_760)
    assert (bps, rate, cost) == (0, 8 * PRICE_USD, 8 * PRICE_USD * 8_760)


def test_quote__matches_the_deposit_taken_at_open(market, tiered_offer, renter, open_rental, usd):
    cost = market.quote(tiered_offer, 8, 125).cost
    balance = usd.balanceOf(market)
    rental_id = open_rental(tiered_offer, renter, gpus=8, hours=125)
    assert market.getRental(rental_id).total == cost
    assert usd.balanceOf(market) - balance == cost


def test_quote__of_an_unknown_offer__reverts(market, stranger):
    # ape 0.8.51 (ape-foundry 0.8.12) keeps only the node's message of a reverted eth_call, not its revert
    # data, which `reverts` needs to check the error and its inputs: the view is sent as a transaction.
    with reverts(market.MarketOfferNotFound, offerId=42):
        market.quote.transact(42, 1, 1, sender=stranger)
