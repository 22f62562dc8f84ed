"""The CLI as an operator runs it: the installed `gpumarket` executable in its own process, against an
anvil started as a separate process and reached by URL, the way a testnet node is reached."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_support import anvil, gpumarket


@pytest.fixture(scope="module")
def anvil_url():
    with anvil() as url:
        yield url


def test_help_does_not_import_ape():
    """`gpumarket --help` must answer at once: ape (seconds to load) is imported only inside commands."""
    code = ("import sys; from click.testing import CliRunner; from gpumarket.cli import cli\n"
            "for argv in (['rental', 'rent'], ['vault'], ['vault', 'status'], ['vault', 'offer', 'create']):\n"
            "    r = CliRunner().invoke(cli, [*argv, '--help']); assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in sys.modules if m == 'ape' or m.startswith(('ape.', 'web3', 'eth_'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_deploy_by_url_then_read_and_rent(anvil_url, tmp_path):
    network = f"ethereum:local:{anvil_url}"
    common = ["--network", network, "--deployments", str(tmp_path), "--json"]
    first = gpumarket("deploy", "--account", "TEST::0", *common)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["chain_id"] == 31337 and "deploy ComputeMarket" in data["steps_sent"]
    record = json.loads((tmp_path / f"ethereum-local-{anvil_url.rsplit(':', 1)[1]}.json").read_text())
    assert record["contracts"]["ComputeMarket"]["address"] == data["contracts"]["ComputeMarket"]

    again = gpumarket("deploy", "--account", "TEST::0", *common)
    assert again.returncode == 0 and json.loads(again.stdout)["steps_sent"] == []

    info = gpumarket("info", *common)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["contracts"]["ComputeMarket"] == data["contracts"]["ComputeMarket"]

    # A provider lists, a renter rents: the whole path through the executable, by URL.
    for argv in (["token", "transfer", "GPUC", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "2000",
                  "--account", "TEST::0"],
                 ["provider", "register", "ipfs://spec", "--account", "TEST::2"],
                 ["provider", "stake", "2000", "--account", "TEST::2"],
                 ["offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "8",
                  "--price", "1.95", "--account", "TEST::2"],
                 ["token", "mint", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "100", "--account", "TEST::4"]):
        step = gpumarket(*argv, *common)
        assert step.returncode == 0, f"{argv}: {step.stderr}"
    rent = gpumarket("rental", "rent", "1", "--gpus", "2", "--hours", "3", "--max-price", "1.95",
                     "--account", "TEST::4", *common)
    assert rent.returncode == 0, rent.stderr
    rental = json.loads(rent.stdout)["rental"]
    assert rental["status"] == "pending" and rental["total"]["raw"] == str(2 * 3 * 1_950_000)


def test_live_network_deploy_asks_first(tmp_path):
    """On a non-local network, deploy refuses to guess: no RPC URL → one sentence, nothing sent."""
    env = {"SEPOLIA_RPC_URL": ""}
    result = gpumarket("deploy", "--network", "ethereum:sepolia:node", "--account", "deployer",
                       "--deployments", str(tmp_path), env_extra=env)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: Network ethereum:sepolia:node needs its RPC URL in the environment "
                                     "variable SEPOLIA_RPC_URL.")
    assert not list(tmp_path.iterdir())
