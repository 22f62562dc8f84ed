"""A short run of the Foundry invariant suite (tests/forge) in `make test`.

`make invariants-forge` runs the full campaign (256 runs x depth 500); here 16 runs x depth 200 of the
same campaign `invariant_all`, through tools/forge_invariants.py (it compiles the suite, then runs it on
ape's build, .build/__local__.json, which `make test`'s setup compiles). The run must pass, every
handler contract must be a fuzz target, and every handler function the ghost store counts must have
made at least one effective call (a call that found a target in the right state and acted): a handler
that never acts tests nothing. forge comes from npm (`npm ci`, part of `make setup`); the test skips
only when it is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORGE = ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
BUILD = ROOT / ".build" / "__local__.json"
RUNS, DEPTH = 16, 200
HANDLERS = ("MarketHandler", "BadCallHandler", "SignedHandler", "VaultHandler")


@pytest.mark.skipif(not FORGE.exists(), reason=f"forge is not installed ({FORGE.relative_to(ROOT)}): run `make setup` (npm ci)")
def test_forge_invariant_suite_short_run(tmp_path):
    assert BUILD.exists(), "ape's build is missing: `make compile`"
    report_path = tmp_path / "forge.json"
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "forge_invariants.py"), "--runs", str(RUNS), "--depth", str(DEPTH),
         "--build", str(BUILD), "--json", str(report_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.perf_counter() - t0
    assert p.returncode == 0, f"the forge campaign failed ({elapsed:.0f} s):\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}"
    r = json.loads(report_path.read_text())
    assert not r["failed"] and r["calls"] == RUNS * DEPTH and r["reverts"] == 0, p.stdout[-3000:]
    targets = {name.split(".", 1)[0] for name in r["per_handler"]}
    assert targets == set(HANDLERS), f"fuzz targets {sorted(targets)}, expected {HANDLERS}"
    idle = sorted(name for name, c in r["ghost"].items() if c["effective"] == 0)
    assert not idle, f"handler functions without an effective call in {RUNS}x{DEPTH}: {idle}\n{p.stdout[-3000:]}"
