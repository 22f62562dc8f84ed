"""The seam between the market objects and a chain: all they need from a node and a signer, in one class.

`ApeConnection` does it with ape (contract instances from the project's build, ape accounts). Another
backend (a lightweight JSON-RPC one) can replace it by offering the same few things:

- `contract(name, address)`: a handle whose methods call the contract's functions; a view returns values
  with the ABI's names as attributes (`getOffer(1).gpusOffered`), and a method is what `send` sends;
- `abi(name)`: the compiled ABI of a contract (a list of JSON entries);
- `send(fn, args, account)`: a receipt with `txn_hash`, `block_number`, `gas_used`;
- `events(receipt, contract, name)`: the decoded events of that name in a receipt;
- `now()`, `has_code(address)`, `sign_permit(...)`;
- `decode(err, phrasing)`: a failed transaction as a `GpuMarketError` (a custom error as `ContractError`).

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

    def events(self, receipt, contract, name: str) -> list:
        return list(receipt.decode_logs(getattr(contract, name)))

    def sign_permit(self, account, token, spender: str, value: int, deadline: int):
        from gpumarket.permit import sign_permit

        return sign_permit(account, token, spender, value, deadline)

    def decode(self, err: Exception, phrasing: Phrasing | None = None) -> GpuMarketError:
        """An ape revert (custom error, revert string or out-of-gas) or a node error, as one sentence."""
        from ape.exceptions import ContractLogicError, CustomError, OutOfGasError

        if isinstance(err, GpuMarketError):
            return err
        if isinstance(err, CustomError):
            return ContractError(err.abi.name, dict(err.inputs), phrasing, sent=True)
        if isinstance(err, OutOfGasError):
            return RevertedError("The transaction ran out of gas.")
        if isinstance(err, ContractLogicError):
            msg = (err.revert_message or "").strip() or "no reason given"
            return RevertedError(f"The transaction reverted: {msg.splitlines()[0]}.")
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return GpuMarketError(f"The node refused the request: {first}")
