"""Hypothesis profiles for the invariant suite. Select with HYPOTHESIS_PROFILE=quick|deep.

Imported by the invariant test modules (not a conftest.py: a second module named `conftest` would
shadow tests/conftest.py, from which the unit tests import their constants)."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Stated in full, not inherited: under a `CI` environment variable hypothesis makes its own `ci` profile
# the default (derandomize=True), and a profile registered without these would inherit it. Derandomized,
# the four quick shards would run the very same examples. The quick shards pin a seed each instead
# (test_settlement_invariants.py), so that a CI run and a run on a laptop are the same run.
_common = dict(deadline=None, suppress_health_check=list(HealthCheck), stateful_step_count=50, print_blob=True,
               derandomize=False, database=None)
settings.register_profile("quick", max_examples=1300, **_common)  # ≥ 50,000 stateful steps in 4 shards
settings.register_profile("deep", max_examples=20_000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
