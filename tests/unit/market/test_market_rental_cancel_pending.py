"""ComputeMarket.cancelPending: the renter takes a Pending rental back; a no-show costs the provider."""

import pytest

from conftest import PROVIDER_STAKE
from reverts import reverts

BPS = 10_000
usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def test_cancel_pending__before_the_deadline__refunds_in_full_without_penalty(
    market, registry, params, pay_token, price, gpuc, offer_id, rental_id, renter, provider
):
    total = 8 * price * 24
    collateral = params["stake_per_gpu"] * 8
    renter_before = pay_token.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    registry_gpuc_before = gpuc.balanceOf(registry)
    p_before = registry.providerOf(provider)

    tx = market.cancelPending(rental_id, sender=renter)

    assert tx.return_value == total
    assert pay_token.balanceOf(renter) == renter_before + total
    assert pay_token.balanceOf(market) == market_before - total
    assert gpuc.balanceOf(registry) == registry_gpuc_before
    p = registry.providerOf(provider)
    assert (p.staked, p.locked) == (p_before.staked, p_before.locked - collateral)
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE
    assert market.getRental(rental_id).status == 4
    assert market.getOffer(offer_id).gpusInUse == 0
    [event] = tx.decode_logs(market.RentalCancelled)
    assert (event.rentalId, event.refund, event.penalty) == (rental_id, total, 0)


@usd_only
def test_cancel_pending__exactly_at_the_deadline__has_no_penalty(
    market, registry, gpuc, rental_id, renter, provider, time_travel
):
    staked_before = registry.providerOf(provider).staked
    gpuc_before = gpuc.balanceOf(renter)
    time_travel.at(market.getRental(rental_id).activationDeadline)
    tx = market.cancelPending(rental_id, sender=renter)
    assert tx.decode_logs(market.RentalCancelled)[0].penalty == 0
    assert registry.providerOf(provider).staked == staked_before
    assert gpuc.balanceOf(renter) == gpuc_before
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE


def test_cancel_pending__after_the_deadline__slashes_the_no_show_penalty_to_the_renter(
    market, registry, params, pay_token, price, gpuc, usd, offer_id, rental_id, renter, provider, time_travel
):
    total = 8 * price * 24
    collateral = params["stake_per_gpu"] * 8
    penalty = collateral * params["no_show_penalty_bps"] // BPS
    renter_usd, renter_gpuc = usd.balanceOf(renter), gpuc.balanceOf(renter)
    market_before = pay_token.balanceOf(market)
    registry_gpuc_before = gpuc.balanceOf(registry)
    p_before = registry.providerOf(provider)

    time_travel.at(market.getRental(rental_id).activationDeadline + 1)
    tx = market.cancelPending(rental_id, sender=renter)

    # The refund is in the payment token, the penalty in GPUC (the same token in the gpuc18 case).
    paid_in_usd = pay_token.address == usd.address
    assert usd.balanceOf(renter) == renter_usd + (total if paid_in_usd else 0)
    assert gpuc.balanceOf(renter) == renter_gpuc + penalty + (0 if paid_in_usd else total)
    assert pay_token.balanceOf(market) == market_before - total
    assert gpuc.balanceOf(registry) == registry_gpuc_before - penalty
    p = registry.providerOf(provider)
    assert (p.staked, p.locked) == (p_before.staked - penalty, p_before.locked - collateral)
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE - penalty
    assert market.getRental(rental_id).status == 4
    assert market.getOffer(offer_id).gpusInUse == 0
    [event] = tx.decode_logs(market.RentalCancelled)
    assert (event.rentalId, event.refund, event.penalty) == (rental_id, total, penalty)


@usd_only
def test_cancel_pending__paid_by_a_third_party__refunds_the_payer(
    market, usd, price, offer_id, open_rental, renter, payer
):
    rid = open_rental(offer_id, renter, payer=payer)
    renter_before, payer_before = usd.balanceOf(renter), usd.balanceOf(payer)
    market.cancelPending(rid, sender=renter)
    assert usd.balanceOf(payer) == payer_before + 8 * price * 24
    assert usd.balanceOf(renter) == renter_before


@usd_only
def test_cancel_pending__by_the_payer_not_the_renter__reverts(market, offer_id, open_rental, renter, payer):
    rid = open_rental(offer_id, renter, payer=payer)
    with reverts(market.MarketNotRenter, rentalId=rid, caller=payer.address):
        market.cancelPending(rid, sender=payer)


@usd_only
def test_cancel_pending__active_rental__reverts(market, active_id, renter):
    with reverts(market.MarketRentalNotPending, rentalId=active_id, status=2):
        market.cancelPending(active_id, sender=renter)
