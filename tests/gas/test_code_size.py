"""Runtime code size of every contract the project deploys, from the build (deterministic, like gas).

The market is split into a core and three modules (docs/architecture.md) so that each stays well under
EIP-170's 24,576 bytes: today every contract must be ≤ 18,000 bytes, which leaves room for what comes
next. `make bench` reports the same sizes, measured on chain, in benchmarks/gas.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpumarket.gasbench import SIZE_BUDGET

BUILD = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"
DEPLOYED = ("ComputeToken", "ProviderRegistry", "ComputeMarket", "OfferModule", "DisputeModule", "AdminModule",
            "BookingModule", "VaultFactory", "MockStablecoin")
#: Deployed by the factory, one per operator.
CREATED = ("ProviderVault",)


def _runtime_size(name: str) -> int:
    code = json.loads(BUILD.read_text())["contractTypes"][name]["runtimeBytecode"]["bytecode"]
    return (len(code) - 2) // 2


@pytest.mark.parametrize("name", DEPLOYED + CREATED)
def test_code_size__every_deployed_contract__is_within_the_budget(name):
    size = _runtime_size(name)
    assert 0 < size <= SIZE_BUDGET, f"{name}: {size:,} bytes of runtime code > {SIZE_BUDGET:,}"


def test_code_size__the_deployment_deploys_exactly_these_contracts():
    from gpumarket.deployment import Deployer

    assert set(Deployer.CONTRACTS) == set(DEPLOYED)
