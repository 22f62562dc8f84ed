"""Hypothesis profiles for the invariant suite. Select with HYPOTHESIS_PROFILE=quick|deep.

Imported by the invariant test modules (not a conftest.py: a second module named `conftest` would
shadow tests/conftest.py, from which the unit tests import their constants)."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

_common = dict(deadline=None, suppress_health_check=list(HealthCheck), stateful_step_count=50, print_blob=True)
settings.register_profile("quick", max_examples=1300, **_common)  # ≥ 50,000 stateful steps in 4 shards
settings.register_profile("deep", max_examples=20_000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
