"""Live networks without a terminal: an anvil that reports Sepolia's chain id (11155111), reached as
`ethereum:sepolia:node` through SEPOLIA_RPC_URL, and an encrypted ape account (an eth-account keystore in a
temporary APE_DATA_FOLDER, as `ape accounts import` writes it).

By default every transaction on a live network is confirmed first and the passphrase is asked for; with
--unattended (or GPUMARKET_UNATTENDED=1) nothing is asked: the passphrase comes from the environment, and
without it the command refuses, sending nothing. `deploy` (on ape) signs every transaction the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import anvil, gpumarket

from gpumarket.rpc import Transport

PASSPHRASE = "correct horse battery staple"
NETWORK = ["--network", "ethereum:sepolia:node"]
RECEIVER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


def nonce(url: str, address: str) -> int:
    return int(Transport(url).request("eth_getTransactionCount", [address, "latest"]), 16)


@pytest.fixture(scope="module")
def keystore(tmp_path_factory):
    """(APE_DATA_FOLDER, address): the ape account 'deployer', encrypted with PASSPHRASE."""
    from eth_account import Account

    folder = tmp_path_factory.mktemp("ape")
    (folder / "accounts").mkdir()
    packages = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "packages"
    if packages.exists():
        (folder / "packages").symlink_to(packages)  # ape's compiled dependencies, which deploy loads
    account = Account.create()
    (folder / "accounts" / "deployer.json").write_text(json.dumps(Account.encrypt(account.key, PASSPHRASE)))
    return folder, account.address


def live_env(url: str, ape_folder: Path, **extra: str) -> dict:
    # ape waits 2 confirmations of 15-second blocks on Sepolia; an automining anvil mines none after the
    # transaction's own block, so its Sepolia stand-in asks for none.
    return {"SEPOLIA_RPC_URL": url, "APE_DATA_FOLDER": str(ape_folder), "GPUMARKET_PASSPHRASE": "",
            "APE_ETHEREUM_SEPOLIA": '{"required_confirmations": 0, "block_time": 1}', **extra}


def params_file(folder: Path) -> Path:
    """Deployment parameters without Sepolia's USDC (no code on this anvil)."""
    path = folder / "parameters.toml"
    path.write_text("[ethereum-sepolia]\nactivation_window = 600\n")
    return path


@pytest.fixture(scope="module")
def deployed(keystore, tmp_path_factory):
    """An unattended deploy on the Sepolia stand-in (no terminal, nothing on stdin): (url, deployments, result)."""
    ape_folder, address = keystore
    folder = tmp_path_factory.mktemp("deployments")
    with anvil("--chain-id", "11155111") as url:
        Transport(url).request("anvil_setBalance", [address, hex(10**20)])
        result = gpumarket("deploy", "--account", "deployer", "--unattended", *NETWORK, "--deployments", str(folder),
                           "--params", str(params_file(folder)), "--json",
                           env_extra=live_env(url, ape_folder, GPUMARKET_PASSPHRASE_DEPLOYER=PASSPHRASE))
        yield url, folder, result


def test_unattended_deploy_signs_every_transaction_without_a_prompt(deployed, keystore):
    url, folder, result = deployed
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["network"] == "ethereum-sepolia" and data["chain_id"] == 11155111
    assert Path(data["file"]) == folder / "ethereum-sepolia.json" and Path(data["file"]).exists()
    assert nonce(url, keystore[1]) >= len(data["steps_sent"]) >= 10  # every step signed and sent
    assert "[y/N]" not in result.stderr and "passphrase" not in result.stderr.lower()


def test_deploy_asks_by_default_and_no_sends_nothing(keystore, tmp_path):
    ape_folder, address = keystore
    with anvil("--chain-id", "11155111") as url:
        Transport(url).request("anvil_setBalance", [address, hex(10**20)])
        result = gpumarket("deploy", "--account", "deployer", *NETWORK, "--deployments", str(tmp_path),
                           "--params", str(params_file(tmp_path)), input="n\n", env_extra=live_env(url, ape_folder))
        assert result.returncode == 1
        assert "Send these transactions on ethereum:sepolia? [y/N]" in result.stderr
        assert result.stderr.strip().splitlines()[-1].endswith("error: Cancelled; nothing was sent.")
        assert nonce(url, address) == 0 and not (tmp_path / "ethereum-sepolia.json").exists()


def mint(deployed, keystore, *flags: str, input: str = "", **env: str):
    url, folder, _ = deployed
    before = nonce(url, keystore[1])
    result = gpumarket("token", "mint", RECEIVER, "5", "--account", "deployer", *flags, *NETWORK, "--deployments",
                       str(folder), input=input, env_extra=live_env(url, keystore[0], **env))
    return result, nonce(url, keystore[1]) - before


@pytest.mark.parametrize("how", [("--unattended",), ("GPUMARKET_UNATTENDED",)], ids=["flag", "env"])
def test_unattended_write_asks_nothing(deployed, keystore, how):
    flags, env = ((), {"GPUMARKET_UNATTENDED": "1"}) if how == ("GPUMARKET_UNATTENDED",) else (how, {})
    result, sent = mint(deployed, keystore, *flags, GPUMARKET_PASSPHRASE=PASSPHRASE, **env)
    assert result.returncode == 0, result.stderr
    assert sent == 1 and "[y/N]" not in result.stderr and "Passphrase" not in result.stderr


def test_unattended_without_a_passphrase_refuses_and_sends_nothing(deployed, keystore):
    result, sent = mint(deployed, keystore, "--unattended")
    assert result.returncode == 1 and sent == 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: Unattended mode needs the passphrase of account 'deployer' in GPUMARKET_PASSPHRASE_DEPLOYER or "
        "GPUMARKET_PASSPHRASE; nothing was sent.")


def test_by_default_a_write_is_confirmed_then_the_passphrase_asked(deployed, keystore):
    result, sent = mint(deployed, keystore, input=f"y\n{PASSPHRASE}\n")
    assert result.returncode == 0, result.stderr
    assert sent == 1
    assert f"Send MockStablecoin.mint({RECEIVER}, 5000000) from {keystore[1]} on ethereum:sepolia (chain 11155111)? " \
           "[y/N]" in result.stderr
    assert "Passphrase of account 'deployer'" in result.stderr


@pytest.mark.parametrize("answers,sentence", [
    ("n\n", "Cancelled; this transaction was not sent, nor anything else."),
    ("y\nwrong\n", "Wrong passphrase for account 'deployer'; nothing was sent."),
], ids=["declined", "wrong-passphrase"])
def test_by_default_a_refusal_sends_nothing(deployed, keystore, answers, sentence):
    result, sent = mint(deployed, keystore, input=answers)
    assert result.returncode == 1 and sent == 0
    assert result.stderr.strip().splitlines()[-1].endswith(f"error: {sentence}")
