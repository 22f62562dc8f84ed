"""The one way the tests assert a revert: the error's selector and every one of its arguments.

    with reverts(market.MarketNotRenter, rentalId=rid, caller=stranger):      # ape, on anvil
        market.stopRental(rid, sender=stranger)

    with reverts("MarketPriceAboveMax", offerId=oid, price=PRICE + 1, maxPrice=PRICE):  # pyrevm
        w.market.call(w.renter, "openRental", oid, 2, 10, PRICE, ZERO, 0)

The error is an ape error class read off a contract (`market.MarketNotRenter`) or an error's name;
every input of the error must be given, by its ABI name. The revert's raw data is decoded here, with
the ABIs of the project's build (every `error` of every contract type in `.build/__local__.json`, and
Solidity's `Error(string)` and `Panic(uint256)`), whatever the engine and whatever ape made of it:

- pyrevm (tests/invariants/evm.py) raises `evm.Reverted`, which carries the raw data;
- ape raises `ContractLogicError`: a plain one carries the raw data as its message (what it raises
  for an error the called contract does not declare, e.g. a token's error bubbling up through the
  market); a `CustomError` is one ape decoded, and its ABI and inputs are encoded back into the
  exact bytes the contract reverted with. Of a reverted eth_call (a view) ape keeps only the node's
  message, not the data: such a revert fails as undecodable; send the view as a transaction
  (`contract.fn.transact(..., sender=...)`).

Addresses compare checksummed (an account, a contract or a string of any case), enums as ints.
A block that does not revert, a revert that cannot be decoded, another error, a wrong, missing or
extra argument all fail with an `AssertionError` that shows what was expected and what came.
tests/test_revert_assertions.py keeps every test on this module.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator

from eth_abi import encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

_INVARIANTS = str(Path(__file__).resolve().parent / "invariants")
if _INVARIANTS not in sys.path:
    sys.path.insert(0, _INVARIANTS)

from evm import ErrorAbi, Reverted, decode_revert, error_table  # noqa: E402

BUILD = Path(__file__).resolve().parents[1] / ".build" / "__local__.json"


@cache
def errors() -> dict[bytes, ErrorAbi]:
    """Every error the build declares (and Error, Panic), by selector."""
    return error_table(json.loads(BUILD.read_text())["contractTypes"])


@cache
def _by_name() -> dict[str, list[ErrorAbi]]:
    names: dict[str, list[ErrorAbi]] = {}
    for error in errors().values():
        names.setdefault(error.name, []).append(error)
    return names


def error_abi(error) -> ErrorAbi:
    """`error` (an ape error class such as `market.MarketNotRenter`, or an error's name) as declared in
    the build."""
    if isinstance(error, str):
        found = _by_name().get(error, [])
        if len(found) != 1:
            raise AssertionError(f"no error named {error!r} in the build" if not found else
                                 f"{len(found)} errors named {error!r}: {[e.signature for e in found]}")
        return found[0]
    abi = getattr(error, "abi", None)
    if abi is None or getattr(abi, "type", None) != "error":
        raise TypeError(f"expected an error class read off a contract or an error name, got {error!r}")
    found = errors().get(keccak(text=abi.selector)[:4])
    if found is None:
        raise AssertionError(f"{abi.signature} is not declared by any contract in {BUILD}")
    return found


def revert_data(raised) -> bytes | None:
    """The raw revert data of a revert (`evm.Reverted`, ape's `ContractLogicError`, or the bytes
    themselves), None when it carries none we can recover."""
    if isinstance(raised, (bytes, bytearray)):
        return bytes(raised)
    if isinstance(raised, Reverted):
        return raised.data
    from ape.exceptions import ContractLogicError, CustomError

    if isinstance(raised, CustomError):  # decoded by ape: its ABI and inputs give back the exact bytes
        abi = raised.abi
        values = [raised.inputs[i.name] for i in abi.inputs]
        return keccak(text=abi.selector)[:4] + encode([i.canonical_type for i in abi.inputs], values)
    if not isinstance(raised, ContractLogicError):
        return None
    for candidate in (raised.revert_message, getattr(raised.base_err, "data", None)):
        if isinstance(candidate, str) and candidate.startswith("0x"):
            try:
                return bytes.fromhex(candidate[2:])
            except ValueError:
                continue
    return None  # e.g. a reverted eth_call: ape keeps only the node's message, not the data


def is_revert(exc: BaseException) -> bool:
    """A contract revert on either engine (anything else is not for `reverts` to judge)."""
    if isinstance(exc, Reverted):
        return True
    if "ape.exceptions" not in sys.modules:  # ape raised nothing if it is not even loaded
        return False
    from ape.exceptions import ContractLogicError

    return isinstance(exc, ContractLogicError)


def _canonical(item: dict, value: Any) -> Any:
    """`value` of the ABI input `item` in one comparable form (addresses checksummed, enums as ints,
    bytes as bytes, arrays and structs as tuples)."""
    t = item["type"]
    if t.endswith("]"):
        inner = {**item, "type": t[: t.rindex("[")]}
        return tuple(_canonical(inner, v) for v in value)
    if t == "tuple":
        parts = item["components"]
        if isinstance(value, dict):
            value = [value[p["name"]] for p in parts]
        return tuple(_canonical(p, v) for p, v in zip(parts, value, strict=True))
    if t == "address":
        value = getattr(value, "address", value)  # an ape account or contract, a pyrevm Contract
        if isinstance(value, int) and not isinstance(value, bool):
            value = value.to_bytes(20, "big")
        return to_checksum_address(value)
    if t.startswith(("uint", "int")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"an integer for {t}, got {value!r}")
        return int(value)  # an IntEnum too
    if t == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"a bool, got {value!r}")
        return value
    if t.startswith("bytes"):
        return bytes(HexBytes(value))
    if t == "string":
        if not isinstance(value, str):
            raise TypeError(f"a string, got {value!r}")
        return value
    raise TypeError(f"no comparison for the ABI type {t}")


def _text(name: str, inputs: dict) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in inputs.items())})"


class Revert:
    """A decoded revert: `error` (None if it cannot be decoded), `name`, `inputs` (canonical, by name),
    the raw `data` and the `exception` that carried it."""

    def __init__(self, raised=None):
        self.exception: BaseException | None = None
        self.data: bytes | None = None
        self.error: ErrorAbi | None = None
        self.name, self.inputs = "", {}
        if raised is not None:
            self.read(raised)

    def read(self, raised) -> None:
        self.exception = raised if isinstance(raised, BaseException) else None
        self.data = revert_data(raised)
        error = errors().get(self.data[:4]) if self.data else None
        if error is None:
            return
        try:
            args = decode_revert(errors(), self.data).args_
        except DecodingError:  # the selector of a known error, arguments that are not its own
            return
        self.error, self.name = error, error.name
        self.inputs = {i["name"]: _canonical(i, v) for i, v in zip(error.inputs, args)}

    def __str__(self) -> str:
        if self.error is not None:
            return _text(self.name, self.inputs)
        if self.data is None:
            return (f"a revert whose data ape did not keep ({self.exception!r}); a reverted eth_call keeps only "
                    f"the node's message: send a view as a transaction (`.transact`) to assert its revert")
        if not self.data:
            return "a revert without data"
        known = errors().get(self.data[:4])
        if known is not None:
            return f"0x{self.data.hex()}: the selector of {known.signature}, but not its arguments"
        return f"an unknown error 0x{self.data.hex()} (no error in the build has selector 0x{self.data[:4].hex()})"


class ExpectedRevert:
    """The revert a call must end with: `error` with exactly `inputs` (all of them, by ABI name).
    `check(raised)` is None when `raised` (a revert, its raw data, or None for no revert) matches, else
    what is wrong; `data` is the revert data the contract must produce."""

    def __init__(self, error, /, **inputs):
        self.error = error_abi(error)
        names = [i["name"] for i in self.error.inputs]
        missing, extra = [n for n in names if n not in inputs], [n for n in inputs if n not in names]
        if missing or extra:
            raise AssertionError(f"{self.error.signature}: give every argument by name"
                                 + (f"; missing {missing}" if missing else "")
                                 + (f"; not its inputs {extra}" if extra else ""))
        self.inputs = {}
        for item in self.error.inputs:
            try:
                self.inputs[item["name"]] = _canonical(item, inputs[item["name"]])
            except (TypeError, ValueError) as exc:
                raise AssertionError(f"{self.error.signature}: argument {item['name']}: expected {exc}") from None

    @property
    def data(self) -> bytes:
        return self.error.selector + encode(self.error.types, list(self.inputs.values()))

    def __str__(self) -> str:
        return _text(self.error.name, self.inputs)

    def check(self, raised) -> str | None:
        if raised is None:
            return f"did not revert (expected {self})"
        got = Revert(raised)
        if got.error is None or got.error.selector != self.error.selector:
            return f"expected {self}, got {got}"
        wrong = [f"{k} is {got.inputs[k]!r}, expected {v!r}" for k, v in self.inputs.items() if got.inputs[k] != v]
        if wrong:
            return f"expected {self}, got {got}: {'; '.join(wrong)}"
        return None


@contextmanager
def reverts(error, /, **inputs) -> Iterator[Revert]:
    """The block must revert with `error` and exactly `inputs` as its arguments. Yields the `Revert`,
    filled in when the block has reverted (e.g. `.exception` for what ape or pyrevm raised)."""
    expected = ExpectedRevert(error, **inputs)  # a wrong argument list fails before the block runs
    caught = Revert()
    try:
        yield caught
    except Exception as exc:
        if not is_revert(exc):
            raise
        problem = expected.check(exc)
        if problem is not None:
            raise AssertionError(problem) from exc
        caught.read(exc)
    else:
        raise AssertionError(expected.check(None))


def raised_by(call: Callable[[], Any]) -> BaseException | None:
    """Runs `call`: the revert it raised, or None when it went through (anything else propagates). For
    tests that record outcomes and judge them with `ExpectedRevert.check`."""
    try:
        call()
    except Exception as exc:
        if not is_revert(exc):
            raise
        return exc
    return None


__all__ = ["ExpectedRevert", "Revert", "error_abi", "errors", "raised_by", "revert_data", "reverts"]
