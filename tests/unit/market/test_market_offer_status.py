"""pauseOffer, resumeOffer, closeOffer: Active ⇄ Paused → Closed (terminal)."""

import pytest

from conftest import PRICE_USD, ZERO
from reverts import reverts

ACTIVE, PAUSED, CLOSED = 1, 2, 3


@pytest.fixture
def usd_offer(staked, create_offer):
    """An Active public offer of 8 GPUs at PRICE_USD in mUSD."""
    return create_offer(staked)


def status_events(market, tx):
    return [(e.offerId, e.status) for e in tx.decode_logs(market.OfferStatusChanged)]


def test_pause_offer__then_resume__round_trips_with_events(market, usd_offer, staked):
    tx = market.pauseOffer(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == PAUSED
    assert status_events(market, tx) == [(usd_offer, PAUSED)]

    tx = market.resumeOffer(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == ACTIVE
    assert status_events(market, tx) == [(usd_offer, ACTIVE)]


def test_close_offer__of_a_paused_offer__closes_with_an_event(market, usd_offer, staked):
    market.pauseOffer(usd_offer, sender=staked)
    tx = market.closeOffer(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == CLOSED
    assert status_events(market, tx) == [(usd_offer, CLOSED)]


def test_pause_offer__when_already_paused__reverts(market, usd_offer, staked):
    market.pauseOffer(usd_offer, sender=staked)
    with reverts(market.MarketOfferNotActive, offerId=usd_offer, status=PAUSED):
        market.pauseOffer(usd_offer, sender=staked)


def test_resume_offer__when_active__reverts(market, usd_offer, staked):
    with reverts(market.MarketOfferNotPaused, offerId=usd_offer, status=ACTIVE):
        market.resumeOffer(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == ACTIVE


def test_offer_status__after_close__every_transition_reverts_offer_closed(market, usd_offer, staked):
    tx = market.closeOffer(usd_offer, sender=staked)
    assert status_events(market, tx) == [(usd_offer, CLOSED)]
    for fn in ("resumeOffer", "pauseOffer", "closeOffer"):
        with reverts(market.MarketOfferClosed, offerId=usd_offer):
            getattr(market, fn)(usd_offer, sender=staked)
    assert market.getOffer(usd_offer).status == CLOSED


def test_offer_status__by_someone_else__reverts(market, usd_offer, staked, stranger):
    for fn in ("pauseOffer", "closeOffer"):
        with reverts(market.MarketNotOfferProvider, offerId=usd_offer, caller=stranger.address):
            getattr(market, fn)(usd_offer, sender=stranger)
    market.pauseOffer(usd_offer, sender=staked)
    with reverts(market.MarketNotOfferProvider, offerId=usd_offer, caller=stranger.address):
        market.resumeOffer(usd_offer, sender=stranger)
    assert market.getOffer(usd_offer).status == PAUSED


def test_close_offer__of_an_unknown_offer__reverts(market, staked):
    with reverts(market.MarketOfferNotFound, offerId=7):
        market.closeOffer(7, sender=staked)


@pytest.mark.parametrize("fn, status", [("pauseOffer", PAUSED), ("closeOffer", CLOSED)], ids=["paused", "closed"])
def test_open_rental__on_an_offer_not_active__reverts(market, usd_offer, staked, renter, usd, fn, status):
    getattr(market, fn)(usd_offer, sender=staked)
    usd.mint(renter, 10_000 * 10**6, sender=renter)
    usd.approve(market, 10_000 * 10**6, sender=renter)
    with reverts(market.MarketOfferNotActive, offerId=usd_offer, status=status):
        market.openRental(usd_offer, 1, 1, PRICE_USD, ZERO, 0, sender=renter)


def test_close_offer__running_rentals_are_unaffected(market, usd_offer, staked, renter, open_rental):
    rental_id = open_rental(usd_offer, renter, gpus=3)
    total = market.getRental(rental_id).total
    market.closeOffer(usd_offer, sender=staked)

    # The provider can still hand over the pending rental, and it keeps its capacity and deposit.
    market.activate(rental_id, sender=staked)
    r = market.getRental(rental_id)
    assert (r.status, r.total) == (2, total)
    assert market.getOffer(usd_offer).gpusInUse == 3
