"""ComputeMarket.bookCluster: one transaction opens a rental per part (on-chain and signed offers,
several providers, one token) with a cap on the total, all or none; the payment is pulled once."""

import ape
import pytest
from ape import chain

from conftest import GPUC, HOUR, PRICE_GPUC, PRICE_USD, ZERO
from gpumarket.signed import digest
from rental_model import rental_cost, split_claim, stop_charge
from reverts import reverts

BASE = 1_000_000_000  # SIGNED_OFFER_ID_BASE


def _book(market, usd, fund, renter, hours, parts, signed_parts, max_cost=None, payer=None, broker=ZERO, bps=0):
    """Funds and approves the payer for `max_cost` (the exact cost by default) and books."""
    funder = payer or renter
    cost = max_cost if max_cost is not None else 2**100
    fund(funder, usd, min(cost, 10**15 * 10**6))
    usd.approve(market, 2**256 - 1, sender=funder)
    return market.bookCluster(renter, hours, parts, signed_parts, cost, broker, bps, sender=funder)


def test_a_2000_gpu_504_hour_cluster__six_providers__one_transaction__settles_to_the_unit(
    market, registry, usd, params, fund, stake_provider, create_offer, sign_offer, provider, provider2,
    more_providers, vault, deposit, investors, renter, treasury, domain
):
    hours = 504
    p1, p2, p3, p4 = more_providers
    # Three providers list on chain ...
    for who in (provider, p1, p2):
        stake_provider(who, 40_000 * GPUC)
    onchain = [
        (provider, create_offer(provider, gpus=400, price=1_850_000, max_hours=720, tiers=[(100_000, 300)]), 400),
        (p1, create_offer(p1, gpus=350, price=1_800_000, max_hours=720), 350),
        (p2, create_offer(p2, gpus=300, price=1_950_000, max_hours=720), 300),
    ]
    # ... two sign offers off-chain, and a vault signs through its operator (ERC-1271).
    for who in (p3, p4):
        stake_provider(who, 40_000 * GPUC)
    for who, amount in zip(investors, (15_000, 10_000, 5_000)):
        deposit(who, amount * GPUC)
    signed = [
        (p3, *sign_offer(p3, gpus=350, price_per_gpu_hour=1_700_000), 350),
        (p4, *sign_offer(p4, gpus=300, price_per_gpu_hour=1_900_000, tiers=((50_000, 200), (150_000, 400))), 300),
        (vault, *sign_offer(provider2, provider=vault, gpus=300, price_per_gpu_hour=1_750_000), 300),
    ]
    assert sum(g for *_, g in onchain) + sum(g for *_, g in signed) == 2_000
    costs = [rental_cost(400, 1_850_000, hours, [(100_000, 300)]), rental_cost(350, 1_800_000, hours),
             rental_cost(300, 1_950_000, hours), rental_cost(350, 1_700_000, hours),
             rental_cost(300, 1_900_000, hours, [(50_000, 200), (150_000, 400)]), rental_cost(300, 1_750_000, hours)]
    total = sum(costs)
    fund(renter, usd, total)
    usd.approve(market, total, sender=renter)
    renter_before, market_before = usd.balanceOf(renter), usd.balanceOf(market)
    first_id = market.nextRentalId()

    tx = market.bookCluster(renter, hours, [(oid, g) for _, oid, g in onchain],
                            [(o.as_tuple(), sig, g) for _, o, sig, g in signed], total, ZERO, 0, sender=renter)

    [booked] = tx.decode_logs(market.ClusterBooked)
    assert (booked.firstRentalId, booked.renter, booked.payer, booked.token, booked.rentals, booked.totalCost) == \
        (first_id, renter.address, renter.address, usd.address, 6, total)
    opened = tx.decode_logs(market.RentalOpened)
    assert [e.rentalId for e in opened] == list(range(first_id, first_id + 6))
    assert [e.deposit for e in opened] == costs
    assert usd.balanceOf(renter) == renter_before - total
    assert usd.balanceOf(market) == market_before + total
    assert len([t for t in tx.decode_logs(usd.Transfer) if t.to == market.address]) == 1  # one pull
    providers = [p for p, *_ in onchain] + [p for p, *_ in signed]
    rids = list(range(first_id, first_id + 6))
    for p, rid in zip(providers, rids):
        assert registry.providerOf(p).locked == market.getRental(rid).gpus * params["stake_per_gpu"]
    assert [market.signedOfferOf(digest(o, domain))[0] for _, o, _, _ in signed] == [BASE + 1, BASE + 2, BASE + 3]

    # Every provider activates (the vault through its operator); one rental is stopped after 100 hours.
    for p, rid in zip(providers, rids):
        (vault.activate(rid, sender=provider2) if p == vault else market.activate(rid, sender=p))
    started = {rid: market.getRental(rid).startedAt for rid in rids}
    stopped = rids[1]
    chain.pending_timestamp = started[stopped] + 100 * HOUR
    refund = market.stopRental(stopped, sender=renter).decode_logs(market.RentalStopped)[0].refund
    billed = stop_charge(costs[1], started[stopped], started[stopped] + 100 * HOUR, hours)
    assert refund == costs[1] - billed

    # After the end and the dispute window, anyone releases every rental: each provider is paid in full.
    chain.pending_timestamp = max(started.values()) + hours * HOUR + params["dispute_window"]
    paid = {}
    for p, rid in zip(providers, rids):
        before = usd.balanceOf(p)
        market.release(rid, sender=treasury)
        paid[rid] = usd.balanceOf(p) - before
        assert market.getRental(rid).status == 5  # Settled
        assert registry.providerOf(p).locked == 0
    gross = {rid: (billed if rid == stopped else cost) for rid, cost in zip(rids, costs)}
    for rid in rids:
        assert paid[rid] == split_claim(0, gross[rid], params["protocol_fee_bps"], 0)[0]
    fees = sum(split_claim(0, gross[rid], params["protocol_fee_bps"], 0)[1] for rid in rids)
    # Conservation, to the unit: what the renter paid went to the providers, the fees and the refund.
    assert sum(paid.values()) + fees + refund == total
    assert market.protocolFees(usd) == fees
    assert usd.balanceOf(market) == market_before + fees
    assert all(market.getOffer(market.getRental(rid).offerId).gpusInUse == 0 for rid in rids)


@pytest.fixture
def two_offers(staked, provider, create_offer, more_providers, stake_provider, sign_offer):
    """An on-chain offer of 8 GPUs (the staked provider) and a signed one of 8 (another provider)."""
    other = more_providers[0]
    stake_provider(other)
    offer, sig = sign_offer(other)
    return create_offer(provider), (offer, sig), other


def test_a_part_that_fails__fails_the_whole_cluster_and_moves_nothing(
    market, registry, usd, fund, two_offers, renter, provider, domain
):
    oid, (offer, sig), other = two_offers
    fund(renter, usd, 10**12)
    usd.approve(market, 2**256 - 1, sender=renter)
    before = (usd.balanceOf(renter), usd.balanceOf(market), market.nextRentalId(), market.getOffer(oid).gpusInUse,
              registry.providerOf(provider).locked, registry.providerOf(other).locked)

    with reverts(market.MarketInsufficientCapacity, offerId=BASE + 1, available=8, requested=9):
        market.bookCluster(renter, 10, [(oid, 8)], [(offer.as_tuple(), sig, 9)], 2**100, ZERO, 0, sender=renter)

    assert (usd.balanceOf(renter), usd.balanceOf(market), market.nextRentalId(), market.getOffer(oid).gpusInUse,
            registry.providerOf(provider).locked, registry.providerOf(other).locked) == before
    assert market.signedOfferOf(digest(offer, domain)) == (0, False)  # not even recorded


def test_a_bad_signature_in_a_cluster__fails_it(market, usd, fund, two_offers, renter, domain, stranger):
    oid, (offer, _), other = two_offers
    from gpumarket.signed import sign_digest

    forged = sign_digest(bytes.fromhex(stranger.private_key.removeprefix("0x")), digest(offer, domain))
    fund(renter, usd, 10**12)
    usd.approve(market, 2**256 - 1, sender=renter)
    with reverts(market.MarketInvalidSignature, offerHash=digest(offer, domain), provider=other):
        market.bookCluster(renter, 10, [(oid, 8)], [(offer.as_tuple(), forged, 8)], 2**100, ZERO, 0, sender=renter)


def test_the_cap__is_on_the_total(market, usd, fund, two_offers, renter):
    oid, (offer, sig), _ = two_offers
    total = rental_cost(8, PRICE_USD, 10) * 2
    fund(renter, usd, total)
    usd.approve(market, total, sender=renter)
    with reverts(market.MarketClusterCostAboveMax, cost=total, maxCost=total - 1):
        market.bookCluster(renter, 10, [(oid, 8)], [(offer.as_tuple(), sig, 8)], total - 1, ZERO, 0, sender=renter)
    tx = market.bookCluster(renter, 10, [(oid, 8)], [(offer.as_tuple(), sig, 8)], total, ZERO, 0, sender=renter)
    assert tx.decode_logs(market.ClusterBooked)[0].totalCost == total
    assert usd.balanceOf(renter) == 0


def test_parts_in_two_tokens__are_refused(market, usd, gpuc, fund, two_offers, create_offer, provider, renter):
    oid, (offer, sig), _ = two_offers
    gpuc_offer = create_offer(provider, token=gpuc, price=PRICE_GPUC)
    fund(renter, usd, 10**12)
    usd.approve(market, 2**256 - 1, sender=renter)
    with reverts(market.MarketClusterTokenMismatch, part=1, token=gpuc, expected=usd):
        market.bookCluster(renter, 10, [(oid, 1), (gpuc_offer, 1)], [], 2**100, ZERO, 0, sender=renter)


def test_an_empty_cluster_or_no_renter__is_refused(market, renter, two_offers):
    oid, _, _ = two_offers
    with reverts(market.MarketClusterEmpty):
        market.bookCluster(renter, 10, [], [], 2**100, ZERO, 0, sender=renter)
    with reverts(market.MarketZeroAddress):
        market.bookCluster(ZERO, 10, [(oid, 1)], [], 2**100, ZERO, 0, sender=renter)


def test_a_paused_market__books_nothing(market, usd, fund, two_offers, renter, owner):
    oid, _, _ = two_offers
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.bookCluster(renter, 10, [(oid, 1)], [], 2**100, ZERO, 0, sender=renter)


def test_a_broker_and_a_payer__apply_to_every_rental(market, usd, fund, two_offers, renter, payer, broker,
                                                     provider, params):
    oid, (offer, sig), other = two_offers
    tx = _book(market, usd, fund, renter, 10, [(oid, 4)], [(offer.as_tuple(), sig, 4)], payer=payer, broker=broker,
               bps=300)
    rids = [e.rentalId for e in tx.decode_logs(market.RentalOpened)]
    for rid in rids:
        r = market.getRental(rid)
        assert (r.renter, r.payer, r.broker, r.brokerBps, r.sponsored) == \
            (renter.address, payer.address, broker.address, 300, True)
    assert tx.decode_logs(market.ClusterBooked)[0].payer == payer.address
    # Stopping is per rental, by the renter; the refund goes to the payer.
    market.activate(rids[0], sender=provider)
    before = usd.balanceOf(payer)
    refund = market.stopRental(rids[0], sender=renter).decode_logs(market.RentalStopped)[0].refund
    assert refund > 0 and usd.balanceOf(payer) == before + refund
    # The broker's cap is each offer's own.
    with reverts(market.MarketBrokerBpsAboveMax, brokerBps=600, maxBrokerBps=500):
        _book(market, usd, fund, renter, 10, [(oid, 1)], [], broker=broker, bps=600)


def test_a_signed_offer_twice_in_one_cluster__shares_its_capacity(market, usd, fund, two_offers, renter):
    _, (offer, sig), _ = two_offers
    tx = _book(market, usd, fund, renter, 10, [], [(offer.as_tuple(), sig, 5), (offer.as_tuple(), b"", 3)])
    assert [e.offerId for e in tx.decode_logs(market.RentalOpened)] == [BASE + 1, BASE + 1]
    assert market.getOffer(BASE + 1).gpusInUse == 8
    with reverts(market.MarketInsufficientCapacity, offerId=BASE + 1, available=0, requested=1):
        _book(market, usd, fund, renter, 10, [], [(offer.as_tuple(), sig, 1)])


def test_the_token_must_deliver_the_whole_total(market, usd, fund, two_offers, renter):
    oid, (offer, sig), _ = two_offers
    total = rental_cost(8, PRICE_USD, 10) * 2
    fund(renter, usd, total)
    usd.approve(market, total - 1, sender=renter)
    with reverts(usd.ERC20InsufficientAllowance, spender=market, allowance=total - 1, needed=total):
        market.bookCluster(renter, 10, [(oid, 8)], [(offer.as_tuple(), sig, 8)], total, ZERO, 0, sender=renter)
    assert ape.Contract(usd.address).balanceOf(renter) == total
