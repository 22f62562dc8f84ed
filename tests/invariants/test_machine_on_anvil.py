"""The settlement state machine (tests/invariants/machine.py), unchanged, on anvil through ape.

The quick and deep profiles run `MarketMachine` on the in-process EVM (pyrevm). This runs the same
class, with the same rules, model and invariants, against the anvil that ape-foundry starts for the
session, every call going through ape contract instances (tests/invariants/ape_driver.py), in a small
profile (each ape transaction costs tens of milliseconds). It checks the fast driver against the
real node twice over:

1. the machine's own assertions and invariants hold on anvil (its model is the reference), and
2. differentially: the same steps run on a fresh pyrevm system too, and every driver call (contract,
   function, arguments, the model's time, and the result or the decoded revert) must be identical on
   both drivers. The hypothesis run is derandomized, so both drivers get the same sequence of steps.

Each run has two parts: a scripted lifecycle through the machine's own rules (goal-directed: each
rule is called with successive draws until it runs the wanted handler), which makes sure the
value-returning handlers (open, activate, claim, claimMany, stop, cancel, dispute, resolve, release,
withdrawals) and the revert mapping run on anvil whatever hypothesis draws, then the hypothesis run
(EXAMPLES × STEPS). The anvil system is deployed once, inside the test (ape's function-isolation
snapshot is taken before it, so ape's own restore at the end still finds its snapshot), and reset to
its base snapshot per example.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import HealthCheck, settings

import evm
import machine
from ape_driver import ApeChain, fresh_ape_system
from evm import Reverted
from machine import MarketMachine
from system import System

EXAMPLES, STEPS = 15, 25

_SYSTEM: System | None = None  # the system the machine runs on (switched between the drivers)


class MarketMachineOnAnvil(MarketMachine):
    make_system = staticmethod(lambda: _SYSTEM)


# ───────────────────────────── the differential log ─────────────────────────────


def _norm(v, aliases: dict, names: dict | None = None):
    """A value as both chains can agree on it: addresses lowercase (pyrevm's are, ape's are
    checksummed), and the factory's and the vault's under their names: the vault factory's
    address depends on the deployer's nonce, which pyrevm bumps only on deployments. Bytes that
    differ between the drivers by construction (signed offers' digests and signatures: the chain id
    and the vault's address are in them) under the names the machine gave them (`System.names`)."""
    if isinstance(v, str):
        return aliases.get(v.lower(), v.lower())
    if isinstance(v, int) and not isinstance(v, bool):
        return aliases.get(v, v)
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        return names[v] if names and v in names else v.hex()
    if isinstance(v, (list, tuple)):
        return tuple(_norm(x, aliases, names) for x in v)
    return v


class Recorded:
    """A driver contract that logs every call and its outcome."""

    def __init__(self, contract, log: list, aliases: dict, names: dict):
        self.contract, self.log, self.aliases, self.names = contract, log, aliases, names
        self.chain, self.name, self.address = contract.chain, contract.name, contract.address
        self._fns = contract._fns  # the ABI, for calls the machine encodes itself (the vault's callMarket)

    def _run(self, kind: str, fn: str, args: tuple):
        entry = (self.name, kind, fn, _norm(args, self.aliases, self.names), self.chain.time)
        try:
            out = getattr(self.contract, kind)(*((args[0], fn, *args[1:]) if kind == "call" else (fn, *args)))
        except Reverted as e:
            self.log.append((*entry, ("revert", e.name, _norm(e.args_, self.aliases, self.names))))
            raise
        self.log.append((*entry, _norm(out, self.aliases, self.names)))
        return out

    def call(self, sender, fn, *args):
        return self._run("call", fn, (sender, *args))

    def view(self, fn, *args):
        return self._run("view", fn, args)

    def one(self, fn, *args):
        return self.view(fn, *args)[0]

    def uint(self, fn, *args):
        return self._run("uint", fn, args)


def recorded(s: System, log: list) -> System:
    """The same system with every contract logged (reset() keeps its base snapshot on the copy)."""
    names = [k for k in ("gpuc", "usd", "registry", "market", "factory", "vault") if getattr(s, k) is not None]
    aliases = {}
    for k in ("factory", "vault"):
        if getattr(s, k) is not None:
            address = getattr(s, k).address
            aliases[address.lower()] = aliases[int(address, 16)] = f"<{k}>"
    return dataclasses.replace(s, **{k: Recorded(getattr(s, k), log, aliases, s.names) for k in names})


def first_difference(a: list, b: list) -> str | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"call {i}:\n  pyrevm {x}\n  anvil  {y}"
    if len(a) != len(b):
        return f"pyrevm made {len(a)} calls, anvil {len(b)}"
    return None


# ───────────────────────────── the scripted sequence ─────────────────────────────


def _check(m: MarketMachine) -> None:
    """The machine's invariants, as hypothesis checks them after a step."""
    for inv in m.invariants:
        if all(pre(m) for pre in inv.preconditions):
            inv.function(m)


def _until(m: MarketMachine, rule: str, *wanted: str, tries: int = 300, required: bool = True) -> None:
    """Runs the machine's `rule` with the draws 0, 1, 2, ... (the invariants after each draw that
    did something) until it runs one of the `wanted` handlers (STEP_COUNTER names; a prefix ending in
    ':' matches a family). Goal-directed, so it does not depend on how a rule maps its draw to its
    parameters."""
    for n in range(tries):
        before = machine.STEP_COUNTER.copy()
        getattr(m, rule)(n)
        bumped = machine.STEP_COUNTER - before
        if not bumped:
            continue  # the draw found nothing to do: no call was made
        _check(m)
        if any(k == w or (w.endswith(":") and k.startswith(w)) for k in bumped for w in wanted):
            return
    assert not required, f"script: {rule} never ran {wanted} in {tries} draws"


def _warp(m: MarketMachine, seconds: int) -> None:
    m.s.chain.warp(seconds)
    m._touch()
    _check(m)


def run_script() -> None:
    """A lifecycle through the machine's own rules: two rentals opened, activated, claimed, claimed
    together, extended, one stopped, one disputed and resolved, the rest settled; a pending one
    cancelled; signed fills, a cluster, a cancelled signed offer and invalid signed calls; bad calls,
    withdrawals, admin and stake steps; then the teardown sweep."""
    m = MarketMachineOnAnvil()
    for init in list(m._initialize_rules_to_run):
        assert not init.arguments, init
        init.function(m)
    m._initialize_rules_to_run = []
    _check(m)
    _until(m, "open_rental", "openRental")
    _until(m, "open_rental", "openRental")
    _until(m, "activate", "activate")
    _until(m, "activate", "activate")
    _until(m, "open_rental", "openRental")  # stays pending
    # Signed offers and clusters: a first fill (ECDSA or the vault's ERC-1271), a cluster, a later fill
    # of a record, a cancel, and invalid signed calls (signatures and digests named: `System.names`).
    _until(m, "fill_signed", "openSignedRental:first")
    _until(m, "book_cluster", "bookCluster:")
    _until(m, "fill_signed", "openSignedRental:recorded", "openSignedRental:recorded, no signature", required=False)
    _until(m, "cancel_signed", "cancelSignedOffer")
    _until(m, "bad_signed", "bad:")
    _until(m, "bad_call", "bad:")
    _until(m, "cancel", "cancelPending")
    _warp(m, 1800)  # every rental is at least an hour long: both still run
    _until(m, "claim", "claim")
    _until(m, "extend", "extend", tries=100, required=False)  # only a self-paid rental extends
    _warp(m, 600)
    _until(m, "claim_many", "claimMany")
    _until(m, "stop", "stopRental")
    _until(m, "dispute", "dispute")
    _until(m, "resolve", "resolveDispute", "applyDefaultRuling")
    _until(m, "bad_call", "bad:")
    last_end = max(r.ends for r in m.g.rentals if r.ends)
    _warp(m, max(0, last_end - m.now) + m.dispute_window + 1)
    _until(m, "release", "release")  # the rental left settles
    _until(m, "bad_call", "bad:")
    _until(m, "withdraw", "withdrawProtocolFees")
    _until(m, "withdraw", "withdrawCredits", tries=100, required=False)  # only if a broker earned credits
    _until(m, "admin", "pause/unpause", "setProtocolFee", "setStakePerGpu", "setDisputeWindow", "setNoShowPenalty")
    _until(m, "stake_ops", "stake", "requestUnbond", "cancelUnbond", "withdrawUnbonded")
    m.teardown()


def run_hypothesis() -> None:
    MarketMachineOnAnvil.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same steps on both drivers (and on every run)
        database=None,
        print_blob=True,
    )
    MarketMachineOnAnvil.TestCase("runTest").runTest()


def test_machine_on_anvil():
    global _SYSTEM
    if evm.BUILD.resolve() != (evm.ROOT / ".build" / "__local__.json").resolve():
        pytest.skip("GPUMARKET_BUILD points pyrevm at another build than the one ape deploys")
    start = time.monotonic()
    pyrevm_log: list = []
    anvil_log: list = []
    try:
        # pyrevm first (about a second): a fresh system of its own, not the quick profile's singleton
        _SYSTEM = recorded(System.fresh(), pyrevm_log)
        run_script()
        run_hypothesis()
        t_pyrevm = time.monotonic()

        ape = fresh_ape_system()
        assert isinstance(ape.chain, ApeChain)
        _SYSTEM = recorded(ape, anvil_log)
        t_deployed = time.monotonic()
        try:
            before = machine.STEP_COUNTER.copy()
            run_script()
            scripted = machine.STEP_COUNTER - before
            before = machine.STEP_COUNTER.copy()
            run_hypothesis()
            ran = machine.STEP_COUNTER - before
        except Exception as exc:
            # Where the drivers first parted (hypothesis's shrinking after a failure also shows up here)
            diff = first_difference(pyrevm_log[: len(anvil_log)], anvil_log)
            if diff is not None:
                exc.add_note(f"first disagreement between pyrevm and anvil: {diff}")
            raise
        t_done = time.monotonic()
    finally:
        _SYSTEM = None

    print(f"\nanvil: deploy {t_deployed - t_pyrevm:.1f} s, script + {ran['examples']} examples "
          f"({ran['steps']} steps) {t_done - t_deployed:.1f} s, {ape.chain.calls} ape calls; "
          f"pyrevm twin {t_pyrevm - start:.1f} s; {len(anvil_log)} driver calls compared\n"
          f"scripted: {dict(sorted(scripted.items()))}\nhypothesis: {dict(sorted(ran.items()))}")

    diff = first_difference(pyrevm_log, anvil_log)
    assert diff is None, f"pyrevm and anvil disagree at {diff}"
    assert ran["examples"] >= EXAMPLES
    opened = sum(v for k, v in ran.items() if k == "openRental" or k.startswith(("openSignedRental:", "bookCluster:")))
    assert opened > 0, f"the hypothesis run opened no rental: {dict(ran)}"
    total = scripted + ran
    for rule in ("openRental", "activate", "claim", "claimMany", "stopRental", "cancelPending", "release",
                 "resolveDispute", "withdrawProtocolFees", "warp"):
        assert total[rule] > 0, f"the anvil run never ran {rule}"
