"""What off-chain parties read: the views a renter, an arbiter adapter or an indexer relies on, and
the amounts in the events, checked against what actually moved (on the in-process EVM).

An arbiter adapter acts on `disputeOf` and `RentalDisputed`; a wallet shows `refundableOf` and
`claimableOf`; an indexer books `RentalClaimed` and `DisputeResolved`. A wrong number there misleads
the party that acts on it, even when the balances are right."""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak
from system import MARKET_ARGS
from world import DAY, GPUC, HOUR, PRICE, ZERO, world

from rental_model import BPS, accrued_down, dispute_bond, split_claim, stop_charge
from reverts import reverts

PENDING, ACTIVE, ENDED, CANCELLED, SETTLED, DISPUTED, RESOLVED = range(1, 8)


def _events(w, signature: str, types: list[str]) -> list[tuple]:
    """The data of every `signature` event in the last call's logs."""
    topic = keccak(text=signature)
    out = []
    for log in w.chain.evm.result.logs:
        topics, data = log.data
        if bytes(topics[0]) == topic:
            out.append(decode(types, bytes(data)))
    return out


def test_views__through_a_rental_life():
    w = world()
    m = w.market
    rid = w.open(gpus=2, hours=10, payer=w.payer)
    total = 2 * PRICE * 10
    deadline = w.rental(rid).activationDeadline
    assert (m.one("accruedOf", rid), m.one("claimableOf", rid), m.one("refundableOf", rid)) == (0, 0, total)
    assert m.one("releasableAt", rid) == deadline + 1 and m.one("payerOf", rid) == int(w.payer, 16)
    m.call(w.provider, "activate", rid)
    start, ends = w.chain.time, w.chain.time + 10 * HOUR
    w.chain.warp(3 * HOUR + 17)
    now = w.chain.time
    assert m.one("accruedOf", rid) == accrued_down(total, start, ends, now) == m.one("claimableOf", rid)
    assert m.one("refundableOf", rid) == total - stop_charge(total, start, now, 10)
    assert m.one("releasableAt", rid) == ends + m.uint("disputeWindow")
    m.call(w.stranger, "claim", rid)
    assert m.one("claimableOf", rid) == 0 and m.one("accruedOf", rid) == accrued_down(total, start, ends, now)
    w.chain.set_time(ends)
    assert m.one("refundableOf", rid) == 0 and m.one("accruedOf", rid) == total
    assert m.one("claimableOf", rid) == total - accrued_down(total, start, ends, now)
    w.chain.warp(DAY)
    m.call(w.stranger, "release", rid)
    assert (m.one("accruedOf", rid), m.one("claimableOf", rid), m.one("refundableOf", rid), m.one("releasableAt", rid)) \
        == (total, 0, 0, 0)


def test_views__pending_and_cancelled_accrue_nothing_a_disputed_rental_its_billed_total():
    w = world()
    m = w.market
    pending = w.open()
    disputed = w.active(gpus=1, hours=10)
    w.chain.warp(2 * HOUR)
    m.call(w.renter, "dispute", disputed, b"\x04" * 32)
    billed = stop_charge(PRICE * 10, 0, 2 * HOUR, 10)
    assert billed == PRICE * 2
    assert m.view("disputeOf", disputed) == (
        billed, dispute_bond(billed, 2 * HOUR, 7 * DAY, DAY), 100 * GPUC, w.chain.time,
        w.chain.time + m.uint("arbitrationTimeout"))
    assert m.view("disputeOf", pending) == (0, 0, 0, 0, 0)
    assert (m.one("accruedOf", pending), m.one("claimableOf", pending)) == (0, 0)
    # Billed in full, frozen: accrued but not claimable.
    assert (m.one("accruedOf", disputed), m.one("claimableOf", disputed)) == (billed, 0)
    assert m.one("refundableOf", disputed) == 0 and m.one("releasableAt", disputed) == 0
    m.call(w.arbiter, "resolveDispute", disputed, 2500, 0)
    # Resolved: what the ruling paid the provider in total.
    assert (m.one("accruedOf", disputed), m.one("claimableOf", disputed)) == (billed * 2500 // BPS, 0)
    m.call(w.renter, "cancelPending", pending)
    assert (m.one("refundableOf", pending), m.one("releasableAt", pending), m.one("accruedOf", pending)) == (0, 0, 0)


def test_views__quote_labels_and_tiers_round_trip():
    w = world()
    tiers = [(24, 250), (96, 500), (500, 1000), (2000, 5000)]
    oid = w.create_offer(tiers=tiers)
    assert [tuple(t) for t in w.market.view("offerTiers", oid)[0]] == tiers
    assert w.market.view("offerLabels", oid) == ("H100-SXM-80GB", "AU-QLD")
    for gpus, hours, disc in ((1, 23, 0), (1, 24, 250), (8, 12, 500), (8, 100, 1000), (8, 250, 5000)):
        rate = -(-gpus * PRICE * (BPS - disc) // BPS)
        assert w.market.view("quote", oid, gpus, hours) == (rate * hours, disc, rate)
    assert list(w.market.view("offerTiers", w.offer)[0]) == []
    for n in (1, 2, 3):  # fewer than four: the unpacking stops at the first empty slot
        short = w.create_offer(tiers=tiers[:n])
        assert [tuple(t) for t in w.market.view("offerTiers", short)[0]] == tiers[:n]
    with reverts("MarketInvalidTiers", index=1):
        w.market.call(w.provider, "updateOffer", oid, PRICE, 8, 1, 100, ZERO, 500, [(24, 250), (24, 300)])


def test_reputation__served_completed_lost_slashed():
    w = world()
    m = w.market
    settled = w.active(gpus=2, hours=3)
    lost = w.active(gpus=1, hours=10)
    won = w.active(gpus=1, hours=10)
    no_show = w.open(gpus=4)
    w.chain.warp(HOUR)
    m.call(w.renter, "dispute", lost, b"\x05" * 32)
    m.call(w.renter, "dispute", won, b"\x06" * 32)
    m.call(w.arbiter, "resolveDispute", lost, 0, 10 * GPUC)
    m.call(w.arbiter, "resolveDispute", won, BPS, 0)  # the whole frozen escrow, no slash: not lost
    w.chain.warp(2 * HOUR + DAY)
    m.call(w.stranger, "release", settled)
    m.call(w.stranger, "release", no_show)
    penalty = 400 * GPUC * m.uint("noShowPenaltyBps") // BPS
    served, completed, lost_n, slashed = m.view("reputationOf", w.provider)
    assert (served, completed, lost_n, slashed) == (2 * 3 * HOUR + 1 * HOUR, 2, 1, 10 * GPUC + penalty)


def test_events__claim_stop_cancel_and_ruling_carry_what_moved():
    w = world()
    m = w.market
    rid = w.active(gpus=2, hours=10, broker=w.broker, broker_bps=300)
    w.chain.warp(HOUR)
    (gross,) = m.call(w.stranger, "claim", rid)
    net, pf, bf = split_claim(0, gross, 100, 300)
    claimed = _events(w, "RentalClaimed(uint256,address,uint256,uint256,uint256,uint256)", ["uint256"] * 4)
    assert claimed == [(gross, net, pf, bf)]
    (refund,) = m.call(w.renter, "stopRental", rid)
    assert _events(w, "RentalStopped(uint256,uint256,uint256)", ["uint256", "uint256"]) == [(w.chain.time, refund)]
    pending = w.open(gpus=1)
    w.chain.warp(m.uint("activationWindow") + 1)
    (back,) = m.call(w.renter, "cancelPending", pending)
    assert _events(w, "RentalCancelled(uint256,uint256,uint256)", ["uint256", "uint256"]) == \
        [(back, 100 * GPUC * m.uint("noShowPenaltyBps") // BPS)]
    disputed = w.active(gpus=2, hours=10, payer=w.payer, broker=w.broker, broker_bps=300)
    w.chain.warp(HOUR)
    (bond,) = m.call(w.renter, "dispute", disputed, b"\x07" * 32)
    [(evidence, frozen, refund, bond_)] = _events(w, "RentalDisputed(uint256,address,bytes32,uint256,uint256,uint256)",
                                                  ["bytes32", "uint256", "uint256", "uint256"])
    assert evidence == b"\x07" * 32 and frozen == m.view("disputeOf", disputed)[0] == 2 * PRICE  # one hour billed
    assert (refund, bond_) == (2 * PRICE * 10 - frozen, bond) and bond == dispute_bond(frozen, HOUR, 7 * DAY, DAY)
    m.call(w.arbiter, "resolveDispute", disputed, 6000, 50 * GPUC)
    ruled = _events(w, "DisputeResolved(uint256,bool,uint256,uint256,uint256,uint256,uint256,uint256,uint256,address,"
                       "uint256,address)", ["bool"] + ["uint256"] * 7 + ["address", "uint256", "address"])  # read first: later calls replace the logs
    g = frozen * 6000 // BPS
    n, p, b = split_claim(0, g, 100, 300)
    to_treasury = 50 * GPUC * m.uint("slashTreasuryBps") // BPS
    assert ruled == [(False, g, n, p, b, frozen - g, 50 * GPUC - to_treasury, to_treasury, w.renter.lower(), bond,
                      w.treasury.lower())]


def test_constructors__refuse_zero_addresses_and_start_with_the_defaults():
    w = world()
    c, o = w.chain, w.owner
    modules = [w.market.one(getter) for getter in ("offerModule", "disputeModule", "adminModule", "bookingModule")]
    modules = ["0x%040x" % m for m in modules]
    foreign = c.deploy(o, "OfferModule", ["address"], [w.gpuc.address]).address  # built for another "registry"
    for name, types, args, error, inputs in (
            ("ProviderRegistry", ["address", "address", "uint256", "uint256"], [ZERO, o, DAY, 0], "RegistryZeroAddress",
             {}),
            ("ComputeMarket", MARKET_ARGS, [ZERO, o, w.treasury, w.arbiter, modules], "MarketZeroAddress", {}),
            ("ComputeMarket", MARKET_ARGS, [w.registry.address, o, ZERO, w.arbiter, modules], "MarketZeroAddress", {}),
            ("ComputeMarket", MARKET_ARGS, [w.registry.address, o, w.treasury, ZERO, modules], "MarketZeroAddress", {}),
            ("ComputeMarket", MARKET_ARGS, [w.registry.address, o, w.treasury, w.arbiter, [modules[0], ZERO, *modules[2:]]],
             "MarketInvalidModule", {"module": ZERO}),
            # a module deployed for another registry is refused too
            ("ComputeMarket", MARKET_ARGS, [w.registry.address, o, w.treasury, w.arbiter, [foreign, *modules[1:]]],
             "MarketInvalidModule", {"module": foreign})):
        with reverts(error, **inputs):
            c.deploy(o, name, types, args)
    m = w.market
    defaults = {"protocolFeeBps": 100, "stakePerGpu": 100 * GPUC, "activationWindow": HOUR, "disputeWindow": DAY,
                "noShowPenaltyBps": 1000, "arbitrationTimeout": 7 * DAY, "slashTreasuryBps": 2000}
    assert {k: m.uint(k) for k in defaults} == defaults


@pytest.mark.parametrize("fn,getter,value", [
    ("setProtocolFee", "protocolFeeBps", 700), ("setStakePerGpu", "stakePerGpu", 3 * GPUC),
    ("setActivationWindow", "activationWindow", 2 * HOUR), ("setDisputeWindow", "disputeWindow", 3 * DAY),
    ("setNoShowPenalty", "noShowPenaltyBps", 2500), ("setArbitrationTimeout", "arbitrationTimeout", 9 * DAY),
    ("setSlashTreasuryShare", "slashTreasuryBps", 4000)])
def test_owner_setters__take_effect(fn, getter, value):
    w = world()
    w.market.call(w.owner, fn, value)
    assert w.market.uint(getter) == value


def test_owner_setters__addresses_and_tokens_take_effect():
    w = world()
    m, target = w.market, "0x" + "7d" * 20
    for fn, getter in (("setTreasury", "treasury"), ("setArbiter", "arbiter")):
        m.call(w.owner, fn, target)
        assert m.one(getter) == int(target, 16)
        with reverts("MarketZeroAddress"):
            m.call(w.owner, fn, ZERO)
    m.call(w.owner, "setPaymentToken", w.usd.address, False)
    assert m.one("isPaymentToken", w.usd.address) == 0
    with reverts("MarketTokenNotAllowed", token=w.usd.address):
        w.open()
