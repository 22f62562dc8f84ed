"""Compile a contracts tree with the project's pinned compiler and settings, through standard JSON.

The settings come from ape-config.yaml (solc 0.8.30, EVM version, optimizer runs, via-IR), so what
`make audit` checks and what `make mutation` builds are compiled exactly as `ape compile` compiles
the project. The compiler is solc-js behind tools/solc/bin/solc-v0.8.30 (never downloaded).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOLC = ROOT / "tools" / "solc" / "bin" / "solc-v0.8.30"
OZ = "@openzeppelin/contracts=node_modules/@openzeppelin/contracts"
EIP170_LIMIT = 24_576


def settings(outputs: dict) -> dict:
    cfg = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]
    return {
        "viaIR": bool(cfg.get("via_ir")),
        "optimizer": {"enabled": bool(cfg.get("optimize")), "runs": int(cfg.get("optimization_runs", 200))},
        "evmVersion": cfg["evm_version"],
        "remappings": [OZ],
        "outputSelection": outputs,
    }


def sources(tree: Path, rel_to: Path = ROOT) -> dict:
    """Every .sol file of `tree`/contracts, keyed by its path relative to `rel_to` (read by URL)."""
    files = sorted(p for p in (tree / "contracts").rglob("*.sol") if ".cache" not in p.parts)
    return {str(p.relative_to(rel_to)): {"urls": [str(p.relative_to(rel_to))]} for p in files}


def standard_input(tree: Path = ROOT, outputs: dict | None = None, rel_to: Path = ROOT) -> dict:
    outputs = outputs or {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}
    return {"language": "Solidity", "sources": sources(tree, rel_to), "settings": settings(outputs)}


def compile_json(inp: dict, cwd: Path = ROOT) -> dict:
    """Runs the pinned compiler on a standard-JSON input; returns its output (errors included)."""
    r = subprocess.run([str(SOLC), "--standard-json", "--base-path", str(cwd)], input=json.dumps(inp), text=True,
                       capture_output=True, cwd=cwd)
    if r.returncode != 0 or not r.stdout:
        raise RuntimeError(f"compiler failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def problems(out: dict) -> list[dict]:
    """Every error and warning the compiler reported (info-level notes excluded)."""
    return [e for e in out.get("errors", []) if e.get("severity") in ("error", "warning")]


def ape_build(out: dict) -> dict:
    """The compiler output as the subset of ape's `.build/__local__.json` that tests/invariants/evm.py reads."""
    types = {}
    for cs in out.get("contracts", {}).values():
        for name, c in cs.items():
            code = c.get("evm", {}).get("bytecode", {}).get("object", "")
            if code:
                types[name] = {"abi": c["abi"], "deploymentBytecode": {"bytecode": "0x" + code}}
    return {"contractTypes": types}
