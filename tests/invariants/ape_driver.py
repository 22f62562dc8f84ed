"""The invariant machine's driver interface (tests/invariants/evm.py's `Chain` and `Contract`) on anvil,
through the ordinary ape path.

`fresh_ape_system()` deploys the project's contracts with ape (`project.X.deploy`) on the anvil that
ape-foundry started for the pytest session and sets them up exactly as `System.fresh` does (same
actors at the same addresses, same deployments, parameters, stakes, approvals and balances), so
`MarketMachine` runs unchanged against the real node and checks the fast pyrevm driver.

- **Calls** go through ape contract instances: `getattr(contract, fn)(*args, sender=account)`; the
  actors are `Chain.address(i)` addresses, funded with `chain.set_balance` and impersonated on anvil
  (`accounts[address]`). Return values come from `receipt.return_value` (ape traces the transaction),
  views from ape calls; both are converted to the pyrevm driver's shapes: a tuple of ints (addresses
  and bools as ints, one static struct flattened to its fields) when every output is a static word,
  else exactly what eth_abi decodes (as pyrevm's driver does).
- **Reverts**: ape's exception becomes `evm.Reverted(name, args, data)`, its raw revert data as
  tests/reverts.py recovers it (a decoded `CustomError` encoded back from its ABI and inputs; a plain
  `ContractLogicError`, e.g. a token's ERC20 error bubbling up through the market, carries the data
  as its message) decoded with the same error table pyrevm uses, so `Reverted` has the same content
  on both drivers.
- **Time**: `ApeChain.time` is the model's "now". `warp`/`set_time` mine an empty block at exactly
  the new time, so ape's view calls (`eth_call` on the latest block) are evaluated at that time. Before
  every transaction the next block's timestamp is set to `time` (`evm_setNextBlockTimestamp`):
  anvil automines each transaction in its own block and accepts a timestamp equal to the previous
  block's, so every transaction of a step is mined at exactly `time`, as on pyrevm (which runs all of
  them in one block); each one is checked (its block is the head, at `time`). No divergence in time:
  the block *number* advances per transaction on anvil (pyrevm advances it per warp only); the
  contracts and the machine never read it. A reverted transaction is mined too (ape sends with the
  block's gas limit, no estimate) and ape replays it as a call on that block to decode the error.
- **Snapshots**: `chain.snapshot()` / `chain.restore(id)` (anvil's evm_snapshot / evm_revert, which
  also rewinds the head block and its timestamp); `time` is restored with it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak

from evm import Chain, _Fn, _type, decode_revert
from reverts import errors, is_revert, revert_data
from system import System

START_TIME = 1_800_000_000  # the pyrevm driver's start time


def _plain(value: Any) -> Any:
    """An ape-decoded value in eth_abi's shapes: structs and arrays as tuples, bytes as bytes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an ape Struct
        return tuple(_plain(getattr(value, f)) for f in value.__dataclass_fields__)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (bytes, bytearray)):  # HexBytes included
        return bytes(value)
    return value


def _word(value: Any) -> int:
    """One static word as the pyrevm driver returns it: an int (address and bool included)."""
    if isinstance(value, str):  # an address
        return int(value, 16)
    return int(value)


class ApeContract:
    """The `evm.Contract` interface over an ape contract instance."""

    def __init__(self, chain: "ApeChain", name: str, instance):
        self.chain, self.name, self.instance = chain, name, instance
        self.address: str = str(instance.address)
        abi = instance.contract_type.model_dump(mode="json", by_alias=True)["abi"]
        self._fns: dict[str, _Fn] = {}
        for item in abi:
            if item["type"] == "function":
                ins = [_type(i) for i in item["inputs"]]
                outs = [_type(o) for o in item.get("outputs", [])]
                self._fns[item["name"]] = _Fn(keccak(text=f"{item['name']}({','.join(ins)})")[:4], ins, outs)

    def _shape(self, f: _Fn, value: Any) -> tuple:
        """ape's return value (unwrapped when there is one output) -> the pyrevm driver's tuple."""
        if not f.outputs:
            return ()
        values = (value,) if len(f.outputs) == 1 else tuple(value)
        values = tuple(_plain(v) for v in values)
        if f.static_words:
            if len(f.outputs) == 1 and isinstance(values[0], tuple):  # one static struct: its fields
                values = values[0]
            return tuple(_word(v) for v in values)
        return tuple(decode(f.outputs, encode(f.outputs, list(values))))  # exactly eth_abi's shapes

    def call(self, sender: str, fn: str, *args: Any):
        """A transaction from `sender`, mined at exactly `chain.time`; returns the function's outputs."""
        f = self._fns[fn]
        self.chain.calls += 1
        self.chain.before_tx()
        try:
            receipt = getattr(self.instance, fn)(*args, sender=self.chain.account(sender))
        except Exception as exc:
            raise self.chain.reverted(exc, (sender, self.instance.address, f.calldata(args))) from None
        self.chain.after_tx(receipt)
        if not f.outputs:
            return ()
        return self._shape(f, receipt.return_value)

    def view(self, fn: str, *args: Any):
        f = self._fns[fn]
        self.chain.calls += 1
        try:
            value = getattr(self.instance, fn)(*args)
        except Exception as exc:
            raise self.chain.reverted(exc) from None
        return self._shape(f, value)

    def one(self, fn: str, *args: Any):
        return self.view(fn, *args)[0]

    def uint(self, fn: str, *args: Any) -> int:
        return int(self.view(fn, *args)[0])


class ApeChain:
    """The `evm.Chain` interface over ape's chain manager and the anvil it runs."""

    def __init__(self, start_time: int = START_TIME):
        from ape import accounts, chain

        self._ape_chain, self._accounts = chain, accounts
        self._signers: dict[str, Any] = {}
        self.calls = 0
        # every custom error in the project's build (plus Error/Panic), as tests/reverts.py decodes
        # them: the one ape deploys (not GPUMARKET_BUILD, which only the pyrevm driver reads)
        self.errors = errors()
        self.time = max(start_time, chain.blocks.head.timestamp + 1)
        self._mine_at(self.time)

    # ── time ──
    @property
    def number(self) -> int:
        return self._ape_chain.blocks.height

    def _mine_at(self, ts: int) -> None:
        self._ape_chain.mine(timestamp=ts)

    def before_tx(self) -> None:
        """The next transaction's block is mined at exactly `time` (anvil allows a timestamp equal to
        the previous block's)."""
        self._ape_chain.provider.set_timestamp(self.time)

    def after_tx(self, receipt=None) -> None:
        """Checks that the transaction was mined at exactly `time` (its block is the head: automine)."""
        head = self._ape_chain.blocks.head
        assert receipt is None or head.number == receipt.block_number, "the transaction is not the head block"
        assert head.timestamp == self.time, f"tx mined at {head.timestamp}, the machine's time is {self.time}"

    def warp(self, seconds: int) -> None:
        """Moves time forward: an empty block at the new time, so views see it."""
        self.time += seconds
        self._mine_at(self.time)

    def set_time(self, ts: int) -> None:
        self.time = ts
        self._mine_at(self.time)

    # ── snapshots ──
    def snapshot(self) -> tuple:
        return self._ape_chain.snapshot(), self.time

    def restore(self, snap: tuple) -> None:
        sid, self.time = snap
        self._ape_chain.restore(sid)
        head = self._ape_chain.blocks.head.timestamp
        assert head == self.time, f"restored head at {head}, snapshot taken at {self.time}"

    # ── accounts ──
    address = staticmethod(Chain.address)

    def fund_eth(self, account: str, wei: int = 10**24) -> None:
        self._ape_chain.set_balance(account, wei)

    def account(self, address: str):
        """The ape account that signs for `address` (impersonated on anvil)."""
        acct = self._signers.get(address)
        if acct is None:
            acct = self._signers[address] = self._accounts[address]
        return acct

    def deploy(self, deployer: str, name: str, types: list[str] = (), args: list = ()) -> ApeContract:
        """Same signature as the pyrevm `Chain.deploy`; `types` is unused (ape encodes from the ABI)."""
        from ape import project

        self.before_tx()
        try:
            instance = getattr(project, name).deploy(*args, sender=self.account(deployer))
        except Exception as exc:
            raise self.reverted(exc) from None
        self.after_tx()
        return ApeContract(self, name, instance)

    def at(self, name: str, address: str) -> ApeContract:
        """A contract of type `name` already deployed at `address` (e.g. by a factory)."""
        from ape import project

        return ApeContract(self, name, getattr(project, name).at(address))

    # ── reverts ──
    def reverted(self, exc: Exception, call: tuple[str, str, bytes] | None = None) -> Exception:
        """ape's exception -> `evm.Reverted` (anything that is not a contract revert stays as it is). When
        ape kept no revert data (it sometimes keeps only the node's message), the reverted transaction
        `call` = (sender, to, calldata) is replayed as an eth_call on the state it left, which is the state
        it ran on (a revert changes nothing), and the node's error carries the data."""
        if not is_revert(exc):
            return exc
        data = revert_data(exc)
        if data is None and call is not None:
            sender, to, calldata = call
            web3 = self._ape_chain.provider.web3
            reply = web3.provider.make_request("eth_call", [{"from": sender, "to": to, "data": "0x" + calldata.hex()},
                                                            "latest"])
            raw = (reply.get("error") or {}).get("data")
            data = bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("0x") else None
        return decode_revert(self.errors, data or b"")


def fresh_ape_system() -> System:
    """`System.fresh`, step for step, deployed with ape on the session's anvil."""
    return System.fresh(ApeChain())
