"""The access-control matrix: every external state-changing function of ComputeMarket,
ProviderRegistry and ComputeToken × every role, allow or deny (SECURITY.md, docs/protocol.md invariant 8).

The rows are read against the contracts' ABIs: a state-changing function without a row (or a row
without a function) fails `test_matrix_covers_every_state_changing_function`. Each row prepares the
state in which the function would succeed for an allowed caller (an open rental to stop, a dispute to
rule on, ...), then every role calls it from that same state: an allowed role must succeed, any other
must revert with the row's error and its exact arguments (tests/reverts.py) — an access error, or
(noted) the state the role cannot have, e.g. `MarketNoFees` for a role with no credits. Functions anyone may trigger ("anyone") also must pay only
their fixed beneficiaries: the caller gets nothing unless it is one.

`market` is the ComputeMarket contract as a caller (its code set aside for the call, see world.py):
tested on the registry and the token; on the market's own functions it is n/a (the market never calls
itself). `renounceOwnership` is declared `view` (it always reverts) and is in the table anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from world import DAY, GPUC, HOUR, MAX, PRICE, ROLES, USD, ZERO, World, world

from reverts import ExpectedRevert, Revert, raised_by

ANYONE = frozenset(ROLES)
PROVIDERS = frozenset({"provider", "provider2"})


@dataclass(frozen=True)
class Deny:
    """The error a denied role gets: its name, and its arguments from the world, the caller's address
    and the call's arguments."""

    name: str
    inputs: Callable[[World, str, tuple], dict] = lambda w, caller, args: {}

    def expected(self, w: World, caller: str, args: tuple) -> ExpectedRevert:
        return ExpectedRevert(self.name, **self.inputs(w, caller, args))


def _caller(name: str, key: str = "caller") -> Deny:
    """An error whose one argument is the caller."""
    return Deny(name, lambda w, caller, args: {key: caller})


def _of_first_arg(name: str, key: str) -> Deny:
    """An error on the call's first argument (an offer or a rental) and the caller."""
    return Deny(name, lambda w, caller, args: {key: args[0], "caller": caller})


OWNER_ERR = _caller("OwnableUnauthorizedAccount", "account")


@dataclass
class Row:
    contract: str  # ComputeMarket | ProviderRegistry | ComputeToken
    fn: str
    setup: Callable[[World], tuple]  # prepares the state, returns the call's arguments
    ok: frozenset  # roles that succeed
    deny: Deny | None = None  # the error every other role gets
    other: dict = field(default_factory=dict)  # role -> a different error (a Deny) for that role
    pays: Callable[[World], set] | None = None  # "anyone" rows: the only accounts that may be paid
    note: str = ""

    def expect(self, role: str) -> str | Deny | None:
        """'ok', the error, or None (n/a)."""
        if role == "market" and self.contract == "ComputeMarket":
            return None
        if role in self.other:
            return self.other[role]
        return "ok" if role in self.ok else self.deny


def _owner(contract: str, fn: str, *args, note: str = "", other: dict | None = None) -> Row:
    return Row(contract, fn, lambda w: args, frozenset({"owner"}), OWNER_ERR, other or {}, note=note)


def _then(*steps):
    """A setup made of steps (each takes the world), returning the last step's value as the args."""
    def setup(w):
        out = ()
        for step in steps:
            out = step(w)
        return out
    return setup


def _claimable(w: World) -> tuple:
    rid = w.active(broker=w.broker, broker_bps=300)
    w.chain.warp(HOUR)
    return (rid,)


def _disputed(w: World) -> int:
    rid = w.active(payer=w.payer)
    w.chain.warp(HOUR)
    w.market.call(w.renter, "dispute", rid, b"\x01" * 32)
    return rid


def _settleable(w: World) -> tuple:
    rid = w.active(hours=2)
    w.chain.warp(2 * HOUR + DAY)
    return (rid,)


def _fees_booked(w: World) -> tuple:
    (rid,) = _claimable(w)
    w.market.call(w.provider, "claim", rid)
    return (w.usd.address,)


def _unbonding(w: World, ready: bool = False) -> tuple:
    for p in (w.provider, w.provider2):
        w.registry.call(p, "requestUnbond", GPUC)
    if ready:
        w.chain.warp(7 * DAY)
    return ()


def _locked(w: World) -> int:
    w.open()  # locks 100 GPUC of provider's stake
    return 0


def _pending_owner(contract: str):
    def setup(w):
        getattr(w, "market" if contract == "ComputeMarket" else "registry").call(w.owner, "transferOwnership", w.stranger)
        return ()
    return setup


def _allowance(w: World) -> tuple:
    """A holder that approved only the broker (every role approved the market in world.py)."""
    holder = "0x" + "7c" * 20
    w.chain.fund_eth(holder)
    w.gpuc.call(w.treasury, "transfer", holder, GPUC)
    w.gpuc.call(holder, "approve", w.broker, GPUC)
    return holder, w.broker, GPUC


def _permit(w: World) -> tuple:
    """A valid EIP-2612 permit signed by a holder with a known key: anyone may submit it, once."""
    from eth_account import Account

    from gpumarket.permit import PERMIT_TYPES

    holder = Account.from_key(b"\x11" * 32)
    _, name, version, chain_id, verifying, _, _ = w.gpuc.view("eip712Domain")
    deadline = w.chain.time + DAY
    msg = {"owner": holder.address, "spender": w.broker, "value": GPUC, "nonce": w.gpuc.one("nonces", holder.address),
           "deadline": deadline}
    sig = Account.sign_typed_data(holder.key, {"name": name, "version": version, "chainId": chain_id,
                                               "verifyingContract": verifying}, PERMIT_TYPES, msg)
    return holder.address, w.broker, GPUC, deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")


def _batch(w: World, *calls: tuple) -> tuple:
    """`multicall`'s argument: each (function, args) of the market encoded as calldata."""
    from eth_abi import encode

    out = []
    for fn, args in calls:
        f = w.market._fns[fn]
        out.append(f.selector + encode(f.inputs, list(args)))
    return (out,)


def _signed_offer(w: World, provider: str | None = None) -> tuple:
    """A signed offer of 4 GPUs in mUSD and its signature: by a provider with a known key (registered
    and staked here), or for `provider` unsigned (enough to cancel: only its provider may)."""
    from eth_account import Account

    from gpumarket.signed import Domain, SignedOffer, digest, sign_digest

    key = b"\x33" * 32
    if provider is None:
        provider = Account.from_key(key).address
        w.chain.fund_eth(provider)
        w.gpuc.call(w.treasury, "transfer", provider, 1_000 * GPUC)
        w.gpuc.call(provider, "approve", w.registry.address, MAX)
        w.registry.call(provider, "register", "ipfs://keyed")
        w.registry.call(provider, "stake", 1_000 * GPUC)
    offer = SignedOffer(provider=provider, gpu_model="H100-SXM-80GB", region="EU-FRA", payment_token=w.usd.address,
                        price_per_gpu_hour=PRICE, gpus=4, min_hours=1, max_hours=10, expiry=w.chain.time + DAY, nonce=1)
    _, _, _, chain_id, market, _, _ = w.market.view("eip712Domain")
    return offer.as_tuple(), sign_digest(key, digest(offer, Domain(chain_id, market)))


def _not_signer(w: World, caller: str, args: tuple) -> dict:
    return {"offerHash": w.market.one("hashSignedOffer", args[0]), "caller": caller}


OFFER = ("H100-SXM-80GB", "EU-FRA", None, PRICE, 4, 1, 10, ZERO, 0, [])
M, R, T = "ComputeMarket", "ProviderRegistry", "ComputeToken"
NOT_OFFER_PROVIDER = _of_first_arg("MarketNotOfferProvider", "offerId")
NOT_PROVIDER, NOT_RENTER = _of_first_arg("MarketNotProvider", "rentalId"), _of_first_arg("MarketNotRenter", "rentalId")
SELF_RENTAL = Deny("MarketSelfRental", lambda w, caller, args: {"offerId": w.offer, "provider": w.provider})
NOT_REGISTERED = _caller("RegistryNotRegistered", "provider")
NOTHING_UNBONDING = _caller("RegistryNothingUnbonding", "provider")
NOT_MARKET = _caller("RegistryCallerNotMarket")

ROWS: list[Row] = [
    # ── offers: providers only; an offer only by its own provider ──
    Row(M, "createOffer", lambda w: ((*OFFER[:2], w.usd.address, *OFFER[3:]),), PROVIDERS,
        _caller("MarketProviderNotActive", "provider"), note="registered with bonded stake ≥ minStake"),
    Row(M, "updateOffer", lambda w: (w.offer, PRICE + 1, 8, 1, 100, ZERO, 500, []), frozenset({"provider"}),
        NOT_OFFER_PROVIDER),
    Row(M, "pauseOffer", lambda w: (w.offer,), frozenset({"provider"}), NOT_OFFER_PROVIDER),
    Row(M, "resumeOffer", lambda w: (w.market.call(w.provider, "pauseOffer", w.offer), (w.offer,))[1],
        frozenset({"provider"}), NOT_OFFER_PROVIDER),
    Row(M, "closeOffer", lambda w: (w.offer,), frozenset({"provider"}), NOT_OFFER_PROVIDER),
    # ── rentals ──
    Row(M, "openRental", lambda w: (w.offer, 1, 10, PRICE, ZERO, 0), ANYONE - {"provider"}, other={"provider": SELF_RENTAL},
        note="anyone but the offer's provider; the caller pays"),
    Row(M, "openRentalFor", lambda w: (w.renter, w.offer, 1, 10, PRICE, ZERO, 0), ANYONE - {"provider"},
        other={"provider": SELF_RENTAL}, note="anyone but the offer's provider; the caller pays"),
    Row(M, "openSignedRental", lambda w: (*_signed_offer(w), w.renter, 1, 10, PRICE, ZERO, 0), ANYONE,
        note="anyone fills a signed offer for a renter; the caller pays (the signer is not a role here)"),
    Row(M, "bookCluster", lambda w: (w.renter, 10, [(w.offer, 1)], [(*_signed_offer(w), 1)], 2**128, ZERO, 0),
        ANYONE - {"provider"}, other={"provider": SELF_RENTAL},
        note="anyone but a part's provider; the caller pays the whole cluster"),
    Row(M, "cancelSignedOffer", lambda w: (_signed_offer(w, w.provider)[0],), frozenset({"provider"}),
        Deny("MarketNotSignedOfferProvider", _not_signer), note="only the signed offer's provider"),
    Row(M, "cancelSignedOffersBelow", lambda w: (5,), ANYONE, note="anyone, for its own signed offers only"),
    Row(M, "activate", lambda w: (w.open(),), frozenset({"provider"}), NOT_PROVIDER),
    Row(M, "claim", _claimable, ANYONE, pays=lambda w: {w.provider}, note="anyone; pays only the provider"),
    Row(M, "claimMany", lambda w: ([_claimable(w)[0]],), ANYONE, pays=lambda w: {w.provider},
        note="anyone; pays only the providers"),
    Row(M, "extend", lambda w: (w.active(), 1), frozenset({"renter"}), NOT_RENTER),
    Row(M, "stopRental", lambda w: (w.active(),), frozenset({"renter"}), NOT_RENTER),
    Row(M, "cancelPending", lambda w: (w.open(),), frozenset({"renter"}), NOT_RENTER),
    Row(M, "release", _settleable, ANYONE, pays=lambda w: {w.provider}, note="anyone; pays only the provider"),
    Row(M, "multicall", lambda w: _batch(w, ("claim", _claimable(w)), ("withdrawProtocolFees", (w.usd.address,))),
        ANYONE, pays=lambda w: {w.provider, w.treasury},
        note="anyone; every call in the batch keeps its own checks with the caller as msg.sender"),
    # ── disputes ──
    Row(M, "dispute", lambda w: (w.active(), b"\x01" * 32), frozenset({"renter"}), NOT_RENTER),
    Row(M, "resolveDispute", lambda w: (_disputed(w), 5000, 10 * GPUC), frozenset({"arbiter"}), _caller("MarketNotArbiter")),
    Row(M, "applyDefaultRuling", _then(_disputed, lambda w: (w.chain.warp(7 * DAY), (w.market.uint("nextRentalId") - 1,))[1]),
        ANYONE, pays=lambda w: {w.provider, w.payer}, note="anyone, after the timeout; pays provider and payer"),
    # ── fees and credits ──
    Row(M, "withdrawProtocolFees", _fees_booked, ANYONE, pays=lambda w: {w.treasury}, note="anyone; pays only the treasury"),
    Row(M, "withdrawCredits", _then(_fees_booked, lambda w: (w.usd.address,)), frozenset({"broker"}),
        Deny("MarketNoFees", lambda w, caller, args: {"account": caller, "token": args[0]}),
        note="only an account with credits, to itself (here: the broker's fee)"),
    # ── owner ──
    *(_owner(M, fn, *args) for fn, args in (
        ("setProtocolFee", (50,)), ("setTreasury", ("0x" + "77" * 20,)), ("setArbiter", ("0x" + "78" * 20,)),
        ("setPaymentToken", ("0x" + "79" * 20, True)), ("setStakePerGpu", (GPUC,)), ("setActivationWindow", (2 * HOUR,)),
        ("setDisputeWindow", (2 * DAY,)), ("setNoShowPenalty", (500,)), ("setArbitrationTimeout", (3 * DAY,)),
        ("setSlashTreasuryShare", (1000,)), ("pause", ()), ("transferOwnership", ("0x" + "7a" * 20,)))),
    Row(M, "unpause", lambda w: (w.market.call(w.owner, "pause"), ())[1], frozenset({"owner"}), OWNER_ERR),
    Row(M, "acceptOwnership", _pending_owner(M), frozenset({"stranger"}), OWNER_ERR,
        note="only the pending owner (here: stranger)"),
    _owner(M, "renounceOwnership", other={"owner": Deny("MarketRenounceDisabled")}, note="disabled, even for the owner"),
    # ── registry: a provider acts on its own stake ──
    Row(R, "register", lambda w: ("ipfs://spec-2",), ANYONE - PROVIDERS,
        other=dict.fromkeys(PROVIDERS, _caller("RegistryAlreadyRegistered", "provider")), note="anyone, once"),
    Row(R, "updateMetadata", lambda w: ("ipfs://spec-3",), PROVIDERS, NOT_REGISTERED),
    Row(R, "stake", lambda w: (GPUC,), PROVIDERS, NOT_REGISTERED, other={"market": NOT_REGISTERED}),
    Row(R, "stakeWithPermit", lambda w: (GPUC, 0, 27, b"\0" * 32, b"\0" * 32), PROVIDERS, NOT_REGISTERED,
        note="a bad permit is ignored; the existing allowance pays"),
    Row(R, "requestUnbond", lambda w: (GPUC,), PROVIDERS,
        Deny("RegistryInsufficientFreeStake", lambda w, caller, args: {"provider": caller, "free": 0, "needed": args[0]}),
        note="own free stake only"),
    Row(R, "cancelUnbond", _unbonding, PROVIDERS, NOTHING_UNBONDING),
    Row(R, "withdrawUnbonded", lambda w: _unbonding(w, ready=True), PROVIDERS, NOTHING_UNBONDING,
        note="pays only the caller its own unbonded stake"),
    # ── registry: collateral hooks, the market only ──
    Row(R, "lock", lambda w: (w.provider, GPUC), frozenset({"market"}), NOT_MARKET),
    Row(R, "unlock", _then(_locked, lambda w: (w.provider, GPUC)), frozenset({"market"}), NOT_MARKET),
    Row(R, "slash", _then(_locked, lambda w: (w.provider, GPUC, [w.renter], [GPUC])), frozenset({"market"}), NOT_MARKET),
    # ── registry: owner ──
    _owner(R, "setMarket", "0x" + "7b" * 20,
           other={"owner": Deny("RegistryMarketAlreadySet", lambda w, caller, args: {"market": w.market.address})},
           note="set once at deployment: afterwards not even the owner can repoint the hooks"),
    _owner(R, "setUnbondingPeriod", 3 * DAY),
    _owner(R, "setMinStake", 10 * GPUC),
    _owner(R, "transferOwnership", "0x" + "7a" * 20),
    Row(R, "acceptOwnership", _pending_owner(R), frozenset({"stranger"}), OWNER_ERR, note="only the pending owner (here: stranger)"),
    _owner(R, "renounceOwnership", other={"owner": Deny("RegistryRenounceDisabled")}, note="disabled, even for the owner"),
    # ── the token: every holder moves only its own balance ──
    Row(T, "transfer", lambda w: (w.stranger, GPUC), ANYONE - {"market"},
        other={"market": Deny("ERC20InsufficientBalance",
                              lambda w, caller, args: {"sender": caller, "balance": 0, "needed": args[1]})},
        note="own balance only (the market holds no GPUC here)"),
    Row(T, "approve", lambda w: (w.stranger, GPUC), ANYONE),
    Row(T, "transferFrom", _allowance, frozenset({"broker"}),
        Deny("ERC20InsufficientAllowance", lambda w, caller, args: {"spender": caller, "allowance": 0, "needed": args[2]}),
        note="only the approved spender (here: broker)"),
    Row(T, "permit", _permit, ANYONE, note="signature-gated: anyone may relay a valid permit, once"),
]


def _contract(w: World, name: str):
    return {M: w.market, R: w.registry, T: w.gpuc}[name]


def _state_changing(w: World, name: str) -> set[str]:
    abi = w.chain._types[name]["abi"]
    return {i["name"] for i in abi if i["type"] == "function" and i["stateMutability"] not in ("view", "pure")}


def test_matrix_covers_every_state_changing_function():
    w = world()
    for name in (M, R, T):
        rows = {r.fn for r in ROWS if r.contract == name} - {"renounceOwnership"}
        abi = _state_changing(w, name)
        assert not abi - rows, f"{name}: state-changing functions without a row in the access matrix: {sorted(abi - rows)}"
        assert not rows - abi, f"{name}: rows for functions that are gone: {sorted(rows - abi)}"
    cells = sum(r.expect(role) is not None for r in ROWS for role in ROLES)
    print(f"\naccess matrix: {len(ROWS)} functions × {len(ROLES)} roles, {cells} cells tested")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.contract}.{r.fn}")
def test_access(row: Row):
    w = world()
    args = row.setup(w)
    base = w.chain.snapshot()
    watched = [w.role[r] for r in ROLES]
    wrong = {}  # role -> how its outcome differs from the row's
    for role in ROLES:
        want = row.expect(role)
        if want is None:
            continue
        w.chain.restore(base)
        base = w.chain.snapshot()
        before = w.balances(watched) if row.pays else None
        raised = raised_by(lambda: w.send(role, _contract(w, row.contract), row.fn, *args))
        if want != "ok":
            problem = want.expected(w, w.role[role], args).check(raised)
            if problem is not None:
                wrong[role] = problem
        elif raised is not None:
            wrong[role] = f"expected ok, got {Revert(raised)}"
        elif row.pays:
            after = w.balances(watched)
            paid = {a for (a, _), v in after.items() if v > before[(a, _)]}
            allowed = row.pays(w)
            assert paid and paid <= allowed, f"{row.fn} by {role} paid {paid}, only {allowed} may be paid"
    assert not wrong, "\n".join(f"{row.contract}.{row.fn} by {role}: {problem}" for role, problem in wrong.items())


# The market's modules run only by DELEGATECALL from the market (docs/architecture.md): called directly,
# every entry point of theirs reverts, whoever the caller. (Their inherited Ownable functions only touch
# the module's own, unused owner slot.)
MODULE_ENTRY_POINTS = {
    "OfferModule": {"createOffer", "updateOffer", "pauseOffer", "resumeOffer", "closeOffer"},
    "DisputeModule": {"dispute", "resolveDispute", "applyDefaultRuling"},
    "AdminModule": {"setProtocolFee", "setTreasury", "setArbiter", "setPaymentToken", "setStakePerGpu",
                    "setActivationWindow", "setDisputeWindow", "setNoShowPenalty", "setArbitrationTimeout",
                    "setSlashTreasuryShare", "pause", "unpause"},
    "BookingModule": {"openSignedRental", "bookCluster", "cancelSignedOffer", "cancelSignedOffersBelow"},
}
OWNABLE = {"transferOwnership", "acceptOwnership", "renounceOwnership"}


@pytest.mark.parametrize("module", sorted(MODULE_ENTRY_POINTS))
def test_modules__every_entry_point__refuses_a_direct_call(module):
    from evm import Contract
    from reverts import reverts

    w = world()
    address = "0x%040x" % w.market.one({"OfferModule": "offerModule", "DisputeModule": "disputeModule",
                                        "AdminModule": "adminModule", "BookingModule": "bookingModule"}[module])
    contract = Contract(w.chain, module, address)
    entry_points = _state_changing(w, module) - OWNABLE
    assert entry_points == MODULE_ENTRY_POINTS[module], f"{module}'s entry points changed: {sorted(entry_points)}"
    # Each one is also a function of the market that forwards to it, with the same signature.
    market_fns = {n: f.selector for n, f in w.market._fns.items()}
    for fn in entry_points:
        assert contract._fns[fn].selector == market_fns[fn], f"{module}.{fn} and ComputeMarket.{fn} differ"
    for fn in sorted(entry_points):
        args = [_zero(t) for t in contract._fns[fn].inputs]
        for role in ("owner", "provider", "renter", "arbiter", "stranger"):
            with reverts("MarketModuleCalledDirectly", module=address):
                contract.call(w.role[role], fn, *args)


def _zero(t: str):
    """A well-formed zero value of the ABI type `t` (tuples: of their components)."""
    if t.endswith("[]"):
        return []
    if t.startswith("("):
        parts, depth, cur = [], 0, ""
        for ch in t[1:-1]:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += (ch == "(") - (ch == ")")
            cur += ch
        return tuple(_zero(c) for c in [*parts, cur] if c)
    return {"address": ZERO, "bool": False, "string": "", "bytes32": b"\0" * 32, "bytes": b""}.get(t, 0)
