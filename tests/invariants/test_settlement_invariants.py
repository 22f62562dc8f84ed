"""Runs the settlement state machine (tests/invariants/machine.py) on the in-process EVM.

Profiles (hypothesis settings, registered in tests/invariants/profiles.py): `quick` (default, CI:
4 shards) and `deep` (HYPOTHESIS_PROFILE=deep). `make invariants` is the auditors' run with a report.
"""

import pytest
from hypothesis import settings

import machine
import profiles  # noqa: F401  (registers and loads the quick/deep profiles)
from machine import MarketMachine

SHARDS = 4
#: At least this many stateful steps per shard in the quick profile: 4 × 12,500 = 50,000 per CI run.
MIN_STEPS_PER_SHARD = 12_500


@pytest.mark.parametrize("shard", range(SHARDS))
def test_settlement_invariants(shard):
    base = settings()
    MarketMachine.TestCase.settings = settings(base, max_examples=max(1, base.max_examples // SHARDS))
    before = machine.STEP_COUNTER.copy()
    MarketMachine.TestCase("runTest").runTest()
    ran = machine.STEP_COUNTER - before
    steps = ran["steps"] - ran["examples"]
    if settings._current_profile == "quick":
        assert steps >= MIN_STEPS_PER_SHARD, f"only {steps} stateful steps ran"
    # The run exercised the money paths, not only the bookkeeping rules.
    for rule in ("openRental", "activate", "stopRental", "dispute"):
        assert ran[rule] > 0, f"{rule} never ran in {steps} steps"
