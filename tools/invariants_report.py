"""The auditors' run of the settlement-invariant machine, with a report.

    make invariants                      # deep profile: ≥ 1,000,000 stateful steps on both cores
    .venv/bin/python tools/invariants_report.py --steps 50000 --seed 1

Runs `tests/invariants/machine.py:MarketMachine` on the in-process EVM in one process per core,
each with its own seed, until the requested number of steps has run. On a failure it prints the
shrunk sequence of rule calls, which is runnable Python, and how to replay it as a pytest test.
It ends with the tables (tests/invariants/README.md, "Reading the report"): the run (steps, effective
steps, steps/s, EVM calls/s, depth), the money paths' share of the effective calls, every rule's steps,
the edges of the rental lifecycle, the vault and the signed offers, the rounding edges, and every
custom error of the market, the registry, the vault and the factory with how often an invalid call got
it (or why no caller can). `--json PATH` writes all of it. A triggerable error never hit fails a run
of at least 1,000,000 steps (`make invariants`), or any run with `--strict-errors`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing as mp
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "invariants"), str(ROOT / "tests")]

STEPS_PER_EXAMPLE = 50
DEEP_STEPS = 1_000_000  # from here on, a triggerable error never hit fails the run
#: The contracts whose custom errors a caller of this deployment can meet (the tokens' are OpenZeppelin's,
#: met through the vault's shares, which are in ProviderVault's ABI).
ERROR_CONTRACTS = ("ComputeMarket", "AdminModule", "BookingModule", "DisputeModule", "OfferModule", "ProviderRegistry",
                   "ProviderVault", "VaultFactory")


def build_errors(build: Path) -> dict[str, str]:
    """Every custom error of ERROR_CONTRACTS in the build: name -> signature."""
    types = json.loads(build.read_text())["contractTypes"]
    out = {}
    for c in ERROR_CONTRACTS:
        for e in types[c]["abi"]:
            if e["type"] == "error":
                out[e["name"]] = f"{e['name']}({','.join(i['type'] for i in e.get('inputs', []))})"
    return dict(sorted(out.items()))


def errors_table(counter: Counter, unreachable: dict[str, str], build: Path) -> dict[str, dict]:
    """Per error: how often an invalid call got it (`bad:[label:]Name` counters), or why it is unreachable."""
    hits = Counter()
    for k, v in counter.items():
        if k.startswith("bad:"):
            hits[k.rsplit(":", 1)[1]] += v
    return {name: {"signature": sig, "hits": hits[name], "unreachable": unreachable.get(name)}
            for name, sig in build_errors(build).items()}


def print_tables(s: dict, errors: dict) -> list[str]:
    """The report's closing tables; returns the triggerable errors never hit."""
    print(f"\n== money paths: {s['money_pct']:.1f} % of {s['calls']:,} effective calls ==")
    for k, v in s["money_paths"].items():
        print(f"  {k:34s} {v['calls']:>10,}  {v['pct']:5.1f} %")
    print(f"\n== rules: steps, effective steps, share of the effective steps ==")
    for k, v in sorted(s["rules"].items(), key=lambda kv: -kv[1]["effective"]):
        print(f"  {k:34s} {v['steps']:>10,} {v['effective']:>10,}  {v['pct_of_effective']:5.1f} %")
    for table, edges in s["edges"].items():
        print(f"\n== edges: {table} ==")
        for e, v in edges.items():
            print(f"  {e:70s} {v:>10,}")
    print(f"\n== rental depth ==\n  claims per activated rental          {s['claims_per_activated_rental']:.2f}"
          f"\n  activated rentals extended           {s['extended_pct']:.1f} %")
    print("\n== rounding edges ==")
    for e, v in s["rounding"].items():
        print(f"  {e:70s} {v:>10,}")
    missed = [n for n, e in errors.items() if not e["hits"] and not e["unreachable"]]
    print(f"\n== custom errors: {sum(1 for e in errors.values() if e['hits'])} hit, "
          f"{sum(1 for e in errors.values() if e['unreachable'])} unreachable, {len(missed)} triggerable and NOT hit ==")
    for n, e in errors.items():
        what = f"{e['hits']:>10,}" if e["hits"] or not e["unreachable"] else "unreachable: " + e["unreachable"]
        print(f"  {e['signature'][:70]:70s} {what}{'   <-- NOT HIT' if n in missed else ''}")
    return missed


def _worker(args):
    seed, examples = args
    import machine

    out = {"seed": seed, "counter": Counter(), "error": None, "elapsed": 0.0, "calls": 0}
    # A pool process runs several seeded runs and its counters live as long as it does: report this
    # run's share only (the difference), or the totals would count earlier runs again.
    counter0, calls0 = machine.STEP_COUNTER.copy(), machine.system().chain.calls
    t0 = time.perf_counter()
    try:
        _run_seeded(machine, seed, examples)
    except BaseException as exc:  # a falsified invariant: keep hypothesis's report (the shrunk steps)
        out["error"] = "".join(traceback.format_exception(exc))
    out["elapsed"] = time.perf_counter() - t0
    out["counter"] = dict(machine.STEP_COUNTER - counter0)
    out["calls"] = machine.system().chain.calls - calls0
    return out


def _run_seeded(machine, seed, examples):
    from hypothesis import HealthCheck, Phase, settings

    # GPUMARKET_NO_SHRINK=1 (tools/mutants.py): report the first failing example as found, so that the
    # time to catch a bug is the time to find it, not to shrink it.
    phases = [Phase.explicit, Phase.generate] if os.environ.get("GPUMARKET_NO_SHRINK") else list(Phase)
    machine.run_seeded(seed, settings(max_examples=examples, stateful_step_count=STEPS_PER_EXAMPLE, deadline=None,
                                      suppress_health_check=list(HealthCheck), database=None, print_blob=True,
                                      phases=phases))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1_000_000, help="stateful steps in total (default 1,000,000)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--chunk", type=int, default=100, help="examples per seeded hypothesis run")
    ap.add_argument("--json", type=Path, help="write the report, machine-readable, to this file")
    ap.add_argument("--strict-errors", action="store_true",
                    help=f"fail if a triggerable error was never hit (always from {DEEP_STEPS:,} steps on)")
    a = ap.parse_args()

    print(f"settlement invariants: at least {a.steps:,} stateful steps ({STEPS_PER_EXAMPLE} per example), seeded runs "
          f"of {a.chunk} examples from seed {a.seed} on {a.workers} workers")
    t0 = time.perf_counter()
    total, failures, calls, runs = Counter(), [], 0, 0
    seeds = iter(range(a.seed, a.seed + 10**6))
    with mp.get_context("fork").Pool(a.workers) as pool:
        # Keep one seeded run per worker in flight; stop handing out runs once the target is reached.
        pending = [pool.apply_async(_worker, ((next(seeds), a.chunk),)) for _ in range(a.workers)]
        while pending:
            res = pending.pop(0).get()
            runs += 1
            total.update(res["counter"])
            calls += res["calls"]
            if res["error"]:
                failures.append(res)
                pool.terminate()
                break
            done = total["steps"] - total["examples"]
            print(f"  run {runs} (seed {res['seed']}): {done:,} steps, {time.perf_counter() - t0:.0f} s", flush=True)
            if done < a.steps:
                pending.append(pool.apply_async(_worker, ((next(seeds), a.chunk),)))
    last_seed = a.seed + runs + len(pending) - 1
    elapsed = time.perf_counter() - t0
    steps = total["steps"] - total["examples"]  # check_invariants also runs once before the first step
    effective = sum(v for k, v in total.items() if k not in ("steps", "examples"))

    import machine  # the counters' names (MONEY_PATHS, EDGES, ROUNDING) and the unreachable errors
    from evm import BUILD

    s = machine.summary(total)
    errors = errors_table(total, machine.UNREACHABLE_ERRORS, BUILD)
    print("\n== report ==")
    print(f"elapsed            {elapsed:,.1f} s on {a.workers} workers ({os.cpu_count()} cores)")
    print(f"examples           {total['examples']:,}  (depth: {steps / max(total['examples'], 1):.1f} steps per example)")
    print(f"stateful steps     {steps:,}  ({steps / elapsed:,.0f} steps/s)")
    print(f"effective steps    {s['effective_steps']:,}  ({s['effective_pct']:.1f} %: a call went as predicted, "
          f"valid or an invalid one that reverted as predicted)")
    print(f"effective calls    {s['calls']:,}  (money paths {s['money_pct']:.1f} %)")
    print(f"EVM calls          {calls:,}  ({calls / elapsed:,.0f}/s)")
    print(f"invariants checked {total['steps']:,} times each + a full sweep at the end of each example")
    print(f"seeds              {a.seed}..{last_seed}")
    if failures:
        f = failures[0]
        print(f"\n== FAILURE (seed {f['seed']}) ==\n{f['error']}")
        print_tables(s, errors)
        print("To replay: the 'state = MarketMachine()' lines above are runnable Python. Paste them into a test:\n"
              "    from machine import MarketMachine\n"
              "    def test_replay():\n"
              "        state = MarketMachine()\n"
              "        ... the printed calls ...\n"
              "        state.teardown()\n"
              "in tests/invariants/test_replay.py and run `make test PYTEST_ARGS=tests/invariants/test_replay.py`,\n"
              f"or rerun this seed: .venv/bin/python tools/invariants_report.py --seed {f['seed']} "
              f"--steps {a.chunk * STEPS_PER_EXAMPLE} --workers 1")
        return 1
    print("\nall invariants held")
    missed = print_tables(s, errors)
    if a.json:
        a.json.write_text(json.dumps(dict(
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), nproc=os.cpu_count(),
            workers=a.workers, seeds=[a.seed, last_seed], elapsed_s=round(elapsed, 1), steps_per_s=round(steps / elapsed),
            evm_calls=calls, evm_calls_per_s=round(calls / elapsed),
            depth=steps / max(total["examples"], 1), **s, errors=errors, errors_missed=missed), indent=1))
        print(f"\nwrote {a.json}")
    if missed and (a.strict_errors or a.steps >= DEEP_STEPS):
        print(f"\nFAILED: {len(missed)} triggerable custom errors were never hit: {', '.join(missed)}")
        return 1
    if missed:
        print(f"\nWARNING: {len(missed)} triggerable custom errors were never hit: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
