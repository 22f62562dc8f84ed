"""Fixtures of the market-page tests: an index of the session's anvil and `gpumarket web`'s app served
from it in a thread, and a small HTTP client."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

import pytest
from ape import chain

from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_support import deployment_dir, gm  # noqa: E402, F401 (fixtures: the CLI in-process on the session's anvil)

from gpumarket.index import Index, build_abis  # noqa: E402
from gpumarket.web import ServerThread, create_app  # noqa: E402


@pytest.fixture
def web_record(system):
    """The deployment record of the test system, from block 0, with its payment tokens."""
    return {"chain_id": chain.chain_id,
            "contracts": {name: {"address": c.address, "block": 0} for name, c in system.contracts.items()},
            "payment_tokens": {"GPUC": system.token.address, "mUSD": system.stablecoin.address}}


@pytest.fixture(scope="session")
def web_abis():
    return build_abis()


@pytest.fixture
def web_index(tmp_path, web_record, web_abis):
    """An Index of the session's chain in a temporary file (the test refreshes it)."""
    idx = Index.open(tmp_path / "index.sqlite", chain.provider.uri, web_record, abis=web_abis)
    yield idx
    idx.close()


@pytest.fixture
def serve_web(tmp_path, web_index, web_record, web_abis):
    """serve_web(refresh_seconds=None) -> base URL of the app over `web_index` (no refresher when None:
    the test refreshes `web_index` itself)."""
    stack = []

    def serve_web(refresh_seconds: float | None = None) -> str:
        app = create_app(tmp_path / "index.sqlite", chain.provider.uri,
                         web_record, refresh_seconds=refresh_seconds or 2.0, abis=web_abis,
                         refresh=refresh_seconds is not None)
        server = ServerThread(app)
        url = server.__enter__()
        stack.append(server)
        return url

    yield serve_web
    for server in stack:
        server.__exit__(None, None, None)


def get(url: str, method: str = "GET") -> tuple[int, dict, str]:
    """(status, headers, body) of one request; 4xx and 5xx are answers too."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def get_json(url: str) -> dict:
    status, _, body = get(url)
    assert status == 200, f"{url}: {status} {body}"
    return json.loads(body)


def wait_for(condition, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    """Polls `condition()` until it returns a truthy value (returned), or fails after `timeout` seconds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
