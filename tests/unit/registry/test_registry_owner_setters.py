import pytest
from ape import chain

from conftest import DAY, GPUC, ZERO
from reverts import reverts

MAX_MIN_STAKE = 10**9 * GPUC


@pytest.fixture
def fresh_registry(project, owner, gpuc):
    """A registry deployed on its own, with no market set yet."""
    return owner.deploy(project.ProviderRegistry, gpuc, owner, 7 * DAY, 1_000 * GPUC)


def test_bounds__match_the_documented_constants(registry):
    assert registry.MIN_UNBONDING_PERIOD() == DAY
    assert registry.MAX_UNBONDING_PERIOD() == 90 * DAY
    assert registry.MAX_MIN_STAKE() == MAX_MIN_STAKE
    assert registry.MAX_METADATA_LENGTH() == 512


# ───────────────────────────── setMarket ─────────────────────────────


def test_set_market__when_already_set__reverts(registry, market, owner, stranger):
    assert registry.market() == market.address
    with reverts(registry.RegistryMarketAlreadySet, market=market.address):
        registry.setMarket(stranger, sender=owner)
    assert registry.market() == market.address


def test_set_market__by_a_non_owner__reverts(registry, stranger):
    with reverts(registry.OwnableUnauthorizedAccount, account=stranger.address):
        registry.setMarket(stranger, sender=stranger)


def test_set_market__on_a_fresh_registry__sets_it_once(fresh_registry, owner, market, stranger):
    assert fresh_registry.market() == ZERO
    tx = fresh_registry.setMarket(market, sender=owner)
    assert fresh_registry.market() == market.address
    [event] = tx.decode_logs(fresh_registry.MarketSet)
    assert event.market == market.address
    with reverts(fresh_registry.RegistryMarketAlreadySet, market=market.address):
        fresh_registry.setMarket(stranger, sender=owner)


def test_set_market__to_the_zero_address__reverts(fresh_registry, owner):
    with reverts(fresh_registry.RegistryZeroAddress):
        fresh_registry.setMarket(ZERO, sender=owner)
    assert fresh_registry.market() == ZERO


# ───────────────────────────── setUnbondingPeriod ─────────────────────────────


@pytest.mark.parametrize("period", [DAY, 90 * DAY], ids=["min", "max"])
def test_set_unbonding_period__at_the_bounds__succeeds(registry, owner, period):
    tx = registry.setUnbondingPeriod(period, sender=owner)
    assert registry.unbondingPeriod() == period
    [event] = tx.decode_logs(registry.UnbondingPeriodSet)
    assert event.unbondingPeriod == period


@pytest.mark.parametrize("period", [0, DAY - 1, 90 * DAY + 1], ids=["zero", "below-min", "above-max"])
def test_set_unbonding_period__out_of_bounds__reverts(registry, owner, period):
    with reverts(registry.RegistryParameterOutOfBounds, value=period, min=DAY, max=90 * DAY):
        registry.setUnbondingPeriod(period, sender=owner)
    assert registry.unbondingPeriod() == 7 * DAY


def test_set_unbonding_period__by_a_non_owner__reverts(registry, stranger):
    with reverts(registry.OwnableUnauthorizedAccount, account=stranger.address):
        registry.setUnbondingPeriod(DAY, sender=stranger)
    assert registry.unbondingPeriod() == 7 * DAY


# ───────────────────────────── setMinStake ─────────────────────────────


@pytest.mark.parametrize("value", [0, MAX_MIN_STAKE], ids=["zero", "max"])
def test_set_min_stake__within_bounds__succeeds(registry, owner, value):
    tx = registry.setMinStake(value, sender=owner)
    assert registry.minStake() == value
    [event] = tx.decode_logs(registry.MinStakeSet)
    assert event.minStake == value


def test_set_min_stake__above_the_max__reverts(registry, owner):
    with reverts(registry.RegistryParameterOutOfBounds, value=MAX_MIN_STAKE + 1, min=0, max=MAX_MIN_STAKE):
        registry.setMinStake(MAX_MIN_STAKE + 1, sender=owner)
    assert registry.minStake() == 1_000 * GPUC


def test_set_min_stake__by_a_non_owner__reverts(registry, staked):
    with reverts(registry.OwnableUnauthorizedAccount, account=staked.address):
        registry.setMinStake(0, sender=staked)
    assert registry.minStake() == 1_000 * GPUC


def test_set_min_stake__raised_above_a_stake__deactivates_the_provider(registry, owner, staked):
    registry.setMinStake(10_000 * GPUC + 1, sender=owner)
    assert registry.isActive(staked) is False
    registry.setMinStake(10_000 * GPUC, sender=owner)
    assert registry.isActive(staked) is True


# ───────────────────────────── constructor ─────────────────────────────


def test_constructor__with_a_zero_token__reverts(project, owner):
    with reverts(project.ProviderRegistry.RegistryZeroAddress):
        owner.deploy(project.ProviderRegistry, ZERO, owner, 7 * DAY, 1_000 * GPUC)


def test_constructor__with_an_out_of_bounds_period__reverts(project, owner, gpuc):
    with reverts(project.ProviderRegistry.RegistryParameterOutOfBounds, value=DAY - 1, min=DAY, max=90 * DAY):
        owner.deploy(project.ProviderRegistry, gpuc, owner, DAY - 1, 1_000 * GPUC)


def test_constructor__names_the_stake_token_in_an_event(project, owner, gpuc):
    """An indexer learns the collateral token from the events alone."""
    registry = owner.deploy(project.ProviderRegistry, gpuc, owner, 7 * DAY, 1_000 * GPUC)
    receipt = chain.get_receipt(registry.txn_hash)
    [event] = receipt.decode_logs(registry.StakeTokenSet)
    assert event.stakeToken == gpuc.address
