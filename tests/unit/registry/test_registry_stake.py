from conftest import GPUC
from reverts import reverts


def test_stake__pulls_the_tokens_and_credits_the_stake(registry, gpuc, provider, fund):
    registry.register("ipfs://spec", sender=provider)
    fund(provider, gpuc, 5_000 * GPUC)
    gpuc.approve(registry, 5_000 * GPUC, sender=provider)
    tx = registry.stake(5_000 * GPUC, sender=provider)
    p = registry.providerOf(provider)
    assert (p.staked, p.locked, p.unbonding) == (5_000 * GPUC, 0, 0)
    assert registry.freeStakeOf(provider) == 5_000 * GPUC
    assert gpuc.balanceOf(provider) == 0
    assert gpuc.balanceOf(registry) == 5_000 * GPUC
    assert gpuc.allowance(provider, registry) == 0
    [event] = tx.decode_logs(registry.Staked)
    assert (event["provider"], event.amount, event.staked) == (provider.address, 5_000 * GPUC, 5_000 * GPUC)


def test_stake__twice__adds_up_and_reports_the_running_total(registry, gpuc, provider, stake_provider):
    stake_provider(provider, 1_000 * GPUC)
    tx = stake_provider(provider, 250 * GPUC)
    assert registry.providerOf(provider).staked == 1_250 * GPUC
    assert gpuc.balanceOf(registry) == 1_250 * GPUC
    [event] = tx.decode_logs(registry.Staked)
    assert (event.amount, event.staked) == (250 * GPUC, 1_250 * GPUC)


def test_stake__zero__reverts(registry, provider):
    registry.register("ipfs://spec", sender=provider)
    with reverts(registry.RegistryZeroAmount):
        registry.stake(0, sender=provider)


def test_stake__by_an_unregistered_address__reverts(registry, gpuc, stranger, fund):
    fund(stranger, gpuc, GPUC)
    gpuc.approve(registry, GPUC, sender=stranger)
    with reverts(registry.RegistryNotRegistered, provider=stranger.address):
        registry.stake(GPUC, sender=stranger)
    assert gpuc.balanceOf(stranger) == GPUC


def test_stake__without_allowance__reverts_in_the_token(registry, gpuc, provider, fund):
    registry.register("ipfs://spec", sender=provider)
    fund(provider, gpuc, 10 * GPUC)
    with reverts(gpuc.ERC20InsufficientAllowance, spender=registry.address, allowance=0, needed=10 * GPUC):
        registry.stake(10 * GPUC, sender=provider)
    assert registry.providerOf(provider).staked == 0


def test_stake__beyond_the_balance__reverts_in_the_token(registry, gpuc, provider, fund):
    registry.register("ipfs://spec", sender=provider)
    fund(provider, gpuc, 10 * GPUC)
    gpuc.approve(registry, 11 * GPUC, sender=provider)
    with reverts(gpuc.ERC20InsufficientBalance, sender=provider.address, balance=10 * GPUC, needed=11 * GPUC):
        registry.stake(11 * GPUC, sender=provider)
    assert registry.providerOf(provider).staked == 0
