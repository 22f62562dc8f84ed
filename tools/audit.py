"""`make audit`: the contracts compile without a single warning, and Slither reports nothing untriaged.

1. Compiler: every source under contracts/ (mocks included), OpenZeppelin with them, compiled with the
   project's settings (tools/solc_build.py: solc-js 0.8.30, via-IR, optimizer 200, prague). Any
   error or warning fails, and so does runtime code above the EIP-170 limit.
2. Slither over the same sources (AST only: Slither reads no bytecode), with `--solc` pointing at
   the pinned wrapper. The only detectors excluded are those in security/audit.toml, each with its
   reason; single findings are suppressed in place (`// slither-disable-next-line <detector> —
   <reason>`). Slither runs with --fail-pedantic: any other finding, of any impact, fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import solc_build  # noqa: E402

ROOT = solc_build.ROOT
OUT = ROOT / ".build" / "audit"
CONFIG = ROOT / "security" / "audit.toml"


def compile_check() -> bool:
    t0 = time.perf_counter()
    out = solc_build.compile_json(solc_build.standard_input())
    allow = tomllib.loads(CONFIG.read_text()).get("compiler", {}).get("allow", [])
    allowed = {(a["code"], a["file"]) for a in allow if a.get("reason", "").strip()}
    bad = [e for e in solc_build.problems(out)
           if (e.get("errorCode"), e.get("sourceLocation", {}).get("file")) not in allowed or e["severity"] == "error"]
    for e in bad:
        print(e.get("formattedMessage") or e.get("message"), file=sys.stderr)
    sizes = {name: len(c["evm"]["deployedBytecode"]["object"]) // 2
             for f, cs in out.get("contracts", {}).items() if not f.startswith("contracts/test/")
             for name, c in cs.items() if f.startswith("contracts/")}
    too_big = {n: s for n, s in sizes.items() if s > solc_build.EIP170_LIMIT}
    for n, s in too_big.items():
        print(f"{n}: {s:,} bytes of runtime code > EIP-170's {solc_build.EIP170_LIMIT:,}", file=sys.stderr)
    shown = ", ".join(f"{n} {s:,} B" for n, s in sorted(sizes.items()) if s)
    print(f"compiler: {len(bad)} errors/warnings (allowed: {len(allowed)}); runtime sizes {shown} ({time.perf_counter() - t0:.0f} s)")
    return not bad and not too_big


def slither() -> bool:
    cfg = tomllib.loads(CONFIG.read_text())["slither"]
    excluded = cfg.get("exclude", {})
    for det, why in excluded.items():
        if not why.strip():
            print(f"security/audit.toml: detector {det} is excluded without a reason", file=sys.stderr)
            return False
    OUT.mkdir(parents=True, exist_ok=True)
    inp = OUT / "slither-input.json"
    inp.write_text(json.dumps(solc_build.standard_input(outputs={"*": {"": ["ast"]}})))
    report = OUT / "slither.json"
    report.unlink(missing_ok=True)
    cmd = [str(ROOT / ".venv" / "bin" / "slither"), str(inp), "--compile-force-framework", "solc-json",
           "--solc", str(solc_build.SOLC), "--filter-paths", "|".join(cfg["filter_paths"]),
           "--exclude", ",".join(excluded), "--fail-pedantic", "--json", str(report), "--disable-color"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if not report.exists():
        print(r.stdout + r.stderr, file=sys.stderr)
        return False
    data = json.loads(report.read_text())
    found = data.get("results", {}).get("detectors", [])
    by_impact = Counter(f["impact"] for f in found)
    for f in found:
        print(f"  [{f['impact']}] {f['check']}: {f['description'].strip()}", file=sys.stderr)
    # The analysed-contracts line, and the number of detectors that ran.
    summary = next((ln for ln in r.stderr.splitlines() if " analyzed (" in ln), "").split("Slither:")[-1].strip()
    print(f"slither: {summary or 'analysed'}; {len(found)} untriaged findings {dict(by_impact)}; "
          f"excluded detectors: {', '.join(excluded)} (security/audit.toml) ({time.perf_counter() - t0:.0f} s)")
    return data.get("success", False) and not found and r.returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-compile", action="store_true", help="Slither only")
    a = ap.parse_args()
    ok = True if a.skip_compile else compile_check()
    ok = slither() and ok
    print("audit: " + ("clean" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
