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
from reverts import reverts

NAMES = ["ComputeMarket", "ProviderRegistry"]


def _errors(name):
    return [item for item in getattr(ape.project, name).contract_type.abi if item.type == "error"]


@pytest.mark.parametrize("name", NAMES)
def test_every_custom_error_has_a_sentence(name):
    errors = _errors(name)
    assert errors, "the ABI lists no errors"
    for error in errors:
        assert error.name in SENTENCES, f"{name}.{error.name} has no sentence in gpumarket/errors.py"
        dummy = {i.name: 1 for i in error.inputs}
        text = sentence_for(error.name, dummy)
        assert text.endswith(".") and "\n" not in text


@pytest.mark.parametrize("name", NAMES)
def test_every_sentence_reads_in_a_session(name, system, usd):
    """With the session's phrasing (token units, UTC times, the limits read from the chain) too."""
    m = Market(record_of(system))
    for error in _errors(name):
        dummy = {i.name: (usd.address if i.type == "address" else 1) for i in error.inputs}
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
