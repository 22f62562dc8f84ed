"""The seam between the market objects and a chain: all they need from a node and a signer, in one class.

`ApeConnection` does it with ape (contract instances from the project's build, ape accounts). Another
backend (a lightweight JSON-RPC one) can replace it by offering the same few things:

- `contract(name, address)`: a handle whose methods call the contract's functions; a view returns values
  with the ABI's names as attributes (`getOffer(1).gpusOffered`), and a method is what `send` sends;
- `abi(name)`: the compiled ABI of a contract (a list of JSON entries);
- `send(fn, args, account)`: a receipt with `txn_hash`, `block_number`, `gas_used`;
- `preview(fn, args, account)`: what sending it would return now (an eth_call; a revert raises);
- `calldata(fn, args)`: the selector and encoded arguments of a call (a vault forwards them to the market);
- `events(receipt, contract, name)`: the decoded events of that name in a receipt; `logs(contract, name)`: every
  such event the contract has emitted;
- `call(address, data)`: the return data of a raw eth_call (None if it reverts), for an interface no ABI of
  the build names (a contract provider's ERC-1271 `isValidSignature`);
- `now()`, `has_code(address)`, `sign_permit(...)`, `sign_typed_data(account, typed_data)`;
- `decode(err, phrasing)`: a failed transaction as a `GpuMarketError` (a custom error as `ContractError`,
  also one that bubbled up from a contract the called one called, e.g. the market's error through a vault).

ape is imported inside the methods only, so importing the objects costs nothing at CLI start-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gpumarket.errors import ContractError, GpuMarketError, Phrasing, RevertedError

_BUILD_TYPES: dict[str, dict] = {}


def _build_types() -> dict[str, dict]:
    """The contract types of the project's build (empty if there is none: ape's project is used)."""
    if not _BUILD_TYPES:
        path = Path(".build") / "__local__.json"
        if path.exists():
            _BUILD_TYPES.update(json.loads(path.read_text()).get("contractTypes", {}))
    return _BUILD_TYPES


def _abi_type(param: dict) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param.get("components", [])) + ")" + kind[len("tuple"):]
    return kind


_ERRORS: dict[bytes, dict] = {}


def _error_table() -> dict[bytes, dict]:
    """Every custom error the build declares, by selector."""
    if not _ERRORS:
        from eth_utils import keccak

        for contract_type in _build_types().values():
            for item in contract_type.get("abi", []):
                if item.get("type") == "error":
                    signature = f"{item['name']}({','.join(_abi_type(i) for i in item.get('inputs', []))})"
                    _ERRORS[keccak(text=signature)[:4]] = item
    return _ERRORS


def _decode_raw(data: str, phrasing: Phrasing | None) -> ContractError | None:
    """Revert data `0x…` as the custom error of the build it encodes (ape leaves undecoded an error the
    contract it called does not declare: one that bubbled up from a contract that one called); None if it
    is none."""
    from eth_abi import decode
    from eth_utils import is_address, to_checksum_address

    try:
        raw = bytes.fromhex(data.strip().removeprefix("0x"))
    except ValueError:
        return None
    item = _error_table().get(raw[:4]) if data.strip().startswith("0x") and len(raw) >= 4 else None
    if item is None:
        return None
    try:
        values = decode([_abi_type(i) for i in item.get("inputs", [])], raw[4:])
    except Exception:  # the selector matched but the data does not decode: leave it to the generic sentence
        return None
    inputs = {i["name"]: (to_checksum_address(v) if i["type"] == "address" and is_address(v) else v)
              for i, v in zip(item.get("inputs", []), values)}
    return ContractError(item["name"], inputs, phrasing, sent=True)


class RawRevert(Exception):
    """A refused eth_call, with the node's error (`data`: the revert data, where the node gives it)."""

    def __init__(self, error: dict):
        super().__init__(error.get("message", "execution reverted"))
        data = error.get("data")
        if isinstance(data, dict):  # some nodes nest it
            data = data.get("data")
        self.data = data if isinstance(data, str) else None


class ApeConnection:
    """The connected ape network (the CLI connects before it builds a `Market`)."""

    def __init__(self, project=None):
        self._project = project

    @property
    def project(self):
        if self._project is None:
            from ape import project

            self._project = project
        return self._project

    def contract(self, name: str, address: str):
        """A contract instance from the compiled build (`.build/__local__.json`), read directly: ape's
        `project.<Name>` re-scans the source tree first (≈ 4 s per command)."""
        from ape import Contract
        from ethpm_types import ContractType

        types = _build_types()
        if name in types:
            return Contract(address, contract_type=ContractType.model_validate(types[name]))
        return getattr(self.project, name).at(address)

    def abi(self, name: str) -> list[dict]:
        types = _build_types()
        if name in types:
            return types[name]["abi"]
        return getattr(self.project, name).contract_type.model_dump(mode="json", by_alias=True)["abi"]

    def now(self) -> int:
        """The timestamp the next transaction will see (on anvil: the pending block's)."""
        from ape import chain

        return int(chain.pending_timestamp)

    def has_code(self, address: str) -> bool:
        from ape import chain

        return bool(chain.provider.get_code(address))

    def send(self, fn, args: tuple, account) -> Any:
        return fn(*args, sender=account)

    def preview(self, fn, args: tuple, account) -> Any:
        """A raw `eth_call` on the pending block: ape's own keeps only the node's message of a revert, which
        can mangle its data; the JSON-RPC error carries the data whole."""
        from ape import chain
        from eth_abi import decode
        from eth_utils import keccak, to_checksum_address

        data = self.calldata(fn, args)
        call = {"from": getattr(account, "address", account), "to": fn.contract.address, "data": "0x" + data.hex()}
        response = chain.provider.web3.provider.make_request("eth_call", [call, "pending"])
        if "error" in response:
            raise RawRevert(response["error"])
        abi = next(a for a in fn.abis if keccak(text=a.selector)[:4] == data[:4])
        decoded = decode([o.canonical_type for o in abi.outputs], bytes.fromhex(response["result"][2:]))
        values = [to_checksum_address(v) if o.type == "address" else v for o, v in zip(abi.outputs, decoded)]
        return values[0] if len(values) == 1 else tuple(values)

    def calldata(self, fn, args: tuple) -> bytes:
        return bytes(fn.encode_input(*args))

    def events(self, receipt, contract, name: str) -> list:
        return list(receipt.decode_logs(getattr(contract, name)))

    def logs(self, contract, name: str) -> list:
        """Every event `name` that `contract` emitted, decoded, oldest first (one eth_getLogs over the whole
        chain: ape's own query pages through the blocks a hundred at a time)."""
        from ape import chain
        from eth_utils import keccak

        abi = getattr(contract, name).abi
        raw = chain.provider.web3.eth.get_logs({"address": contract.address, "fromBlock": 0, "toBlock": "latest",
                                                "topics": ["0x" + keccak(text=abi.selector).hex()]})
        return list(chain.provider.network.ecosystem.decode_logs(raw, abi))

    def call(self, address: str, data: bytes, sender: str | None = None) -> bytes | None:
        """An eth_call of `data` to `address` on the pending state (from `sender` if given); None if it reverts."""
        from ape import chain

        tx = {"to": address, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        response = chain.provider.web3.provider.make_request("eth_call", [tx, "pending"])
        result = response.get("result")
        return bytes.fromhex(result[2:]) if isinstance(result, str) and "error" not in response else None

    def sign_typed_data(self, account, typed_data: dict) -> bytes | None:
        """An EIP-712 signature of `typed_data` by an ape account, 65 bytes r ‖ s ‖ v (v = 27 or 28), as
        OpenZeppelin's ECDSA takes it; None if the account's owner declined to sign."""
        from eth_account.messages import encode_typed_data

        sig = account.sign_message(encode_typed_data(full_message=typed_data))
        if sig is None:
            return None
        v = sig.v if sig.v >= 27 else sig.v + 27
        return bytes(sig.r).rjust(32, b"\0") + bytes(sig.s).rjust(32, b"\0") + bytes([v])

    def sign_permit(self, account, token, spender: str, value: int, deadline: int):
        from gpumarket.permit import sign_permit

        return sign_permit(account, token, spender, value, deadline)

    def decode(self, err: Exception, phrasing: Phrasing | None = None) -> GpuMarketError:
        """An ape revert (custom error, revert string or out-of-gas) or a node error, as one sentence."""
        from ape.exceptions import ContractLogicError, CustomError, OutOfGasError

        if isinstance(err, GpuMarketError):
            return err
        if isinstance(err, RawRevert):
            decoded = _decode_raw(err.data, phrasing) if err.data else None
            return decoded or RevertedError(f"The transaction would revert: {str(err).splitlines()[0]}.")
        if isinstance(err, CustomError):
            return ContractError(err.abi.name, dict(err.inputs), phrasing, sent=True)
        if isinstance(err, OutOfGasError):
            return RevertedError("The transaction ran out of gas.")
        if isinstance(err, ContractLogicError):
            msg = (err.revert_message or "").strip() or "no reason given"
            bubbled = _decode_raw(msg, phrasing)
            if bubbled is not None:
                return bubbled
            return RevertedError(f"The transaction reverted: {msg.splitlines()[0]}.")
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return GpuMarketError(f"The node refused the request: {first}")
