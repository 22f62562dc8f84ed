"""`make mutation`: mutation testing of the contracts with Gambit, killed by the project's own tests.

    make mutation                                   # the default sample (see --sample), report in security/mutation.md
    .venv/bin/python tools/mutation.py --sample 0,0,0   # every mutant Gambit generates (hours)
    .venv/bin/python tools/mutation.py --resume     # go on from .build/mutation/results.jsonl
    .venv/bin/python tools/mutation.py --resume --rerun-survivors   # after adding tests that kill them

1. Gambit (the binary in the certora-cli wheel; the solc-js wrapper answers its --ast-compact-json)
   generates mutants of the market (core, storage, modules), ProviderRegistry.sol and the libraries, then
   draws a seeded random sample of each (Gambit's --num_mutants --seed): the same sample every run for
   the same sources.
2. Each mutant is compiled with the pinned compiler through standard JSON (tools/solc_build.py),
   only the contracts that include the mutated file, via-IR with the optimizer off (3x faster than
   the release build; the code is larger than EIP-170, so the in-process EVM lifts the limit:
   GPUMARKET_CODE_SIZE_LIMIT). A mutant that does not compile is stillborn, not counted.
3. The killers, in order, on that build (GPUMARKET_BUILD): the fast pyrevm tests (tests/security: the
   access matrix, the adversarial tests, RentalMath against its model; the hostile-token scenarios),
   then the settlement-invariant machine (tools/mutants.py run_machine) for a step budget. A timeout
   (an endless loop) counts as killed.
4. Survivors are listed with their diff. An equivalent mutant (no behaviour change) is justified in
   security/mutation-equivalent.toml under its fingerprint (a hash of the file, the operator and the
   changed lines, so it survives line shifts). Score = killed / (compiled − equivalent).
   The run fails when a survivor is not justified or the score is under --min-score.

The anvil unit tests (tests/unit, ~8 min per run) are too slow to run per mutant; a survivor can be
checked against them by hand: build it with ape in a copy of the tree (tools/mutants.py does that).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutants  # noqa: E402  (the seeded-mutant runner: run_machine, env_for)
import solc_build  # noqa: E402

ROOT = solc_build.ROOT
WORK = ROOT / ".build" / "mutation"
GAMBIT = ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "certora_bins" / "gambit"
TRIAGE = ROOT / "security" / "mutation-equivalent.toml"
REPORT = ROOT / "security" / "mutation.md"
BASE_BUILD = ROOT / ".build" / "__local__.json"
CODE_SIZE_LIMIT = "200000"

# The file mutated -> the contracts that must be recompiled (a library or the shared storage base is
# compiled into every contract that uses it). Samples (--sample) follow this order.
_MARKET = {"contracts/market/ComputeMarket.sol": ["ComputeMarket"], "contracts/market/OfferModule.sol": ["OfferModule"],
           "contracts/market/DisputeModule.sol": ["DisputeModule"], "contracts/market/AdminModule.sol": ["AdminModule"]}
TARGETS = {
    "contracts/market/ComputeMarket.sol": {"contracts/market/ComputeMarket.sol": ["ComputeMarket"]},
    "contracts/market/MarketStorage.sol": _MARKET,
    "contracts/market/OfferModule.sol": {"contracts/market/OfferModule.sol": ["OfferModule"]},
    "contracts/market/DisputeModule.sol": {"contracts/market/DisputeModule.sol": ["DisputeModule"]},
    "contracts/market/AdminModule.sol": {"contracts/market/AdminModule.sol": ["AdminModule"]},
    "contracts/ProviderRegistry.sol": {"contracts/ProviderRegistry.sol": ["ProviderRegistry"]},
    "contracts/libraries/RentalMath.sol": {**_MARKET, "contracts/test/RentalMathHarness.sol": ["RentalMathHarness"]},
    "contracts/libraries/TierMath.sol": {**_MARKET, "contracts/test/RentalMathHarness.sol": ["RentalMathHarness"]},
}
FAST_TESTS = ["tests/security", "tests/invariants/test_hostile_tokens.py", "-k", "not machine"]
_lock = threading.Lock()


# ───────────────────────────── generate ─────────────────────────────


def generate(path: str, sample: int, seed: int) -> list[dict]:
    """Gambit's mutants of `path` (all of them, or a seeded sample of `sample`)."""
    out = WORK / "gambit" / Path(path).stem
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(GAMBIT), "mutate", "--filename", path, "--solc", str(solc_build.SOLC), "--solc_remappings",
           solc_build.OZ, "--skip_validate", "--outdir", str(out), "--seed", str(seed)]
    if sample:
        cmd += ["--num_mutants", str(sample)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    results = out / "gambit_results.json"
    if r.returncode != 0 or not results.exists():
        raise SystemExit(f"gambit failed on {path}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    found = []
    for m in json.loads(results.read_text()):
        removed, added = _changed_lines(m["diff"])
        fp = hashlib.sha1("\n".join([path, m["description"], *removed, "=>", *added]).encode()).hexdigest()[:12]
        found.append({"fp": fp, "file": path, "op": m["description"], "removed": removed, "added": added,
                      "line": _first_line(m["diff"]), "source": str(out / m["name"])})
    return found


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    removed = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")
             and not ln[1:].strip().startswith("/// ")]  # Gambit's own note on the mutated line
    return removed, added


def _first_line(diff: str) -> int:
    m = re.search(r"@@ -(\d+)", diff)
    return int(m.group(1)) if m else 0


# ───────────────────────────── build ─────────────────────────────


def build(tag: str, mutated: dict | None) -> Path | None:
    """Compiles the contracts that include the mutated file (or, for the baseline, the unmutated
    ones of every target) and writes an ape-style build with the rest taken from the project's build."""
    files = TARGETS[mutated["file"]] if mutated else {f: cs for t in TARGETS.values() for f, cs in t.items()}
    inp = solc_build.standard_input(outputs={f: {c: ["abi", "evm.bytecode.object"] for c in cs} for f, cs in files.items()})
    inp["settings"]["optimizer"]["enabled"] = False
    if mutated:
        inp["sources"][mutated["file"]] = {"content": Path(mutated["source"]).read_text()}
    out = solc_build.compile_json(inp)
    if any(e["severity"] == "error" for e in out.get("errors", [])):
        return None
    types = json.loads(BASE_BUILD.read_text())["contractTypes"]
    types.update(solc_build.ape_build(out)["contractTypes"])
    path = WORK / "builds" / f"{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"contractTypes": types}))
    return path


# ───────────────────────────── kill ─────────────────────────────


def kill(build_path: Path, steps: int, seed: int) -> tuple[str, str]:
    """('tests' | 'machine' | 'timeout' | '', detail). '' = survived."""
    env = {**mutants.env_for(build_path), "GPUMARKET_CODE_SIZE_LIMIT": CODE_SIZE_LIMIT}
    cmd = [str(ROOT / ".venv" / "bin" / "pytest"), "-p", "no:ape_test", "-p", "no:cacheprovider", "-o", "addopts=",
           "--noconftest", "-x", "-q", "-p", "no:warnings", *FAST_TESTS]
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return "timeout", "the fast tests did not finish in 240 s"
    if r.returncode != 0:
        failed = re.search(r"FAILED (\S+)", r.stdout)
        return "tests", failed.group(1) if failed else r.stdout.strip().splitlines()[-1][:120]
    try:
        caught, how, _ = mutants.run_machine(build_path, steps, seed, {"GPUMARKET_CODE_SIZE_LIMIT": CODE_SIZE_LIMIT},
                                             timeout=900)
    except subprocess.TimeoutExpired:
        return "timeout", "the invariant machine did not finish"
    return ("machine", how) if caught else ("", "")


def run_one(m: dict, steps: int, seed: int) -> dict:
    t0 = time.perf_counter()
    b = build(m["fp"], m)
    if b is None:
        res = {**m, "outcome": "stillborn", "detail": "does not compile"}
    else:
        by, detail = kill(b, steps, seed)
        res = {**m, "outcome": "killed" if by else "survived", "by": by, "detail": detail}
        b.unlink(missing_ok=True)
    res["secs"] = round(time.perf_counter() - t0, 1)
    with _lock:
        with (WORK / "results.jsonl").open("a") as f:
            f.write(json.dumps(res) + "\n")
        print(f"  {res['outcome']:9} {m['file'].split('/')[-1]}:{m['line']} {m['op']} ({res['secs']} s)"
              + (f" by {res.get('by')}: {res['detail'][:80]}" if res.get("by") else ""), flush=True)
    return res


# ───────────────────────────── report ─────────────────────────────


def report(results: list[dict], equivalent: dict, sample: list[int], elapsed: float, min_score: float) -> bool:
    rows, lines = [], []
    total = {"n": 0, "stillborn": 0, "tests": 0, "machine": 0, "timeout": 0, "equivalent": 0, "survived": 0}
    survivors = []
    for path in TARGETS:
        rs = [r for r in results if r["file"] == path]
        c = {k: 0 for k in total}
        c["n"] = len(rs)
        for r in rs:
            if r["outcome"] == "stillborn":
                c["stillborn"] += 1
            elif r["outcome"] == "killed":
                c[r["by"]] += 1
            elif r["fp"] in equivalent:
                c["equivalent"] += 1
                survivors.append((r, equivalent[r["fp"]]))
            else:
                c["survived"] += 1
                survivors.append((r, None))
        for k in total:
            total[k] += c[k]
        rows.append((path, c))
    killed = total["tests"] + total["machine"] + total["timeout"]
    live = total["n"] - total["stillborn"] - total["equivalent"]
    score = killed / live if live else 1.0
    unjustified = [r for r, why in survivors if why is None]
    lines += ["# Mutation testing (`make mutation`)", "",
              "Gambit mutants of the contracts (tools/mutation.py), killed by the project's fast tests "
              "(tests/security, the hostile-token scenarios) and then the settlement-invariant machine. "
              f"Sample per file ({', '.join(Path(t).stem for t in TARGETS)}): "
              f"{', '.join(str(s) if s else 'all' for s in sample)} "
              "(seeded: the same mutants for the same sources).", "",
              f"**Mutation score: {killed}/{live} = {score:.1%}** of the non-equivalent mutants that compile "
              f"({total['equivalent']} equivalent, {total['stillborn']} stillborn, {len(unjustified)} unjustified "
              f"survivors; this run {elapsed / 60:.0f} min). Stillborn: Gambit runs with --skip_validate (its "
              "validation would call the slow solc-js once more per mutant); a mutant that does not compile is "
              "not counted. A timeout counts as killed.", "",
              "| file | mutants | stillborn | killed by tests | killed by machine | timeout | equivalent | survived |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for path, c in rows + [("**total**", total)]:
        lines.append(f"| {path} | {c['n']} | {c['stillborn']} | {c['tests']} | {c['machine']} | {c['timeout']} | "
                     f"{c['equivalent']} | {c['survived']} |")
    lines += ["", "## Survivors", ""]
    if not survivors:
        lines += ["None.", ""]
    for r, why in sorted(survivors, key=lambda x: (x[0]["file"], x[0]["line"])):
        lines += [f"### `{r['fp']}` {r['file']}:{r['line']} {r['op']}", "",
                  "```diff", *[f"- {x}" for x in r["removed"]], *[f"+ {x}" for x in r["added"]], "```", "",
                  f"**Equivalent:** {why}" if why else "**Not justified: kill it with a test or justify it in "
                  "security/mutation-equivalent.toml.**", ""]
    lines += ["## Killed", "", "| mutant | where | operator | killed by |", "|---|---|---|---|"]
    for r in sorted((r for r in results if r["outcome"] == "killed"), key=lambda r: (r["file"], r["line"])):
        lines.append(f"| `{r['fp']}` | {r['file'].split('/')[-1]}:{r['line']} | {r['op']} | {r['by']}: "
                     f"{r['detail'][:90].replace('|', '/')} |")
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:12]))
    return not unjustified and score >= min_score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", default="25,10,10,15,5,20,20,5",
                    help="mutants per file, in TARGETS order: market core, storage, offers, disputes, admin, "
                         "registry, math, tiers (0 = all)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steps", type=int, default=4000, help="invariant-machine step budget per mutant")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-score", type=float, default=0.9)
    ap.add_argument("--resume", action="store_true", help="keep the results of an earlier run")
    ap.add_argument("--rerun-survivors", action="store_true", help="with --resume: run the survivors (and timeouts) again")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from the results")
    a = ap.parse_args()
    sample = [int(x) for x in a.sample.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    equivalent = tomllib.loads(TRIAGE.read_text()) if TRIAGE.exists() else {}
    equivalent = {fp: v["reason"] for fp, v in equivalent.items()}
    t0 = time.perf_counter()
    chosen = [m for path, n in zip(TARGETS, sample) for m in generate(path, n, a.seed)]
    results_file = WORK / "results.jsonl"
    done = {}
    if (a.resume or a.report_only) and results_file.exists():
        done = {r["fp"]: r for r in map(json.loads, results_file.read_text().splitlines())}
    elif results_file.exists():
        results_file.unlink()
    if a.rerun_survivors:
        done = {fp: r for fp, r in done.items() if r["outcome"] != "survived" and r.get("by") != "timeout"}
    todo = [m for m in chosen if m["fp"] not in done]
    print(f"{len(chosen)} mutants ({len(todo)} to run), {a.jobs} at a time, machine budget {a.steps:,} steps")
    if todo and not a.report_only:
        base = build("baseline", None)
        by, detail = kill(base, a.steps, a.seed)
        if by:
            raise SystemExit(f"the unmutated build fails the killers ({by}: {detail}): fix that first")
        print("baseline: the unmutated build passes every killer")
        with ThreadPoolExecutor(a.jobs) as ex:
            for r in ex.map(lambda m: run_one(m, a.steps, a.seed), todo):
                done[r["fp"]] = r
    results = [done[m["fp"]] for m in chosen if m["fp"] in done]
    ok = report(results, equivalent, sample, time.perf_counter() - t0, a.min_score)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
