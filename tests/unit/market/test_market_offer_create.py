"""createOffer: the stored record, its views and event, and every check on the provider and the terms."""

import pytest

from conftest import GPUC, PRICE_USD, ZERO
from reverts import reverts

MIN_STAKE = 1_000 * GPUC  # DEFAULT_PARAMS["min_stake"]


def pack_tiers(tiers):
    """RentalMath.packTiers in Python: tier i at bits [48i, 48i+48) as minGpuHours | discountBps << 32."""
    return sum((hours | (bps << 32)) << (48 * i) for i, (hours, bps) in enumerate(tiers))


# ───────────────────────────── Happy path ─────────────────────────────


def test_create_offer__stores_the_record_labels_and_tiers(market, staked, usd, renter, create_offer):
    tiers = [(100, 500), (1_000, 1_500)]
    offer_id = create_offer(
        staked, price=1_234_567, gpus=16, min_hours=2, max_hours=48, reserved_for=renter.address,
        max_broker_bps=250, tiers=tiers, gpu_model="A100-PCIE-40GB", region="EU-FRA",
    )

    o = market.getOffer(offer_id)
    assert o.provider == staked.address
    assert o.gpusOffered == 16
    assert o.gpusInUse == 0
    assert (o.minHours, o.maxHours) == (2, 48)
    assert o.maxBrokerBps == 250
    assert o.status == 1  # Active
    assert o.paymentToken == usd.address
    assert o.pricePerGpuHour == 1_234_567
    assert o.reservedFor == renter.address
    assert o.tiers == pack_tiers(tiers)
    assert tuple(market.offerLabels(offer_id)) == ("A100-PCIE-40GB", "EU-FRA")
    assert [(t.minGpuHours, t.discountBps) for t in market.offerTiers(offer_id)] == tiers


def test_create_offer__emits_offer_created_with_every_field(market, staked, usd, offer_params):
    tiers = [(50, 100), (500, 700), (5_000, 2_000)]
    params = offer_params(price=PRICE_USD, gpus=4, min_hours=3, max_hours=96, max_broker_bps=1000, tiers=tiers)
    tx = market.createOffer(params, sender=staked)

    [event] = tx.decode_logs(market.OfferCreated)
    assert event.offerId == 1
    assert event["provider"] == staked.address  # `.provider` is taken by ape (the chain provider)
    assert event.paymentToken == usd.address
    assert (event.gpuModel, event.region) == ("H100-SXM-80GB", "AU-QLD")
    assert event.pricePerGpuHour == PRICE_USD
    assert event.gpusOffered == 4
    assert (event.minHours, event.maxHours) == (3, 96)
    assert event.reservedFor == ZERO
    assert event.maxBrokerBps == 1000
    assert event.tiers == pack_tiers(tiers)


def test_create_offer__ids_start_at_one_and_increment(market, staked, provider2, stake_provider, create_offer):
    assert market.nextOfferId() == 1
    stake_provider(provider2)
    assert [create_offer(staked), create_offer(provider2), create_offer(staked)] == [1, 2, 3]
    assert market.nextOfferId() == 4
    assert market.getOffer(2).provider == provider2.address
    assert market.getOffer(4).status == 0  # None: not created yet


def test_create_offer__at_the_widest_bounds__succeeds(market, staked, create_offer):
    max_tiers = [(1, 1), (2, 2), (3, 3), (4_294_967_295, 5_000)]  # 4 tiers, uint32 max, MAX_DISCOUNT_BPS
    offer_id = create_offer(
        staked, price=2**96 - 1, gpus=65_535, min_hours=8_760, max_hours=8_760, max_broker_bps=1_000,
        tiers=max_tiers, gpu_model="G" * 32, region="R" * 32,
    )
    o = market.getOffer(offer_id)
    assert (o.pricePerGpuHour, o.gpusOffered, o.minHours, o.maxHours) == (2**96 - 1, 65_535, 8_760, 8_760)
    assert [(t.minGpuHours, t.discountBps) for t in market.offerTiers(offer_id)] == max_tiers
    assert tuple(market.offerLabels(offer_id)) == ("G" * 32, "R" * 32)


# ───────────────────────────── Provider checks ─────────────────────────────


def test_create_offer__by_an_unregistered_account__reverts(market, registry, provider2, offer_params):
    assert not registry.providerOf(provider2).registered
    with reverts(market.MarketProviderNotActive, provider=provider2.address):
        market.createOffer(offer_params(), sender=provider2)


def test_create_offer__staked_one_unit_below_min_stake__reverts_until_topped_up(market, provider2, stake_provider,
                                                                               offer_params, create_offer):
    stake_provider(provider2, MIN_STAKE - 1)
    with reverts(market.MarketProviderNotActive, provider=provider2.address):
        market.createOffer(offer_params(), sender=provider2)
    stake_provider(provider2, 1)  # bonded == minStake exactly
    assert market.getOffer(create_offer(provider2)).provider == provider2.address


def test_create_offer__while_the_market_is_paused__reverts(market, owner, staked, offer_params):
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.createOffer(offer_params(), sender=staked)


# ───────────────────────────── Terms checks ─────────────────────────────


def test_create_offer__with_an_invalid_label__reverts(market, staked, offer_params):
    cases = [
        ({"gpu_model": ""}, 0),
        ({"gpu_model": "X" * 33}, 33),
        ({"region": ""}, 0),
        ({"region": "€" * 11}, 33),  # 11 characters but 33 UTF-8 bytes: the limit is in bytes
    ]
    for overrides, length in cases:
        with reverts(market.MarketInvalidLabel, length=length):
            market.createOffer(offer_params(**overrides), sender=staked)


def test_create_offer__in_a_token_not_allowlisted__reverts(market, owner, staked, usd, offer_params):
    market.setPaymentToken(usd, False, sender=owner)
    with reverts(market.MarketTokenNotAllowed, token=usd.address):
        market.createOffer(offer_params(token=usd), sender=staked)


@pytest.mark.parametrize(
    "overrides, error, inputs",
    [
        ({"price": 0}, "MarketInvalidPrice", {"price": 0}),
        ({"gpus": 0}, "MarketInvalidGpuCount", {"gpus": 0}),
        ({"min_hours": 0, "max_hours": 720}, "MarketInvalidHourBounds", {"minHours": 0, "maxHours": 720}),
        ({"min_hours": 10, "max_hours": 9}, "MarketInvalidHourBounds", {"minHours": 10, "maxHours": 9}),
        ({"min_hours": 1, "max_hours": 8_761}, "MarketInvalidHourBounds", {"minHours": 1, "maxHours": 8_761}),
        ({"max_broker_bps": 1_001}, "MarketBrokerBpsAboveMax", {"brokerBps": 1_001, "maxBrokerBps": 1_000}),
    ],
    ids=["zero_price", "zero_gpus", "min_hours_zero", "max_below_min", "max_above_one_year", "broker_bps_above_cap"],
)
def test_create_offer__with_invalid_terms__reverts(market, staked, offer_params, overrides, error, inputs):
    with reverts(getattr(market, error), **inputs):
        market.createOffer(offer_params(**overrides), sender=staked)


@pytest.mark.parametrize(
    "tiers, index",
    [
        ([(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)], 4),
        ([(100, 100), (100, 200)], 1),
        ([(100, 200), (200, 200)], 1),
        ([(100, 5_001)], 0),
        ([(0, 100)], 0),
    ],
    ids=["five_tiers", "equal_gpu_hours", "equal_discount", "discount_above_cap", "zero_gpu_hours"],
)
def test_create_offer__with_invalid_tiers__reverts(market, staked, offer_params, tiers, index):
    # MarketInvalidTiers is raised by TierMath (in the offer module) and declared in IComputeMarketErrors.
    with reverts(market.MarketInvalidTiers, index=index):
        market.createOffer(offer_params(tiers=tiers), sender=staked)
