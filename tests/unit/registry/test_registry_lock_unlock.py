import pytest

from conftest import GPUC, PROVIDER_STAKE
from reverts import reverts


@pytest.fixture
def as_market(accounts, chain, market):
    """The market contract's address as an impersonated sender, funded for gas."""
    chain.set_balance(market.address, 10**18)
    return accounts[market.address]


# ───────────────────────────── lock ─────────────────────────────


def test_lock__moves_free_stake_into_locked(registry, gpuc, staked, as_market):
    tx = registry.lock(staked, 800 * GPUC, sender=as_market)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked, p.unbonding) == (PROVIDER_STAKE, 800 * GPUC, 0)
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE - 800 * GPUC
    assert gpuc.balanceOf(registry) == PROVIDER_STAKE  # no token moves
    [event] = tx.decode_logs(registry.CollateralLocked)
    assert (event["provider"], event.amount, event.locked) == (staked.address, 800 * GPUC, 800 * GPUC)


def test_lock__twice__adds_up_and_reports_the_running_total(registry, staked, as_market):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    tx = registry.lock(staked, 200 * GPUC, sender=as_market)
    assert registry.providerOf(staked).locked == 1_000 * GPUC
    [event] = tx.decode_logs(registry.CollateralLocked)
    assert (event.amount, event.locked) == (200 * GPUC, 1_000 * GPUC)


def test_lock__all_free_stake__succeeds_and_keeps_the_provider_active(registry, staked, as_market):
    registry.lock(staked, PROVIDER_STAKE, sender=as_market)
    assert registry.freeStakeOf(staked) == 0
    assert registry.isActive(staked) is True  # locked stake is still bonded


def test_lock__more_than_free__reverts(registry, staked, as_market):
    registry.lock(staked, 9_000 * GPUC, sender=as_market)
    with reverts(
        registry.RegistryInsufficientFreeStake, provider=staked.address, free=1_000 * GPUC, needed=1_000 * GPUC + 1
    ):
        registry.lock(staked, 1_000 * GPUC + 1, sender=as_market)
    assert registry.providerOf(staked).locked == 9_000 * GPUC


def test_lock__unbonding_stake_is_not_free__reverts(registry, staked, as_market):
    registry.requestUnbond(8_000 * GPUC, sender=staked)  # bonded 2 000 ≥ minStake, free 2 000
    with reverts(
        registry.RegistryInsufficientFreeStake, provider=staked.address, free=2_000 * GPUC, needed=2_000 * GPUC + 1
    ):
        registry.lock(staked, 2_000 * GPUC + 1, sender=as_market)


def test_lock__provider_below_min_stake__reverts(registry, provider, stake_provider, as_market):
    stake_provider(provider, 999 * GPUC)
    with reverts(
        registry.RegistryProviderNotActive, provider=provider.address, bonded=999 * GPUC, minStake=1_000 * GPUC
    ):
        registry.lock(provider, GPUC, sender=as_market)


def test_lock__provider_unbonding_below_min_stake__reverts(registry, staked, as_market):
    registry.requestUnbond(9_001 * GPUC, sender=staked)
    with reverts(
        registry.RegistryProviderNotActive, provider=staked.address, bonded=999 * GPUC, minStake=1_000 * GPUC
    ):
        registry.lock(staked, GPUC, sender=as_market)


def test_lock__unregistered_address__reverts_even_with_zero_min_stake(registry, owner, stranger, as_market):
    registry.setMinStake(0, sender=owner)
    with reverts(registry.RegistryProviderNotActive, provider=stranger.address, bonded=0, minStake=0):
        registry.lock(stranger, 0, sender=as_market)


@pytest.mark.parametrize("caller", ["owner", "stranger", "staked"])
def test_lock__by_anyone_but_the_market__reverts(registry, staked, request, caller):
    sender = request.getfixturevalue(caller)
    with reverts(registry.RegistryCallerNotMarket, caller=sender.address):
        registry.lock(staked, GPUC, sender=sender)
    assert registry.providerOf(staked).locked == 0


# ───────────────────────────── unlock ─────────────────────────────


def test_unlock__returns_locked_stake_to_free_stake(registry, staked, as_market):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    tx = registry.unlock(staked, 300 * GPUC, sender=as_market)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked) == (PROVIDER_STAKE, 500 * GPUC)
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE - 500 * GPUC
    [event] = tx.decode_logs(registry.CollateralUnlocked)
    assert (event["provider"], event.amount, event.locked) == (staked.address, 300 * GPUC, 500 * GPUC)


def test_unlock__all_locked__leaves_nothing_locked(registry, staked, as_market):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    registry.unlock(staked, 800 * GPUC, sender=as_market)
    assert registry.providerOf(staked).locked == 0
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE


def test_unlock__more_than_locked__reverts(registry, staked, as_market):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    with reverts(
        registry.RegistryInsufficientLocked, provider=staked.address, locked=800 * GPUC, needed=800 * GPUC + 1
    ):
        registry.unlock(staked, 800 * GPUC + 1, sender=as_market)
    assert registry.providerOf(staked).locked == 800 * GPUC


@pytest.mark.parametrize("caller", ["owner", "staked"])
def test_unlock__by_anyone_but_the_market__reverts(registry, staked, as_market, request, caller):
    registry.lock(staked, 800 * GPUC, sender=as_market)
    sender = request.getfixturevalue(caller)
    with reverts(registry.RegistryCallerNotMarket, caller=sender.address):
        registry.unlock(staked, 800 * GPUC, sender=sender)
    assert registry.providerOf(staked).locked == 800 * GPUC
