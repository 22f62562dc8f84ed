"""Accounts of the fast path, without ape: the test accounts (`TEST::N`) and ape's keyfile accounts (aliases).

- `TEST::N` is the N-th account of the test mnemonic in `ape-config.yaml` (`test.mnemonic`, `test.hd_path`,
  `test.number_of_accounts`; ape's defaults where unset), derived as ape derives `accounts.test_accounts[N]`.
- An alias is ape's keyfile `$APE_DATA_FOLDER/accounts/<alias>.json` (an eth-account keystore; APE_DATA_FOLDER
  defaults to ~/.ape). Its address is read at once; its key is decrypted only when the command first signs,
  with the passphrase from GPUMARKET_PASSPHRASE_<ALIAS> or GPUMARKET_PASSPHRASE, else asked for — except in
  unattended mode, which never asks.

eth_account is imported only when a key is needed (signing), never for a read.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

from gpumarket.errors import InputError, NotFoundError

#: ape's defaults (ape/utils/testing.py) where ape-config.yaml's `test:` section says nothing.
DEFAULT_TEST_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_TEST_HD_PATH = "m/44'/60'/0'/0"
DEFAULT_NUMBER_OF_TEST_ACCOUNTS = 10


class Signer:
    """An account the CLI signs with: `address` at once, `key` when first needed (`unlock`)."""

    def __init__(self, address: str, unlock: Callable[[], bytes], label: str):
        self.address, self._unlock, self.label, self._key = address, unlock, label, None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = self._unlock()
        return self._key

    def sign_transaction(self, tx: dict) -> bytes:
        from eth_account import Account

        return bytes(Account.sign_transaction(tx, self.key).raw_transaction)

    def sign_typed_data(self, typed_data: dict) -> bytes:
        """An EIP-712 signature, 65 bytes r ‖ s ‖ v (v = 27 or 28), as OpenZeppelin's ECDSA takes it."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        sig = Account.sign_message(encode_typed_data(full_message=typed_data), self.key)
        return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v if sig.v >= 27 else sig.v + 27])

    def __str__(self) -> str:
        return self.address


# ───────────────────────────── Test accounts ─────────────────────────────


def _config_file() -> Path | None:
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (root / "ape-config.yaml").exists():
            return root / "ape-config.yaml"
    return None


def configured_test_accounts() -> dict:
    """ape-config.yaml's `test:` section with ape's defaults: mnemonic, hd_path, number_of_accounts."""
    section: dict = {}
    path = _config_file()
    if path is not None:
        import yaml

        section = (yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}).get(
            "test") or {}
    return {"mnemonic": section.get("mnemonic", DEFAULT_TEST_MNEMONIC),
            "hd_path": section.get("hd_path", DEFAULT_TEST_HD_PATH),
            "number_of_accounts": int(section.get("number_of_accounts", DEFAULT_NUMBER_OF_TEST_ACCOUNTS))}


def from_test_mnemonic(ref: str) -> Signer:
    """`TEST::N`, as ape's `accounts.test_accounts[N]`."""
    config = configured_test_accounts()
    count = config["number_of_accounts"]
    text = ref.split("::", 1)[1]
    if not text.strip().isdigit() or int(text) >= count:
        raise InputError(f"'{ref}' is not a test account: there are {count} (TEST::0 to TEST::{count - 1}, "
                         "test.number_of_accounts in ape-config.yaml).")
    from eth_account import Account
    from eth_account.hdaccount import HDPath
    from eth_account.hdaccount.mnemonic import Mnemonic

    hd_path = config["hd_path"]
    path = hd_path.format(int(text)) if "{" in hd_path else f"{hd_path.rstrip('/')}/{int(text)}"
    key = HDPath(path).derive(Mnemonic.to_seed(config["mnemonic"]))
    return Signer(Account.from_key(key).address, lambda: key, f"test account {int(text)}")


# ───────────────────────────── ape keyfile accounts ─────────────────────────────


def accounts_folder() -> Path:
    return Path(os.environ.get("APE_DATA_FOLDER") or Path.home() / ".ape") / "accounts"


def passphrase_variables(alias: str) -> tuple[str, str]:
    """The environment variables a passphrase is read from: the alias's own first, then the shared one."""
    return f"GPUMARKET_PASSPHRASE_{re.sub(r'[^A-Za-z0-9]', '_', alias).upper()}", "GPUMARKET_PASSPHRASE"


def keyfile_account(alias: str, *, unattended: bool, ask: Callable[[str], str]) -> Signer:
    """The ape account `alias`; its key is decrypted on first use (`ask` prompts for the passphrase)."""
    path = accounts_folder() / f"{alias}.json"
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", alias) or not path.exists():
        raise NotFoundError(f"There is no ape account named '{alias}'; see `ape accounts list`, or add one "
                            f"with `ape accounts import {alias}`.")
    try:
        keyfile = json.loads(path.read_text())
        from eth_utils import to_checksum_address

        address = to_checksum_address(keyfile["address"] if keyfile["address"].startswith("0x")
                                      else "0x" + keyfile["address"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{path} is not an ape account's keyfile (an eth-account keystore).") from None

    def unlock() -> bytes:
        own, shared = passphrase_variables(alias)
        passphrase = os.environ.get(own) or os.environ.get(shared) or None  # (empty: unset)
        if passphrase is None:
            if unattended:
                raise InputError(f"Unattended mode needs the passphrase of account '{alias}' in {own} or {shared}; "
                                 "nothing was sent.")
            passphrase = ask(f"Passphrase of account '{alias}' ({address})")
        from eth_account import Account

        try:
            return bytes(Account.decrypt(keyfile, passphrase))
        except ValueError:
            raise InputError(f"Wrong passphrase for account '{alias}'; nothing was sent.") from None

    return Signer(address, unlock, f"account '{alias}'")
