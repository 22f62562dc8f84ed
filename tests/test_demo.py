"""`make demo` is the main job: its three parts run to the end and every check in it passes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo__every_check_passes():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    ape = Path(sys.executable).with_name("ape")
    done = subprocess.run([str(ape), "run", "demo", "--network", "ethereum:local:foundry"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "CHECK FAILED" not in out
    for part in ("== part 2: a vault of investors behind a provider ==",
                 "== part 3: a broker assembles a dedicated cluster from on-chain and signed offers =="):
        assert part in out
    assert out.count("CHECK OK") >= 15 and out.rstrip().endswith("every check passed")
