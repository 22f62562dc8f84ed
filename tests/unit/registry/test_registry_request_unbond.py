import pytest

from conftest import DAY, GPUC, PROVIDER_STAKE
from reverts import reverts


@pytest.fixture
def as_market(accounts, chain, market):
    """The market contract's address as an impersonated sender, funded for gas."""
    chain.set_balance(market.address, 10**18)
    return accounts[market.address]


def test_request_unbond__moves_free_stake_into_unbonding(registry, staked, time_travel):
    ts = time_travel.now() + 10
    time_travel.at(ts)
    tx = registry.requestUnbond(4_000 * GPUC, sender=staked)
    p = registry.providerOf(staked)
    assert p.staked == PROVIDER_STAKE  # still in the registry (and counted in `staked`)
    assert p.unbonding == 4_000 * GPUC
    assert p.unbondingReadyAt == ts + 7 * DAY
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE - 4_000 * GPUC
    [event] = tx.decode_logs(registry.UnbondRequested)
    assert (event["provider"], event.amount, event.unbonding, event.readyAt) == (
        staked.address,
        4_000 * GPUC,
        4_000 * GPUC,
        ts + 7 * DAY,
    )


def test_request_unbond__again__adds_up_and_restarts_the_clock(registry, staked, time_travel):
    t1 = time_travel.now() + 10
    time_travel.at(t1)
    registry.requestUnbond(1_000 * GPUC, sender=staked)
    t2 = t1 + 3 * DAY
    time_travel.at(t2)
    tx = registry.requestUnbond(500 * GPUC, sender=staked)
    p = registry.providerOf(staked)
    assert p.unbonding == 1_500 * GPUC
    assert p.unbondingReadyAt == t2 + 7 * DAY
    [event] = tx.decode_logs(registry.UnbondRequested)
    assert (event.amount, event.unbonding, event.readyAt) == (500 * GPUC, 1_500 * GPUC, t2 + 7 * DAY)


def test_request_unbond__all_free_stake__succeeds(registry, staked):
    registry.requestUnbond(PROVIDER_STAKE, sender=staked)
    assert registry.providerOf(staked).unbonding == PROVIDER_STAKE
    assert registry.freeStakeOf(staked) == 0


def test_request_unbond__zero__reverts(registry, staked):
    with reverts(registry.RegistryZeroAmount):
        registry.requestUnbond(0, sender=staked)


def test_request_unbond__more_than_free__reverts(registry, staked):
    with reverts(
        registry.RegistryInsufficientFreeStake, provider=staked.address, free=PROVIDER_STAKE, needed=PROVIDER_STAKE + 1
    ):
        registry.requestUnbond(PROVIDER_STAKE + 1, sender=staked)
    assert registry.providerOf(staked).unbonding == 0


def test_request_unbond__stake_already_unbonding_is_not_free__reverts(registry, staked):
    registry.requestUnbond(PROVIDER_STAKE - GPUC, sender=staked)
    with reverts(registry.RegistryInsufficientFreeStake, provider=staked.address, free=GPUC, needed=GPUC + 1):
        registry.requestUnbond(GPUC + 1, sender=staked)


def test_request_unbond__locked_stake_is_not_free__reverts(registry, staked, as_market):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    free = PROVIDER_STAKE - 800 * GPUC
    with reverts(registry.RegistryInsufficientFreeStake, provider=staked.address, free=free, needed=free + 1):
        registry.requestUnbond(free + 1, sender=staked)
    registry.requestUnbond(free, sender=staked)
    assert registry.freeStakeOf(staked) == 0


def test_request_unbond__without_stake__reverts(registry, stranger):
    with reverts(registry.RegistryInsufficientFreeStake, provider=stranger.address, free=0, needed=1):
        registry.requestUnbond(1, sender=stranger)


def test_request_unbond__uses_the_period_in_force_at_request_time(registry, staked, owner, time_travel):
    t1 = time_travel.now() + 10
    time_travel.at(t1)
    registry.requestUnbond(GPUC, sender=staked)
    registry.setUnbondingPeriod(DAY, sender=owner)
    assert registry.providerOf(staked).unbondingReadyAt == t1 + 7 * DAY  # a pending request keeps its time
    t2 = t1 + 100
    time_travel.at(t2)
    registry.requestUnbond(GPUC, sender=staked)
    assert registry.providerOf(staked).unbondingReadyAt == t2 + DAY  # a new request uses the new period
