"""Every revert has a name: every external function of the market and the registry, views included,
called by every role with boundary values of its argument types (zero, one, type maxima, 2^255,
protocol bounds and one past them, live and unknown ids), on a market that holds rentals in every
state. Whatever reverts must revert with a custom error declared in the ABIs (the project's own or
OpenZeppelin's), never with a `Panic` (overflow, division by zero, array bounds), a bare `Error`
string or empty revert data.

Callers are the people roles of tests/security/world.py; the market itself is not among them, so the
registry's collateral hooks (`lock`, `unlock`, `slash`) are exercised through their caller check
only: their arguments come from the market's own code, never from a user.
"""

from __future__ import annotations

import json
import re

import pytest
import world as _world  # noqa: F401  (puts tests/invariants on sys.path)
from eth_abi import encode
from eth_utils import keccak
from evm import BUILD, _type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world import DAY, HOUR, ZERO, world

from reverts import Revert, raised_by, reverts

CONTRACTS = ("ComputeMarket", "ProviderRegistry")
PEOPLE = ("owner", "arbiter", "provider", "provider2", "renter", "payer", "broker", "treasury", "stranger")
UNNAMED = {"", "Panic", "Error"}
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Values that sit on the edges: the EVM's, the protocol's (hours, bps, labels, GPU counts) and one past them.
EDGES = [0, 1, 2, 3, 7, 24, 255, 256, 1000, 1001, 5000, 5001, 8760, 8761, 10_000, 10_001, 65_535, 65_536,
         HOUR, DAY, 2**32 - 1, 2**32, 2**40, 2**64, 2**96 - 1, 2**96, 2**112 - 1, 2**112, 2**128, 2**255,
         2**256 - 1]
STRINGS = ["", "x", "H100-SXM-80GB", "x" * 32, "x" * 33, "y" * 512, "y" * 513]


def _split(inner: str) -> list[str]:
    """Top-level comma split of a tuple's component list."""
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        parts.append(cur)
    return parts


def strategy(t: str, addresses: list[str], ids: list[int], name: str = ""):
    """A hypothesis strategy of edge values for the canonical ABI type `t` (ids for `…Id` parameters)."""
    if t.endswith("[]"):
        return st.lists(strategy(t[:-2], addresses, ids, name), max_size=5)
    if t.startswith("("):
        return st.tuples(*(strategy(c, addresses, ids) for c in _split(t[1:-1])))
    if m := re.fullmatch(r"uint(\d+)", t):
        top = 2 ** int(m.group(1)) - 1
        edges = sorted({v for v in EDGES if v <= top} | {top})
        if name.lower().endswith(("id", "ids")):
            return st.one_of(st.sampled_from(ids), st.sampled_from(edges))
        return st.sampled_from(edges)
    if t == "address":
        return st.sampled_from(addresses)
    if t == "bool":
        return st.booleans()
    if t == "bytes32":
        return st.binary(min_size=32, max_size=32)
    if t == "string":
        return st.sampled_from(STRINGS)
    if t == "bytes":  # multicall's calls: a market function with edge arguments, or a malformed call
        return st.one_of(st.sampled_from([b"", b"\x00", b"\xde\xad\xbe\xef"]), _market_calldata(addresses, ids))
    raise AssertionError(f"no strategy for ABI type {t}")


def _market_calldata(addresses: list[str], ids: list[int]):
    """The calldata of a call to one of the market's own functions (multicall excluded), edge arguments."""
    fns = [(fn, inputs) for c, fn, inputs in _functions() if c == "ComputeMarket" and fn != "multicall"]

    def encoded(choice):
        fn, inputs = choice
        types = [t for t, _ in inputs]
        selector = keccak(text=f"{fn}({','.join(types)})")[:4]
        return st.tuples(*(strategy(t, addresses, ids, name) for t, name in inputs)).map(
            lambda args: selector + encode(types, list(args)))

    return st.sampled_from(fns).flatmap(encoded)


def _world_in_every_state():
    """A world holding a Pending, an Active, an Ended (stopped), a Disputed, a Settled, a Cancelled and a
    Resolved rental, one paused offer, fees and credits booked, and unbonding stake."""
    w = world()
    m = w.market
    ids = [w.open(gpus=1) for _ in range(2)]  # Pending; the second is cancelled below
    active = w.active(gpus=1, broker=w.broker, broker_bps=300)
    stopped, disputed, ruled, settled = (w.active(gpus=1, hours=2) for _ in range(4))
    w.chain.warp(HOUR)
    m.call(w.stranger, "claim", active)
    m.call(w.renter, "stopRental", stopped)
    m.call(w.renter, "dispute", disputed, b"\x01" * 32)
    m.call(w.renter, "dispute", ruled, b"\x02" * 32)
    m.call(w.arbiter, "resolveDispute", ruled, 5000, 0)
    m.call(w.renter, "cancelPending", ids[1])
    w.chain.warp(2 * HOUR + DAY)
    m.call(w.stranger, "release", settled)
    paused = w.create_offer(gpus=4)
    m.call(w.provider, "pauseOffer", paused)
    w.registry.call(w.provider2, "requestUnbond", 10**18)
    return w, [*ids, active, stopped, disputed, ruled, settled, paused, m.uint("nextRentalId")]


_STATE: list = []


def _state():
    """The world in every state, built once per process and restored for each example."""
    if not _STATE:
        w, ids = _world_in_every_state()
        _STATE[:] = [w, ids, w.chain.snapshot()]
    w, ids, snap = _STATE
    w.chain.restore(snap)
    _STATE[2] = w.chain.snapshot()  # a checkpoint is used up by its restore
    return w, ids


def _functions() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(contract, function, [(canonical type, name)]) of every external function of the two contracts."""
    types = json.loads(BUILD.read_text())["contractTypes"]
    return [(c, item["name"], [(_type(i), i["name"]) for i in item["inputs"]])
            for c in CONTRACTS for item in types[c]["abi"] if item["type"] == "function"]


@pytest.mark.parametrize("contract_name,fn,inputs", _functions(), ids=lambda v: v if isinstance(v, str) else "")
@FUZZ
@given(data=st.data())
def test_every_revert_is_a_named_custom_error(contract_name, fn, inputs, data):
    w, ids = _state()
    addresses = [ZERO, w.market.address, w.registry.address, w.usd.address, w.gpuc.address,
                 *(w.role[p] for p in PEOPLE)]
    args = [data.draw(strategy(t, addresses, ids, name), label=name or t) for t, name in inputs]
    caller = w.role[data.draw(st.sampled_from(PEOPLE), label="caller")]
    contract = w.market if contract_name == "ComputeMarket" else w.registry
    raised = raised_by(lambda: contract.call(caller, fn, *args))
    if raised is not None:
        revert = Revert(raised)
        assert revert.name not in UNNAMED, f"{contract_name}.{fn}{tuple(args)} by {caller} reverted unnamed: {revert}"


def test_the_issues_examples__quote_with_a_huge_gpu_count_open_with_zero_gpus_and_a_huge_stake():
    w = world()
    for gpus, hours, error, inputs in ((2**255, 2, "MarketInvalidGpuCount", {"gpus": 2**255}),
                                       (0, 2, "MarketInvalidGpuCount", {"gpus": 0}),
                                       (65_536, 2, "MarketInvalidGpuCount", {"gpus": 65_536}),
                                       (1, 0, "MarketInvalidHours", {"hoursRequested": 0, "minHours": 1, "maxHours": 8760}),
                                       (1, 8761, "MarketInvalidHours",
                                        {"hoursRequested": 8761, "minHours": 1, "maxHours": 8760})):
        with reverts(error, **inputs):
            w.market.view("quote", w.offer, gpus, hours)
    with reverts("MarketInvalidGpuCount", gpus=0):
        w.open(gpus=0)
    for amount in (2**96, 2**256 - 1):  # found by the fuzz above: the sum overflowed before the cast
        with reverts("SafeCastOverflowedUintDowncast", bits=96, value=amount):
            w.registry.call(w.provider, "stake", amount)
