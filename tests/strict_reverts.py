"""A strict `reverts` for the rental tests: checks the custom error's selector and every one of its inputs.

`ape.reverts(contract.SomeError, **inputs)` only checks the error when ape decoded the revert into a
`CustomError`; when it raises a plain `ContractLogicError` (it does under tests/conftest.py's quiet
revert handler, which hides the transaction from ape's error enrichment) any revert at all passes,
whatever the error or its arguments. This helper decodes the revert data itself with the ABI of the
contract that declares the error, so it works either way.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from ape.exceptions import ContractLogicError, CustomError
from hexbytes import HexBytes


def _decode(err: ContractLogicError, error_cls) -> CustomError | None:
    """Decodes with the ABI of the contract declaring `error_cls`, else with the called contract's."""
    if isinstance(err, CustomError):
        return err
    data = err.revert_message
    if not isinstance(data, str) or not data.startswith("0x") or len(data) < 10:
        return None
    contract = error_cls.contract
    ecosystem = contract.provider.network.ecosystem
    for address in (contract.address, err.address):
        if address and (decoded := ecosystem.decode_custom_error(HexBytes(data), address)):
            return decoded
    return None


@contextmanager
def reverts(error_cls, **inputs):
    """The block must revert with `error_cls` (an error class read off a contract, e.g.
    `market.MarketNotRenter`) and exactly `inputs` as its arguments (all of them must be given)."""
    try:
        yield
    except ContractLogicError as err:
        decoded = _decode(err, error_cls)
        if decoded is None:
            pytest.fail(f"expected {error_cls.abi.signature}, got an undecodable revert: {err.revert_message!r}")
        assert decoded.abi.selector == error_cls.abi.selector, (
            f"expected {error_cls.abi.signature}, got {decoded.abi.signature} {dict(decoded.inputs)}"
        )
        assert dict(decoded.inputs) == inputs, f"{error_cls.abi.name} inputs"
    else:
        pytest.fail(f"did not revert (expected {error_cls.abi.signature})")
