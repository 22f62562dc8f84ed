"""Disputes: dispute, resolveDispute, applyDefaultRuling, and what they do to escrow, the bond, stake
and reputation. A dispute of a running rental first bills it exactly as a stop at that second would
(the rest goes back to the payer at once); the renter posts a bond that follows the ruling."""

import pytest

from conftest import DAY, HOUR
from rental_model import BPS, dispute_bond, split_claim, stop_charge
from reverts import reverts

DISPUTED, RESOLVED, ENDED, SETTLED = 6, 7, 3, 5
EVIDENCE = b"\x11" * 32


@pytest.fixture
def running(active_id, market, fund, pay_token, renter, time_travel):
    """An Active rental (8 GPUs, 24 h), 6 hours in, 3 of them claimed; the renter holds and has approved
    enough of the payment token for a dispute bond."""
    bond_budget = market.getRental(active_id).total  # far more than any bond of this rental
    fund(renter, pay_token, bond_budget)
    pay_token.approve(market, bond_budget, sender=renter)
    start = market.getRental(active_id).startedAt
    time_travel.at(start + 3 * HOUR)
    market.claim(active_id, sender=market.getOffer(market.getRental(active_id).offerId).provider)
    time_travel.at(start + 6 * HOUR)  # the next transaction is mined exactly here
    return active_id


def _bond(market, billed, seconds):
    return dispute_bond(billed, seconds, market.arbitrationTimeout(), market.disputeWindow())


# ───────────────────────────── dispute ─────────────────────────────


def test_dispute__while_active__bills_as_a_stop_refunds_the_rest_takes_the_bond_and_frees_capacity(
    market, running, renter, offer_id, pay_token
):
    r = market.getRental(running)
    in_use = market.getOffer(offer_id).gpusInUse
    renter_before, market_before = pay_token.balanceOf(renter), pay_token.balanceOf(market)
    t = r.startedAt + 6 * HOUR
    tx = market.dispute(running, EVIDENCE, sender=renter)
    assert tx.timestamp == t
    charge = stop_charge(r.total, r.startedAt, t, r.hoursPaid, r.discountBps)
    assert charge == 6 * r.total // 24  # six hours at the list rate (no tiers)
    refund = r.total - charge
    bond = _bond(market, charge, 6 * HOUR)
    assert bond == r.total // 24 * 8  # 8 hours of rent with the default timeout and window
    assert tx.return_value == bond
    after = market.getRental(running)
    assert (after.status, after.disputedAt, after.total, after.endsAt) == (DISPUTED, t, charge, t)
    assert market.getOffer(offer_id).gpusInUse == in_use - r.gpus
    # The renter is the payer: it gets the unused part back and posts the bond, in one call.
    assert pay_token.balanceOf(renter) == renter_before + refund - bond
    assert pay_token.balanceOf(market) == market_before - refund + bond
    [ev] = tx.decode_logs(market.RentalDisputed)
    assert (ev.rentalId, ev.renter, ev.evidenceHash) == (running, renter.address, EVIDENCE)
    assert (ev.frozen, ev.refund, ev.bond) == (charge - r.claimed, refund, bond)
    assert market.disputeOf(running) == (charge - r.claimed, bond, r.collateral, t, t + market.arbitrationTimeout())
    # Billed in full and frozen: accrued, not claimable.
    assert (market.accruedOf(running), market.claimableOf(running), market.refundableOf(running)) == (charge, 0, 0)


def test_dispute__without_the_bonds_allowance__reverts_and_moves_nothing(market, running, renter, pay_token,
                                                                         time_travel):
    """After a stop nothing is refunded, so the whole bond is pulled: without an allowance, nothing moves."""
    market.stopRental(running, sender=renter)
    pay_token.approve(market, 0, sender=renter)
    r = market.getRental(running)
    bond = _bond(market, r.total, r.endsAt - r.startedAt)
    before = pay_token.balanceOf(renter)
    with reverts(pay_token.ERC20InsufficientAllowance, spender=market.address, allowance=0, needed=bond):
        market.dispute(running, EVIDENCE, sender=renter)
    assert market.getRental(running).status == ENDED and pay_token.balanceOf(renter) == before


def test_dispute__frozen_funds__cannot_be_claimed_or_released(market, running, renter, provider, time_travel):
    market.dispute(running, EVIDENCE, sender=renter)
    time_travel.advance(HOUR)
    with reverts(market.MarketRentalNotClaimable, rentalId=running, status=DISPUTED):
        market.claim(running, sender=provider)
    time_travel.advance(40 * DAY)
    with reverts(market.MarketRentalNotReleasable, rentalId=running, status=DISPUTED, releasableAt=0):
        market.release(running, sender=provider)
    assert market.claimableOf(running) == 0


def test_dispute__by_someone_else__reverts(market, running, provider, payer):
    for who in (provider, payer):
        with reverts(market.MarketNotRenter, rentalId=running, caller=who.address):
            market.dispute(running, EVIDENCE, sender=who)


def test_dispute__pending_rental__reverts(market, rental_id, renter):
    with reverts(market.MarketRentalNotDisputable, rentalId=rental_id, status=1):
        market.dispute(rental_id, EVIDENCE, sender=renter)


def test_dispute__after_a_stop__freezes_the_stop_bill_and_refunds_nothing_more(
    market, running, renter, pay_token, time_travel
):
    stop = market.stopRental(running, sender=renter)
    r = market.getRental(running)
    closes_at = r.endsAt + market.disputeWindow()
    time_travel.at(closes_at - 1)  # the last second of the window
    before = pay_token.balanceOf(renter)
    tx = market.dispute(running, EVIDENCE, sender=renter)
    bond = _bond(market, r.total, r.endsAt - r.startedAt)
    [ev] = tx.decode_logs(market.RentalDisputed)
    assert (ev.frozen, ev.refund, ev.bond) == (r.total - r.claimed, 0, bond)
    assert pay_token.balanceOf(renter) == before - bond
    assert market.getRental(running).status == DISPUTED and stop.timestamp < tx.timestamp


def test_dispute__when_the_window_has_closed__reverts(market, running, renter, time_travel):
    market.stopRental(running, sender=renter)
    closes_at = market.getRental(running).endsAt + market.disputeWindow()
    time_travel.at(closes_at)
    with reverts(market.MarketDisputeWindowClosed, rentalId=running, closedAt=closes_at):
        market.dispute(running, EVIDENCE, sender=renter)
    market.release(running, sender=renter)  # and the rental settles instead
    assert market.getRental(running).status == SETTLED


def test_dispute__after_natural_end_before_release__frees_capacity_refunds_nothing(
    market, active_id, renter, offer_id, fund, pay_token, time_travel
):
    r = market.getRental(active_id)
    bond = _bond(market, r.total, r.endsAt - r.startedAt)
    assert bond == r.total // 24 * 8
    fund(renter, pay_token, bond)
    pay_token.approve(market, bond, sender=renter)
    time_travel.at(r.endsAt + HOUR)
    tx = market.dispute(active_id, EVIDENCE, sender=renter)
    [ev] = tx.decode_logs(market.RentalDisputed)
    assert (ev.frozen, ev.refund, ev.bond) == (r.total, 0, bond)  # nothing was claimed: all of it is frozen
    assert market.getOffer(offer_id).gpusInUse == 0
    assert market.getRental(active_id).endsAt == r.endsAt  # the stream had ended on its own


def test_dispute__twice__reverts(market, running, renter):
    market.dispute(running, EVIDENCE, sender=renter)
    with reverts(market.MarketRentalNotDisputable, rentalId=running, status=DISPUTED):
        market.dispute(running, EVIDENCE, sender=renter)


# ───────────────────────────── resolveDispute ─────────────────────────────


@pytest.mark.parametrize("share,slash_half", [(2500, True), (BPS, False)], ids=["provider_lost", "provider_won"])
def test_resolve__splits_frozen_escrow_slashes_and_pays_the_bond_to_the_winner(
    market, registry, gpuc, running, renter, provider, arbiter, treasury, pay_token, share, slash_half
):
    market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    frozen, bond = r.total - r.claimed, market.disputeOf(running)[1]
    slash = r.collateral // 2 if slash_half else 0
    lost = share < BPS or slash > 0
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
    assert (ev.bondTo, ev.bond, ev.treasury) == ((renter if lost else provider).address, bond, market.treasury())
    assert market.getRental(running).status == RESOLVED
    assert market.protocolFees(pay_token) == fees_before + proto
    assert market.disputeOf(running) == (0, 0, 0, r.disputedAt, 0)
    stake_after = registry.providerOf(provider)
    assert stake_after.staked == stake_before.staked - slash
    assert stake_after.locked == stake_before.locked - r.collateral
    same = pay_token.address == gpuc.address  # the payment token may be the stake token itself
    assert pay_token.balanceOf(provider) == bal[provider.address] + net + (0 if lost else bond)
    renter_gain = (frozen - gross) + (bond if lost else 0) + (slash - to_treasury if same else 0)
    assert pay_token.balanceOf(renter) == bal[renter.address] + renter_gain
    if not same:
        assert gpuc.balanceOf(renter) == gpuc_bal[renter.address] + slash - to_treasury
    assert gpuc.balanceOf(treasury) == gpuc_bal[treasury.address] + to_treasury
    rep = market.reputationOf(provider)
    served = 0 if lost else r.gpus * (r.endsAt - r.startedAt)
    assert (rep.disputesLost, rep.amountSlashed, rep.rentalsCompleted, rep.gpuSecondsServed) == \
        (int(lost), slash, int(not lost), served)
    # conservation: everything deposited is accounted for
    assert market.getRental(running).total == market.getRental(running).claimed == r.claimed + gross


def test_resolve__only_the_arbiter(market, running, renter, owner, provider):
    market.dispute(running, EVIDENCE, sender=renter)
    for who in (owner, provider, renter):
        with reverts(market.MarketNotArbiter, caller=who.address):
            market.resolveDispute(running, 0, 0, sender=who)


def test_resolve__share_above_100_percent__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    with reverts(market.MarketInvalidShare, providerShareBps=10_001):
        market.resolveDispute(running, 10_001, 0, sender=arbiter)


def test_resolve__slash_above_the_rentals_collateral__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    c = market.getRental(running).collateral
    with reverts(market.MarketSlashAboveCollateral, rentalId=running, slashAmount=c + 1, collateral=c):
        market.resolveDispute(running, 0, c + 1, sender=arbiter)


def test_resolve__whole_collateral_and_all_to_provider__are_the_bounds(market, registry, running, renter, arbiter, provider):
    market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    staked = registry.providerOf(provider).staked
    tx = market.resolveDispute(running, BPS, r.collateral, sender=arbiter)
    [ev] = tx.decode_logs(market.DisputeResolved)
    assert ev.providerGross == r.total - r.claimed and ev.refund == 0
    assert ev.bondTo == renter.address  # a slash is a loss: the bond goes back
    assert registry.providerOf(provider).staked == staked - r.collateral


def test_resolve__twice__reverts(market, running, renter, arbiter):
    market.dispute(running, EVIDENCE, sender=renter)
    market.resolveDispute(running, 5000, 0, sender=arbiter)
    with reverts(market.MarketRentalNotDisputed, rentalId=running, status=RESOLVED):
        market.resolveDispute(running, 5000, 0, sender=arbiter)
    with reverts(market.MarketRentalNotDisputed, rentalId=running, status=RESOLVED):
        market.applyDefaultRuling(running, sender=renter)


def test_resolve__not_disputed__reverts(market, running, arbiter):
    with reverts(market.MarketRentalNotDisputed, rentalId=running, status=2):
        market.resolveDispute(running, 0, 0, sender=arbiter)


def test_resolve__fully_claimed_rental__only_collateral_and_bond_at_stake(
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
    assert ev.providerGross == 0 and ev.refund == 0 and ev.bondTo == renter.address
    assert ev.slashToRenter + ev.slashToTreasury == r.collateral
    assert gpuc.balanceOf(treasury) == treasury_before + ev.slashToTreasury
    assert registry.providerOf(provider).locked == 0


def test_resolve__after_the_timeout__reverts_for_the_arbiter(market, running, renter, arbiter, time_travel):
    tx = market.dispute(running, EVIDENCE, sender=renter)
    timeout_at = tx.timestamp + market.arbitrationTimeout()
    time_travel.at(timeout_at)
    with reverts(market.MarketArbitrationTimedOut, rentalId=running, timeoutAt=timeout_at):
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
    with reverts(market.MarketArbitrationPending, rentalId=running, timeoutAt=timeout_at):
        market.applyDefaultRuling(running, sender=stranger)


def test_default_ruling__at_the_timeout__pays_the_stop_bill_and_the_bond_to_the_provider(
    market, registry, running, renter, provider, stranger, pay_token, time_travel
):
    r0 = market.getRental(running)
    tx = market.dispute(running, EVIDENCE, sender=renter)
    r = market.getRental(running)
    stop_bill = stop_charge(r0.total, r0.startedAt, tx.timestamp, r0.hoursPaid, r0.discountBps)
    owed = stop_bill - r.claimed
    bond = market.disputeOf(running)[1]
    net, _, _ = split_claim(r.claimed, r.claimed + owed, r.protocolFeeBps, r.brokerBps)
    time_travel.at(tx.timestamp + market.arbitrationTimeout())
    prov, rent = pay_token.balanceOf(provider), pay_token.balanceOf(renter)
    staked = registry.providerOf(provider).staked
    tx2 = market.applyDefaultRuling(running, sender=stranger)
    [ev] = tx2.decode_logs(market.DisputeResolved)
    assert ev.byDefault and ev.providerGross == owed and ev.refund == 0
    assert (ev.bondTo, ev.bond) == (provider.address, bond)
    assert ev.slashToRenter == ev.slashToTreasury == 0
    assert pay_token.balanceOf(provider) == prov + net + bond
    assert pay_token.balanceOf(renter) == rent
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
    with reverts(registry.RegistryInsufficientFreeStake, provider=provider.address, free=free, needed=free + 1):
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


# ───────────────────────────── the bond's terms ─────────────────────────────


@pytest.mark.parametrize("timeout,window", [(DAY, HOUR), (60 * DAY, HOUR), (7 * DAY, DAY)],
                         ids=["1d_over_1h", "60d_over_1h", "defaults"])
def test_dispute__the_bond_scales_with_the_timeout_over_the_window(
    market, running, renter, owner, fund, pay_token, time_travel, timeout, window
):
    market.setArbitrationTimeout(timeout, sender=owner)
    market.setDisputeWindow(window, sender=owner)
    r = market.getRental(running)
    budget = r.total // r.hoursPaid * (timeout + window) // window
    fund(renter, pay_token, budget)
    pay_token.approve(market, budget, sender=renter)
    time_travel.at(r.startedAt + 7 * HOUR)  # later than every block the set-up above mined
    tx = market.dispute(running, EVIDENCE, sender=renter)
    billed = stop_charge(r.total, r.startedAt, tx.timestamp, r.hoursPaid, r.discountBps)
    rate = r.total // r.hoursPaid
    bond = dispute_bond(billed, tx.timestamp - r.startedAt, timeout, window)
    assert bond == rate * (timeout + window) // window  # seven hours in, billed exactly at the rate
    assert tx.return_value == bond and market.disputeOf(running)[1] == bond


def test_dispute__its_bond_and_deadline_are_fixed_when_it_is_raised(
    market, running, renter, owner, arbiter, time_travel
):
    tx = market.dispute(running, EVIDENCE, sender=renter)
    frozen, bond, collateral, at, timeout_at = market.disputeOf(running)
    assert timeout_at == tx.timestamp + 7 * DAY
    market.setArbitrationTimeout(DAY, sender=owner)  # shorter: the open dispute keeps its seven days
    time_travel.at(tx.timestamp + 2 * DAY)
    with reverts(market.MarketArbitrationPending, rentalId=running, timeoutAt=timeout_at):
        market.applyDefaultRuling(running, sender=owner)
    assert market.disputeOf(running) == (frozen, bond, collateral, at, timeout_at)
    market.setArbitrationTimeout(60 * DAY, sender=owner)  # longer: it does not reach the dispute either
    time_travel.at(timeout_at)
    with reverts(market.MarketArbitrationTimedOut, rentalId=running, timeoutAt=timeout_at):
        market.resolveDispute(running, 0, 0, sender=arbiter)
    market.applyDefaultRuling(running, sender=owner)
    assert market.getRental(running).status == RESOLVED


def test_resolve__a_zero_share_of_nothing_frozen__is_a_loss_and_returns_the_bond(
    market, running, renter, provider, arbiter, pay_token
):
    market.stopRental(running, sender=renter)
    market.claim(running, sender=provider)  # the provider took everything billed
    market.dispute(running, EVIDENCE, sender=renter)
    bond = market.disputeOf(running)[1]
    before = pay_token.balanceOf(renter)
    tx = market.resolveDispute(running, 0, 0, sender=arbiter)
    [ev] = tx.decode_logs(market.DisputeResolved)
    assert (ev.providerGross, ev.bondTo, ev.bond) == (0, renter.address, bond)
    assert pay_token.balanceOf(renter) == before + bond
    assert market.reputationOf(provider).disputesLost == 1


def test_dispute__by_a_sponsored_renter__the_payer_gets_the_refund_the_renter_posts_the_bond(
    market, offer_id, open_rental, renter, payer, provider, fund, pay_token, time_travel
):
    rid = open_rental(offer_id, renter, payer=payer)
    market.activate(rid, sender=provider)
    r = market.getRental(rid)
    fund(renter, pay_token, r.total)
    pay_token.approve(market, r.total, sender=renter)
    t = r.startedAt + 2 * HOUR
    time_travel.at(t)
    before = {a.address: pay_token.balanceOf(a) for a in (renter, payer)}
    tx = market.dispute(rid, EVIDENCE, sender=renter)
    billed = stop_charge(r.total, r.startedAt, t, r.hoursPaid, r.discountBps)
    bond = dispute_bond(billed, 2 * HOUR, market.arbitrationTimeout(), market.disputeWindow())
    assert pay_token.balanceOf(payer) == before[payer.address] + r.total - billed
    assert pay_token.balanceOf(renter) == before[renter.address] - bond
    assert tx.return_value == bond


def test_dispute__a_self_funded_renter_pays_the_bond_out_of_its_refund(
    market, active_id, renter, pay_token, time_travel
):
    """No approval needed when the refund covers the bond: one transfer of the difference."""
    r = market.getRental(active_id)
    pay_token.approve(market, 0, sender=renter)
    t = r.startedAt + HOUR
    time_travel.at(t)
    before = pay_token.balanceOf(renter)
    tx = market.dispute(active_id, EVIDENCE, sender=renter)
    billed = stop_charge(r.total, r.startedAt, t, r.hoursPaid, r.discountBps)
    bond = dispute_bond(billed, HOUR, market.arbitrationTimeout(), market.disputeWindow())
    assert r.total - billed >= bond  # 23 hours unused, a bond of 8
    assert pay_token.balanceOf(renter) == before + (r.total - billed) - bond
    [ev] = tx.decode_logs(market.RentalDisputed)
    assert (ev.refund, ev.bond) == (r.total - billed, bond)
