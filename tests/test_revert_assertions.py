"""Every revert in the tests is asserted through tests/reverts.py, which checks the error's selector and
every argument on both engines. This scans the syntax tree of every Python file under tests/ for the
lenient forms it replaced:

- `ape.reverts(...)` (or `reverts` / `RevertsContextManager` imported from ape): under the quiet
  revert handler of tests/conftest.py ape raises a plain `ContractLogicError` and any revert passes;
- `pytest.raises(...)` of a revert type (`ContractLogicError`, `CustomError`, pyrevm's `Reverted`,
  ...) or of `Exception` / `BaseException`: it passes on any revert, and a name compared afterwards
  leaves the arguments unchecked;
- an `except` of a revert type that does not re-raise it: a hand-made check (a pass-through, e.g. a
  log of every call that re-raises, is fine).

No file is exempt but the helper itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
HELPER = TESTS / "reverts.py"
REVERT_TYPES = {"ContractLogicError", "CustomError", "Reverted", "TransactionError", "VirtualMachineError",
                "ApeException"}
BROAD = {"Exception", "BaseException"}
FIX = "assert it with tests/reverts.py: `with reverts(error, **every_argument): ...`"


def _names(node: ast.AST | None) -> set[str]:
    """The names an exception expression mentions (`Reverted`, `ape.exceptions.CustomError`, tuples)."""
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _is_pytest_raises(func: ast.AST, raises_aliases: set[str]) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "raises" and isinstance(func.value, ast.Name) and func.value.id == "pytest"
    return isinstance(func, ast.Name) and func.id in raises_aliases


def lenient_revert_assertions(source: str) -> list[tuple[int, str]]:
    """(line, what) for every lenient revert assertion in `source`."""
    tree = ast.parse(source)
    raises_aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "pytest"
                      for a in n.names if a.name == "raises"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "reverts" and isinstance(node.value, ast.Name) \
                and node.value.id == "ape":
            found.append((node.lineno, "ape.reverts"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ape":
            for alias in node.names:
                if alias.name in ("reverts", "RevertsContextManager"):
                    found.append((node.lineno, f"{alias.name} imported from {node.module}"))
        elif isinstance(node, ast.Call) and _is_pytest_raises(node.func, raises_aliases):
            expected = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "expected_exception"), None)
            caught = _names(expected) & (REVERT_TYPES | BROAD)
            if caught:
                found.append((node.lineno, f"pytest.raises({', '.join(sorted(caught))})"))
        elif isinstance(node, ast.ExceptHandler):
            caught = _names(node.type) & REVERT_TYPES
            last = node.body[-1]
            if caught and not (isinstance(last, ast.Raise) and last.exc is None):
                found.append((node.lineno, f"except {', '.join(sorted(caught))} without re-raising"))
    return sorted(found)


def _test_sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p != HELPER and ".cache" not in p.parts)


def test_every_revert_is_asserted_through_the_helper():
    found = [f"{path.relative_to(TESTS.parent)}:{line}: {what}"
             for path in _test_sources() for line, what in lenient_revert_assertions(path.read_text())]
    assert not found, f"{len(found)} lenient revert assertions; {FIX}:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    "import ape\nwith ape.reverts(market.MarketNotRenter):\n    pass",
    "import ape\nwith ape.reverts(market.MarketNotRenter, rentalId=1, caller=a):\n    pass",
    "from ape import reverts",
    "from ape.pytest.contextmanagers import RevertsContextManager",
    "with pytest.raises(ContractLogicError):\n    pass",
    "with pytest.raises(ape.exceptions.CustomError):\n    pass",
    "with pytest.raises(Reverted) as e:\n    pass\nassert e.value.name == 'X'",
    "with pytest.raises((ValueError, Reverted)):\n    pass",
    "with pytest.raises(expected_exception=Reverted):\n    pass",
    "with pytest.raises(Exception):\n    pass",
    "from pytest import raises as r\nwith r(Reverted):\n    pass",
    "try:\n    f()\nexcept Reverted as e:\n    assert e.name == 'X'",
    "try:\n    f()\nexcept (ContractLogicError, ValueError):\n    pass",
])
def test_the_scan_finds_every_lenient_form(source):
    assert lenient_revert_assertions(source), source


@pytest.mark.parametrize("source", [
    "with reverts(market.MarketNotRenter, rentalId=1, caller=a):\n    pass",
    "with reverts('MarketPriceAboveMax', offerId=1, price=2, maxPrice=1):\n    pass",
    "with pytest.raises(ValueError):\n    pass",
    "with pytest.raises(AssertionError, match='did not revert'):\n    pass",
    "try:\n    f()\nexcept Reverted as e:\n    log(e)\n    raise",
    "try:\n    f()\nexcept Exception:\n    pass",
    "reverts = 'ape.reverts(...) in a string is not code'",
])
def test_the_scan_leaves_strict_and_unrelated_forms_alone(source):
    assert not lenient_revert_assertions(source), source
