"""The auditors' run of the settlement-invariant machine, with a report.

    make invariants                      # deep profile: ≥ 1,000,000 stateful steps on both cores
    .venv/bin/python tools/invariants_report.py --steps 50000 --seed 1

Runs `tests/invariants/machine.py:MarketMachine` on the in-process EVM in one process per core,
each with its own seed, until the requested number of steps has run, then prints: steps per rule,
the invariants checked, elapsed time, steps per second and the seeds. On a failure it prints the
shrunk sequence of rule calls, which is runnable Python, and how to replay it as a pytest test.
"""

from __future__ import annotations

import argparse
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


def _worker(args):
    seed, examples = args
    import machine

    out = {"seed": seed, "counter": Counter(), "error": None, "elapsed": 0.0, "calls": 0}
    t0 = time.perf_counter()
    try:
        _run_seeded(machine, seed, examples)
    except BaseException as exc:  # a falsified invariant: keep hypothesis's report (the shrunk steps)
        out["error"] = "".join(traceback.format_exception(exc))
    out["elapsed"] = time.perf_counter() - t0
    out["counter"] = dict(machine.STEP_COUNTER)
    out["calls"] = machine.system().chain.calls
    return out


def _run_seeded(machine, seed, examples):
    from hypothesis import HealthCheck, seed as hseed, settings

    test = machine.MarketMachine.TestCase
    test.settings = settings(max_examples=examples, stateful_step_count=STEPS_PER_EXAMPLE, deadline=None,
                             suppress_health_check=list(HealthCheck), database=None, print_blob=True)
    case = test("runTest")
    hseed(seed)(case.runTest.__func__)  # pin the seed of this worker's run
    case.runTest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1_000_000, help="stateful steps in total (default 1,000,000)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--chunk", type=int, default=100, help="examples per seeded hypothesis run")
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

    print("\n== report ==")
    print(f"elapsed            {elapsed:,.1f} s")
    print(f"examples           {total['examples']:,}")
    print(f"stateful steps     {steps:,}  ({steps / elapsed:,.0f} steps/s on {a.workers} workers)")
    print(f"effective steps    {effective:,}  (rule calls that did something; the rest found nothing to do)")
    print(f"EVM calls          {calls:,}  ({calls / elapsed:,.0f}/s)")
    print(f"invariants checked {total['steps']:,} times each (inv1_solvency, inv2_3_4_touched_rental, inv5_stake, "
          f"inv6_capacity) + a full sweep at the end of each example")
    print(f"seeds              {a.seed}..{last_seed}")
    print("\nsteps per rule (effective calls):")
    for k, v in sorted(total.items(), key=lambda kv: -kv[1]):
        if k not in ("steps", "examples"):
            print(f"  {k:32s} {v:>10,}")
    if failures:
        f = failures[0]
        print(f"\n== FAILURE (seed {f['seed']}) ==\n{f['error']}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
