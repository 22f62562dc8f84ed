from conftest import GPUC
from gpumarket.permit import sign_permit_with_key
from reverts import reverts

AMOUNT = 3_000 * GPUC
DEADLINE = 2**40


def _registered_and_funded(registry, gpuc, fund, holder, amount=AMOUNT):
    registry.register("ipfs://spec", sender=holder)
    fund(holder, gpuc, amount)


def test_stake_with_permit__stakes_without_a_prior_approve(registry, gpuc, provider, fund):
    _registered_and_funded(registry, gpuc, fund, provider)
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    tx = registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert registry.providerOf(provider).staked == AMOUNT
    assert gpuc.balanceOf(registry) == AMOUNT
    assert gpuc.balanceOf(provider) == 0
    assert gpuc.nonces(provider) == 1
    assert gpuc.allowance(provider, registry) == 0
    [event] = tx.decode_logs(registry.Staked)
    assert (event["provider"], event.amount, event.staked) == (provider.address, AMOUNT, AMOUNT)


def test_stake_with_permit__front_run_permit__still_stakes(registry, gpuc, provider, stranger, fund):
    _registered_and_funded(registry, gpuc, fund, provider)
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    # Someone watching the mempool submits the permit first: the allowance is set, the nonce used.
    gpuc.permit(provider, registry, AMOUNT, DEADLINE, v, r, s, sender=stranger)
    registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert registry.providerOf(provider).staked == AMOUNT
    assert gpuc.balanceOf(registry) == AMOUNT
    assert gpuc.nonces(provider) == 1


def test_stake_with_permit__replayed_permit_with_a_sufficient_allowance__still_stakes(registry, gpuc, provider, fund):
    _registered_and_funded(registry, gpuc, fund, provider, 2 * AMOUNT)
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    gpuc.approve(registry, AMOUNT, sender=provider)
    registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert registry.providerOf(provider).staked == 2 * AMOUNT
    assert gpuc.nonces(provider) == 1


def test_stake_with_permit__bad_signature_without_allowance__reverts(registry, gpuc, provider, provider2, fund):
    _registered_and_funded(registry, gpuc, fund, provider)
    # Signed by the wrong key: the permit fails and is ignored, then the pull fails.
    v, r, s = sign_permit_with_key(provider2.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    with reverts(gpuc.ERC20InsufficientAllowance, spender=registry.address, allowance=0, needed=AMOUNT):
        registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert registry.providerOf(provider).staked == 0
    assert gpuc.nonces(provider) == 0


def test_stake_with_permit__expired_permit_without_allowance__reverts(registry, gpuc, provider, fund, time_travel):
    _registered_and_funded(registry, gpuc, fund, provider)
    deadline = time_travel.now() - 1
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, deadline)
    with reverts(gpuc.ERC20InsufficientAllowance, spender=registry.address, allowance=0, needed=AMOUNT):
        registry.stakeWithPermit(AMOUNT, deadline, v, r, s, sender=provider)
    assert registry.providerOf(provider).staked == 0


def test_stake_with_permit__for_more_than_signed__reverts(registry, gpuc, provider, fund):
    _registered_and_funded(registry, gpuc, fund, provider, 2 * AMOUNT)
    # The signature covers AMOUNT; presenting it for 2 × AMOUNT does not verify.
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    with reverts(gpuc.ERC20InsufficientAllowance, spender=registry.address, allowance=0, needed=2 * AMOUNT):
        registry.stakeWithPermit(2 * AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert gpuc.allowance(provider, registry) == 0


def test_stake_with_permit__by_an_unregistered_holder__reverts_and_leaves_the_nonce(registry, gpuc, provider, fund):
    fund(provider, gpuc, AMOUNT)
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, AMOUNT, DEADLINE)
    with reverts(registry.RegistryNotRegistered, provider=provider.address):
        registry.stakeWithPermit(AMOUNT, DEADLINE, v, r, s, sender=provider)
    assert gpuc.nonces(provider) == 0
    assert gpuc.allowance(provider, registry) == 0


def test_stake_with_permit__zero__reverts(registry, gpuc, provider, fund):
    _registered_and_funded(registry, gpuc, fund, provider)
    v, r, s = sign_permit_with_key(provider.private_key, gpuc, provider.address, registry.address, 0, DEADLINE)
    with reverts(registry.RegistryZeroAmount):
        registry.stakeWithPermit(0, DEADLINE, v, r, s, sender=provider)
