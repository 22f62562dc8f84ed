"""Adversarial scenarios (SECURITY.md, "Attacks considered"), on the in-process EVM.

Beside tests/invariants/test_hostile_tokens.py (a state machine with fee-on-transfer, re-entrant,
false-returning and blocklisting payment tokens, plus one focused test per token), this file pins:

- re-entrancy through a hostile payment token into every guarded entry point, from every function
  that moves a token (market and registry);
- a provider front-running a renter with a price rise or a withdrawn discount (the max-price guard);
- dust rentals, and opening and cancelling to hold a provider's capacity;
- a malicious broker (a contract that reverts on any call; a blocklisted one; the market itself);
- permit replay (the only signatures in the protocol: there are no signed offers).
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from world import DAY, GPUC, HOUR, MAX, PRICE, USD, ZERO, rental_view, world

from gpumarket.permit import PERMIT_TYPES
from rental_model import BPS, ceil_div, split_claim
from reverts import ExpectedRevert, reverts
from test_hostile_tokens import GUARD, SELECTOR, hostile_system

# Every market entry point behind `nonReentrant`, with arguments a re-entry would plausibly use.
GUARDED = {
    "openRental": lambda s, rid, oid: (oid, 1, 1, 2**96, ZERO, 0),
    "openRentalFor": lambda s, rid, oid: (s.renters[1], oid, 1, 1, 2**96, ZERO, 0),
    "claim": lambda s, rid, oid: (rid,),
    "claimMany": lambda s, rid, oid: ([rid, rid],),
    "extend": lambda s, rid, oid: (rid, 1),
    "stopRental": lambda s, rid, oid: (rid,),
    "cancelPending": lambda s, rid, oid: (rid,),
    "release": lambda s, rid, oid: (rid,),
    "dispute": lambda s, rid, oid: (rid, b"\0" * 32),
    "resolveDispute": lambda s, rid, oid: (rid, 5000, 0),
    "applyDefaultRuling": lambda s, rid, oid: (rid,),
    "withdrawProtocolFees": lambda s, rid, oid: (s.ret.address,),
    "withdrawCredits": lambda s, rid, oid: (s.ret.address,),
}


def _calldata(contract, fn: str, args: tuple) -> bytes:
    f = contract._fns[fn]
    return f.selector + encode(f.inputs, list(args))


def _reentry_world():
    s = hostile_system()
    s.reset()
    p, renter = s.providers[0], s.renters[0]
    (oid,) = s.market.call(p, "createOffer", ("H100", "EU", s.ret.address, 2 * GPUC, 8, 1, 100, ZERO, 500, []))
    return s, p, renter, oid


def _open(s, renter, oid, hours=10, broker=ZERO, bps=0):
    return s.market.call(renter, "openRental", oid, 1, hours, MAX, broker, bps)[0]


# Each function that moves the payment token: (prepare the state, the call) → the call's (caller, fn, args).
def _prep_open(s, p, renter, oid):
    return renter, "openRental", (oid, 1, 10, MAX, ZERO, 0)


def _prep_open_for(s, p, renter, oid):
    return s.payers[0], "openRentalFor", (renter, oid, 1, 10, MAX, ZERO, 0)


def _prep_extend(s, p, renter, oid):
    rid = _open(s, renter, oid)
    s.market.call(p, "activate", rid)
    return renter, "extend", (rid, 2)


def _prep_claim(s, p, renter, oid):
    rid = _open(s, renter, oid, broker=s.brokers[0], bps=300)
    s.market.call(p, "activate", rid)
    s.chain.warp(HOUR)
    return s.stranger, "claim", (rid,)


def _prep_claim_many(s, p, renter, oid):
    caller, _, (rid,) = _prep_claim(s, p, renter, oid)
    return caller, "claimMany", ([rid],)


def _prep_stop(s, p, renter, oid):
    rid = _open(s, renter, oid)
    s.market.call(p, "activate", rid)
    s.chain.warp(2 * HOUR)
    return renter, "stopRental", (rid,)


def _prep_cancel(s, p, renter, oid):
    return renter, "cancelPending", (_open(s, renter, oid),)


def _prep_release_no_show(s, p, renter, oid):
    rid = _open(s, renter, oid)
    s.chain.warp(HOUR + 1)
    return s.stranger, "release", (rid,)


def _prep_release_settle(s, p, renter, oid):
    rid = _open(s, renter, oid, hours=2)
    s.market.call(p, "activate", rid)
    s.chain.warp(2 * HOUR + DAY)
    return s.stranger, "release", (rid,)


def _prep_disputed(s, p, renter, oid):
    rid = _open(s, renter, oid)
    s.market.call(p, "activate", rid)
    s.chain.warp(HOUR)
    s.market.call(renter, "dispute", rid, b"\x01" * 32)
    return rid


def _prep_dispute(s, p, renter, oid):
    rid = _open(s, renter, oid)
    s.market.call(p, "activate", rid)
    s.chain.warp(HOUR)
    return renter, "dispute", (rid, b"\x01" * 32)  # refunds the unused part, pulls the bond


def _prep_resolve(s, p, renter, oid):
    return s.arbiter, "resolveDispute", (_prep_disputed(s, p, renter, oid), 5000, 10 * GPUC)


def _prep_default_ruling(s, p, renter, oid):
    rid = _prep_disputed(s, p, renter, oid)
    s.chain.warp(7 * DAY)
    return s.stranger, "applyDefaultRuling", (rid,)


def _prep_fees(s, p, renter, oid):
    caller, fn, args = _prep_claim(s, p, renter, oid)
    s.market.call(caller, fn, *args)
    return s.stranger, "withdrawProtocolFees", (s.ret.address,)


def _prep_credits(s, p, renter, oid):
    _prep_fees(s, p, renter, oid)
    return s.brokers[0], "withdrawCredits", (s.ret.address,)


TRANSFERRING = {f.__name__[6:]: f for f in (
    _prep_open, _prep_open_for, _prep_extend, _prep_claim, _prep_claim_many, _prep_stop, _prep_cancel,
    _prep_release_no_show, _prep_release_settle, _prep_dispute, _prep_resolve, _prep_default_ruling, _prep_fees, _prep_credits)}


@pytest.mark.parametrize("case", TRANSFERRING)
def test_reentrancy__every_guarded_entry_point_from_every_transfer__fails_on_the_guard(case):
    """The REENT token calls back into the market inside the transfer (record mode: the transfer goes
    on). Every re-entry into every guarded entry point must fail with the guard's error; the
    outer call completes exactly as without the hook."""
    s, p, renter, oid = _reentry_world()
    caller, fn, args = TRANSFERRING[case](s, p, renter, oid)
    rid = max(s.market.uint("nextRentalId") - 1, 1)  # the latest rental: what a re-entry would aim at
    base = s.chain.snapshot()
    # The outer call's outcome without any hook, for comparison.
    (plain,) = s.market.call(caller, fn, *args) or (None,)
    for target, make in GUARDED.items():
        s.chain.restore(base)
        base = s.chain.snapshot()
        s.ret.call(s.owner, "arm", s.market.address, _calldata(s.market, target, make(s, max(rid, 1), oid)), False)
        (got,) = s.market.call(caller, fn, *args) or (None,)
        assert got == plain, f"{fn} returned {got} under re-entry into {target}, {plain} without"
        attempts, successes = s.ret.uint("reentries"), s.ret.uint("reentrySuccesses")
        assert attempts >= 1 and successes == 0, f"{fn} → {target}: {attempts} re-entries, {successes} succeeded"
        assert bytes(s.ret.one("lastRevert")) == SELECTOR[GUARD], f"{fn} → {target}: not stopped by the guard"


@pytest.mark.parametrize("target,error", [("activate", "MarketNotProvider"), ("pauseOffer", "MarketNotOfferProvider")])
def test_reentrancy__unguarded_entry_points__refuse_the_token_as_caller(target, error):
    """Entry points without the guard check the caller's role, and a re-entering token has none: a
    re-entry into them (aimed at another rental, in the state where its own role would succeed) fails."""
    s, p, renter, oid = _reentry_world()
    aimed, trigger = _open(s, renter, oid), _open(s, renter, oid)
    args = {"activate": (aimed,), "pauseOffer": (oid,)}[target]
    s.ret.call(s.owner, "arm", s.market.address, _calldata(s.market, target, args), False)
    s.market.call(renter, "cancelPending", trigger)  # pushes the refund: the hook fires
    assert s.ret.uint("reentries") == 1 and s.ret.uint("reentrySuccesses") == 0
    expected = ExpectedRevert(error, **{"offerId" if target == "pauseOffer" else "rentalId": args[0]},
                              caller=s.ret.address)  # the re-entering token is the caller
    problem = expected.check(bytes(s.ret.one("lastRevert")))
    assert problem is None, f"the re-entry into {target}: {problem}"


def test_reentrancy__registry_with_a_reentrant_stake_token__stake_withdraw_slash_are_guarded():
    """The registry's stake token is ComputeToken (no hooks); its entry points are guarded anyway. A
    registry deployed on the REENT token shows it: re-entries from stake, withdrawUnbonded and slash fail."""
    s = hostile_system()
    s.reset()
    c, p, hook = s.chain, s.providers[0], s.stranger  # `hook`: an EOA standing in as the market
    reg = c.deploy(s.owner, "ProviderRegistry", ["address", "address", "uint256", "uint256"],
                   [s.ret.address, s.owner, DAY, 0])
    reg.call(s.owner, "setMarket", hook)
    s.ret.call(p, "mint", p, 10**6 * GPUC)
    s.ret.call(p, "approve", reg.address, MAX)
    reg.call(p, "register", "ipfs://x")
    reg.call(p, "stake", 10 * GPUC)
    reg.call(p, "requestUnbond", GPUC)
    reg.call(hook, "lock", p, GPUC)
    c.warp(DAY)
    # (re-entry aimed at, the call whose transfer fires the hook)
    for aimed, trigger in ((("stake", (GPUC,)), ("withdrawUnbonded", ())), (("withdrawUnbonded", ()), ("stake", (GPUC,)))):
        s.ret.call(s.owner, "arm", reg.address, _calldata(reg, *aimed), False)
        before = s.ret.uint("reentries")
        reg.call(p, trigger[0], *trigger[1])
        assert s.ret.uint("reentries") == before + 1 and s.ret.uint("reentrySuccesses") == 0
        assert bytes(s.ret.one("lastRevert")) == SELECTOR[GUARD]
    s.ret.call(s.owner, "arm", reg.address, _calldata(reg, "stake", (GPUC,)), False)
    reg.call(hook, "slash", p, GPUC, [s.renters[0]], [GPUC])
    assert s.ret.uint("reentrySuccesses") == 0 and bytes(s.ret.one("lastRevert")) == SELECTOR[GUARD]
    staked, locked, unbonding, _, _ = reg.view("providerOf", p)
    assert (staked, locked, unbonding) == (11 * GPUC - GPUC - GPUC, 0, 0)
    assert s.ret.uint("balanceOf", reg.address) == staked


# ───────────────────────────── front-running: the max-price guard ─────────────────────────────


def _no_trace(w, payer):
    return w.market.uint("nextRentalId"), w.market.view("getOffer", w.offer)[2], w.usd.uint("balanceOf", payer), \
        w.registry.view("providerOf", w.provider)[1]


def test_front_run__price_rise_before_open__reverts_on_max_price_and_moves_nothing():
    w = world()
    (cost, _, _) = w.market.view("quote", w.offer, 2, 10)
    w.market.call(w.provider, "updateOffer", w.offer, PRICE + 1, 8, 1, 100, ZERO, 500, [])  # in front
    before = _no_trace(w, w.renter)
    with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE + 1, maxPrice=PRICE):
        w.market.call(w.renter, "openRental", w.offer, 2, 10, PRICE, ZERO, 0)
    assert _no_trace(w, w.renter) == before
    assert cost == 2 * PRICE * 10


def test_front_run__withdrawn_discount_tier__reverts_on_the_effective_price():
    """The guard is on the effective price per GPU-hour, discount included: removing a tier in front
    of a renter who priced it in is a price rise, and is refused the same way."""
    w = world()
    oid = w.create_offer(tiers=[(16, 1000)])  # 10 % off from 16 GPU-hours
    (cost, discount, rate) = w.market.view("quote", oid, 2, 10)
    effective = ceil_div(rate, 2)
    assert discount == 1000 and effective < PRICE
    w.market.call(w.provider, "updateOffer", oid, PRICE, 8, 1, 100, ZERO, 500, [])  # tier withdrawn in front
    with reverts("MarketPriceAboveMax", offerId=oid, price=PRICE, maxPrice=effective):
        w.market.call(w.renter, "openRental", oid, 2, 10, effective, ZERO, 0)


def test_front_run__price_cut__charges_the_new_lower_price():
    w = world()
    w.market.call(w.provider, "updateOffer", w.offer, PRICE // 2, 8, 1, 100, ZERO, 500, [])
    was = w.usd.uint("balanceOf", w.renter)
    rid = w.open(gpus=2, hours=10, max_price=PRICE)
    assert was - w.usd.uint("balanceOf", w.renter) == 2 * (PRICE // 2) * 10 == w.rental(rid).total


def test_front_run__capacity_cut__reverts_and_moves_nothing():
    w = world()
    w.market.call(w.provider, "updateOffer", w.offer, PRICE, 1, 1, 100, ZERO, 500, [])
    before = _no_trace(w, w.renter)
    with reverts("MarketInsufficientCapacity", offerId=w.offer, available=1, requested=2):
        w.open(gpus=2)
    assert _no_trace(w, w.renter) == before


def test_front_run__repricing_never_reaches_a_running_rental():
    """Extensions run at the rental's own rate: a price rise after open changes nothing for it."""
    w = world()
    rid = w.active(gpus=2, hours=10)
    w.market.call(w.provider, "updateOffer", w.offer, PRICE * 3, 8, 1, 100, ZERO, 500, [])
    (cost,) = w.market.call(w.renter, "extend", rid, 5)
    assert cost == 2 * PRICE * 5


# ───────────────────────────── griefing: dust rentals, open-and-cancel ─────────────────────────────


def test_dust__one_unit_rental__conserves_to_the_unit_and_fees_never_exceed_the_claim():
    w = world()
    oid = w.create_offer(price=1, gpus=4, max_broker_bps=1000)
    rid = w.active(offer=oid, gpus=1, hours=3, broker=w.broker, broker_bps=1000)  # deposit 3 units
    paid, fees = 0, 0
    for _ in range(3):
        w.chain.warp(HOUR)
        before = w.usd.uint("balanceOf", w.provider)
        (gross,) = w.market.call(w.stranger, "claim", rid)
        net = w.usd.uint("balanceOf", w.provider) - before
        assert net <= gross
        paid += net
        fees += gross - net
    w.chain.warp(DAY)
    w.market.call(w.stranger, "release", rid)
    booked = w.market.uint("protocolFees", w.usd.address) + w.market.uint("credits", w.broker, w.usd.address)
    assert paid + booked == 3 and fees == booked == sum(split_claim(0, 3, 100, 1000)[1:])


def test_dust__open_and_stop_at_once__costs_at_least_one_hour():
    """Opening and stopping at once cannot hold a provider's GPUs for free: the stop bills one hour."""
    w = world()
    rid = w.active(gpus=8, hours=10)
    w.chain.warp(1)
    (refund,) = w.market.call(w.renter, "stopRental", rid)
    assert refund == 8 * PRICE * 9  # 10 hours paid, one billed


def test_dust__below_the_offers_minimum__is_refused():
    w = world()
    oid = w.create_offer(min_hours=24, max_hours=100)
    with reverts("MarketInvalidGpuCount", gpus=0):
        w.open(offer=oid, gpus=0, hours=24)
    with reverts("MarketInvalidHours", hoursRequested=23, minHours=24, maxHours=100):
        w.open(offer=oid, gpus=1, hours=23)


def test_griefing__open_then_cancel_before_activation__is_free_but_bounded():
    """Known and accepted (SECURITY.md): a renter may open and cancel before activation for a full
    refund. What it can hold is bounded: the offer's capacity for at most one activation window, and
    the provider ends the free option at any time by activating (then a stop bills ≥ one hour)."""
    w = world()
    window = w.market.uint("activationWindow")
    free_before = w.registry.one("freeStakeOf", w.provider)
    was = w.usd.uint("balanceOf", w.renter)
    rid = w.open(gpus=8, hours=10)  # all the capacity
    assert w.market.view("getOffer", w.offer)[2] == 8
    w.chain.warp(window)  # the last second of the window: still free to cancel
    (refund,) = w.market.call(w.renter, "cancelPending", rid)
    assert refund == 8 * PRICE * 10 and w.usd.uint("balanceOf", w.renter) == was
    assert w.market.view("getOffer", w.offer)[2] == 0 and w.registry.one("freeStakeOf", w.provider) == free_before
    # The provider's answer: activate at once. The free option is gone; leaving now costs an hour.
    rid = w.open(gpus=8, hours=10)
    w.market.call(w.provider, "activate", rid)
    with reverts("MarketRentalNotPending", rentalId=rid, status=2):  # Active
        w.market.call(w.renter, "cancelPending", rid)
    (refund,) = w.market.call(w.renter, "stopRental", rid)
    assert refund == 8 * PRICE * 9


def test_griefing__a_held_rental_is_released_by_anyone_after_the_window():
    """Capacity held by a Pending rental never outlives the activation window: anyone frees it."""
    w = world()
    rid = w.open(gpus=8)
    w.chain.warp(w.market.uint("activationWindow") + 1)
    w.market.call(w.stranger, "release", rid)
    assert w.market.view("getOffer", w.offer)[2] == 0 and w.rental(rid).status == 4  # Cancelled


# ───────────────────────────── a malicious broker ─────────────────────────────


@pytest.mark.parametrize("kind", ["reverting contract", "market itself"])
def test_malicious_broker__never_blocks_settlement(kind):
    """Broker fees are credited, never pushed: a broker that reverts on any call (a contract with no
    receive or fallback) or that can never withdraw (the market's own address) blocks nothing; the
    loss is bounded by the offer's maxBrokerBps, which the provider chose."""
    w = world()
    broker = w.chain.deploy(w.owner, "RentalMathHarness").address if kind == "reverting contract" else w.market.address
    r1 = w.active(gpus=2, hours=4, broker=broker, broker_bps=500)
    r2 = w.active(gpus=2, hours=4, broker=broker, broker_bps=500, payer=w.payer)
    w.chain.warp(HOUR)
    w.market.call(w.stranger, "claim", r1)
    w.market.call(w.renter, "stopRental", r1)
    w.market.call(w.renter, "dispute", r2, b"\x02" * 32)
    w.market.call(w.arbiter, "resolveDispute", r2, 5000, 0)
    w.chain.warp(DAY)
    w.market.call(w.stranger, "release", r1)
    assert [w.rental(r).status for r in (r1, r2)] == [5, 7]  # Settled, Resolved
    fee = w.market.uint("credits", broker, w.usd.address)
    assert fee > 0 and (broker == w.market.address or w.usd.uint("balanceOf", broker) == 0)
    assert w.usd.uint("balanceOf", w.market.address) == fee + w.market.uint("protocolFees", w.usd.address)


def test_malicious_broker__zero_address_with_a_fee__is_refused():
    w = world()
    with reverts("MarketInvalidBroker", broker=ZERO, brokerBps=100):
        w.open(broker=ZERO, broker_bps=100)


def test_malicious_broker__blocklisted__settlement_goes_through():
    """With a token that refuses the broker (BLK), nothing changes: the broker is never pushed to."""
    s = hostile_system()
    s.reset()
    p, renter, broker = s.providers[2], s.renters[2], s.brokers[1]
    (oid,) = s.market.call(p, "createOffer", ("H100", "EU", s.blk.address, 2 * USD, 8, 1, 100, ZERO, 500, []))
    (rid,) = s.market.call(renter, "openRental", oid, 2, 4, MAX, broker, 500)
    s.blk.call(s.owner, "setBlocked", broker, True)
    s.market.call(p, "activate", rid)
    s.chain.warp(4 * HOUR + DAY)
    s.market.call(s.stranger, "release", rid)
    assert rental_view(s.market, rid).status == 5
    assert s.market.uint("credits", broker, s.blk.address) == (2 * 2 * USD * 4) * 500 // BPS


# ───────────────────────────── signatures: permit replay ─────────────────────────────


def _keyed_provider(w):
    acct = Account.from_key(b"\x22" * 32)
    w.chain.fund_eth(acct.address)
    w.gpuc.call(w.treasury, "transfer", acct.address, 10_000 * GPUC)
    w.registry.call(acct.address, "register", "ipfs://keyed")
    return acct


def _sign(w, acct, value, deadline):
    _, name, version, chain_id, verifying, _, _ = w.gpuc.view("eip712Domain")
    msg = {"owner": acct.address, "spender": w.registry.address, "value": value,
           "nonce": w.gpuc.one("nonces", acct.address), "deadline": deadline}
    sig = Account.sign_typed_data(acct.key, {"name": name, "version": version, "chainId": chain_id,
                                             "verifyingContract": verifying}, PERMIT_TYPES, msg)
    return sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")


def test_signatures__permits_and_signed_offers__cannot_be_replayed():
    """The signatures the protocol takes: EIP-2612 permits for `stakeWithPermit`, bound to their owner
    (msg.sender), nonce and deadline; and signed offers (`openSignedRental`, `bookCluster`), bound to
    the market's EIP-712 domain (chain and deployment), their expiry and nonce, and recorded once
    (tests/unit/market/test_market_signed_offer.py tests each refusal on anvil)."""
    w = world()
    abi = {i["name"] for c in ("ComputeMarket", "ProviderRegistry") for i in w.chain._types[c]["abi"]
           if i["type"] == "function"}
    assert {n for n in abi if "sig" in n.lower() or "permit" in n.lower()} == \
        {"stakeWithPermit", "openSignedRental", "cancelSignedOffer", "cancelSignedOffersBelow", "hashSignedOffer",
         "SIGNED_OFFER_ID_BASE",
         "signedOfferOf", "signedNonceFloor"}
    acct = _keyed_provider(w)
    deadline = w.chain.time + DAY
    v, r, s_ = _sign(w, acct, 1_000 * GPUC, deadline)
    w.registry.call(acct.address, "stakeWithPermit", 1_000 * GPUC, deadline, v, r, s_)
    # Replayed: the nonce is spent, the permit is ignored, and no allowance is left to pull.
    with reverts("ERC20InsufficientAllowance", spender=w.registry.address, allowance=0, needed=1_000 * GPUC):
        w.registry.call(acct.address, "stakeWithPermit", 1_000 * GPUC, deadline, v, r, s_)
    # Someone else's permit does nothing for them: it is checked against the caller, so provider2
    # stakes only what its own allowance covers, and the signer's allowance stays unset.
    v, r, s_ = _sign(w, acct, 1_000 * GPUC, deadline)
    was = w.gpuc.uint("balanceOf", w.provider2)
    w.registry.call(w.provider2, "stakeWithPermit", 1_000 * GPUC, deadline, v, r, s_)
    assert was - w.gpuc.uint("balanceOf", w.provider2) == 1_000 * GPUC
    assert w.gpuc.uint("allowance", acct.address, w.registry.address) == 0
    # Front-run by a relayer who submits the permit first: the stake still goes through, once.
    w.gpuc.call(w.stranger, "permit", acct.address, w.registry.address, 1_000 * GPUC, deadline, v, r, s_)
    w.registry.call(acct.address, "stakeWithPermit", 1_000 * GPUC, deadline, v, r, s_)
    assert w.registry.view("providerOf", acct.address)[0] == 2_000 * GPUC
    _signed_offer_replays(w, acct)


def _signed_offer_replays(w, acct):
    """A signed offer fills where it was signed for; the same signature for a second deployment of the
    market (another verifying contract), or with a term changed, is not its provider's (`acct`, staked)."""
    from gpumarket.signed import Domain, SignedOffer, digest, sign_digest
    offer = SignedOffer(provider=acct.address, gpu_model="H100-SXM-80GB", region="EU-FRA", payment_token=w.usd.address,
                        price_per_gpu_hour=PRICE, gpus=4, min_hours=1, max_hours=10, expiry=w.chain.time + DAY, nonce=1)
    _, _, _, chain_id, market, _, _ = w.market.view("eip712Domain")
    here = Domain(chain_id, market)
    elsewhere = Domain(chain_id, "0x" + "5e" * 20)  # the same market deployed at another address
    replayed = sign_digest(acct.key, digest(offer, elsewhere))
    with reverts("MarketInvalidSignature", offerHash=digest(offer, here), provider=acct.address):
        w.market.call(w.renter, "openSignedRental", offer.as_tuple(), replayed, w.renter, 1, 1, PRICE, ZERO, 0)
    good = sign_digest(acct.key, digest(offer, here))
    cheaper = SignedOffer(**{**offer.__dict__, "price_per_gpu_hour": PRICE - 1})
    with reverts("MarketInvalidSignature", offerHash=digest(cheaper, here), provider=acct.address):
        w.market.call(w.renter, "openSignedRental", cheaper.as_tuple(), good, w.renter, 1, 1, PRICE, ZERO, 0)
    w.market.call(w.renter, "openSignedRental", offer.as_tuple(), good, w.renter, 1, 1, PRICE, ZERO, 0)

