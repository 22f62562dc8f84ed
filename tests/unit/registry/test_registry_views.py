import pytest

from conftest import DAY, GPUC, PROVIDER_STAKE


@pytest.fixture
def as_market(accounts, chain, market):
    """The market contract's address as an impersonated sender, funded for gas."""
    chain.set_balance(market.address, 10**18)
    return accounts[market.address]


def test_views__of_a_fresh_deployment__match_the_default_params(registry, gpuc, market, owner, params):
    assert registry.stakeToken() == gpuc.address
    assert registry.market() == market.address
    assert registry.owner() == owner.address
    assert registry.unbondingPeriod() == params["unbonding_period"] == 7 * DAY
    assert registry.minStake() == params["min_stake"] == 1_000 * GPUC


def test_views__of_an_unknown_address__are_empty(registry, stranger):
    p = registry.providerOf(stranger)
    assert (p.staked, p.locked, p.unbonding, p.unbondingReadyAt, p.registered) == (0, 0, 0, 0, False)
    assert registry.freeStakeOf(stranger) == 0
    assert registry.isActive(stranger) is False
    assert registry.metadataOf(stranger) == ""


def test_free_stake_of__is_staked_minus_locked_minus_unbonding(registry, gpuc, staked, as_market):
    registry.lock(staked, 1_500 * GPUC, sender=as_market)
    registry.requestUnbond(2_500 * GPUC, sender=staked)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked, p.unbonding) == (PROVIDER_STAKE, 1_500 * GPUC, 2_500 * GPUC)
    assert registry.freeStakeOf(staked) == 6_000 * GPUC
    assert gpuc.balanceOf(registry) == p.staked


@pytest.mark.parametrize(
    "amount, active", [(1_000 * GPUC, True), (1_000 * GPUC - 1, False)], ids=["at-min-stake", "one-wei-below"]
)
def test_is_active__is_bonded_stake_at_least_min_stake(registry, provider, stake_provider, amount, active):
    stake_provider(provider, amount)
    assert registry.isActive(provider) is active


def test_is_active__counts_bonded_stake_not_unbonding_stake(registry, staked):
    registry.requestUnbond(9_000 * GPUC, sender=staked)  # bonded exactly minStake
    assert registry.isActive(staked) is True
    registry.requestUnbond(1, sender=staked)
    assert registry.isActive(staked) is False


def test_is_active__of_an_unregistered_address_with_zero_min_stake__is_false(registry, owner, stranger, provider):
    registry.setMinStake(0, sender=owner)
    assert registry.isActive(stranger) is False
    registry.register("ipfs://spec", sender=provider)
    assert registry.isActive(provider) is True  # registered with no stake meets a zero minimum
