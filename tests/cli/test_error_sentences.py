"""Every custom error the contracts can raise has a plain sentence, and reverts decode into it."""

from __future__ import annotations

import ape
import pytest

from gpumarket.errors import SENTENCES, RevertedError, from_exception, sentence_for
from reverts import reverts


@pytest.mark.parametrize("name", ["ComputeMarket", "ProviderRegistry"])
def test_every_custom_error_has_a_sentence(name):
    errors = [item for item in getattr(ape.project, name).contract_type.abi if item.type == "error"]
    assert errors, "the ABI lists no errors"
    for error in errors:
        assert error.name in SENTENCES, f"{name}.{error.name} has no sentence in gpumarket/errors.py"
        dummy = {i.name: 1 for i in error.inputs}
        text = sentence_for(error.name, dummy)
        assert text.endswith(".") and "\n" not in text


def test_a_revert_decodes_into_its_sentence(market, stranger):
    with reverts(market.MarketRentalNotPending, rentalId=77, status=0) as raised:  # status None: no such rental
        market.activate(77, sender=stranger)
    decoded = from_exception(raised.exception)
    assert isinstance(decoded, RevertedError)
    assert decoded.sentence == "Rental #77 is none, not pending."
