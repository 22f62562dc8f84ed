"""Payouts the token refuses are credited, never blocking a settlement (blocklisting token)."""

import pytest
from ape import project

from conftest import HOUR, ZERO
from reverts import reverts

PRICE = 1_950_000


@pytest.fixture
def busd(owner, market):
    token = owner.deploy(project.BlocklistToken)
    market.setPaymentToken(token, True, sender=owner)
    return token


@pytest.fixture
def b_rental(busd, staked, create_offer, market, renter):
    offer = create_offer(staked, token=busd, price=PRICE)
    cost = market.quote(offer, 8, 24).cost
    busd.mint(renter, cost, sender=renter)
    busd.approve(market, cost, sender=renter)
    tx = market.openRental(offer, 8, 24, PRICE, ZERO, 0, sender=renter)
    return tx.decode_logs(market.RentalOpened)[0].rentalId


def test_no_show_release__to_a_blocklisted_payer__credits_the_refund(
    market, busd, b_rental, renter, provider, stranger, registry, time_travel
):
    r = market.getRental(b_rental)
    busd.setBlocked(renter, True, sender=stranger)
    time_travel.at(r.activationDeadline + 1)
    tx = market.release(b_rental, sender=stranger)  # not blocked by the renter's blocklisting
    [ev] = tx.decode_logs(market.PaymentDeferred)
    assert (ev.account, ev.token, ev.rentalId, ev.amount) == (renter.address, busd.address, b_rental, r.total)
    assert market.getRental(b_rental).status == 4
    assert registry.providerOf(provider).locked == 0
    assert market.credits(renter, busd) == r.total
    with reverts(busd.Blocklisted, account=renter.address):
        market.withdrawCredits(busd, sender=renter)
    busd.setBlocked(renter, False, sender=stranger)
    market.withdrawCredits(busd, sender=renter)
    assert busd.balanceOf(renter) == r.total
    assert market.credits(renter, busd) == 0


def test_release__to_a_blocklisted_provider__credits_the_rest_and_settles(
    market, busd, b_rental, renter, provider, stranger, time_travel
):
    market.activate(b_rental, sender=provider)
    r = market.getRental(b_rental)
    busd.setBlocked(provider, True, sender=stranger)
    time_travel.at(r.endsAt + market.disputeWindow())
    market.release(b_rental, sender=stranger)
    assert market.getRental(b_rental).status == 5
    fee = r.total * r.protocolFeeBps // 10_000
    assert market.credits(provider, busd) == r.total - fee
    assert busd.balanceOf(market) == r.total  # credits + protocol fees, still held
    assert market.protocolFees(busd) == fee


def test_withdraw_credits__nothing__reverts(market, busd, stranger):
    with reverts(market.MarketNoFees, account=stranger.address, token=busd.address):
        market.withdrawCredits(busd, sender=stranger)


def test_stop__with_a_volume_discount__bills_used_time_at_list_price(market, usd, staked, create_offer, open_rental,
                                                                     renter, provider, time_travel):
    offer = create_offer(staked, token=usd, price=PRICE, tiers=[(96, 250), (192, 500)])
    rid = open_rental(offer, renter, gpus=8, hours=24)
    market.activate(rid, sender=provider)
    r = market.getRental(rid)
    assert r.discountBps == 500
    time_travel.at(r.startedAt + 10 * HOUR)
    before = usd.balanceOf(renter)
    market.stopRental(rid, sender=renter)
    charge = 8 * PRICE * 10  # ten hours at the list price, no discount
    assert market.getRental(rid).total == charge
    assert usd.balanceOf(renter) == before + r.total - charge


def test_stop__in_the_first_minutes__bills_one_hour(market, active_id, renter, time_travel):
    r = market.getRental(active_id)
    time_travel.at(r.startedAt + 60)
    market.stopRental(active_id, sender=renter)
    assert market.getRental(active_id).total == r.total // r.hoursPaid


def test_renounce_ownership__is_disabled_on_market_and_registry(market, registry, owner, stranger):
    # renounceOwnership is declared `view`: ape would send an eth_call, whose revert data it drops
    # (it keeps only the node's message), so it is sent as a transaction to assert the exact error.
    with reverts(market.MarketRenounceDisabled):
        market.renounceOwnership.transact(sender=owner)
    with reverts(registry.RegistryRenounceDisabled):
        registry.renounceOwnership.transact(sender=owner)
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
        market.renounceOwnership.transact(sender=stranger)
    assert market.owner() == owner.address and registry.owner() == owner.address
