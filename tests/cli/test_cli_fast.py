"""The fast path (`gpumarket.rpc`, `gpumarket.accounts`): commands as processes that import neither ape nor
web3, test accounts that are ape's, nonces from the pending state, and the connection's refusals (a dead
node, a node on another chain, a record of another network), each one sentence with nothing sent; local
deployment records keyed by the node's port."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import GPUMARKET, ROOT, anvil, free_port, gpumarket, record_file, session_network
from cli_support import deployment_dir, gm  # noqa: F401  (fixtures)

from gpumarket.accounts import configured_test_accounts, from_test_mnemonic
from gpumarket.rpc import NodeError, NonceConflict, RpcConnection, Transport, open_network

RENTER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # TEST::4


def rpc(url: str, method: str, *params):
    return Transport(url).request(method, list(params))


def nonce(url: str, address: str) -> int:
    return int(rpc(url, "eth_getTransactionCount", address, "latest"), 16)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """An anvil of its own with the system deployed by `gpumarket deploy` (ape) into a deployments folder."""
    folder = tmp_path_factory.mktemp("deployments")
    with anvil() as url:
        deployed = gpumarket("deploy", "--account", "TEST::0", "--network", f"ethereum:local:{url}",
                             "--deployments", str(folder), "--json")
        assert deployed.returncode == 0, deployed.stderr
        yield url, folder


def common(node) -> list[str]:
    url, folder = node
    return ["--network", f"ethereum:local:{url}", "--deployments", str(folder)]


# ───────────────────────────── Accounts ─────────────────────────────


def test_test_accounts_are_apes_test_accounts():
    from ape import accounts

    count = configured_test_accounts()["number_of_accounts"]
    assert count == 16 == len(accounts.test_accounts)  # ape-config.yaml: test.number_of_accounts
    for n in range(count):
        assert from_test_mnemonic(f"TEST::{n}").address == accounts.test_accounts[n].address


def test_a_test_account_out_of_range_names_the_configured_range(gm):
    result = gm("info", account="TEST::16")
    assert result.code == 1
    assert result.err.strip() == ("error: 'TEST::16' is not a test account: there are 16 (TEST::0 to TEST::15, "
                                  "test.number_of_accounts in ape-config.yaml).")


# ───────────────────────────── Imports and nonces ─────────────────────────────


@pytest.mark.parametrize("argv", [["info"], ["token", "mint", RENTER, "5", "--account", "TEST::4"]],
                         ids=["read", "write"])
def test_a_command_imports_neither_ape_nor_web3(node, argv):
    run = subprocess.run([str(GPUMARKET.parent / "python"), "-X", "importtime", str(GPUMARKET), *argv,
                          *common(node)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "eth_abi" in imported  # the import log is there
    assert not {m for m in imported if m.split(".")[0] in ("ape", "web3", "ape_ethereum", "ethpm_types")}
    assert ("eth_account" in imported) == (argv[0] == "token")  # the signer is imported only to sign


def test_parallel_processes_from_one_account_all_land(node):
    url, _ = node
    before = nonce(url, RENTER)
    procs = [subprocess.Popen([str(GPUMARKET), "token", "mint", RENTER, str(n), "--account", "TEST::4", "--json",
                               *common(node)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (1, 2, 3, 4)]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert nonce(url, RENTER) == before + 4


def _mint(node):
    """(connection, mint function, the renter's signer) on the module's node."""
    url, folder = node
    conn = open_network(f"ethereum:local:{url}", {}, {})
    record = json.loads(next(Path(folder).glob("ethereum-local-*.json")).read_text())
    usd = conn.contract("MockStablecoin", record["contracts"]["MockStablecoin"]["address"])
    return conn, usd.mint, from_test_mnemonic("TEST::4")


def test_a_nonce_taken_meanwhile_is_retried_with_the_next(node, monkeypatch):
    """Another process took the nonce this one read: the node says so, the next pending nonce is used."""
    conn, mint, renter = _mint(node)
    url, _ = node
    conn.send(mint, (RENTER, 7), renter)  # a nonce below the next one
    before = nonce(url, RENTER)
    real_batch = Transport.batch

    def stale_batch(self, calls):  # as if read just before another process sent one
        answers = real_batch(self, calls)
        if calls[0][0] == "eth_getTransactionCount":
            answers[0] = {"result": hex(int(answers[0]["result"], 16) - 1)}
        return answers

    monkeypatch.setattr(Transport, "batch", stale_batch)
    receipt = conn.send(mint, (RENTER, 7), renter)
    assert receipt.status == 1 and nonce(url, RENTER) == before + 1


def test_a_real_nonce_conflict_is_one_sentence_and_sends_nothing(node, monkeypatch):
    conn, mint, renter = _mint(node)
    url, _ = node
    before = nonce(url, RENTER)
    real_request = Transport.request

    def refuse(self, method, params):
        if method == "eth_sendRawTransaction":
            raise NodeError({"code": -32000, "message": "replacement transaction underpriced"})
        return real_request(self, method, params)

    monkeypatch.setattr(Transport, "request", refuse)
    with pytest.raises(NonceConflict) as refused:
        conn.send(mint, (RENTER, 7), renter)
    assert str(refused.value) == (
        f"The node refused nonce {before} of {RENTER} (replacement transaction underpriced): another transaction "
        "of this account holds it; wait for it to be mined (or replace it with a higher fee) and run the command "
        "again.")
    assert nonce(url, RENTER) == before


# ───────────────────────────── The connection's refusals ─────────────────────────────


def test_a_dead_node_is_one_plain_sentence(tmp_path):
    port = free_port()
    result = gpumarket("rental", "stop", "1", "--account", "TEST::4", "--network", f"ethereum:local:http://127.0.0.1:{port}",
                       "--deployments", str(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"error: No node answers at http://127.0.0.1:{port} (connection refused): start "
                                     "one (`make node`), or choose another with --network.")


def assert_mint_refused(url: str, network: str, deployments, sentence: str) -> None:
    """`token mint` as TEST::4 is refused with `sentence` alone, and the account sends nothing."""
    before = nonce(url, RENTER)
    result = gpumarket("token", "mint", RENTER, "5", "--account", "TEST::4", "--network", network, "--deployments",
                       str(deployments))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == f"error: {sentence}"
    assert nonce(url, RENTER) == before


def test_a_node_on_another_chain_than_the_network_is_refused(node):
    url, folder = node
    assert_mint_refused(url, f"ethereum:sepolia:{url}", folder, f"The node at {url} is on chain 31337, not "
                        "ethereum:sepolia (chain 11155111); check --network and its RPC URL.")


def test_a_record_of_another_network_is_refused(node, tmp_path):
    url, folder = node
    source = next(Path(folder).glob("ethereum-local-*.json"))
    record = json.loads(source.read_text()) | {"network": "ethereum-sepolia"}
    (tmp_path / source.name).write_text(json.dumps(record))
    assert_mint_refused(url, f"ethereum:local:{url}", tmp_path, f"{tmp_path / source.name} is the deployment record "
                        "of ethereum-sepolia, not ethereum-local; check --deployments.")


def test_two_local_nodes_keep_two_records(node):
    url, folder = node
    first = next(Path(folder).glob("ethereum-local-*.json"))
    assert first.name == f"ethereum-local-{url.rsplit(':', 1)[1]}.json"
    kept = first.read_text()
    with anvil() as other:
        deployed = gpumarket("deploy", "--account", "TEST::0", "--network", f"ethereum:local:{other}",
                             "--deployments", str(folder), "--json")
        assert deployed.returncode == 0, deployed.stderr
        second = Path(deployed.stdout and json.loads(deployed.stdout)["file"])
        assert second.name == f"ethereum-local-{other.rsplit(':', 1)[1]}.json" and second != first
        assert first.read_text() == kept  # the first node's record is untouched
        for where in (url, other):
            info = gpumarket("info", "--json", "--network", f"ethereum:local:{where}", "--deployments", str(folder))
            assert info.returncode == 0, info.stderr


def test_the_session_record_is_keyed_by_the_session_nodes_port(deployment_dir):
    assert record_file(deployment_dir).exists()
    assert record_file(deployment_dir).name == f"ethereum-local-{session_network().rsplit(':', 1)[1]}.json"


def test_a_local_node_choice_means_port_8545():
    conn = open_network("ethereum:local:node", {}, {})
    assert isinstance(conn, RpcConnection) and conn.url == "http://127.0.0.1:8545" and conn.is_local


