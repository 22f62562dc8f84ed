"""ProviderVault redemption (asynchronous, through the registry's unbonding, in batches that wait for
collateral), the commission's notice period, and slashes shared by every share in the same ratio."""

from conftest import GPUC, HOUR, VAULT_COMMISSION_BPS
from reverts import reverts


def _price(vault):
    """GPUC per 10^6 shares (one GPUC's worth at the first deposit)."""
    return vault.convertToAssets(10**24)


def test_request_redeem__escrows_the_shares_which_stop_earning(
    vault_offer, vault, market, usd, open_rental, renter, provider2, investors, time_travel
):
    dubai, us, _ = investors
    shares = vault.balanceOf(us)
    tx = vault.requestRedeem(shares, us, sender=us)
    [ev] = tx.decode_logs(vault.RedeemRequested)
    assert (ev.requestId, ev.owner, ev.receiver, ev.shares, ev.batch) == (1, us.address, us.address, shares, 1)
    assert vault.balanceOf(us) == 0 and vault.balanceOf(vault) == shares
    q = vault.requestOf(1)
    assert (q.owner, q.receiver, q.shares, q.batch, q.claimed) == (us.address, us.address, shares, 1, False)
    rid = open_rental(vault_offer, renter, gpus=16, hours=10)
    started = vault.activate(rid, sender=provider2).timestamp
    time_travel.at(started + 2 * HOUR)
    vault.harvest(sender=us)
    assert vault.incomeOf(us, usd) == 0  # escrowed shares earn nothing
    assert vault.incomeOf(dubai, usd) > 0


def test_request_redeem__of_zero_or_too_many_shares__reverts(vault_offer, vault, investors):
    us = investors[1]
    balance = vault.balanceOf(us)
    for shares in (0, balance + 1):
        with reverts(vault.VaultInvalidRedeem, shares=shares, balance=balance):
            vault.requestRedeem(shares, us, sender=us)


def test_start_batch__waits_while_collateral_backs_rentals(vault_offer, vault, registry, open_rental, renter, investors):
    """10,000 GPUC staked, 1,600 locked by a 16-GPU rental: a batch of 9,000 GPUC's worth waits."""
    dubai, us, _ = investors
    open_rental(vault_offer, renter, gpus=16, hours=10)
    vault.requestRedeem(vault.balanceOf(dubai), dubai, sender=dubai)
    vault.requestRedeem(vault.balanceOf(us), us, sender=us)
    free = registry.freeStakeOf(vault)
    assert free == 10_000 * GPUC - 1_600 * GPUC
    with reverts(vault.VaultRedemptionWaitsForCollateral, needed=9_000 * GPUC, free=free):
        vault.startBatch(sender=dubai)


def test_batch__unbonds_finishes_after_the_period_and_pays_each_request(vault_offer, vault, registry, gpuc, investors):
    dubai, us, korea = investors
    vault.requestRedeem(vault.balanceOf(us), us, sender=us)
    half = vault.balanceOf(korea) // 2
    vault.requestRedeem(half, dubai, sender=korea)  # for another receiver
    tx = vault.startBatch(sender=dubai)  # anyone
    [ev] = tx.decode_logs(vault.BatchStarted)
    period = registry.unbondingPeriod()
    assert (ev.batch, ev.assets, ev.readyAt) == (1, 3_500 * GPUC, tx.timestamp + period)
    assert registry.providerOf(vault).unbonding == 3_500 * GPUC
    assert vault.batches() == (2, 1)
    with reverts(vault.VaultBatchInFlight, batch=1, readyAt=ev.readyAt):
        vault.startBatch(sender=dubai)
    with reverts(vault.VaultBatchNotReady, batch=1, readyAt=ev.readyAt):
        vault.finishBatch(sender=dubai)
    with reverts(vault.VaultRequestNotClaimable, requestId=1, batch=1):
        vault.claimRedemption(1, sender=us)
    from ape import chain
    chain.pending_timestamp = ev.readyAt
    fin = vault.finishBatch(sender=korea).decode_logs(vault.BatchFinished)[0]
    assert (fin.batch, fin.payout, fin.restaked) == (1, 3_500 * GPUC, 0)
    assert vault.totalAssets() == 6_500 * GPUC and registry.providerOf(vault).staked == 6_500 * GPUC
    before = {w.address: gpuc.balanceOf(w) for w in (us, dubai)}
    assert vault.claimRedemption(1, sender=korea).return_value == 3_000 * GPUC  # anyone; paid to the receiver
    vault.claimRedemption(2, sender=korea)
    assert gpuc.balanceOf(us) == before[us.address] + 3_000 * GPUC
    assert gpuc.balanceOf(dubai) == before[dubai.address] + 500 * GPUC
    with reverts(vault.VaultRequestNotClaimable, requestId=1, batch=1):
        vault.claimRedemption(1, sender=us)


def test_start_batch__with_nothing_queued__reverts(vault_offer, vault, investors):
    with reverts(vault.VaultNothingQueued):
        vault.startBatch(sender=investors[0])


def test_no_show_slash__lowers_every_share_by_the_same_ratio_the_redeeming_ones_too(
    vault_offer, vault, market, registry, open_rental, renter, investors, time_travel
):
    """The operator never activates a 16-GPU rental; the renter cancels after the deadline: 10 % of the
    1,600 GPUC collateral is slashed. Every share loses 160 / 10,000 of its value — the ones whose
    stake is already unbonding for a redemption too: they are paid what they are worth at the end."""
    dubai, us, korea = investors
    rid = open_rental(vault_offer, renter, gpus=16, hours=10)
    vault.requestRedeem(vault.balanceOf(korea), korea, sender=korea)
    started = vault.startBatch(sender=korea).decode_logs(vault.BatchStarted)[0]
    assert started.assets == 1_000 * GPUC  # unbonding before the slash
    worth = {w.address: vault.convertToAssets(vault.balanceOf(w)) for w in (dubai, us)}
    price = _price(vault)
    time_travel.at(max(market.getRental(rid).activationDeadline + 1, started.readyAt - 1))
    market.cancelPending(rid, sender=renter)
    assert vault.totalAssets() == 10_000 * GPUC - 160 * GPUC
    assert _price(vault) * 10_000 // price in (9_839, 9_840)  # the same ratio for every share
    for w in (dubai, us):
        assert vault.convertToAssets(vault.balanceOf(w)) * 10_000 // worth[w.address] in (9_839, 9_840)
    time_travel.at(started.readyAt)
    fin = vault.finishBatch(sender=korea).decode_logs(vault.BatchFinished)[0]
    # ERC-4626 with 10^6 virtual shares per GPUC: shares × (assets + 1) / (supply + 10^6), rounded down.
    shares, supply = 1_000 * GPUC * 10**6, 10_000 * GPUC * 10**6
    assert fin.payout == shares * (9_840 * GPUC + 1) // (supply + 10**6)  # 984 GPUC
    assert fin.restaked == 1_000 * GPUC - fin.payout  # what the slash took from korea stays with the others
    assert vault.totalAssets() == 9_840 * GPUC - fin.payout


def test_commission__a_cut_is_immediate_a_rise_waits_twice_the_unbonding_period(vault, registry, provider2):
    tx = vault.proposeCommission(500, sender=provider2)
    assert vault.commission() == (500, 0, 0)
    [ev] = tx.decode_logs(vault.CommissionProposed)
    assert (ev.bps, ev.effectiveAt) == (500, tx.timestamp)
    tx = vault.proposeCommission(3_000, sender=provider2)
    at = tx.timestamp + 2 * registry.unbondingPeriod()
    assert vault.commission() == (500, 3_000, at)
    with reverts(vault.VaultCommissionAboveMax, bps=5_001, maxBps=5_000):
        vault.proposeCommission(5_001, sender=provider2)
    from ape import chain
    chain.pending_timestamp = at
    vault.harvest(sender=provider2)
    assert vault.commission() == (3_000, 0, 0)
    assert VAULT_COMMISSION_BPS != 3_000  # the rise really changed it


def test_commission__a_rise_leaves_what_streamed_before_its_first_distribution_at_the_old_rate(
    vault_offer, vault, market, usd, registry, open_rental, renter, provider2, investors, time_travel
):
    """The rise comes due while a rental streams unharvested: the first distribution after it still
    shares that income at the old rate; only later income pays the new one."""
    rid = open_rental(vault_offer, renter, gpus=16, hours=24 * 30)
    started = vault.activate(rid, sender=provider2).timestamp
    due = vault.proposeCommission(3_000, sender=provider2).timestamp + 2 * registry.unbondingPeriod()
    time_travel.at(due + HOUR)
    tx = vault.harvest(sender=renter)
    [ev] = tx.decode_logs(vault.IncomeDistributed)
    assert ev.commission == ev.received * VAULT_COMMISSION_BPS // 10_000  # the old 10 %
    assert vault.commission() == (3_000, 0, 0)
    time_travel.at(due + 2 * HOUR)
    [ev] = vault.harvest(sender=renter).decode_logs(vault.IncomeDistributed)
    assert ev.commission == ev.received * 3_000 // 10_000  # the new 30 %
    assert started < due


def test_shares_never_go_to_the_vaults_own_address_but_through_a_request(vault, vault_offer, investors, gpuc):
    dubai = investors[0]
    with reverts(vault.VaultSharesToTheVault):
        vault.transfer(vault, 1, sender=dubai)
    gpuc.approve(vault, 10**18, sender=dubai)
    with reverts(vault.VaultSharesToTheVault):
        vault.deposit(10**18, vault, sender=dubai)
    assert vault.nextRequestId() == 1
    vault.requestRedeem(1, dubai, sender=dubai)
    assert vault.nextRequestId() == 2 and vault.balanceOf(vault) == 1


def test_market_errors__decode_from_the_vaults_abi(vault, vault_offer, provider2, open_rental, renter, market):
    rid = open_rental(vault_offer, renter, gpus=1, hours=2)
    vault.activate(rid, sender=provider2)
    with reverts(vault.MarketRentalNotPending, rentalId=rid, status=2):  # raised by the market, inside the vault
        vault.activate(rid, sender=provider2)


def test_factory__exposes_the_commission_bound(factory, vault):
    assert factory.MAX_COMMISSION_BPS() == vault.MAX_COMMISSION_BPS() == 5_000
