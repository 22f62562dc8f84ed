"""Runs the Foundry invariant suite (tests/forge) and reports it: `make invariants-forge`.

    tools/forge_invariants.py [--runs N] [--depth N] [--seed N] [--build PATH] [--json PATH]

forge (npm's @foundry-rs/forge) compiles only the suite, offline, through tools/solc's wrapper
(tests/forge/foundry.toml), and the suite deploys the bytecode of ape's build: GPUMARKET_BUILD, default
.build/__local__.json, so a mutant's build (tools/mutants.py) is run as it is. One campaign,
`invariant_all`, asserts every invariant after every call (tests/forge/README.md).

Prints runs, depth, calls, reverts, elapsed time, calls/s and, per handler function, forge's calls and
the ghost store's effective calls (the calls that found a target and acted; written by the suite's
afterInvariant to GPUMARKET_FORGE_COUNTS). Writes the same as JSON (--json, default
.forge/invariants.json). Exits 1 on a failure, naming the failing invariant (the assertion's message).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORGE = ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
CONFIG = "tests/forge/foundry.toml"
READABLE = (ROOT / ".build", Path("/tmp"), ROOT / ".forge")  # tests/forge/foundry.toml's fs_permissions
MATCH = "invariant_all"
# The labels of calls that move tokens or stake (opens, activations, claims, stops, extensions, cancels,
# releases, disputes, rulings, withdrawals, the vault's deposits, harvests, income and redemptions): the
# report gives their share of the effective calls.
MONEY = ("openRental", "openSignedRental", "bookCluster", "activate", "claim", "claimMany", "extend", "stopRental",
         "cancelPending", "release", "dispute", "resolveDispute", "applyDefaultRuling", "withdrawProtocolFees",
         "withdrawCredits", "exitUnderPause", "stake", "withdrawUnbonded", "vault.deposit", "vault.harvest",
         "vault.withdrawIncome", "vault.activate", "vault.finishBatch", "vault.claimRedemption")


def is_money(label: str) -> bool:
    return label in MONEY


def forge_env(build: Path, runs: int, depth: int, counts: Path | None = None) -> dict:
    env = dict(os.environ)
    env.update(FOUNDRY_CONFIG=CONFIG, FOUNDRY_INVARIANT_RUNS=str(runs), FOUNDRY_INVARIANT_DEPTH=str(depth),
               GPUMARKET_BUILD=str(build))
    if counts is not None:
        env["GPUMARKET_FORGE_COUNTS"] = str(counts)
    return env


def readable_build(build: Path) -> Path:
    """The build at a path the suite may read (fs_permissions): copied under .forge/builds otherwise."""
    build = build.resolve()
    if any(build.is_relative_to(d.resolve()) for d in READABLE):
        return build
    copy = ROOT / ".forge" / "builds" / (re.sub(r"\W+", "_", str(build.parent)) + ".json")
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(build, copy)
    return copy


def compile_suite() -> float:
    """Compiles the suite (a no-op when nothing changed); returns the seconds it took."""
    t0 = time.perf_counter()
    r = subprocess.run([str(FORGE), "build"], cwd=ROOT, env=forge_env(Path("."), 1, 1), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"forge build failed:\n{r.stdout}\n{r.stderr}")
    return time.perf_counter() - t0


def error_names(build: Path) -> dict[str, str]:
    """'0x7c5cdc61' -> 'RegistryInsufficientLocked(address,uint256,uint256)', from the build's ABIs (the
    Python machine's table of them: tests/invariants/evm.py): forge cannot name the errors of contracts it
    did not compile."""
    sys.path.insert(0, str(ROOT / "tests" / "invariants"))
    from evm import error_table

    table = error_table(json.loads(build.read_text())["contractTypes"])
    return {"0x" + sel.hex(): f"{e.name}({','.join(e.types)})" for sel, e in table.items()}


def name_errors(reason: str, build: Path) -> str:
    """Replaces forge's `custom error 0x…` in a failure reason by the error's signature."""
    if "custom error 0x" not in reason:
        return reason
    names = error_names(build)
    return re.sub(r"custom error (0x[0-9a-f]{8})", lambda m: names.get(m.group(1), m.group(0)), reason)


def handler_name(selector_key: str) -> str:
    """'tests/…/MarketHandler.sol:MarketHandler.claimAgain' -> 'MarketHandler.claim' (the extra
    registrations of a money path count with it)."""
    contract_fn = selector_key.rsplit(":", 1)[-1]
    return re.sub(r"(Again|Third)$", "", contract_fn)


def run(runs: int, depth: int, seed: int, build: Path, timeout: float | None = None) -> dict:
    """One `forge test` of the campaign; returns the report (see the module's docstring)."""
    build = readable_build(build)
    counts = ROOT / ".forge" / f"counts-{os.getpid()}-{time.monotonic_ns()}.txt"
    counts.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(FORGE), "test", "--mt", MATCH, "--json", "--fuzz-seed", str(seed)]
    env = forge_env(build, runs, depth, counts)
    # forge replays a persisted failure first: each run gets its own (fresh) directory for them.
    persist = counts.with_suffix(".failures")
    env["FOUNDRY_INVARIANT_FAILURE_PERSIST_DIR"] = str(persist)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        out, err, timed_out = p.stdout, p.stderr, False
    except subprocess.TimeoutExpired as e:
        out, err, timed_out = (e.stdout or b"").decode(), (e.stderr or b"").decode(), True
    elapsed = time.perf_counter() - t0
    shutil.rmtree(persist, ignore_errors=True)
    report = {"engine": "forge", "runs": runs, "depth": depth, "seed": seed, "build": str(build),
              "elapsed_s": round(elapsed, 3), "failed": False, "reason": None, "timed_out": timed_out}
    effective: Counter = Counter()
    ghost_calls: Counter = Counter()
    events: Counter = Counter()
    if counts.exists():
        for line in counts.read_text().splitlines():
            if line.startswith("event "):  # something a call did besides its label (not a call)
                name, n = line[len("event "):].rsplit(" ", 1)
                events[name] += int(n)
                continue
            name, calls, eff = line.rsplit(" ", 2)
            ghost_calls[name] += int(calls)
            effective[name] += int(eff)
        counts.unlink()
    result = None
    try:
        doc = json.loads(out[out.index("{"):]) if "{" in out else {}
        for suite in doc.values():
            for test, res in suite["test_results"].items():
                if test.startswith(MATCH):
                    result = res
    except (ValueError, KeyError):
        result = None
    if result is None:
        report.update(failed=True, reason="timed out" if timed_out else f"no result from forge: {err.strip()[-400:]}")
        return report
    inv = result["kind"].get("Invariant", {})
    per_selector: Counter = Counter()
    reverts: Counter = Counter()
    for key, m in (inv.get("metrics") or {}).items():
        per_selector[handler_name(key)] += m["calls"]
        reverts[handler_name(key)] += m["reverts"]
    report.update(completed_runs=inv.get("runs"), calls=inv.get("calls"), reverts=inv.get("reverts"),
                  per_handler={k: {"calls": per_selector[k], "reverts": reverts[k]} for k in sorted(per_selector)},
                  ghost={k: {"calls": ghost_calls[k], "effective": effective[k]} for k in sorted(ghost_calls)},
                  events=dict(sorted(events.items())))
    if result["status"] != "Success":
        seq = (result.get("counterexample") or {}).get("Sequence")
        failing = seq[1] if isinstance(seq, list) and len(seq) == 2 else []
        report.update(failed=True, reason=name_errors(result.get("reason") or "failure", build))
        if failing:  # a handler call or the per-call invariants failed: forge gives the run's calls
            # forge's `runs` on a failure counts the runs completed before the failing one
            report.update(failing_run=(inv.get("runs") or 0) + 1, failing_sequence_calls=len(failing),
                          calls_to_failure=(inv.get("runs") or 0) * depth + len(failing),
                          last_call=failing[-1]["func_name"])
        else:  # afterInvariant's sweep failed at the end of a run: forge reports the calls made so far
            report.update(failing_run=None, calls_to_failure=inv.get("calls"), last_call="afterInvariant")
    calls = report["calls"] or 0
    report["calls_per_s"] = round(calls / elapsed, 1) if elapsed else 0.0
    report["effective_calls"] = sum(effective.values())
    report["effective_pct"] = round(100 * report["effective_calls"] / calls, 1) if calls else 0.0
    money = sum(n for k, n in effective.items() if is_money(k))
    report["money_pct_of_effective"] = round(100 * money / report["effective_calls"], 1) if report["effective_calls"] else 0.0
    return report


def print_report(r: dict, compile_s: float | None = None) -> None:
    print(f"forge invariant campaign `{MATCH}`: {r['runs']} runs x depth {r['depth']}, seed {r['seed']}, "
          f"build {r['build']}")
    if compile_s is not None:
        print(f"compile (forge build of tests/forge): {compile_s:.1f} s")
    if r.get("calls") is not None:
        print(f"calls {r['calls']:,}  reverts {r['reverts']}  elapsed {r['elapsed_s']:.1f} s  "
              f"calls/s {r['calls_per_s']:,.0f}  effective calls {r['effective_calls']:,} "
              f"({r['effective_pct']:.0f} %; money paths {r['money_pct_of_effective']:.0f} % of them)")
    if r.get("ghost"):
        print(f"\n{'handler function':<36}{'calls':>8}{'effective':>11}")
        for name, c in sorted(r["ghost"].items(), key=lambda kv: -kv[1]["effective"]):
            print(f"{name:<36}{c['calls']:>8,}{c['effective']:>11,}{'  money' if is_money(name) else ''}")
    if r.get("events"):
        print(f"\n{'events within calls':<36}{'count':>8}")
        for name, n in sorted(r["events"].items(), key=lambda kv: -kv[1]):
            print(f"{name:<36}{n:>8,}")
    if r["failed"]:
        print(f"\nFAILURE: {r['reason']}")
        if r.get("failing_run") is not None:
            print(f"  in run {r['failing_run']} after {r.get('failing_sequence_calls')} calls "
                  f"(≈ {r.get('calls_to_failure'):,} calls in all; last call {r.get('last_call')})")
        elif r.get("calls_to_failure") is not None:
            print(f"  in the sweep at the end of a run (afterInvariant), within {r['calls_to_failure']:,} calls")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("FORGE_RUNS", 256)))
    ap.add_argument("--depth", type=int, default=int(os.environ.get("FORGE_DEPTH", 500)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", type=Path, default=Path(os.environ.get("GPUMARKET_BUILD", ROOT / ".build" / "__local__.json")))
    ap.add_argument("--json", type=Path, default=ROOT / ".forge" / "invariants.json")
    a = ap.parse_args()
    compile_s = compile_suite()
    r = run(a.runs, a.depth, a.seed, a.build)
    r["compile_s"] = round(compile_s, 2)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(r, indent=2) + "\n")
    print_report(r, compile_s)
    return 1 if r["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
