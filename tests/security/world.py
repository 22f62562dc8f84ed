"""The deployed system on the in-process EVM (tests/invariants/system.py) with one address per role,
every role funded and approved, and one mUSD offer by `provider`. Shared by the security tests.

Roles: owner, arbiter, provider, provider2 (another provider), renter, payer, broker, treasury,
stranger, and market (the ComputeMarket contract as a caller of the registry and the token).
"""

from __future__ import annotations

import sys
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "invariants"), str(Path(__file__).resolve().parents[1])]

from pyrevm import AccountInfo  # noqa: E402

from system import GPUC, MAX, USD, ZERO, System  # noqa: E402,F401

HOUR, DAY = 3600, 86_400
ROLES = ("owner", "arbiter", "provider", "provider2", "renter", "payer", "broker", "treasury", "stranger", "market")
PRICE = 1_950_000  # 1.95 mUSD per GPU-hour


_RENTAL_TYPES: dict[int, type] = {}


def rental_view(market, rid: int):
    """`market.getRental(rid)` as a namedtuple whose fields are the ABI's component names."""
    key = id(market.chain)
    if key not in _RENTAL_TYPES:
        abi = market.chain._types["ComputeMarket"]["abi"]
        (fn,) = [i for i in abi if i.get("type") == "function" and i["name"] == "getRental"]
        _RENTAL_TYPES[key] = namedtuple("RentalRecord", [c["name"] for c in fn["outputs"][0]["components"]])
    return _RENTAL_TYPES[key](*market.view("getRental", rid))


class World:
    def __init__(self):
        s = self.s = System.fresh()
        self.chain, self.market, self.registry, self.usd, self.gpuc = s.chain, s.market, s.registry, s.usd, s.gpuc
        self.role = {"owner": s.owner, "arbiter": s.arbiter, "provider": s.providers[0], "provider2": s.providers[1],
                     "renter": s.renters[0], "payer": s.payers[0], "broker": s.brokers[0], "treasury": s.treasury,
                     "stranger": s.stranger, "market": s.market.address}
        for name, who in self.role.items():
            if name == "market":
                continue
            s.usd.call(who, "mint", who, 10**12 * USD)
            if s.gpuc.uint("balanceOf", who) == 0:
                s.gpuc.call(s.treasury, "transfer", who, 10**6 * GPUC)
            for t in (s.usd, s.gpuc):
                t.call(who, "approve", s.market.address, MAX)
        self.offer = self.create_offer()
        self.base = self.chain.snapshot()

    def __getattr__(self, name):  # w.provider, w.renter, ...
        role = self.__dict__.get("role", {})
        if name in role:
            return role[name]
        raise AttributeError(name)

    def reset(self) -> None:
        self.chain.restore(self.base)
        self.base = self.chain.snapshot()

    # ── factories ──
    def create_offer(self, provider: str | None = None, token=None, price: int = PRICE, gpus: int = 8,
                     max_broker_bps: int = 500, tiers=(), min_hours: int = 1, max_hours: int = 100) -> int:
        token = token or self.usd
        (oid,) = self.market.call(provider or self.provider, "createOffer",
                                  ("H100-SXM-80GB", "AU-QLD", token.address, price, gpus, min_hours, max_hours, ZERO,
                                   max_broker_bps, list(tiers)))
        return oid

    def open(self, offer: int | None = None, gpus: int = 1, hours: int = 10, renter: str | None = None,
             payer: str | None = None, broker: str = ZERO, broker_bps: int = 0, max_price: int = 2**96) -> int:
        offer = offer or self.offer
        renter = renter or self.renter
        if payer and payer != renter:
            (rid,) = self.market.call(payer, "openRentalFor", renter, offer, gpus, hours, max_price, broker, broker_bps)
        else:
            (rid,) = self.market.call(renter, "openRental", offer, gpus, hours, max_price, broker, broker_bps)
        return rid

    def active(self, provider: str | None = None, **kw) -> int:
        rid = self.open(**kw)
        self.market.call(provider or self.provider, "activate", rid)
        return rid

    def rental(self, rid: int):
        """getRental as a named tuple (fields by name, so a storage re-layout cannot shift them)."""
        return rental_view(self.market, rid)

    def balances(self, accounts) -> dict:
        return {(a, t.address): t.uint("balanceOf", a) for a in accounts for t in (self.usd, self.gpuc)}

    @contextmanager
    def code_stripped(self, address: str):
        """EIP-3607 rejects a transaction from an address with code; to make a call *as* a contract
        (the market calling the registry), its code is set aside for the call and put back after."""
        ev = self.chain.evm
        info, code = ev.basic(address), ev.get_code(address)
        ev.insert_account_info(address, AccountInfo(nonce=info.nonce, code=b""))
        try:
            yield
        finally:
            ev.insert_account_info(address, AccountInfo(nonce=info.nonce, code=code))

    def send(self, role: str, contract, fn: str, *args):
        """`fn` called by `role`; the market role calls with its code set aside."""
        who = self.role[role]
        if role == "market":
            with self.code_stripped(who):
                return contract.call(who, fn, *args)
        return contract.call(who, fn, *args)


_WORLD: World | None = None


def world() -> World:
    """One deployed world per process, reset to its snapshot."""
    global _WORLD
    if _WORLD is None:
        _WORLD = World()
    _WORLD.reset()
    return _WORLD
