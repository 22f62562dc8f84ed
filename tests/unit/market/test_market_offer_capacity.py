"""An offer's capacity (gpusOffered − gpusInUse) and reserved offers (reservedFor)."""

import pytest

from conftest import ZERO
from reverts import reverts


@pytest.fixture
def usd_offer(staked, create_offer):
    """An Active public offer of 8 GPUs in mUSD."""
    return create_offer(staked)


# ───────────────────────────── Capacity ─────────────────────────────


def test_open_rental__takes_capacity_from_the_offer(market, usd_offer, renter, payer, open_rental):
    assert market.getOffer(usd_offer).gpusInUse == 0
    open_rental(usd_offer, renter, gpus=3)
    assert market.getOffer(usd_offer).gpusInUse == 3
    open_rental(usd_offer, payer, gpus=5)
    o = market.getOffer(usd_offer)
    assert (o.gpusOffered, o.gpusInUse) == (8, 8)


def test_open_rental__beyond_the_free_capacity__reverts(market, usd_offer, renter, payer, open_rental):
    open_rental(usd_offer, renter, gpus=6)
    with reverts(market.MarketInsufficientCapacity, offerId=usd_offer, available=2, requested=3):
        open_rental(usd_offer, payer, gpus=3)
    # The last two GPUs can still be rented.
    open_rental(usd_offer, payer, gpus=2)
    assert market.getOffer(usd_offer).gpusInUse == 8


def test_open_rental__of_zero_gpus__reverts_with_the_zero_gpu_error(market, usd_offer, renter):
    with reverts(market.MarketInvalidGpuCount, gpus=0):
        market.openRental(usd_offer, 0, 24, 2**96 - 1, ZERO, 0, sender=renter)


# ───────────────────────────── Reserved offers ─────────────────────────────


@pytest.fixture
def reserved_offer(staked, create_offer, renter):
    """An Active offer of 8 GPUs in mUSD that only `renter` may rent."""
    return create_offer(staked, reserved_for=renter.address)


def test_open_rental__of_a_reserved_offer_by_the_reserved_renter__succeeds(market, reserved_offer, renter,
                                                                            open_rental):
    rental_id = open_rental(reserved_offer, renter, gpus=4)
    r = market.getRental(rental_id)
    assert (r.renter, r.gpus) == (renter.address, 4)


def test_open_rental__of_a_reserved_offer_by_someone_else__reverts(market, reserved_offer, renter, stranger,
                                                                    open_rental):
    with reverts(market.MarketOfferReserved, offerId=reserved_offer, reservedFor=renter.address,
                     renter=stranger.address):
        open_rental(reserved_offer, stranger, gpus=1)


def test_open_rental_for__the_reserved_renter_paid_by_a_third_party__succeeds(market, reserved_offer, renter, payer,
                                                                               open_rental):
    rental_id = open_rental(reserved_offer, renter, gpus=4, payer=payer)
    r = market.getRental(rental_id)
    assert (r.renter, r.payer) == (renter.address, payer.address)
    assert market.payerOf(rental_id) == payer.address


def test_open_rental_for__someone_else_paid_by_the_reserved_renter__reverts(market, reserved_offer, renter, stranger,
                                                                             open_rental):
    # The reservation is about who uses the GPUs, not who pays.
    with reverts(market.MarketOfferReserved, offerId=reserved_offer, reservedFor=renter.address,
                     renter=stranger.address):
        open_rental(reserved_offer, stranger, gpus=1, payer=renter)
