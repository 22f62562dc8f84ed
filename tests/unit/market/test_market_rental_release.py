"""ComputeMarket.release: anyone moves a rental on — no-show cancel, end, and settlement after disputes."""

import pytest

from conftest import HOUR, PROVIDER_STAKE
from reverts import reverts

BPS = 10_000
usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


@usd_only
def test_release__pending_at_the_deadline__reverts(market, rental_id, stranger, time_travel):
    deadline = market.getRental(rental_id).activationDeadline
    time_travel.at(deadline)
    with reverts(market.MarketRentalNotReleasable, rentalId=rental_id, status=1, releasableAt=deadline + 1):
        market.release(rental_id, sender=stranger)


@usd_only
def test_release__pending_past_the_deadline__cancels_as_a_no_show(
    market, registry, params, usd, gpuc, price, offer_id, rental_id, renter, provider, stranger, time_travel
):
    total = 8 * price * 24
    penalty = params["stake_per_gpu"] * 8 * params["no_show_penalty_bps"] // BPS
    renter_usd, renter_gpuc = usd.balanceOf(renter), gpuc.balanceOf(renter)

    time_travel.at(market.getRental(rental_id).activationDeadline + 1)
    tx = market.release(rental_id, sender=stranger)

    assert usd.balanceOf(renter) == renter_usd + total
    assert gpuc.balanceOf(renter) == renter_gpuc + penalty
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE - penalty
    assert registry.providerOf(provider).locked == 0
    assert market.getRental(rental_id).status == 4
    assert market.getOffer(offer_id).gpusInUse == 0
    [event] = tx.decode_logs(market.RentalCancelled)
    assert (event.rentalId, event.refund, event.penalty) == (rental_id, total, penalty)


@usd_only
def test_release__active_before_the_end__reverts(market, active_id, stranger, time_travel):
    ends = market.getRental(active_id).endsAt
    time_travel.at(ends - 1)
    with reverts(market.MarketRentalNotReleasable, rentalId=active_id, status=2, releasableAt=ends):
        market.release(active_id, sender=stranger)


@usd_only
def test_release__active_at_the_end__ends_it_and_frees_the_gpus_only(
    market, registry, params, usd, offer_id, active_id, provider, stranger, time_travel
):
    ends = market.getRental(active_id).endsAt
    market_before, provider_before = usd.balanceOf(market), usd.balanceOf(provider)
    time_travel.at(ends)
    tx = market.release(active_id, sender=stranger)

    assert market.getRental(active_id).status == 3
    assert market.getOffer(offer_id).gpusInUse == 0
    assert registry.providerOf(provider).locked == params["stake_per_gpu"] * 8
    assert (usd.balanceOf(market), usd.balanceOf(provider)) == (market_before, provider_before)
    assert [e.rentalId for e in tx.decode_logs(market.RentalEnded)] == [active_id]
    assert tx.decode_logs(market.RentalSettled) == []


@usd_only
def test_release__ended_one_second_before_the_dispute_window_closes__reverts(
    market, params, active_id, stranger, time_travel
):
    ends = market.getRental(active_id).endsAt
    settle_at = ends + params["dispute_window"]
    time_travel.at(ends)
    market.release(active_id, sender=stranger)
    time_travel.at(settle_at - 1)
    with reverts(market.MarketRentalNotReleasable, rentalId=active_id, status=3, releasableAt=settle_at):
        market.release(active_id, sender=stranger)


def test_release__exactly_when_the_dispute_window_closes__pays_the_rest_and_unlocks_collateral(
    market, registry, params, pay_token, price, offer_id, active_id, provider, stranger, time_travel
):
    total = 8 * price * 24
    fee_bps = params["protocol_fee_bps"]
    collateral = params["stake_per_gpu"] * 8
    start = market.getRental(active_id).startedAt
    ends = start + 24 * HOUR
    t1 = start + 1001
    time_travel.at(t1)
    market.claim(active_id, sender=stranger)
    claimed = total * 1001 // (24 * HOUR)
    provider_before = pay_token.balanceOf(provider)
    market_before = pay_token.balanceOf(market)
    fees_before = market.protocolFees(pay_token)

    time_travel.at(ends + params["dispute_window"])
    tx = market.release(active_id, sender=stranger)

    rest = total - claimed
    fee = total * fee_bps // BPS - claimed * fee_bps // BPS
    assert pay_token.balanceOf(provider) == provider_before + rest - fee
    assert pay_token.balanceOf(market) == market_before - (rest - fee)
    assert market.protocolFees(pay_token) == fees_before + fee
    r = market.getRental(active_id)
    assert (r.status, r.claimed) == (5, total)
    assert market.getOffer(offer_id).gpusInUse == 0
    assert registry.providerOf(provider).locked == 0
    assert registry.freeStakeOf(provider) == PROVIDER_STAKE
    assert [e.rentalId for e in tx.decode_logs(market.RentalEnded)] == [active_id]
    [claimed_event] = tx.decode_logs(market.RentalClaimed)
    assert (claimed_event.gross, claimed_event.providerNet, claimed_event.protocolFee) == (rest, rest - fee, fee)
    [settled] = tx.decode_logs(market.RentalSettled)
    assert (settled.rentalId, settled.collateralUnlocked) == (active_id, collateral)


@usd_only
@pytest.mark.parametrize("state", ["cancelled", "settled"])
def test_release__terminal_rental__reverts(market, params, rental_id, renter, provider, stranger, time_travel, state):
    if state == "cancelled":
        market.cancelPending(rental_id, sender=renter)
        status = 4
    else:
        market.activate(rental_id, sender=provider)
        time_travel.at(market.getRental(rental_id).endsAt + params["dispute_window"])
        market.release(rental_id, sender=stranger)
        status = 5
    with reverts(market.MarketRentalNotReleasable, rentalId=rental_id, status=status, releasableAt=0):
        market.release(rental_id, sender=stranger)
