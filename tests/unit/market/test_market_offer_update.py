"""updateOffer(offerId, price, gpusOffered, minHours, maxHours, reservedFor, maxBrokerBps, tiers)."""

import pytest

from conftest import PRICE_USD, ZERO
from reverts import reverts


def pack_tiers(tiers):
    return sum((hours | (bps << 32)) << (48 * i) for i, (hours, bps) in enumerate(tiers))


@pytest.fixture
def usd_offer(staked, create_offer):
    """An Active public offer of 8 GPUs at PRICE_USD in mUSD, 1 to 720 hours, maxBrokerBps 500."""
    return create_offer(staked)


def update(market, offer_id, sender, price=PRICE_USD, gpus=8, min_hours=1, max_hours=720, reserved_for=ZERO,
           max_broker_bps=500, tiers=()):
    return market.updateOffer(offer_id, price, gpus, min_hours, max_hours, reserved_for, max_broker_bps, list(tiers),
                              sender=sender)


def test_update_offer__replaces_the_terms_and_emits(market, usd_offer, staked, usd, renter):
    tiers = [(10, 300), (100, 900)]
    tx = update(market, usd_offer, staked, price=2_500_000, gpus=12, min_hours=4, max_hours=168,
                reserved_for=renter.address, max_broker_bps=0, tiers=tiers)

    o = market.getOffer(usd_offer)
    assert (o.pricePerGpuHour, o.gpusOffered, o.minHours, o.maxHours) == (2_500_000, 12, 4, 168)
    assert (o.reservedFor, o.maxBrokerBps, o.tiers) == (renter.address, 0, pack_tiers(tiers))
    # What an update cannot change.
    assert (o.provider, o.paymentToken, o.status, o.gpusInUse) == (staked.address, usd.address, 1, 0)
    assert tuple(market.offerLabels(usd_offer)) == ("H100-SXM-80GB", "AU-QLD")
    assert [(t.minGpuHours, t.discountBps) for t in market.offerTiers(usd_offer)] == tiers

    [event] = tx.decode_logs(market.OfferUpdated)
    assert event.offerId == usd_offer
    assert (event.pricePerGpuHour, event.gpusOffered, event.minHours, event.maxHours) == (2_500_000, 12, 4, 168)
    assert (event.reservedFor, event.maxBrokerBps, event.tiers) == (renter.address, 0, pack_tiers(tiers))


def test_update_offer__by_someone_else__reverts(market, usd_offer, stranger):
    with reverts(market.MarketNotOfferProvider, offerId=usd_offer, caller=stranger.address):
        update(market, usd_offer, stranger, price=1)


def test_update_offer__of_an_unknown_offer__reverts(market, staked):
    with reverts(market.MarketOfferNotFound, offerId=42):
        update(market, 42, staked)


def test_update_offer__of_a_closed_offer__reverts(market, usd_offer, staked):
    market.closeOffer(usd_offer, sender=staked)
    with reverts(market.MarketOfferClosed, offerId=usd_offer):
        update(market, usd_offer, staked)


def test_update_offer__of_a_paused_offer__keeps_it_paused(market, usd_offer, staked):
    market.pauseOffer(usd_offer, sender=staked)
    update(market, usd_offer, staked, price=3_000_000)
    o = market.getOffer(usd_offer)
    assert (o.status, o.pricePerGpuHour) == (2, 3_000_000)


def test_offer_management__while_the_market_is_paused__still_works(market, usd_offer, staked, owner):
    # Pause stops new business only: a provider can still reprice, pause and close its offers.
    market.pause(sender=owner)
    update(market, usd_offer, staked, price=3_000_000)
    assert market.getOffer(usd_offer).pricePerGpuHour == 3_000_000
    market.pauseOffer(usd_offer, sender=staked)
    market.closeOffer(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == 3


def test_update_offer__gpus_offered_below_gpus_in_use__reverts(market, usd_offer, staked, renter, open_rental):
    open_rental(usd_offer, renter, gpus=6)
    with reverts(market.MarketGpusOfferedBelowInUse, offerId=usd_offer, gpusInUse=6, gpusOffered=5):
        update(market, usd_offer, staked, gpus=5)
    # Exactly the GPUs in use is allowed: the offer is then full.
    update(market, usd_offer, staked, gpus=6)
    o = market.getOffer(usd_offer)
    assert (o.gpusOffered, o.gpusInUse) == (6, 6)


@pytest.mark.parametrize(
    "overrides, error, inputs",
    [
        ({"price": 0}, "MarketInvalidPrice", {"price": 0}),
        ({"min_hours": 5, "max_hours": 4}, "MarketInvalidHourBounds", {"minHours": 5, "maxHours": 4}),
        ({"tiers": [(100, 600), (50, 700)]}, "MarketInvalidTiers", {"index": 1}),
    ],
    ids=["zero_price", "hour_bounds", "tiers"],
)
def test_update_offer__with_invalid_terms__reverts(market, usd_offer, staked, overrides, error, inputs):
    with reverts(getattr(market, error), **inputs):
        update(market, usd_offer, staked, **overrides)


def test_update_offer__running_rentals_keep_their_terms(market, staked, create_offer, renter, open_rental):
    offer_id = create_offer(staked, gpus=16, tiers=[(100, 1_000)])
    rental_id = open_rental(offer_id, renter, gpus=8, hours=24)  # 192 GPU-hours: 10 % off
    before = market.getRental(rental_id)
    assert before.total == 8 * PRICE_USD * 9_000 // 10_000 * 24

    update(market, offer_id, staked, price=3 * PRICE_USD, gpus=16, tiers=())  # no tiers any more
    assert list(market.offerTiers(offer_id)) == []
    after = market.getRental(rental_id)
    assert (after.total, after.hoursPaid, after.gpus, after.status) == (before.total, 24, 8, 1)
    # While the next rental pays the new terms.
    assert market.quote(offer_id, 8, 24).cost == 8 * 3 * PRICE_USD * 24


def test_update_offer__reserving_then_opening_again__the_reservation_follows(
    market, usd_offer, staked, renter, stranger, open_rental
):
    update(market, usd_offer, staked, reserved_for=renter.address)
    assert market.getOffer(usd_offer).reserved
    with reverts(market.MarketOfferReserved, offerId=usd_offer, reservedFor=renter.address,
                     renter=stranger.address):
        open_rental(usd_offer, stranger, gpus=1)

    update(market, usd_offer, staked)
    assert not market.getOffer(usd_offer).reserved
    assert open_rental(usd_offer, stranger, gpus=1) > 0
