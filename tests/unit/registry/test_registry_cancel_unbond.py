from conftest import DAY, GPUC, PROVIDER_STAKE
from reverts import reverts


def test_cancel_unbond__returns_all_unbonding_stake_to_free_stake(registry, staked):
    registry.requestUnbond(3_000 * GPUC, sender=staked)
    registry.requestUnbond(1_000 * GPUC, sender=staked)
    tx = registry.cancelUnbond(sender=staked)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked, p.unbonding, p.unbondingReadyAt) == (PROVIDER_STAKE, 0, 0, 0)
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE
    [event] = tx.decode_logs(registry.UnbondCancelled)
    assert (event["provider"], event.amount) == (staked.address, 4_000 * GPUC)


def test_cancel_unbond__with_nothing_unbonding__reverts(registry, staked):
    with reverts(registry.RegistryNothingUnbonding, provider=staked.address):
        registry.cancelUnbond(sender=staked)


def test_cancel_unbond__reactivates_a_provider_that_unbonded_below_min_stake(registry, staked):
    registry.requestUnbond(PROVIDER_STAKE - 999 * GPUC, sender=staked)
    assert registry.isActive(staked) is False
    registry.cancelUnbond(sender=staked)
    assert registry.isActive(staked) is True


def test_cancel_unbond__then_withdraw__reverts(registry, staked, time_travel):
    registry.requestUnbond(GPUC, sender=staked)
    registry.cancelUnbond(sender=staked)
    time_travel.advance(30 * DAY)
    with reverts(registry.RegistryNothingUnbonding, provider=staked.address):
        registry.withdrawUnbonded(sender=staked)
