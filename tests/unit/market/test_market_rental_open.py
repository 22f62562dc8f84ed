"""ComputeMarket.openRental: the renter pays the full quote up front, the provider's collateral is locked."""

import pytest
from ape import project

from conftest import GPUC, PROVIDER_STAKE, ZERO
from reverts import reverts

BPS = 10_000
usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def cost_of(gpus, price, hours, discount_bps=0):
    """Hourly rate rounded up (against the renter), times the hours."""
    rate = -(-gpus * price * (BPS - discount_bps) // BPS)
    return rate * hours


def test_open_rental__pulls_the_cost_locks_collateral_and_takes_capacity(
    market, registry, params, pay_token, price, offer_id, renter, provider, broker, fund, time_travel
):
    gpus, hours, broker_bps = 3, 10, 250
    cost = cost_of(gpus, price, hours)
    collateral = params["stake_per_gpu"] * gpus
    fund(renter, pay_token, cost)
    pay_token.approve(market, cost, sender=renter)
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    provider_before = pay_token.balanceOf(provider)
    locked_before = registry.providerOf(provider).locked

    ts = time_travel.now() + 7
    time_travel.at(ts)
    tx = market.openRental(offer_id, gpus, hours, price, broker, broker_bps, sender=renter)

    [event] = tx.decode_logs(market.RentalOpened)
    rid = event.rentalId
    # Every party and the token, so an indexer needs no other event (ape's log object has its own
    # "provider" attribute: read the arguments by key).
    assert (event["renter"], event["payer"], event["provider"], event["paymentToken"], event["broker"]) == \
        (renter.address, renter.address, provider.address, pay_token.address, broker.address)
    assert (event["gpus"], event["hoursPaid"], event["deposit"], event["collateral"], event["brokerBps"]) == \
        (gpus, hours, cost, collateral, broker_bps)
    assert pay_token.balanceOf(renter) == renter_before - cost
    assert pay_token.balanceOf(market) == market_before + cost
    assert pay_token.balanceOf(provider) == provider_before
    assert registry.providerOf(provider).locked == locked_before + collateral
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE - collateral
    assert market.getOffer(offer_id).gpusInUse == gpus
    assert market.nextRentalId() == rid + 1

    r = market.getRental(rid)
    assert (r.renter, r.offerId, r.gpus, r.hoursPaid) == (renter.address, offer_id, gpus, hours)
    assert (r.total, r.claimed, r.collateral) == (cost, 0, collateral)
    assert (r.protocolFeeBps, r.brokerBps, r.broker) == (params["protocol_fee_bps"], broker_bps, broker.address)
    assert (r.startedAt, r.endsAt) == (0, 0)
    assert r.activationDeadline == ts + params["activation_window"]
    assert r.status == 1
    # Self-funded: no payer slot, refunds go to the renter.
    assert r.payer == ZERO
    assert market.payerOf(rid) == renter.address

    assert (event.offerId, event.renter, event.payer) == (offer_id, renter.address, renter.address)
    assert (event.gpus, event.hoursPaid, event.deposit, event.collateral) == (gpus, hours, cost, collateral)
    assert (event.broker, event.brokerBps) == (broker.address, broker_bps)


def test_open_rental__with_a_volume_tier__charges_the_discounted_rate_rounded_up(
    market, staked, create_offer, usd, renter, fund
):
    price, gpus, hours = 1_950_001, 3, 70  # 210 GPU-hours reach the second tier
    oid = create_offer(staked, token=usd, price=price, tiers=[(100, 300), (200, 333)])
    exact = gpus * price * (BPS - 333) / BPS
    rate = -(-gpus * price * (BPS - 333) // BPS)
    assert rate > exact  # the rounding matters for these numbers
    cost = rate * hours
    fund(renter, usd, cost)
    usd.approve(market, cost, sender=renter)
    before = usd.balanceOf(renter)

    tx = market.openRental(oid, gpus, hours, price, ZERO, 0, sender=renter)

    [event] = tx.decode_logs(market.RentalOpened)
    assert event.deposit == cost
    assert market.getRental(event.rentalId).total == cost
    assert usd.balanceOf(renter) == before - cost


@usd_only
def test_open_rental__price_above_the_renters_max__reverts(market, offer_id, renter, price):
    with reverts(market.MarketPriceAboveMax, offerId=offer_id, price=price, maxPrice=price - 1):
        market.openRental(offer_id, 8, 24, price - 1, ZERO, 0, sender=renter)


@usd_only
@pytest.mark.parametrize("hours", [0, 721], ids=["below_min", "above_max"])
def test_open_rental__hours_out_of_bounds__reverts(market, offer_id, renter, price, hours):
    with reverts(market.MarketInvalidHours, hoursRequested=hours, minHours=1, maxHours=720):
        market.openRental(offer_id, 8, hours, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__more_gpus_than_left_free__reverts(market, offer_id, open_rental, renter, stranger, price):
    open_rental(offer_id, stranger, gpus=5)
    with reverts(market.MarketInsufficientCapacity, offerId=offer_id, available=3, requested=4):
        market.openRental(offer_id, 4, 24, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__zero_gpus__reverts(market, offer_id, renter, price):
    with reverts(market.MarketInvalidGpuCount, gpus=0):
        market.openRental(offer_id, 0, 24, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__broker_bps_without_a_broker__reverts(market, offer_id, renter, price):
    with reverts(market.MarketInvalidBroker, broker=ZERO, brokerBps=1):
        market.openRental(offer_id, 8, 24, price, ZERO, 1, sender=renter)


@usd_only
def test_open_rental__broker_bps_above_the_offers_max__reverts(market, offer_id, renter, broker, price):
    with reverts(market.MarketBrokerBpsAboveMax, brokerBps=501, maxBrokerBps=500):
        market.openRental(offer_id, 8, 24, price, broker, 501, sender=renter)


@usd_only
def test_open_rental__by_the_offers_provider__reverts(market, offer_id, provider, price):
    with reverts(market.MarketSelfRental, offerId=offer_id, provider=provider.address):
        market.openRental(offer_id, 8, 24, price, ZERO, 0, sender=provider)


@usd_only
def test_open_rental__provider_lacks_free_stake__reverts(
    market, registry, owner, offer_id, open_rental, provider, renter, stranger, price
):
    per_gpu = 1_500 * GPUC
    market.setStakePerGpu(per_gpu, sender=owner)
    open_rental(offer_id, stranger, gpus=6)  # locks 9 000 of the 10 000 GPUC staked
    free = PROVIDER_STAKE - 6 * per_gpu
    with reverts(registry.RegistryInsufficientFreeStake, provider=provider.address, free=free, needed=per_gpu):
        market.openRental(offer_id, 1, 24, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__offer_paused__reverts(market, offer_id, provider, renter, price):
    market.pauseOffer(offer_id, sender=provider)
    with reverts(market.MarketOfferNotActive, offerId=offer_id, status=2):
        market.openRental(offer_id, 8, 24, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__payment_token_delisted__reverts(market, owner, offer_id, usd, renter, price):
    market.setPaymentToken(usd, False, sender=owner)
    with reverts(market.MarketTokenNotAllowed, token=usd.address):
        market.openRental(offer_id, 8, 24, price, ZERO, 0, sender=renter)


@usd_only
def test_open_rental__market_paused__reverts(market, owner, offer_id, renter, price):
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.openRental(offer_id, 8, 24, price, ZERO, 0, sender=renter)


def test_open_rental__fee_on_transfer_token__reverts(market, owner, staked, create_offer, renter):
    token = owner.deploy(project.FeeOnTransferToken)
    market.setPaymentToken(token, True, sender=owner)
    price = 1_000
    oid = create_offer(staked, token=token, price=price)
    cost = cost_of(8, price, 24)
    token.mint(renter, cost, sender=renter)
    token.approve(market, cost, sender=renter)
    received = cost - cost // 100  # the token burns 1 % of every transfer
    with reverts(market.MarketTokenDeliveredLess, token=token.address, expected=cost, received=received):
        market.openRental(oid, 8, 24, price, ZERO, 0, sender=renter)


def test_open_rental__costing_more_than_112_bits__reverts(market, staked, create_offer, renter):
    # 65,535 GPUs × 8,760 hours at 2^96 − 1 per GPU-hour ≈ 2^125: a rental's stream holds 112 bits.
    oid = create_offer(staked, price=2**96 - 1, gpus=65_535, min_hours=8_760, max_hours=8_760, max_broker_bps=0)
    with reverts(market.SafeCastOverflowedUintDowncast, bits=112, value=cost_of(65_535, 2**96 - 1, 8_760)):
        market.openRental(oid, 65_535, 8_760, 2**96, ZERO, 0, sender=renter)
