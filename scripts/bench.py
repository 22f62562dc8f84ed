"""`make bench`: receipt gasUsed of every core operation, and the flat-cost check.

    ape run bench --network ethereum:local:foundry [--sizes 1,100,10000] [--out benchmarks]

Deploys the system on anvil, runs the scenario of `gpumarket.gasbench.measure_core` on a fresh
deployment, then again on deployments that already hold 1, 100 and 10,000 providers, offers and
rentals (`gpumarket.gasbench.populate`), and writes `benchmarks/gas.md` and `benchmarks/gas.json`.
A benchmark, not a test: the budgets are asserted by tests/gas/test_gas_budgets.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand
from ape.logging import logger

from gpumarket.deployment import deploy_system
from gpumarket.gasbench import BUDGETS, SABLIER, SIZE_BUDGET, Roles, measure_core, populate

ROOT = Path(__file__).resolve().parents[1]


def roles() -> Roles:
    a = accounts.test_accounts
    return Roles(deployer=a[0], treasury=a[1], provider=a[2], provider2=a[3], renter=a[4], payer=a[5],
                 broker=a[6], arbiter=a[7], stranger=a[8], extra=tuple(a[9:15]))


def code_size(contract) -> int:
    return len(chain.provider.get_code(contract.address))


def fmt(g) -> str:
    return "" if g is None else f"{g:,}"


@click.command(cls=ConnectedProviderCommand)
@click.option("--sizes", default="1,100,10000", help="populations for the flat-cost table ('' for none)")
@click.option("--out", default=str(ROOT / "benchmarks"), type=click.Path(file_okay=False))
def cli(sizes, out):
    logger.set_level("WARNING")
    rl = roles()
    system = deploy_system(rl.deployer, rl.treasury.address, arbiter=rl.arbiter.address)
    base = chain.snapshot()
    core = measure_core(system, rl)
    result = {
        "chain": "anvil 1.7.1 (receipt gasUsed, 21k intrinsic included)",
        "token": "mUSD (6 decimals)",
        "code_size": {name: code_size(contract) for name, contract in system.contracts.items()},
        "core": [vars(r) for r in core],
        "budgets": BUDGETS,
        "flat": {},
    }
    for n in [int(x) for x in sizes.split(",") if x.strip()]:
        chain.restore(base)
        base = chain.snapshot()
        t = time.time()
        populate(system, rl, n)
        took = time.time() - t
        rows = measure_core(system, rl)
        result["flat"][str(n)] = {"populate_seconds": round(took, 1), "rows": {r.key: r.gas for r in rows}}
        click.echo(f"population {n:>6}: {took:6.1f} s", err=True)
    before_path = Path(out) / "gas-before.json"
    before = json.loads(before_path.read_text())["core"] if before_path.exists() else []
    result["before"] = {r["key"]: r["gas"] for r in before}
    result["size_before"] = json.loads(before_path.read_text()).get("code_size", {}) if before_path.exists() else {}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "gas.json").write_text(json.dumps(result, indent=2) + "\n")
    (Path(out) / "gas.md").write_text(render(result))
    click.echo(render_core(result))


def render_core(res) -> str:
    before = res.get("before", {})
    lines = ["| operation (state) | gasUsed | before | budget | Sablier linear (v2-core 1.2.0 / lockup 4.0.1) |",
             "|---|---:|---:|---:|---|"]
    for r in res["core"]:
        b = res["budgets"].get(r["key"])
        verdict = "" if b is None else (f"≤ {b:,} ✅" if r["gas"] <= b else f"≤ {b:,} ❌")
        sab = " / ".join(SABLIER[r["key"]]) if r["key"] in SABLIER else ""
        label = r["label"] + (" *(once)*" if r["once"] else "")
        lines.append(f"| {label} | {r['gas']:,} | {fmt(before.get(r['key']))} | {verdict} | {sab} |")
    return "\n".join(lines) + "\n"


def render_flat(res) -> str:
    flat = res["flat"]
    if not flat:
        return "_(not measured in this run)_\n"
    ns = list(flat)
    lines = ["| operation | " + " | ".join(f"{int(n):,} existing" for n in ns) + " | spread |",
             "|---|" + "---:|" * (len(ns) + 1)]
    worst = 0.0
    for r in res["core"]:
        if r["once"]:
            continue
        gs = [flat[n]["rows"][r["key"]] for n in ns]
        spread = (max(gs) - min(gs)) / min(gs) * 100
        worst = max(worst, spread)
        lines.append(f"| {r['label']} | " + " | ".join(f"{g:,}" for g in gs) + f" | {spread:.2f} % |")
    lines.append("")
    lines.append(f"Largest spread: {worst:.2f} % (limit 1 %). Populating took "
                 + ", ".join(f"{flat[n]['populate_seconds']} s for {int(n):,}" for n in ns) + ".")
    return "\n".join(lines) + "\n"


def render_sizes(res) -> str:
    """Runtime code of every deployed contract, against EIP-170 and the project's budget."""
    before = res.get("size_before", {})
    lines = [f"| contract | runtime bytes | before | of EIP-170 (24,576) | under {SIZE_BUDGET:,} |",
             "|---|---:|---:|---:|---|"]
    for name, size in sorted(res["code_size"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| `{name}` | {size:,} | {fmt(before.get(name))} | {size / 24_576:.0%} | "
                     f"{'yes' if size <= SIZE_BUDGET else '**no**'} |")
    return "\n".join(lines) + "\n"


def render(res) -> str:
    template = (ROOT / "benchmarks" / "gas.md.in").read_text()
    return (template.replace("{{CORE}}", render_core(res)).replace("{{FLAT}}", render_flat(res))
            .replace("{{SIZES}}", render_sizes(res)))
