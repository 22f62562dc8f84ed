"""The bounds SECURITY.md promises, on the in-process EVM: stake cannot escape a slash, the arbiter
moves at most the frozen escrow plus that rental's collateral, and the owner's parameters are bounded
and never reach money already in escrow."""

from __future__ import annotations

import pytest
from world import DAY, GPUC, HOUR, PRICE, ZERO, world

from rental_model import BPS, ceil_div, dispute_bond, split_claim, stop_charge
from reverts import reverts


# ───────────────────────────── stake ─────────────────────────────


def test_unbonding__withdraw_waits_the_full_period_to_the_second():
    w = world()
    reg, p = w.registry, w.provider
    period = reg.uint("unbondingPeriod")
    reg.call(p, "requestUnbond", 5 * GPUC)
    ready = w.chain.time + period
    w.chain.warp(period - 1)
    with reverts("RegistryUnbondingNotReady", provider=p, readyAt=ready, nowTime=ready - 1):
        reg.call(p, "withdrawUnbonded")
    w.chain.warp(1)
    was, staked = w.gpuc.uint("balanceOf", p), reg.view("providerOf", p)[0]
    assert reg.call(p, "withdrawUnbonded") == (5 * GPUC,)
    assert w.gpuc.uint("balanceOf", p) - was == 5 * GPUC and reg.view("providerOf", p)[:4] == (staked - 5 * GPUC, 0, 0, 0)


def test_unbonding__a_new_request_restarts_the_clock_and_cancel_restores_the_bond():
    w = world()
    reg, p = w.registry, w.provider
    period = reg.uint("unbondingPeriod")
    reg.call(p, "requestUnbond", GPUC)
    w.chain.warp(period // 2)
    reg.call(p, "requestUnbond", GPUC)
    ready = w.chain.time + period
    assert reg.view("providerOf", p)[2:4] == (2 * GPUC, ready)
    w.chain.warp(period - 1)
    with reverts("RegistryUnbondingNotReady", provider=p, readyAt=ready, nowTime=ready - 1):
        reg.call(p, "withdrawUnbonded")
    reg.call(p, "cancelUnbond")
    assert reg.view("providerOf", p)[2:4] == (0, 0)
    with reverts("RegistryNothingUnbonding", provider=p):
        reg.call(p, "withdrawUnbonded")


def test_unbonding__locked_collateral_cannot_start_unbonding():
    """A provider cannot escape a slash by unbonding the stake that backs a rental."""
    w = world()
    reg, p = w.registry, w.provider
    w.open(gpus=8)  # locks 8 × 100 GPUC
    free = reg.one("freeStakeOf", p)
    staked, locked = reg.view("providerOf", p)[:2]
    assert free == staked - locked and locked == 800 * GPUC
    with reverts("RegistryInsufficientFreeStake", provider=p, free=free, needed=free + 1):
        reg.call(p, "requestUnbond", free + 1)
    reg.call(p, "requestUnbond", free)
    assert reg.one("freeStakeOf", p) == 0


def test_unbonding__below_min_stake__the_provider_takes_no_new_business():
    w = world()
    reg, p = w.registry, w.provider
    staked, min_stake = reg.view("providerOf", p)[0], reg.uint("minStake")
    reg.call(p, "requestUnbond", staked - min_stake + 1)
    assert reg.one("isActive", p) == 0
    with reverts("RegistryProviderNotActive", provider=p, bonded=min_stake - 1, minStake=min_stake):
        w.open()
    with reverts("MarketProviderNotActive", provider=p):
        w.create_offer()


def test_no_show__slash_is_the_penalty_share_of_that_rentals_collateral():
    w = world()
    rid = w.open(gpus=4)
    collateral = w.rental(rid).collateral
    staked = w.registry.view("providerOf", w.provider)[0]
    was = w.gpuc.uint("balanceOf", w.renter)
    w.chain.warp(w.market.uint("activationWindow") + 1)
    assert w.market.call(w.renter, "cancelPending", rid) == (4 * PRICE * 10,)
    penalty = collateral * w.market.uint("noShowPenaltyBps") // BPS
    assert w.gpuc.uint("balanceOf", w.renter) - was == penalty > 0
    assert w.registry.view("providerOf", w.provider)[:2] == (staked - penalty, 0)


# ───────────────────────────── the arbiter ─────────────────────────────


def _dispute(w, gpus=2, hours=10, elapsed=3 * HOUR):
    rid = w.active(gpus=gpus, hours=hours, payer=w.payer, broker=w.broker, broker_bps=200)
    w.chain.warp(elapsed)
    w.market.call(w.renter, "dispute", rid, b"\x03" * 32)
    return rid


@pytest.mark.parametrize("share,slash_pct", [(0, 100), (10_000, 0), (3333, 50), (9999, 0), (10_000, 1)])
def test_arbiter__moves_exactly_the_frozen_escrow_the_bond_and_at_most_the_collateral(share, slash_pct):
    w = world()
    other = w.active(gpus=1, hours=5)  # another rental: the ruling must not touch it
    rid = _dispute(w)
    frozen, bond, collateral, _, _ = w.market.view("disputeOf", rid)
    rate = 2 * PRICE
    assert frozen == stop_charge(rate * 10, 0, 3 * HOUR, 10) == 3 * rate  # billed as a stop at 3 h
    assert bond == dispute_bond(frozen, 3 * HOUR, 7 * DAY, DAY) == ceil_div(rate * 8 * DAY, DAY)  # 8 h of rent
    slash = collateral * slash_pct // 100
    watch = [w.provider, w.payer, w.renter, w.treasury]
    before = w.balances(watch)
    market_before = w.usd.uint("balanceOf", w.market.address)
    staked = w.registry.view("providerOf", w.provider)[0]
    other_before = w.rental(other)
    w.market.call(w.arbiter, "resolveDispute", rid, share, slash)
    after = w.balances(watch)
    gross = frozen * share // BPS
    lost = slash > 0 or gross < frozen  # the ruling took something from the provider: the bond goes back
    net, proto, brok = split_claim(0, gross, 100, 200)
    usd, gpuc = w.usd.address, w.gpuc.address
    assert after[(w.provider, usd)] - before[(w.provider, usd)] == net + (0 if lost else bond)
    assert after[(w.payer, usd)] - before[(w.payer, usd)] == frozen - gross
    assert after[(w.renter, usd)] - before[(w.renter, usd)] == (bond if lost else 0)
    assert market_before - w.usd.uint("balanceOf", w.market.address) == net + frozen - gross + bond  # fees stay, booked
    to_treasury = slash * w.market.uint("slashTreasuryBps") // BPS
    assert after[(w.renter, gpuc)] - before[(w.renter, gpuc)] == slash - to_treasury
    assert after[(w.treasury, gpuc)] - before[(w.treasury, gpuc)] == to_treasury
    assert w.registry.view("providerOf", w.provider)[:2] == (staked - slash, w.rental(other).collateral)
    assert w.rental(other) == other_before
    assert w.rental(rid).status == 7
    assert w.market.view("reputationOf", w.provider)[2] == (1 if lost else 0)  # disputesLost


def test_arbiter__bounds_share_slash_timeout_and_status():
    w = world()
    rid = _dispute(w)
    _, _, collateral, _, timeout_at = w.market.view("disputeOf", rid)
    assert timeout_at == w.chain.time + w.market.uint("arbitrationTimeout")
    with reverts("MarketInvalidShare", providerShareBps=BPS + 1):
        w.market.call(w.arbiter, "resolveDispute", rid, BPS + 1, 0)
    with reverts("MarketSlashAboveCollateral", rentalId=rid, slashAmount=collateral + 1, collateral=collateral):
        w.market.call(w.arbiter, "resolveDispute", rid, 0, collateral + 1)
    running = w.active()
    with reverts("MarketRentalNotDisputed", rentalId=running, status=2):  # Active
        w.market.call(w.arbiter, "resolveDispute", running, 0, 0)
    with reverts("MarketArbitrationPending", rentalId=rid, timeoutAt=timeout_at):
        w.market.call(w.stranger, "applyDefaultRuling", rid)
    w.chain.warp(w.market.uint("arbitrationTimeout"))  # disputed this second: now the timeout
    with reverts("MarketArbitrationTimedOut", rentalId=rid, timeoutAt=timeout_at):
        w.market.call(w.arbiter, "resolveDispute", rid, 0, 0)
    w.market.call(w.stranger, "applyDefaultRuling", rid)
    with reverts("MarketRentalNotDisputed", rentalId=rid, status=7):  # Resolved
        w.market.call(w.arbiter, "resolveDispute", rid, 0, 0)


def test_default_ruling__the_stop_bill_and_the_bond_to_the_provider_no_slash():
    w = world()
    payer_before = w.usd.uint("balanceOf", w.payer)
    rid = _dispute(w, elapsed=4 * HOUR)
    frozen, bond, _, _, timeout_at = w.market.view("disputeOf", rid)
    total = 2 * PRICE * 10
    assert frozen == stop_charge(total, 0, 4 * HOUR, 10) == 2 * PRICE * 4
    assert w.usd.uint("balanceOf", w.payer) - payer_before == -total + (total - frozen)  # refunded at the dispute
    staked = w.registry.view("providerOf", w.provider)[0]
    was = {who: w.usd.uint("balanceOf", who) for who in (w.payer, w.provider, w.renter)}
    w.chain.set_time(timeout_at)
    w.market.call(w.stranger, "applyDefaultRuling", rid)
    net, _, _ = split_claim(0, frozen, 100, 200)
    got = {who: w.usd.uint("balanceOf", who) - was[who] for who in was}
    assert got == {w.payer: 0, w.provider: net + bond, w.renter: 0}
    assert w.registry.view("providerOf", w.provider)[:2] == (staked, 0)


# ───────────────────────────── the owner ─────────────────────────────

SETTERS = [("setProtocolFee", 1000, 0), ("setStakePerGpu", 10**6 * GPUC, 0), ("setActivationWindow", 7 * DAY, 300),
           ("setDisputeWindow", 30 * DAY, HOUR), ("setNoShowPenalty", 10_000, 0), ("setArbitrationTimeout", 60 * DAY, DAY),
           ("setSlashTreasuryShare", 5000, 0)]


@pytest.mark.parametrize("fn,hi,lo", SETTERS, ids=[s[0] for s in SETTERS])
def test_owner__every_parameter_is_bounded(fn, hi, lo):
    w = world()
    w.market.call(w.owner, fn, hi)
    with reverts("MarketParameterOutOfBounds", value=hi + 1, min=lo, max=hi):
        w.market.call(w.owner, fn, hi + 1)
    w.market.call(w.owner, fn, lo)
    if lo:
        with reverts("MarketParameterOutOfBounds", value=lo - 1, min=lo, max=hi):
            w.market.call(w.owner, fn, lo - 1)


def test_owner__registry_parameters_are_bounded_and_the_market_is_set_once():
    w = world()
    reg = w.registry
    for period in (DAY - 1, 90 * DAY + 1):
        with reverts("RegistryParameterOutOfBounds", value=period, min=DAY, max=90 * DAY):
            reg.call(w.owner, "setUnbondingPeriod", period)
    with reverts("RegistryParameterOutOfBounds", value=10**9 * GPUC + 1, min=0, max=10**9 * GPUC):
        reg.call(w.owner, "setMinStake", 10**9 * GPUC + 1)
    with reverts("RegistryMarketAlreadySet", market=w.market.address):
        reg.call(w.owner, "setMarket", w.stranger)


def test_owner__changes_never_reach_a_running_rental_or_its_escrow():
    """Fee, stake per GPU and activation window are fixed per rental at open; no owner call moves escrow."""
    w = world()
    rid = w.active(gpus=2, hours=10)
    held = w.usd.uint("balanceOf", w.market.address)
    for fn, hi, _ in SETTERS:
        w.market.call(w.owner, fn, hi)
    w.market.call(w.owner, "setTreasury", w.stranger)
    w.market.call(w.owner, "pause")
    assert w.usd.uint("balanceOf", w.market.address) == held
    w.chain.warp(10 * HOUR)
    (gross,) = w.market.call(w.stranger, "claim", rid)
    assert gross == 2 * PRICE * 10
    assert w.market.uint("protocolFees", w.usd.address) == gross * 100 // BPS  # the fee snapshot at open: 1 %


# ───────────────────────────── zero addresses and early release (mutation survivors) ─────────────────────────────


def test_zero_addresses__a_rental_for_nobody_and_a_zero_payment_token_are_refused():
    w = world()
    with reverts("MarketZeroAddress"):
        w.market.call(w.payer, "openRentalFor", ZERO, w.offer, 1, 2, 2**96, ZERO, 0)
    with reverts("MarketZeroAddress"):
        w.market.call(w.owner, "setPaymentToken", ZERO, True)
    assert w.market.uint("nextRentalId") == 1  # nothing opened


def test_slash__a_zero_recipient_is_refused_even_from_the_market():
    """The market never names the zero address, but the registry does not rely on it: a slash that
    would burn stake into address(0) reverts and leaves the collateral locked."""
    w = world()
    w.open(gpus=2)
    locked = w.registry.view("providerOf", w.provider)[1]
    with reverts("RegistryInvalidRecipient", index=1):
        w.send("market", w.registry, "slash", w.provider, GPUC, [w.renter, ZERO], [GPUC // 2, GPUC // 2])
    assert w.registry.view("providerOf", w.provider)[1] == locked


def test_release__a_running_rental_cannot_be_ended_before_its_end():
    """release() on an Active rental before endsAt reverts: nobody can take a renter's GPUs back early."""
    w = world()
    rid = w.active(gpus=2, hours=3)
    ends = w.rental(rid).endsAt
    w.chain.warp(ends - w.chain.time - 1)
    with reverts("MarketRentalNotReleasable", rentalId=rid, status=2, releasableAt=ends):
        w.market.call(w.stranger, "release", rid)
    assert w.rental(rid).status == 2 and w.market.view("getOffer", w.offer)[2] == 2  # still Active, GPUs held


def test_release__settlement_unlocks_the_collateral():
    w = world()
    reg, p = w.registry, w.provider
    free = reg.one("freeStakeOf", p)
    rid = w.active(gpus=3, hours=2)
    assert reg.one("freeStakeOf", p) == free - 3 * 100 * GPUC
    w.chain.warp(w.rental(rid).endsAt + w.market.uint("disputeWindow") - w.chain.time)
    w.market.call(w.stranger, "release", rid)
    assert w.rental(rid).status == 5  # Settled
    assert reg.one("freeStakeOf", p) == free and reg.view("providerOf", p)[1] == 0
