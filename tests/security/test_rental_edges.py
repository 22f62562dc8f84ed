"""Rental edges that mutation testing (security/mutation.md) showed the other fast suites let through:
each test here kills at least one mutant that survived them. The anvil unit tests cover much of the
same ground, but they are too slow to run on every mutant."""

from __future__ import annotations

from world import GPUC, HOUR, PRICE, USD, ZERO, world

from rental_model import split_claim
from reverts import reverts


def test_claim_many__pays_each_provider_its_own_net_across_providers_and_tokens():
    """claimMany batches consecutive payouts to one provider in one token; every batch must be paid."""
    w = world()
    gpuc_offer = w.create_offer(token=w.gpuc, price=2 * GPUC)
    other = w.create_offer(provider=w.provider2, price=3 * USD)
    rids = [w.active(gpus=1), w.active(gpus=2), w.active(offer=gpuc_offer, gpus=1),
            w.active(offer=other, gpus=1, provider=w.provider2), w.active(gpus=1)]
    w.chain.warp(2 * HOUR)
    before = w.balances([w.provider, w.provider2])
    (gross,) = w.market.call(w.stranger, "claimMany", rids)
    after = w.balances([w.provider, w.provider2])
    usd_each = [PRICE * 2, 2 * PRICE * 2, None, None, PRICE * 2]
    assert gross == sum(x for x in usd_each if x) + 2 * GPUC * 2 + 3 * USD * 2
    net = lambda g: split_claim(0, g, 100, 0)[0]  # noqa: E731
    assert after[(w.provider, w.usd.address)] - before[(w.provider, w.usd.address)] == sum(
        net(x) for x in usd_each if x)
    assert after[(w.provider, w.gpuc.address)] - before[(w.provider, w.gpuc.address)] == net(4 * GPUC)
    assert after[(w.provider2, w.usd.address)] - before[(w.provider2, w.usd.address)] == net(6 * USD)


def test_extend__moves_the_end_and_the_hours_and_charges_the_rate():
    w = world()
    rid = w.active(gpus=2, hours=10)
    r = w.rental(rid)
    (cost,) = w.market.call(w.renter, "extend", rid, 5)
    e = w.rental(rid)
    assert cost == 2 * PRICE * 5
    assert (e.total, e.endsAt, e.hoursPaid) == (r.total + cost, r.endsAt + 5 * HOUR, r.hoursPaid + 5)
    w.chain.warp(15 * HOUR)
    assert w.market.call(w.stranger, "claim", rid) == (2 * PRICE * 15,)


def test_extend__beyond_max_hours__reports_the_hours_left():
    w = world()
    rid = w.active(gpus=1, hours=90)  # the offer allows 100
    for added in (11, 10**6, 0):
        with reverts("MarketInvalidHours", hoursRequested=added, minHours=1, maxHours=10):
            w.market.call(w.renter, "extend", rid, added)
    w.market.call(w.renter, "extend", rid, 10)
    with reverts("MarketInvalidHours", hoursRequested=1, minHours=1, maxHours=0):
        w.market.call(w.renter, "extend", rid, 1)


def test_open__reports_capacity_hours_and_broker_bounds():
    w = world()
    cases = [((9, 10, ZERO, 0), "MarketInsufficientCapacity", dict(offerId=w.offer, available=8, requested=9)),
             ((1, 101, ZERO, 0), "MarketInvalidHours", dict(hoursRequested=101, minHours=1, maxHours=100)),
             ((1, 0, ZERO, 0), "MarketInvalidHours", dict(hoursRequested=0, minHours=1, maxHours=100)),
             ((1, 10, w.broker, 501), "MarketBrokerBpsAboveMax", dict(brokerBps=501, maxBrokerBps=500))]
    for (gpus, hours, broker, bps), name, inputs in cases:
        with reverts(name, **inputs):
            w.open(gpus=gpus, hours=hours, broker=broker, broker_bps=bps)
    w.open(gpus=8, hours=100, broker=w.broker, broker_bps=500)  # exactly at every bound
