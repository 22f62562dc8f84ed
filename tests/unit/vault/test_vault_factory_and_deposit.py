"""VaultFactory.create and ProviderVault deposits: one vault per operator, registered as a provider;
every deposit is staked, so the vault's collateral capacity grows with it."""

from ape import project

from conftest import GPUC, VAULT_COMMISSION_BPS, ZERO
from reverts import reverts

OFFSET = 10**6  # the vault's virtual shares per unit of GPUC (ERC-4626 inflation defence)


def test_create__records_the_vault_and_registers_it_as_a_provider(factory, vault, registry, provider2, gpuc):
    assert factory.vaultOf(provider2) == vault.address and factory.isVault(vault)
    assert list(factory.vaults()) == [vault.address]
    assert vault.operator() == provider2.address and vault.asset() == gpuc.address
    assert vault.market() == factory.market() and vault.registry() == registry.address
    assert registry.providerOf(vault).registered and registry.metadataOf(vault) == "ipfs://brisbane-h100x8"
    assert vault.commission() == (VAULT_COMMISSION_BPS, 0, 0)
    assert (vault.name(), vault.symbol(), vault.decimals()) == ("Brisbane H100 backers", "bH100", 18 + 6)


def test_create__emits_the_vault_and_its_terms(factory, provider):
    tx = factory.create(2_500, "P", "P", "ipfs://p", sender=provider)
    [ev] = tx.decode_logs(factory.VaultCreated)
    assert (ev.operator, ev.commissionBps, ev.name, ev.symbol) == (provider.address, 2_500, "P", "P")
    assert factory.vaultOf(provider) == ev.vault


def test_create__a_second_vault_for_the_same_operator__reverts(factory, vault, provider2):
    with reverts(factory.VaultFactoryOperatorHasVault, operator=provider2.address, vault=vault.address):
        factory.create(0, "again", "A", "ipfs://a", sender=provider2)


def test_create__a_commission_above_the_cap__reverts(factory, provider):
    with reverts("VaultCommissionAboveMax", bps=5_001, maxBps=5_000):
        factory.create(5_001, "greedy", "G", "ipfs://g", sender=provider)


def test_factory__refuses_a_registry_that_answers_another_market(owner, registry, market, gpuc):
    other = owner.deploy(project.ProviderRegistry, gpuc, owner, 86_400, 0)  # its market is not set
    with reverts("VaultFactoryRegistryMismatch", registry=other.address, itsMarket=ZERO):
        owner.deploy(project.VaultFactory, market, other)


def test_deposit__stakes_everything_and_mints_shares_with_the_virtual_offset(vault, registry, deposit, investors, gpuc):
    dubai, us, _ = investors
    shares = deposit(dubai, 6_000 * GPUC)
    assert shares == 6_000 * GPUC * OFFSET and vault.balanceOf(dubai) == shares
    deposit(us, 3_000 * GPUC)
    assert vault.balanceOf(us) == 3_000 * GPUC * OFFSET  # the same price: nothing happened in between
    p = registry.providerOf(vault)
    assert (p.staked, p.locked, p.unbonding) == (9_000 * GPUC, 0, 0)
    assert registry.freeStakeOf(vault) == vault.totalAssets() == 9_000 * GPUC
    assert gpuc.balanceOf(vault) == 0  # nothing idle: all of it backs rentals
    assert registry.isActive(vault)


def test_deposit__grows_the_collateral_the_vault_can_lock(vault_offer, vault, market, registry, open_rental, renter):
    """10,000 GPUC of backing at 100 GPUC per GPU: the vault backs all 16 GPUs (1,600 GPUC), which its
    operator, with no stake of its own, could not."""
    rid = open_rental(vault_offer, renter, gpus=16, hours=10)
    assert registry.providerOf(vault).locked == 16 * 100 * GPUC == market.getRental(rid).collateral


def test_synchronous_withdraw_and_redeem__revert_and_the_maxima_say_zero(vault, deposit, investors):
    dubai = investors[0]
    deposit(dubai, 100 * GPUC)
    assert vault.maxWithdraw(dubai) == 0 and vault.maxRedeem(dubai) == 0
    with reverts(vault.VaultRedeemIsAsync):
        vault.withdraw.transact(1, dubai, dubai, sender=dubai)  # pure: sent as a transaction to keep the data
    with reverts(vault.VaultRedeemIsAsync):
        vault.redeem.transact(1, dubai, dubai, sender=dubai)
