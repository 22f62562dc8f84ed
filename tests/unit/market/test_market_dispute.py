"""Disputes: dispute, resolveDispute, applyDefaultRuling, and what they do to escrow, stake and reputation."""

import ape
import pytest

from conftest import DAY, HOUR
from rental_model import BPS, accrued_down, split_claim

DISPUTED, RESOLVED, ENDED, SETTLED = 6, 7, 3, 5
EVIDENCE = b"\x11" * 32


def _accrued(r, t):
    return accrued_down(r.total, r.startedAt, r.endsAt, t)


@pytest.fixture
def running(active_id, market, time_travel):
    """An Active rental, 6 hours in, 3 of them claimed."""
    start = market.getRental(active_id).startedAt
    time_travel.at(start + 3 * HOUR)
    market.claim(active_id, sender=market.getOffer(market.getRental(active_id).offerId).provider)
    time_travel.at(start + 6 * HOUR)
    return active_id


# ───────────────────────────── dispute ─────────────────────────────


def test_dispute__while_active__freezes_unclaimed_and_frees_capacity(market, running, renter, offer_id):
    r = market.getRental(running)
    in_use = market.getOffer(offer_id).gpusInUse
    tx = market.dispute(running, EVIDENCE, sender=renter)
    after = market.getRental(running)
    assert after.status == DISPUTED
    assert after.disputedAt == tx.timestamp
    assert market.getOffer(offer_id).gpusInUse == in_use - r.gpus
    [ev] = tx.decode_logs(market.RentalDisputed)
    assert ev.frozen == r.total - r.claimed
    assert ev.evidenceHash == EVIDENCE
    frozen, accrued_unclaimed, collateral, disputed_at, timeout_at = market.disputeOf(running)
    assert frozen == r.total - r.claimed
    assert accrued_unclaimed == _accrued(r, tx.timestamp) - r.claimed
    assert collateral == r.collateral
    assert timeout_at == tx.timestamp + market.arbitrationTimeout()


def test_dispute__frozen_funds__cannot_be_claimed_or_released(market, running, renter, provider, time_travel):
    market.dispute(running, EVIDENCE, sender=renter)
    time_travel.advance(HOUR)
    with ape.reverts(market.MarketRentalNotClaimable, rentalId=running, status=DISPUTED):
        market.claim(running, sender=provider)
    time_travel.advance(40 * DAY)
    with ape.reverts(market.MarketRentalNotReleasable):
        market.release(running, sender=provider)
    assert market.claimableOf(running) == 0


def test_dispute__by_someone_else__reverts(market, running, provider, payer):
    for who in (provider, payer):
        with ape.reverts(market.MarketNotRenter, rentalId=running, caller=who.address):
            market.dispute(running, EVIDENCE, sender=who)


def test_dispute__pending_rental__reverts(market, rental_id, renter):
    with ape.reverts(market.MarketRentalNotDisputable, rentalId=rental_id, status=1):
        market.dispute(rental_id, EVIDENCE, sender=renter)


def test_dispute__at_the_last_second_of_the_window__succeeds(market, running, renter, time_travel):
    market.stopRental(running, sender=renter)
    closes_at = market.getRental(running).endsAt + market.disputeWindow()
    time_travel.at(closes_at - 1)
    market.dispute(running, EVIDENCE, sender=renter)
    assert market.getRental(running).status == DISPUTED


def test_dispute__when_the_window_has_closed__reverts(market, running, renter, time_travel):
    market.stopRental(running, sender=renter)
    closes_at = market.getRental(running).endsAt + market.disputeWindow()
    time_travel.at(closes_at)
    with ape.reverts(market.MarketDisputeWindowClosed, rentalId=running, closedAt=closes_at):
        market.dispute(running, EVIDENCE, sender=renter)
    market.release(running, sender=renter)  # and the rental settles instead
    assert market.getRental(running).status == SETTLED


def test_dispute__after_natural_end_before_release__frees_capacity(market, active_id, renter, offer_id, time_travel):
    r = market.getRental(active_id)
    time_travel.at(r.endsAt + HOUR)
    market.dispute(active_id, EVIDENCE, sender=renter)
    assert market.getOffer(offer_id).gpusInUse == 0
    assert market.disputeOf(active_id)[0] == r.total  # nothing was claimed: all of it is frozen


def test_dispute__twice__reverts(market, running, renter):
    market.dispute(running, EVIDENCE, sender=renter)
    with ape.reverts(market.MarketRentalNotDisputable, rentalId=running, status=DISPUTED):
        market.dispute(running, EVIDENCE, sender=renter)


# ───────────────────────────── resolveDispute ─────────────────────────────


def test_resolve__splits_frozen_escrow_and_slashes_to_renter_and_treasury(
    market, registry, gpuc, running, renter, provider, arbiter, treasury, pay_token
):
    market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    frozen = r.total - r.claimed
    share, slash = 2500, r.collateral // 2
    gross = frozen * share // BPS
    net, proto, brok = split_claim(r.claimed, r.claimed + gross, r.protocolFeeBps, r.brokerBps)
    to_treasury = slash * market.slashTreasuryBps() // BPS
    stake_before = registry.providerOf(provider)
    bal = {a.address: pay_token.balanceOf(a) for a in (renter, provider)}
    gpuc_bal = {a.address: gpuc.balanceOf(a) for a in (renter, treasury)}
    fees_before = market.protocolFees(pay_token)

    tx = market.resolveDispute(running, share, slash, sender=arbiter)

    [ev] = tx.decode_logs(market.DisputeResolved)
    assert (ev.byDefault, ev.providerGross, ev.providerNet, ev.protocolFee, ev.brokerFee) == (False, gross, net, proto, brok)
    assert ev.refund == frozen - gross
    assert (ev.slashToRenter, ev.slashToTreasury) == (slash - to_treasury, to_treasury)
    assert market.getRental(running).status == RESOLVED
    assert market.protocolFees(pay_token) == fees_before + proto
    stake_after = registry.providerOf(provider)
    assert stake_after.staked == stake_before.staked - slash
    assert stake_after.locked == stake_before.locked - r.collateral
    same = pay_token.address == gpuc.address  # the payment token may be the stake token itself
    assert pay_token.balanceOf(provider) == bal[provider.address] + net
    renter_gain = (frozen - gross) + (slash - to_treasury if same else 0)
    assert pay_token.balanceOf(renter) == bal[renter.address] + renter_gain
    if not same:
        assert gpuc.balanceOf(renter) == gpuc_bal[renter.address] + slash - to_treasury
    assert gpuc.balanceOf(treasury) == gpuc_bal[treasury.address] + to_treasury
    rep = market.reputationOf(provider)
    assert (rep.disputesLost, rep.amountSlashed, rep.rentalsCompleted) == (1, slash, 0)
    # conservation: everything deposited is accounted for
    assert market.getRental(running).total == market.getRental(running).claimed == r.claimed + gross


def test_resolve__only_the_arbiter(market, running, renter, owner, provider):
    market.dispute(running, EVIDENCE, sender=renter)
    for who in (owner, provider, renter):
        with ape.reverts(market.MarketNotArbiter, caller=who.address):
            market.resolveDispute(running, 0, 0, sender=who)


def test_resolve__share_above_100_percent__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    with ape.reverts(market.MarketInvalidShare, providerShareBps=10_001):
        market.resolveDispute(running, 10_001, 0, sender=arbiter)


def test_resolve__slash_above_the_rentals_collateral__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    c = market.getRental(running).collateral
    with ape.reverts(market.MarketSlashAboveCollateral, rentalId=running, slashAmount=c + 1, collateral=c):
        market.resolveDispute(running, 0, c + 1, sender=arbiter)


def test_resolve__whole_collateral_and_all_to_provider__are_the_bounds(market, registry, running, renter, arbiter, provider):
    market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    staked = registry.providerOf(provider).staked
    tx = market.resolveDispute(running, BPS, r.collateral, sender=arbiter)
    [ev] = tx.decode_logs(market.DisputeResolved)
    assert ev.providerGross == r.total - r.claimed and ev.refund == 0
    assert registry.providerOf(provider).staked == staked - r.collateral


def test_resolve__twice__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    market.resolveDispute(running, 5000, 0, sender=arbiter)
    with ape.reverts(market.MarketRentalNotDisputed, rentalId=running, status=RESOLVED):
        market.resolveDispute(running, 5000, 0, sender=arbiter)
    with ape.reverts(market.MarketRentalNotDisputed, rentalId=running, status=RESOLVED):
        market.applyDefaultRuling(running, sender=renter)


def test_resolve__not_disputed__reverts(market, running, arbiter):
    with ape.reverts(market.MarketRentalNotDisputed, rentalId=running, status=2):
        market.resolveDispute(running, 0, 0, sender=arbiter)


def test_resolve__fully_claimed_rental__only_collateral_at_stake(
    market, registry, gpuc, running, renter, provider, arbiter, treasury
):
    market.stopRental(running, sender=renter)
    market.claim(running, sender=provider)
    assert market.claimableOf(running) == 0
    market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    assert market.disputeOf(running)[0] == 0  # nothing frozen
    treasury_before = gpuc.balanceOf(treasury)
    tx = market.resolveDispute(running, 0, r.collateral, sender=arbiter)
    [ev] = tx.decode_logs(market.DisputeResolved)
    assert ev.providerGross == 0 and ev.refund == 0
    assert ev.slashToRenter + ev.slashToTreasury == r.collateral
    assert gpuc.balanceOf(treasury) == treasury_before + ev.slashToTreasury
    assert registry.providerOf(provider).locked == 0


def test_resolve__after_the_timeout__reverts_for_the_arbiter(market, running, renter, arbiter, time_travel):
    tx = market.dispute(running, EVIDENCE, sender=renter)
    timeout_at = tx.timestamp + market.arbitrationTimeout()
    time_travel.at(timeout_at)
    with ape.reverts(market.MarketArbitrationTimedOut, rentalId=running, timeoutAt=timeout_at):
        market.resolveDispute(running, 0, 0, sender=arbiter)


def test_resolve__works_while_paused(market, running, renter, arbiter, owner):
    market.pause(sender=owner)
    market.dispute(running, EVIDENCE, sender=renter)
    market.resolveDispute(running, 5000, 0, sender=arbiter)
    assert market.getRental(running).status == RESOLVED


# ───────────────────────────── applyDefaultRuling ─────────────────────────────


def test_default_ruling__before_the_timeout__reverts(market, running, renter, stranger, time_travel):
    tx = market.dispute(running, EVIDENCE, sender=renter)
    timeout_at = tx.timestamp + market.arbitrationTimeout()
    time_travel.at(timeout_at - 1)
    with ape.reverts(market.MarketArbitrationPending, rentalId=running, timeoutAt=timeout_at):
        market.applyDefaultRuling(running, sender=stranger)


def test_default_ruling__at_the_timeout__pays_accrued_to_provider_and_rest_to_payer(
    market, registry, running, renter, provider, stranger, pay_token, time_travel
):
    tx = market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    owed = _accrued(r, tx.timestamp) - r.claimed
    frozen = r.total - r.claimed
    net, _, _ = split_claim(r.claimed, r.claimed + owed, r.protocolFeeBps, r.brokerBps)
    time_travel.at(tx.timestamp + market.arbitrationTimeout())
    prov, rent = pay_token.balanceOf(provider), pay_token.balanceOf(renter)
    staked = registry.providerOf(provider).staked
    tx2 = market.applyDefaultRuling(running, sender=stranger)
    [ev] = tx2.decode_logs(market.DisputeResolved)
    assert ev.byDefault and ev.providerGross == owed and ev.refund == frozen - owed
    assert ev.slashToRenter == ev.slashToTreasury == 0
    assert pay_token.balanceOf(provider) == prov + net
    assert pay_token.balanceOf(renter) == rent + frozen - owed
    assert registry.providerOf(provider).staked == staked  # no slash
    assert registry.providerOf(provider).locked == 0
    rep = market.reputationOf(provider)
    assert rep.disputesLost == 0 and rep.rentalsCompleted == 1
    assert rep.gpuSecondsServed == r.gpus * (tx.timestamp - r.startedAt)


# ───────────────────────────── stake around a dispute ─────────────────────────────


def test_unbond_around_dispute__collateral_cannot_escape_the_slash(
    market, registry, gpuc, running, renter, provider, arbiter, time_travel
):
    market.dispute(running, EVIDENCE, sender=renter)
    p = registry.providerOf(provider)
    free = registry.freeStakeOf(provider)
    with ape.reverts(registry.RegistryInsufficientFreeStake, provider=provider.address, free=free, needed=free + 1):
        registry.requestUnbond(free + 1, sender=provider)
    registry.requestUnbond(free, sender=provider)  # everything that is not collateral starts unbonding
    c = market.getRental(running).collateral
    market.resolveDispute(running, 0, c, sender=arbiter)  # the slash still lands in full
    after = registry.providerOf(provider)
    assert after.staked == p.staked - c
    assert after.locked == p.locked - c
    assert after.unbonding == free
    time_travel.advance(registry.unbondingPeriod())
    before = gpuc.balanceOf(provider)
    registry.withdrawUnbonded(sender=provider)
    assert gpuc.balanceOf(provider) == before + free
    assert registry.providerOf(provider).staked == p.staked - c - free


# ───────────────────────────── settlement and reputation ─────────────────────────────


def test_release__settled_rental__counts_as_served(market, active_id, provider, stranger, time_travel):
    r = market.getRental(active_id)
    time_travel.at(r.endsAt + market.disputeWindow())
    market.release(active_id, sender=stranger)
    rep = market.reputationOf(provider)
    assert rep.rentalsCompleted == 1
    assert rep.gpuSecondsServed == r.gpus * (r.endsAt - r.startedAt)
    assert rep.disputesLost == 0 and rep.amountSlashed == 0


def test_no_show__penalty_counts_as_slashed(market, rental_id, renter, provider, time_travel):
    r = market.getRental(rental_id)
    time_travel.at(r.activationDeadline + 1)
    market.cancelPending(rental_id, sender=renter)
    penalty = r.collateral * market.noShowPenaltyBps() // BPS
    assert market.reputationOf(provider).amountSlashed == penalty
