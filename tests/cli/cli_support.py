"""Fixtures for the CLI tests: a deployment record of the session's system, and `gm(...)`, which runs
the `gpumarket` CLI in-process (click's test runner) on the session's anvil, reached by its URL: the fast
path (`gpumarket.rpc`, JSON-RPC without ape) that every ordinary command takes; `deploy` connects ape to the
same node.

Imported by the CLI test modules (`from cli_support import ...`), so pytest finds the fixtures there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from ape import chain
from click.testing import CliRunner

from gpumarket.cli import cli
from gpumarket.deployment import write_record



def session_network() -> str:
    """The network choice of the session's anvil: its URL (the CLI's fast path talks to it directly)."""
    return f"ethereum:local:{chain.provider.uri}"


def record_file(directory) -> Path:
    """Where `gpumarket deploy` writes the record of the session's anvil (keyed by its port)."""
    from gpumarket.rpc import record_name

    return Path(directory) / record_name("ethereum", "local", chain.provider.uri)


def record_of(system) -> dict:
    """The deployment record `gpumarket deploy` would write for `system`."""
    contracts = {"ComputeToken": system.token, "ProviderRegistry": system.registry,
                 "ComputeMarket": system.market, "MockStablecoin": system.stablecoin,
                 "VaultFactory": system.contracts["VaultFactory"]}
    return {
        "network": "ethereum-local",
        "chain_id": int(chain.provider.web3.eth.chain_id),
        "contracts": {name: {"address": c.address} for name, c in contracts.items()},
        "payment_tokens": {"GPUC": system.token.address, "mUSD": system.stablecoin.address},
    }


@pytest.fixture(scope="session")
def deployment_dir(tmp_path_factory, system):
    directory = tmp_path_factory.mktemp("deployments")
    write_record(record_file(directory), record_of(system))
    return directory


@pytest.fixture(scope="session")
def gm(deployment_dir, accounts):
    """gm(*args, account=None, as_json=True, deployments=None, network=None) -> click Result with
    `.data` (the parsed JSON output on success)."""
    runner = CliRunner(mix_stderr=False)
    addresses = [a.address for a in accounts]

    def gm(*args, account=None, as_json=True, deployments=None, network=None, input=None, env=None):
        argv = [str(a) for a in args] + ["--network", network or session_network(),
                                         "--deployments", str(deployments or deployment_dir)]
        if account is not None:
            argv += ["--account", account if isinstance(account, str) else f"TEST::{addresses.index(account.address)}"]
        if as_json:
            argv.append("--json")
        result = runner.invoke(cli, argv, input=input, env=env)
        data = json.loads(result.stdout) if as_json and result.exit_code == 0 else None
        return SimpleNamespace(code=result.exit_code, out=result.stdout, err=result.stderr, data=data,
                               exception=result.exception)

    return gm


def ok(result):
    """Asserts success and returns the JSON output."""
    assert result.code == 0, f"exit {result.code}: {result.err}{result.exception!r}"
    return result.data


def amount_shape(value, symbol: str) -> None:
    """Amounts carry raw base units (a decimal string) and units, with the symbol."""
    assert set(value) == {"raw", "units", "symbol"}, value
    assert value["symbol"] == symbol and value["raw"].isdigit()


def nonces(accounts) -> list[int]:
    """The nonces of the test accounts: a refused command must move none."""
    return [a.nonce for a in list(accounts)]


def assert_refused(result, words: str) -> None:
    """A refusal: a non-zero exit, one `error:` line on stderr naming the problem, nothing on stdout."""
    assert result.code != 0, f"expected a refusal, got exit 0: {result.out}"
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, f"not one line: {result.err!r}"
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]
    assert result.out == ""


# ───────────────────────────── The CLI as a process ─────────────────────────────

ROOT = Path(__file__).resolve().parents[2]
GPUMARKET = Path(sys.executable).parent / "gpumarket"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def anvil(*args: str):
    """An anvil of its own (`anvil --port <free> *args`), as a separate process; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(["anvil", "--port", str(port), "--silent", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("anvil did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def gpumarket(*args: str, env_extra: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """The installed `gpumarket` executable, run from the repository in a session of its own (no terminal: a
    passphrase prompt reads stdin)."""
    env = {**os.environ, **(env_extra or {})}
    env.pop("GPUMARKET_ACCOUNT", None)
    return subprocess.run([str(GPUMARKET), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          input=input if input is not None else "", start_new_session=True)


__all__ = ["anvil", "free_port", "gpumarket", "session_network", "record_file", "amount_shape", "assert_refused", "deployment_dir", "gm", "nonces", "ok", "record_of"]
