"""Every custom error the contracts can raise has a plain sentence, reverts decode into it, and a pre-check
raises the very error (name and arguments) the contract reverts with for the same condition, so the two
read the same."""

from __future__ import annotations

from types import SimpleNamespace

import ape
import pytest
from cli_support import record_of
from conftest import ZERO

from gpumarket.connection import ApeConnection
from gpumarket.errors import PLAIN, SENTENCES, ContractError, sentence_for
from gpumarket.market import Market
from gpumarket.rental import Rental
from gpumarket.vault import Vault
from reverts import reverts

NAMES = ["ComputeMarket", "ProviderRegistry", "ProviderVault", "VaultFactory"]


def _errors(name):
    return [item for item in getattr(ape.project, name).contract_type.abi if item.type == "error"]


def _dummy(abi_type: str, address):
    """A value of an ABI type, as a decoded revert would carry it."""
    if abi_type == "address":
        return address
    if abi_type.startswith("bytes"):
        return b"\x12\x34\x56\x78"
    return 1


@pytest.mark.parametrize("name", NAMES)
def test_every_custom_error_has_a_sentence(name):
    errors = _errors(name)
    assert errors, "the ABI lists no errors"
    for error in errors:
        assert error.name in SENTENCES, f"{name}.{error.name} has no sentence in gpumarket/errors.py"
        dummy = {i.name: _dummy(i.type, 1) for i in error.inputs}
        text = sentence_for(error.name, dummy)
        assert text.endswith(".") and "\n" not in text


@pytest.mark.parametrize("name", NAMES)
def test_every_sentence_reads_in_a_session(name, system, usd):
    """With the session's phrasing (token units, UTC times, the limits read from the chain) too."""
    m = Market(record_of(system))
    for error in _errors(name):
        dummy = {i.name: _dummy(i.type, usd.address) for i in error.inputs}
        text = sentence_for(error.name, dummy, m.phrasing)
        assert text.endswith(".") and "\n" not in text and "MAX_" not in text, text


def test_a_revert_decodes_into_its_sentence(market, stranger):
    with reverts(market.MarketRentalNotPending, rentalId=77, status=0) as raised:  # status None: no such rental
        market.activate(77, sender=stranger)
    decoded = ApeConnection().decode(raised.exception)
    assert isinstance(decoded, ContractError) and decoded.sent and decoded.name == "MarketRentalNotPending"
    assert decoded.sentence == "Rental #77 is none; only pending rentals can be activated or cancelled."


def test_limits_in_sentences_come_from_the_session(system):
    m = Market(record_of(system))
    hours = {"minHours": 0, "maxHours": 9000}
    assert sentence_for("MarketInvalidHourBounds", hours, PLAIN).endswith("<= MAX_RENTAL_HOURS hours.")
    assert sentence_for("MarketInvalidHourBounds", hours, m.phrasing).endswith("<= 8760 hours.")


@pytest.fixture
def scene(system, stake_provider, create_offer, open_rental, market, provider, renter, payer):
    """A staked provider's offer (8 GPUs at 1.95 mUSD, 1..720 h, broker ≤ 5 %), a pending rental and an
    active one paid by a third party; the offer has 4 GPUs free."""
    stake_provider(provider)
    offer = create_offer(provider)
    pending = open_rental(offer, renter, gpus=2, hours=4)
    active = open_rental(offer, renter, gpus=2, hours=4, payer=payer)
    market.activate(active, sender=provider)
    return SimpleNamespace(offer=offer, pending=pending, active=active,
                           as_=lambda account: Market(record_of(system), account))


# (condition, the pre-check through the objects, the same call straight to the contract)
CONDITIONS = [
    ("rental not active",
     lambda s, a: s.as_(a.renter).rental(s.pending).stop(),
     lambda s, a, m: m.stopRental(s.pending, sender=a.renter)),
    ("not the renter",
     lambda s, a: s.as_(a.payer).rental(s.active).stop(),
     lambda s, a, m: m.stopRental(s.active, sender=a.payer)),
    ("not the provider",
     lambda s, a: s.as_(a.renter).rental(s.pending).activate(),
     lambda s, a, m: m.activate(s.pending, sender=a.renter)),
    ("price above max",
     lambda s, a: Rental.open(s.as_(a.renter).offer(s.offer), gpus=1, hours=2, max_price="1.5"),
     lambda s, a, m: m.openRental(s.offer, 1, 2, 1_500_000, ZERO, 0, sender=a.renter)),
    ("insufficient capacity",
     lambda s, a: Rental.open(s.as_(a.renter).offer(s.offer), gpus=7, hours=2, max_price="2"),
     lambda s, a, m: m.openRental(s.offer, 7, 2, 2_000_000, ZERO, 0, sender=a.renter)),
    ("invalid hours",
     lambda s, a: Rental.open(s.as_(a.renter).offer(s.offer), gpus=1, hours=1000, max_price="2"),
     lambda s, a, m: m.openRental(s.offer, 1, 1000, 2_000_000, ZERO, 0, sender=a.renter)),
    ("broker fee above the offer's cap",
     lambda s, a: Rental.open(s.as_(a.renter).offer(s.offer), gpus=1, hours=2, max_price="2", broker=a.broker.address,
                              broker_pct="8"),
     lambda s, a, m: m.openRental(s.offer, 1, 2, 2_000_000, a.broker, 800, sender=a.renter)),
    ("extension not self-funded",
     lambda s, a: s.as_(a.renter).rental(s.active).extend(1),
     lambda s, a, m: m.extend(s.active, 1, sender=a.renter)),
    ("offer of another provider",
     lambda s, a: s.as_(a.renter).offer(s.offer).pause(),
     lambda s, a, m: m.pauseOffer(s.offer, sender=a.renter)),
]


@pytest.mark.parametrize("precheck,direct", [c[1:] for c in CONDITIONS], ids=[c[0] for c in CONDITIONS])
def test_a_precheck_raises_what_the_contract_reverts_with(precheck, direct, scene, market, renter, payer, broker):
    roles = SimpleNamespace(renter=renter, payer=payer, broker=broker)
    with pytest.raises(ContractError) as checked:
        precheck(scene, roles)
    before = checked.value
    assert not before.sent
    # The contract reverts with the same error and the same arguments ...
    with reverts(getattr(market, before.name), **before.inputs) as raised:
        direct(scene, roles, market)
    # ... and its decoded revert reads exactly as the pre-check did.
    after = ApeConnection().decode(raised.exception, scene.as_(renter).phrasing)
    assert after.sent and after.name == before.name
    assert after.sentence == before.sentence


# ───────────────────────────── Vaults ─────────────────────────────


@pytest.fixture
def vault_scene(system, fund, gpuc, usd, market, provider, renter, stake_provider, provider2, create_offer, accounts):
    """A vault of `provider` (10 %) with 1,000 GPUC of its operator and 4,000 of an investor, its offer with an
    active 40-GPU rental (4,000 GPUC locked); the investor has asked to redeem everything (the batch waits for
    collateral). provider2 has an offer of its own."""
    investor = accounts[9]
    factory = system.contracts["VaultFactory"]
    vault = ape.project.ProviderVault.at(
        factory.create(1000, "Brisbane GPU Vault", "bGPU", "ipfs://spec", sender=provider).decode_logs(
            factory.VaultCreated)[0].vault)
    for who, amount in ((provider, 1_000 * 10**18), (investor, 4_000 * 10**18)):
        fund(who, gpuc, amount)
        gpuc.approve(vault, amount, sender=who)
        vault.deposit(amount, who, sender=who)
    vault.callMarket(market.createOffer.encode_input(("H100", "AU-QLD", usd.address, 1_950_000, 64, 1, 720, ZERO, 0,
                                                      [])), sender=provider)
    offer = market.nextOfferId() - 1
    fund(renter, usd, 10**12)
    usd.approve(market, 10**12, sender=renter)
    market.openRental(offer, 40, 4, 1_950_000, ZERO, 0, sender=renter)
    vault.activate(market.nextRentalId() - 1, sender=provider)
    vault.requestRedeem(vault.balanceOf(investor), investor, sender=investor)
    stake_provider(provider2)
    return SimpleNamespace(vault=vault, offer=offer, other_offer=create_offer(provider2), investor=investor,
                           as_=lambda account: Market(record_of(system), account))


# (condition, the pre-check through the objects, the same call straight to the contract)
VAULT_CONDITIONS = [
    ("not the operator",
     lambda s, a: s.as_(s.investor).vault(s.vault.address).propose_commission("5"),
     lambda s, a: s.vault.proposeCommission(500, sender=s.investor)),
    ("commission above the maximum",
     lambda s, a: s.as_(a.provider).vault().propose_commission("60"),
     lambda s, a: s.vault.proposeCommission(6000, sender=a.provider)),
    ("redeem more than held",
     lambda s, a: s.as_(a.provider).vault().request_redeem("1000.5"),
     lambda s, a: s.vault.requestRedeem(1_000_500_000 * 10**18, a.provider, sender=a.provider)),
    ("batch waits for collateral",
     lambda s, a: s.as_(a.provider).vault().start_batch(),
     lambda s, a: s.vault.startBatch(sender=a.provider)),
    ("no batch unbonding",
     lambda s, a: s.as_(a.provider).vault().finish_batch(),
     lambda s, a: s.vault.finishBatch(sender=a.provider)),
    ("request not claimable",
     lambda s, a: s.as_(a.provider).vault().claim(1),
     lambda s, a: s.vault.claimRedemption(1, sender=a.provider)),
    ("one vault per operator",
     lambda s, a: Vault.create(s.as_(a.provider), name="B", symbol="b", metadata="ipfs://b", commission_pct="5"),
     lambda s, a: a.factory.create(500, "B", "b", "ipfs://b", sender=a.provider)),
    # The market's own error, raised inside the vault's callMarket and bubbled up through it.
    ("another provider's offer, through the vault",
     lambda s, a: s.as_(a.provider).offer(s.other_offer).pause(seat=s.as_(a.provider).vault().as_provider()),
     lambda s, a: s.vault.callMarket(a.market.pauseOffer.encode_input(s.other_offer), sender=a.provider)),
]


@pytest.mark.parametrize("precheck,direct", [c[1:] for c in VAULT_CONDITIONS], ids=[c[0] for c in VAULT_CONDITIONS])
def test_a_vault_precheck_raises_what_the_contract_reverts_with(precheck, direct, vault_scene, system, provider):
    roles = SimpleNamespace(provider=provider, factory=system.contracts["VaultFactory"], market=system.market)
    with pytest.raises(ContractError) as checked:
        precheck(vault_scene, roles)
    before = checked.value
    assert not before.sent
    with reverts(before.name, **before.inputs) as raised:
        direct(vault_scene, roles)
    session = vault_scene.as_(provider)
    session.vault(vault_scene.vault.address)  # the shares in a sentence are this vault's
    after = ApeConnection().decode(raised.exception, session.phrasing)
    assert after.sent and after.name == before.name
    assert after.sentence == before.sentence
