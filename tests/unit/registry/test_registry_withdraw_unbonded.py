import pytest

from conftest import DAY, GPUC, PROVIDER_STAKE
from reverts import reverts


@pytest.fixture
def as_market(accounts, chain, market):
    """The market contract's address as an impersonated sender, funded for gas."""
    chain.set_balance(market.address, 10**18)
    return accounts[market.address]


def test_withdraw_unbonded__exactly_at_ready_time__pays_the_provider(registry, gpuc, staked, time_travel):
    registry.requestUnbond(4_000 * GPUC, sender=staked)
    ready_at = registry.providerOf(staked).unbondingReadyAt
    time_travel.at(ready_at)
    tx = registry.withdrawUnbonded(sender=staked)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked, p.unbonding, p.unbondingReadyAt) == (PROVIDER_STAKE - 4_000 * GPUC, 0, 0, 0)
    assert gpuc.balanceOf(staked) == 4_000 * GPUC
    assert gpuc.balanceOf(registry) == p.staked
    assert tx.return_value == 4_000 * GPUC
    [event] = tx.decode_logs(registry.UnbondedWithdrawn)
    assert (event["provider"], event.amount) == (staked.address, 4_000 * GPUC)


def test_withdraw_unbonded__one_second_before_ready_time__reverts(registry, staked, time_travel):
    registry.requestUnbond(4_000 * GPUC, sender=staked)
    ready_at = registry.providerOf(staked).unbondingReadyAt
    time_travel.at(ready_at - 1)
    with reverts(
        registry.RegistryUnbondingNotReady, provider=staked.address, readyAt=ready_at, nowTime=ready_at - 1
    ):
        registry.withdrawUnbonded(sender=staked)
    assert registry.providerOf(staked).unbonding == 4_000 * GPUC


def test_withdraw_unbonded__with_nothing_unbonding__reverts(registry, staked):
    with reverts(registry.RegistryNothingUnbonding, provider=staked.address):
        registry.withdrawUnbonded(sender=staked)


def test_withdraw_unbonded__after_a_new_request__waits_for_the_restarted_clock(registry, staked, time_travel):
    t1 = time_travel.now() + 10
    time_travel.at(t1)
    registry.requestUnbond(GPUC, sender=staked)
    t2 = t1 + 6 * DAY
    time_travel.at(t2)
    registry.requestUnbond(GPUC, sender=staked)
    time_travel.at(t1 + 7 * DAY)  # the first request's ready time no longer counts
    with reverts(
        registry.RegistryUnbondingNotReady, provider=staked.address, readyAt=t2 + 7 * DAY, nowTime=t1 + 7 * DAY
    ):
        registry.withdrawUnbonded(sender=staked)
    time_travel.at(t2 + 7 * DAY)
    registry.withdrawUnbonded(sender=staked)
    assert registry.providerOf(staked).staked == PROVIDER_STAKE - 2 * GPUC


def test_withdraw_unbonded__leaves_locked_stake_in_place(registry, gpuc, staked, as_market, time_travel):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    free = PROVIDER_STAKE - 800 * GPUC
    registry.requestUnbond(free, sender=staked)
    time_travel.advance(7 * DAY)
    registry.withdrawUnbonded(sender=staked)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked, p.unbonding) == (800 * GPUC, 800 * GPUC, 0)
    assert gpuc.balanceOf(registry) == 800 * GPUC
    assert gpuc.balanceOf(staked) == free


def test_withdraw_unbonded__twice__reverts(registry, staked, time_travel):
    registry.requestUnbond(GPUC, sender=staked)
    time_travel.advance(7 * DAY)
    registry.withdrawUnbonded(sender=staked)
    with reverts(registry.RegistryNothingUnbonding, provider=staked.address):
        registry.withdrawUnbonded(sender=staked)
