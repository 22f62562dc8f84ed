"""The two invariant engines side by side: `make bench-invariants` writes benchmarks/invariants.md.

    tools/bench_invariants.py [--steps 1000000] [--forge-runs 256] [--forge-depth 500] [--reuse]

In one session, on this machine:
1. the Python machine's auditors' run (tools/invariants_report.py, `make invariants`) of `--steps`
   stateful steps on every core, with its step and coverage tables, and a short one-worker run for
   the per-core rate;
2. the Foundry suite's campaign (tools/forge_invariants.py, `make invariants-forge`) of `--forge-runs`
   runs x `--forge-depth` calls;
3. the mutants' time to catch per engine, from the last `make mutants` (tests/invariants/MUTANTS.json).

The raw reports go to benchmarks/invariants.json; `--reuse` rebuilds the page from it without running.
Wall time is measured, never asserted (the machine may be shared: the load average is printed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
OUT = ROOT / "benchmarks"
TMP = ROOT / ".forge"


def _run(cmd: list[str]) -> None:
    print("$", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"{cmd[1]} failed (exit {r.returncode}): the benchmark needs a green run")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(a) -> dict:
    TMP.mkdir(exist_ok=True)
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "nproc": os.cpu_count(), "cpu": _cpu(), "load_before": os.getloadavg()[0],
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip()}
    _run([PY, "tools/invariants_report.py", "--steps", str(a.steps), "--seed", str(a.seed), "--json", str(TMP / "py.json")])
    doc["python"] = json.loads((TMP / "py.json").read_text())
    _run([PY, "tools/invariants_report.py", "--steps", str(a.one_worker_steps), "--seed", str(a.seed), "--workers", "1",
          "--json", str(TMP / "py1.json")])
    one = json.loads((TMP / "py1.json").read_text())
    doc["python_one_worker"] = {k: one[k] for k in ("steps", "elapsed_s", "steps_per_s", "evm_calls_per_s", "effective_pct")}
    _run([PY, "tools/forge_invariants.py", "--runs", str(a.forge_runs), "--depth", str(a.forge_depth), "--seed",
          str(a.seed), "--json", str(TMP / "forge.json")])
    doc["forge"] = json.loads((TMP / "forge.json").read_text())
    doc["load_after"] = os.getloadavg()[0]
    return doc


def _n(x) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.1f}" if isinstance(x, float) else str(x)


def render(doc: dict, mutants: dict | None) -> str:
    py, one, fg = doc["python"], doc["python_one_worker"], doc["forge"]
    fg_eff = fg.get("effective_calls") or 0
    fg_calls = fg.get("calls") or 0
    L = [
        "# Invariant engines: the Python machine and the Foundry suite",
        "",
        f"Measured by `make bench-invariants` (tools/bench_invariants.py) on {doc['date']}, commit `{doc['commit']}`, "
        f"on {doc['nproc']} cores ({doc['cpu']}); load average {doc['load_before']:.1f} before, "
        f"{doc['load_after']:.1f} after. Both engines run the same compiled contracts (ape's build) and the same "
        "invariant list (tests/invariants/README.md, tests/forge/README.md). Numbers are measured, never asserted; "
        "the coverage minimums are asserted by the quick profile in `make test`.",
        "",
        "A *step* is one rule call (Python) or one handler call (forge): one fuzzed action on the system. It is "
        "*effective* when it acted as predicted: a valid call that went through, or an invalid one that reverted "
        "with the expected error. *EVM calls* are the message calls the Python machine makes into the contracts "
        "(actions, views and invariant checks); forge does not count them.",
        "",
        "## The engines",
        "",
        "| | Python machine (hypothesis + pyrevm) | Foundry suite (forge 1.7.1) |",
        "|---|---:|---:|",
        f"| run | {_n(py['steps'])} steps on {py['workers']} workers, seeds {py['seeds'][0]}..{py['seeds'][1]} "
        f"| {fg['runs']} runs x depth {fg['depth']}, seed {fg['seed']} (one thread) |",
        f"| elapsed | {py['elapsed_s']:,.0f} s | {fg['elapsed_s']:,.0f} s (+ {fg.get('compile_s', 0):.1f} s forge build) |",
        f"| steps/s, all workers | {_n(py['steps_per_s'])} | {_n(fg.get('calls_per_s', 0))} |",
        f"| steps/s, one core | {_n(one['steps_per_s'])} ({_n(one['steps'])} steps, 1 worker) | {_n(fg.get('calls_per_s', 0))} |",
        f"| EVM calls/s | {_n(py['evm_calls_per_s'])} | not counted |",
        f"| depth (steps per sequence) | {py['depth']:.0f} per example | {fg['depth']} per run |",
        f"| effective steps | {py['effective_pct']:.1f} % | {100 * fg_eff / max(fg_calls, 1):.1f} % |",
        f"| money paths, share of effective calls | {py['money_pct']:.1f} % | per handler below |",
        "",
        "## Effective calls per handler",
        "",
        "Python: every rule with its steps and effective steps (a rule may act on several objects: the money "
        "paths below count those calls). Forge: every handler function with forge's calls and the ghost store's "
        "effective calls.",
        "",
        "| Python rule | steps | effective | % of effective |",
        "|---|---:|---:|---:|",
    ]
    for k, v in sorted(py["rules"].items(), key=lambda kv: -kv[1]["effective"]):
        L.append(f"| `{k}` | {v['steps']:,} | {v['effective']:,} | {v['pct_of_effective']:.1f} % |")
    L += ["", "| forge handler function | calls | effective | % of effective |", "|---|---:|---:|---:|"]
    for k, v in sorted((fg.get("ghost") or {}).items(), key=lambda kv: -kv[1]["effective"]):
        L.append(f"| `{k}` | {v['calls']:,} | {v['effective']:,} | {100 * v['effective'] / max(fg_eff, 1):.1f} % |")
    if mutants:
        L += ["", "## Time to catch each seeded bug", "",
              f"From the last `make mutants` (tests/invariants/MUTANTS.md): each mutant compiled once, then the Python "
              f"machine (budget {mutants['python_steps']:,} steps, one worker, seeded runs of "
              f"{mutants.get('python_chunk', 50)} examples) and forge (budget {mutants['forge_runs']} "
              f"runs x depth {mutants['forge_depth']}) run on its build, seed {mutants['seed']}. Times exclude the "
              "compile.", "",
              "| mutant | Python: caught | when | time | forge: caught | when | time |", "|---|---|---|---:|---|---|---:|"]
        for m in mutants["mutants"]:
            cells = []
            for e in ("python", "forge"):
                r = m.get(e)
                cells.append("— | — | —" if r is None else
                             f"{'yes' if r['caught'] else '**NO**'} | {r['at']} | {r['secs']:.0f} s")
            L.append(f"| `{m['id']}` | " + " | ".join(cells) + " |")
    L += ["", f"## Coverage of the Python run ({_n(py['steps'])} steps)", "",
          f"Money paths: {py['money_pct']:.1f} % of {py['calls']:,} effective calls (each path at least 2 %).", "",
          "| money path | calls | % |", "|---|---:|---:|"]
    L += [f"| {k} | {v['calls']:,} | {v['pct']:.1f} % |" for k, v in py["money_paths"].items()]
    L += ["", f"Claims per activated rental: {py['claims_per_activated_rental']:.2f}; activated rentals extended: "
          f"{py['extended_pct']:.1f} %."]
    for table, edges in py["edges"].items():
        L += ["", f"### Edges: {table}", "", "| edge | taken |", "|---|---:|"]
        L += [f"| {e} | {v:,} |" for e, v in edges.items()]
    L += ["", "### Rounding edges", "", "| edge | hit |", "|---|---:|"]
    L += [f"| {e} | {v:,} |" for e, v in py["rounding"].items()]
    errs = py["errors"]
    hit = sum(1 for e in errs.values() if e["hits"])
    unreachable = sum(1 for e in errs.values() if e["unreachable"])
    L += ["", "### Custom errors", "",
          f"{hit} of {len(errs)} hit by an invalid call, {unreachable} unreachable by any caller (the reason is given), "
          f"{len(py['errors_missed'])} triggerable and not hit.", "",
          "| error | hits by invalid calls |", "|---|---:|"]
    for e in errs.values():
        L.append(f"| `{e['signature']}` | {e['hits']:,} |" if e["hits"] or not e["unreachable"]
                 else f"| `{e['signature']}` | unreachable: {e['unreachable']} |")
    return "\n".join(L) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--one-worker-steps", type=int, default=50_000)
    ap.add_argument("--forge-runs", type=int, default=256)
    ap.add_argument("--forge-depth", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="render benchmarks/invariants.json again without running")
    a = ap.parse_args()
    raw = OUT / "invariants.json"
    doc = json.loads(raw.read_text()) if a.reuse else measure(a)
    raw.write_text(json.dumps(doc, indent=1) + "\n")
    mpath = ROOT / "tests" / "invariants" / "MUTANTS.json"
    mutants = json.loads(mpath.read_text()) if mpath.exists() else None
    (OUT / "invariants.md").write_text(render(doc, mutants))
    print(f"wrote {OUT / 'invariants.md'} and {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
