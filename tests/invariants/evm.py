"""An in-process EVM (pyrevm: revm, the EVM inside anvil) running the project's own compiled bytecode.

The invariant suite drives the contracts through this instead of a node: same bytecode (read from
ape's `.build/__local__.json`), same EVM rules (Prague), ~40x faster than JSON-RPC. Calls are
encoded and decoded with the contracts' ABIs; a revert raises `Reverted` carrying the decoded
custom error (name and arguments), so a rule can assert exactly which error it expected.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from pyrevm import EVM, BlockEnv, CfgEnv, Env

ROOT = Path(__file__).resolve().parents[2]
# The build under test: the project's own, or another one (the mutation run points this elsewhere).
BUILD = Path(os.environ.get("GPUMARKET_BUILD", ROOT / ".build" / "__local__.json"))
VIEWER = "0x000000000000000000000000000000000000dEaD"  # an EOA that sends the read-only calls
_REVERT_DATA = re.compile(r"output: (0x[0-9a-fA-F]*)")


def _type(item: dict) -> str:
    t = item["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + t[5:]
    return t


class Reverted(Exception):
    """A call reverted. `name` is the custom error's name ('' if not decodable), `args` its values."""

    def __init__(self, name: str, args: tuple, data: bytes):
        super().__init__(f"{name}{args}" if name else f"revert 0x{data.hex()}")
        self.name, self.args_, self.data = name, args, data


@dataclass
class ErrorAbi:
    """One error a revert can carry: its name, its ABI inputs (name, type, components), their
    canonical types and its selector."""

    name: str
    inputs: list[dict]
    types: list[str]
    selector: bytes

    @property
    def signature(self) -> str:
        args = ", ".join(f"{t} {i['name']}" for t, i in zip(self.types, self.inputs))
        return f"{self.name}({args})"


# Solidity's built-in errors: require/revert with a string, and a panic (assert, overflow, ...)
BUILTIN_ERRORS = ({"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
                  {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]})


def error_table(contract_types: dict) -> dict[bytes, ErrorAbi]:
    """Every `error` of every contract type of a build (`contractTypes`), and Solidity's Error(string)
    and Panic(uint256), by selector."""
    items = [i for ctype in contract_types.values() for i in ctype.get("abi", []) if i["type"] == "error"]
    table: dict[bytes, ErrorAbi] = {}
    for item in (*items, *BUILTIN_ERRORS):
        types = [_type(i) for i in item["inputs"]]
        selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
        table.setdefault(selector, ErrorAbi(item["name"], item["inputs"], types, selector))
    return table


def decode_revert(errors: dict[bytes, ErrorAbi], data: bytes) -> Reverted:
    """Revert data -> `Reverted` with the error's name and arguments ('' and () if not in `errors`)."""
    error = errors.get(data[:4])
    if error is None:
        return Reverted("", (), data)
    return Reverted(error.name, tuple(decode(error.types, data[4:])), data)


_WORD = re.compile(r"u?int\d*|bool|bytes32")
_UINT = re.compile(r"uint\d*")


@dataclass
class _Fn:
    selector: bytes
    inputs: list[str]
    outputs: list[str]

    @cached_property
    def word_inputs(self) -> bool:
        """Inputs that are all unsigned numbers, booleans or addresses: encoded by `calldata`'s fast path."""
        return all(t == "address" or t == "bool" or _UINT.fullmatch(t) for t in self.inputs)

    def calldata(self, args) -> bytes:
        """The selector and the ABI encoding of `args`; inputs that are each one word (the common case)
        are encoded here, range-checked as eth_abi would, without eth_abi's general encoder."""
        if not self.word_inputs:
            return self.selector + encode(self.inputs, list(args))
        words = [self.selector]
        for t, v in zip(self.inputs, args, strict=True):
            if t == "address":
                v = int(v, 16) if isinstance(v, str) else int.from_bytes(v, "big")
                bits = 160
            else:
                bits = 8 if t == "bool" else int(t[4:] or 256)
                if type(v) not in (int, bool) or not 0 <= v < 1 << bits:
                    return self.selector + encode(self.inputs, list(args))  # eth_abi raises the error
            words.append(int(v).to_bytes(32, "big"))
        return b"".join(words)

    @cached_property
    def static_words(self) -> bool:
        """Outputs that are all numbers or booleans, or one static struct of them: returned as ints."""
        outs = self.outputs
        if len(outs) == 1 and outs[0].startswith("(") and outs[0].endswith(")"):
            outs = outs[0][1:-1].split(",")
        return all(_WORD.fullmatch(t) or t == "address" for t in outs)


class Contract:
    """A deployed contract: `c.call(sender, "fn", *args)` sends a transaction (state persists),
    `c.view("fn", *args)` reads."""

    def __init__(self, chain: "Chain", name: str, address: str):
        self.chain, self.name, self.address = chain, name, address
        self._fns: dict[str, _Fn] = chain.functions(name)
        self._calldata: dict[tuple, bytes] = {}

    def call(self, sender: str, fn: str, *args: Any):
        f = self._fns[fn]
        return self.chain.send(sender, self.address, f, args)

    def view(self, fn: str, *args: Any):
        f = self._fns[fn]
        return self.chain.send(VIEWER, self.address, f, args, static=True)

    def one(self, fn: str, *args: Any):
        """A view that returns one value."""
        return self.view(fn, *args)[0]

    def uint(self, fn: str, *args: Any) -> int:
        """A view that returns one uint, with its calldata cached: the invariants' hot path."""
        key = (fn, args)
        data = self._calldata.get(key)
        if data is None:
            f = self._fns[fn]
            data = self._calldata[key] = f.selector + encode(f.inputs, list(args))
        self.chain.calls += 1
        return int.from_bytes(bytes(self.chain.evm.message_call(VIEWER, self.address, data, is_static=True)), "big")


class Chain:
    """One pyrevm instance with the contract types of the project's build."""

    def __init__(self, build: Path = BUILD, start_time: int = 1_800_000_000):
        types = json.loads(build.read_text())["contractTypes"]
        self._types = types
        self._fn_cache: dict[str, dict[str, _Fn]] = {}
        self.errors = error_table(types)
        # The mutation run (tools/mutation.py) deploys unoptimized builds, larger than EIP-170 allows.
        limit = os.environ.get("GPUMARKET_CODE_SIZE_LIMIT")
        env = Env(cfg=CfgEnv(limit_contract_code_size=int(limit))) if limit else None
        self.evm = EVM(env=env, spec_id="PRAGUE")
        self.number = 1
        self.time = start_time
        self._apply_block()
        self.calls = 0

    # ── time ──
    def _apply_block(self) -> None:
        self.evm.set_block_env(BlockEnv(number=self.number, timestamp=self.time))

    def warp(self, seconds: int) -> None:
        """Moves time forward (a new block)."""
        self.time += seconds
        self.number += 1
        self._apply_block()

    def set_time(self, ts: int) -> None:
        self.time = ts
        self.number += 1
        self._apply_block()

    # ── snapshots ──
    def snapshot(self) -> tuple:
        return self.evm.snapshot(), self.time, self.number

    def restore(self, snap: tuple) -> None:
        cp, self.time, self.number = snap
        self.evm.revert(cp)
        self._apply_block()

    # ── accounts and contracts ──
    @staticmethod
    def address(i: int) -> str:
        return to_checksum_address((0x10000 + i).to_bytes(20, "big"))

    def fund_eth(self, account: str, wei: int = 10**24) -> None:
        self.evm.set_balance(account, wei)

    def functions(self, name: str) -> dict[str, _Fn]:
        if name not in self._fn_cache:
            fns = {}
            for item in self._types[name]["abi"]:
                if item["type"] == "function":
                    ins = [_type(i) for i in item["inputs"]]
                    outs = [_type(o) for o in item.get("outputs", [])]
                    fns[item["name"]] = _Fn(keccak(text=f"{item['name']}({','.join(ins)})")[:4], ins, outs)
            self._fn_cache[name] = fns
        return self._fn_cache[name]

    def deploy(self, deployer: str, name: str, types: list[str] = (), args: list = ()) -> Contract:
        code = bytes.fromhex(self._types[name]["deploymentBytecode"]["bytecode"][2:]) + encode(list(types), list(args))
        try:
            address = self.evm.deploy(deployer, code)
        except RuntimeError as exc:
            raise self._reverted(exc) from None
        return Contract(self, name, address)

    def at(self, name: str, address: str) -> Contract:
        """A contract of type `name` already deployed at `address` (e.g. by a factory)."""
        return Contract(self, name, address)

    def send(self, sender: str, to: str, f: _Fn, args, static: bool = False):
        data = f.calldata(args)
        self.calls += 1
        try:
            out = self.evm.message_call(sender, to, data, is_static=static)
        except RuntimeError as exc:
            raise self._reverted(exc) from None
        if not f.outputs:
            return ()
        out = bytes(out)
        if f.static_words:  # every output is one 32-byte word: slice, no ABI decoder (the hot path)
            return tuple(int.from_bytes(out[i : i + 32], "big") for i in range(0, len(out), 32))
        return decode(f.outputs, out)

    def _reverted(self, exc: RuntimeError) -> Exception:
        m = _REVERT_DATA.search(str(exc))
        if not m:
            return exc  # a halt (out of gas, invalid opcode): not a revert, report as is
        return decode_revert(self.errors, bytes.fromhex(m.group(1)[2:]))
