import pytest

from conftest import DAY, GPUC, PROVIDER_STAKE, ZERO
from reverts import reverts

LOCKED = 800 * GPUC


@pytest.fixture
def as_market(accounts, chain, market):
    """The market contract's address as an impersonated sender, funded for gas."""
    chain.set_balance(market.address, 10**18)
    return accounts[market.address]


@pytest.fixture
def locked(registry, staked, as_market):
    """The staked provider with LOCKED of its stake locked as collateral."""
    registry.lock(staked, LOCKED, sender=as_market)
    return staked


def test_slash__pays_each_recipient_exactly_and_takes_it_from_stake_and_lock(
    registry, gpuc, locked, renter, treasury, as_market
):
    renter_before, treasury_before = gpuc.balanceOf(renter), gpuc.balanceOf(treasury)
    tx = registry.slash(locked, 300 * GPUC, [renter, treasury], [200 * GPUC, 100 * GPUC], sender=as_market)
    p = registry.providerOf(locked)
    assert (p.staked, p.locked, p.unbonding) == (PROVIDER_STAKE - 300 * GPUC, LOCKED - 300 * GPUC, 0)
    assert gpuc.balanceOf(renter) - renter_before == 200 * GPUC
    assert gpuc.balanceOf(treasury) - treasury_before == 100 * GPUC
    assert gpuc.balanceOf(registry) == p.staked  # registry balance == Σ staked
    [event] = tx.decode_logs(registry.StakeSlashed)
    assert event["provider"] == locked.address
    assert event.amount == 300 * GPUC
    assert list(event.recipients) == [renter.address, treasury.address]
    assert list(event.amounts) == [200 * GPUC, 100 * GPUC]


def test_slash__all_locked__leaves_free_stake_untouched(registry, gpuc, locked, renter, as_market):
    registry.slash(locked, LOCKED, [renter], [LOCKED], sender=as_market)
    p = registry.providerOf(locked)
    assert (p.staked, p.locked) == (PROVIDER_STAKE - LOCKED, 0)
    assert registry.freeStakeOf(locked) == PROVIDER_STAKE - LOCKED
    assert gpuc.balanceOf(renter) == LOCKED


def test_slash__a_zero_share__is_allowed_and_pays_nothing(registry, gpuc, locked, renter, stranger, as_market):
    registry.slash(locked, 50 * GPUC, [renter, stranger], [50 * GPUC, 0], sender=as_market)
    assert gpuc.balanceOf(renter) == 50 * GPUC
    assert gpuc.balanceOf(stranger) == 0
    assert registry.providerOf(locked).locked == LOCKED - 50 * GPUC


def test_slash__leaves_unbonding_stake_alone(registry, gpuc, locked, renter, as_market, time_travel):
    registry.requestUnbond(2_000 * GPUC, sender=locked)
    registry.slash(locked, LOCKED, [renter], [LOCKED], sender=as_market)
    p = registry.providerOf(locked)
    assert (p.staked, p.locked, p.unbonding) == (PROVIDER_STAKE - LOCKED, 0, 2_000 * GPUC)
    time_travel.advance(7 * DAY)
    registry.withdrawUnbonded(sender=locked)
    assert gpuc.balanceOf(locked) == 2_000 * GPUC
    assert gpuc.balanceOf(registry) == registry.providerOf(locked).staked


def test_slash__can_drop_the_provider_below_min_stake(registry, provider, stake_provider, renter, as_market):
    stake_provider(provider, 1_000 * GPUC)
    registry.lock(provider, 100 * GPUC, sender=as_market)
    registry.slash(provider, GPUC, [renter], [GPUC], sender=as_market)
    assert registry.providerOf(provider).staked == 999 * GPUC
    assert registry.isActive(provider) is False


def test_slash__more_than_locked__reverts(registry, locked, renter, as_market):
    with reverts(registry.RegistryInsufficientLocked, provider=locked.address, locked=LOCKED, needed=LOCKED + 1):
        registry.slash(locked, LOCKED + 1, [renter], [LOCKED + 1], sender=as_market)
    assert registry.providerOf(locked).staked == PROVIDER_STAKE


@pytest.mark.parametrize("shares", [[100 * GPUC, 99 * GPUC], [100 * GPUC, 101 * GPUC]], ids=["short", "over"])
def test_slash__shares_not_summing_to_amount__reverts(registry, locked, renter, treasury, as_market, shares):
    with reverts(registry.RegistrySlashMismatch, amount=200 * GPUC, sumOfAmounts=sum(shares)):
        registry.slash(locked, 200 * GPUC, [renter, treasury], shares, sender=as_market)
    assert registry.providerOf(locked).locked == LOCKED


def test_slash__to_the_zero_address__reverts_with_its_index(registry, locked, renter, as_market):
    with reverts(registry.RegistryInvalidRecipient, index=1):
        registry.slash(locked, 200 * GPUC, [renter, ZERO], [100 * GPUC, 100 * GPUC], sender=as_market)


def test_slash__recipients_and_amounts_of_different_lengths__reverts(registry, locked, renter, treasury, as_market):
    # The length mismatch reports both lengths: 2 recipients, 1 amount.
    with reverts(registry.RegistrySlashLengthMismatch, recipients=2, amounts=1):
        registry.slash(locked, 200 * GPUC, [renter, treasury], [200 * GPUC], sender=as_market)
    assert registry.providerOf(locked).locked == LOCKED


@pytest.mark.parametrize("caller", ["owner", "renter", "staked"])
def test_slash__by_anyone_but_the_market__reverts(registry, locked, renter, request, caller):
    sender = request.getfixturevalue(caller)
    with reverts(registry.RegistryCallerNotMarket, caller=sender.address):
        registry.slash(locked, 100 * GPUC, [renter], [100 * GPUC], sender=sender)
    assert registry.providerOf(locked).locked == LOCKED
