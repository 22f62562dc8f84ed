"""Runs the settlement state machine (tests/invariants/machine.py) on the in-process EVM.

Profiles (hypothesis settings, registered in tests/invariants/conftest.py): `quick` (default, CI)
and `deep` (auditors: `make invariants`). The run is split into shards so pytest-xdist can spread it
over both cores.
"""

import pytest
from hypothesis import settings

from machine import MarketMachine

SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_settlement_invariants(shard):
    base = settings()
    run = settings(base, max_examples=max(1, base.max_examples // SHARDS))
    MarketMachine.TestCase.settings = run
    MarketMachine.TestCase("runTest").runTest()
