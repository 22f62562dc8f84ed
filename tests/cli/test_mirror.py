"""The Python objects mirror the contracts: the status enums are the Solidity enums, the limits are the
contracts' constants (read once per session) and the ABI's type widths, and no bound is copied into src/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_support import record_of

from gpumarket.market import PARAMETERS, Market
from gpumarket.status import OfferStatus, RentalStatus

ROOT = Path(__file__).resolve().parents[2]


def _solidity_enum(path: str) -> list[str]:
    body = re.search(r"enum Status \{(.*?)\}", (ROOT / path).read_text(), re.S).group(1)
    return [re.sub(r"//.*", "", line).strip(" ,") for line in body.splitlines() if re.sub(r"//.*", "", line).strip()]


@pytest.mark.parametrize("enum,path", [(OfferStatus, "contracts/types/Offer.sol"),
                                       (RentalStatus, "contracts/types/Rental.sol")])
def test_statuses_are_the_contract_enums(enum, path):
    assert [s.name for s in enum] == [n.upper() for n in _solidity_enum(path)]
    assert [int(s) for s in enum] == list(range(len(enum)))
    assert enum(1).label == _solidity_enum(path)[1].lower()


def test_limits_are_read_from_the_contracts_once(system, market, registry):
    m = Market(record_of(system))
    calls = []
    original = m.limits._contracts["ComputeMarket"]

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(original, name)

    m.limits._contracts["ComputeMarket"] = Counting()
    assert m.limits.MAX_RENTAL_HOURS == market.MAX_RENTAL_HOURS() == 8760
    assert m.limits["MAX_RENTAL_HOURS"] == 8760 and calls == ["MAX_RENTAL_HOURS"]  # a constant is read once
    assert m.limits.MAX_METADATA_LENGTH == registry.MAX_METADATA_LENGTH()
    assert (m.limits.MAX_GPUS, m.limits.MAX_PRICE, m.limits.MAX_TIER_GPU_HOURS) == (65535, 2**96 - 1, 2**32 - 1)
    for _, _, _, _, low, high in PARAMETERS.values():  # every bound of `admin set` is a constant of a contract
        for name in filter(None, (low, high)):
            assert isinstance(m.limits[name], int)
    with pytest.raises(AttributeError):
        m.limits.MAX_NOTHING


def test_no_bound_is_copied_into_the_package():
    copied = [f"{p.name}:{i}" for p in (ROOT / "src" / "gpumarket").glob("*.py")
              for i, line in enumerate(p.read_text().splitlines(), 1)
              if re.search(r"\b(8760|8_760|65535|65_535)\b", line.split("#")[0])]
    assert not copied, copied
