"""Gas measurements of the core operations: one scenario shared by `make bench` and the budget test.

Every number is a receipt's `gasUsed` (the 21,000 intrinsic gas and calldata included) on anvil,
with the 6-decimal stablecoin (mUSD) as payment token. `measure_core` drives each operation in a
named state: one-off states (the first stake the registry ever holds, the first mUSD the market
ever holds, the first fees booked) are marked `once`; the others are the steady state of a market
in use, and are what the budgets and the flat-cost table are about.

`populate` makes the market hold `n` providers (registered, staked, one offer each) and `n` rentals
(one per offer) through real transactions sent by raw JSON-RPC (beyond REAL_POPULATION, by moving
the id counters on), so that the same scenario can be measured on a market with 1, 100 or 10,000 of
each (see benchmarks/gas.md for how, and why that population is representative).
"""

from __future__ import annotations

import json
import math
import urllib.request
from dataclasses import dataclass

GPUC = 10**18
HOUR = 3600
DAY = 86_400
ZERO = "0x" + "0" * 40
PRICE = 1_950_000  # 1.95 mUSD per GPU-hour
TIERS = [(96, 250), (192, 500)]

#: Budgets from the gas issue, on the steady-state rows (receipt gasUsed).
#: Runtime code every contract must stay under today (EIP-170's 24,576 less room for what comes next).
SIZE_BUDGET = 20_480

BUDGETS: dict[str, int] = {
    "open_later": 150_000,
    "activate": 35_000,
    "claim_mid": 60_000,
    "stop": 80_000,
    "extend": 55_000,
    "claim_many_extra": 20_000,
    "stake_new_provider": 75_000,
    "stake_topup": 75_000,
    # A cluster: each rental after the first (the payment is pulled once for the whole cluster).
    "cluster_extra": 110_000,
    "cluster_signed_recorded_extra": 110_000,
}

#: Budgets relative to another row: (row, the row it is compared with, the most it may cost more).
RELATIVE_BUDGETS: dict[str, tuple[str, int]] = {
    # A rental's claim paid into a vault costs at most 25,000 more than one paid to a plain provider.
    # (The vault distributes what arrived at its next change of shares or harvest, whoever claimed it:
    # the claim itself pays nothing for the vault's accounting. `vault_harvest` — the market's claim
    # and the distribution together — is reported beside it.)
    "vault_claim_direct": ("claim_mid", 25_000),
    # Filling a signed offer costs at most 20,000 more than openRental on an on-chain offer with rentals.
    "signed_fill_later": ("open_later", 20_000),
}

#: Sablier's linear stream on the same anvil (receipt gasUsed), beside our closest operation.
SABLIER: dict[str, tuple[str, str]] = {
    "open_later": ("v2-core 1.2.0 create (second stream): 156,766", "lockup 4.0.1: 201,043"),
    "claim_mid": ("withdrawMax mid-stream: 64,188", "100,437"),
    "stop": ("cancel: 82,737", "98,047"),
}


@dataclass
class Row:
    key: str
    label: str
    gas: int
    once: bool = False  # a one-off state of a fresh deployment (not steady state)


@dataclass
class Roles:
    deployer: object
    treasury: object
    provider: object  # the first provider ever: stakes into an empty registry
    provider2: object  # a new provider joining a registry that already holds stake
    renter: object
    payer: object
    broker: object
    arbiter: object
    stranger: object
    extra: tuple = ()  # six more providers, for the signed offers and the clusters


def _rid(market, tx) -> int:
    return tx.decode_logs(market.RentalOpened)[0].rentalId


def measure_core(system, roles: Roles) -> list[Row]:
    """Runs the scenario once on `system` (deployed with `roles.arbiter` as arbiter) and returns a row
    per measured transaction. Moves the chain's clock forward by a few days."""
    from ape import chain

    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    r = roles
    rows: list[Row] = []

    def rec(key, label, tx, once=False):
        rows.append(Row(key, label, tx.gas_used, once))
        return tx

    def open_(gpus=8, hours=24, sender=None, offer=None):
        return market.openRental(offer or offer_a, gpus, hours, PRICE, ZERO, 0, sender=sender or r.renter)

    # ── Stake: the first stake the registry ever holds; a new provider's first stake; a top-up.
    for p, amount in ((r.provider, 40_000), (r.provider2, 10_000)):
        token.transfer(p, amount * GPUC, sender=r.treasury)
        token.approve(registry, 2**256 - 1, sender=p)
    rec("register", "register (metadata URI)", registry.register("ipfs://spec", sender=r.provider))
    registry.register("ipfs://spec", sender=r.provider2)
    empty = token.balanceOf(registry) == 0
    rec("stake_first_ever", "stake (first stake the registry ever holds)",
        registry.stake(30_000 * GPUC, sender=r.provider), once=empty)
    rec("stake_new_provider", "stake (a new provider's first stake)", registry.stake(5_000 * GPUC, sender=r.provider2))
    rec("stake_topup", "stake (top-up)", registry.stake(5_000 * GPUC, sender=r.provider2))
    registry.stake(10_000 * GPUC, sender=r.provider)

    # ── Offers.
    params = ("H100-SXM-80GB", "AU-QLD", usd.address, PRICE, 64, 1, 720, ZERO, 500, TIERS)
    tx = rec("create_offer", "createOffer (2 tiers)", market.createOffer(params, sender=r.provider))
    offer_a = tx.decode_logs(market.OfferCreated)[0].offerId
    tx = market.createOffer(params, sender=r.provider2)
    offer_b = tx.decode_logs(market.OfferCreated)[0].offerId
    for acct in (r.renter, r.payer):
        usd.mint(acct, 10**13, sender=r.deployer)
        usd.approve(market, 2**256 - 1, sender=acct)

    # ── Open.
    fresh = usd.balanceOf(market) == 0
    r1 = _rid(market, rec("open_first_ever", "openRental (first mUSD the market ever holds)", open_(), once=fresh))
    r2 = _rid(market, rec("open_later", "openRental (offer already has rentals)", open_()))
    rb = _rid(market, rec("open_first_on_offer", "openRental (first rental on an offer)", open_(offer=offer_b)))
    r3 = _rid(market, rec("open_for_broker", "openRentalFor (third-party payer + broker)",
                          market.openRentalFor(r.renter, offer_a, 8, 24, PRICE, r.broker, 300, sender=r.payer)))

    # ── Activate, then claims in their states.
    rec("activate", "activate", market.activate(r2, sender=r.provider))
    for rid in (r1, r3):
        market.activate(rid, sender=r.provider)
    market.activate(rb, sender=r.provider2)
    t0 = market.getRental(r2).startedAt
    chain.pending_timestamp = t0 + 2 * HOUR
    first = usd.balanceOf(r.provider) == 0 and market.protocolFees(usd) == 0
    rec("claim_first_ever", "claim (first ever: provider holds no mUSD, no fees booked yet)",
        market.claim(r1, sender=r.provider), once=first)
    rec("claim_first", "claim (first on a rental)", market.claim(r2, sender=r.provider))
    rec("claim_cold_provider", "claim (provider's first payout: holds no mUSD yet)",
        market.claim(rb, sender=r.provider2))
    chain.pending_timestamp = t0 + 4 * HOUR
    rec("claim_mid", "claim (mid-rental, provider holds mUSD)", market.claim(r2, sender=r.provider))
    rec("claim_broker", "claim (with broker fee)", market.claim(r3, sender=r.provider))

    # ── Extend, stop, cancel.
    chain.pending_timestamp = t0 + 5 * HOUR
    rec("extend", "extend (+4 h)", market.extend(r2, 4, sender=r.renter))
    rec("stop", "stopRental", market.stopRental(r2, sender=r.renter))
    r4 = _rid(market, open_())
    rec("cancel", "cancelPending (before the deadline)", market.cancelPending(r4, sender=r.renter))
    r5 = _rid(market, open_())
    chain.pending_timestamp = market.getRental(r5).activationDeadline + 1
    rec("cancel_no_show", "cancelPending (no-show: slashes the penalty)", market.cancelPending(r5, sender=r.renter))

    # ── claimMany over 1, 2 and 10 rentals of the same provider.
    many = [_rid(market, open_(gpus=1)) for _ in range(10)]
    for rid in many:
        market.activate(rid, sender=r.provider)
    chain.pending_timestamp += HOUR
    for rid in many:  # every rental has claimed once: the steady state of claimMany
        market.claim(rid, sender=r.provider)
    chain.pending_timestamp += HOUR
    g1 = rec("claim_many_1", "claimMany (1 rental)", market.claimMany(many[:1], sender=r.provider)).gas_used
    chain.pending_timestamp += HOUR
    rec("claim_many_2", "claimMany (2 rentals, same provider)", market.claimMany(many[:2], sender=r.provider))
    chain.pending_timestamp += HOUR
    g10 = rec("claim_many_10", "claimMany (10 rentals, same provider)",
              market.claimMany(many, sender=r.provider)).gas_used
    rows.append(Row("claim_many_extra", "claimMany: each rental after the first (10 vs 1, ÷ 9)", (g10 - g1) // 9))

    # ── Release: a rental that ran out (capacity back), then its settlement; a stopped one settled.
    chain.pending_timestamp = market.getRental(r1).endsAt
    rec("release_ended", "release (ran out: capacity back)", market.release(r1, sender=r.stranger))
    chain.pending_timestamp = market.releasableAt(r1)
    rec("release_settle", "release (ended → settled: pays the rest, unlocks)", market.release(r1, sender=r.stranger))
    rec("release_stopped", "release (stopped → settled)", market.release(r2, sender=r.stranger))

    # ── Disputes: one ruled by the arbiter, one by default after the timeout.
    d = [_rid(market, open_()) for _ in range(2)]
    for rid in d:
        market.activate(rid, sender=r.provider)
    chain.pending_timestamp += 3 * HOUR
    market.claim(d[0], sender=r.provider)
    chain.pending_timestamp += HOUR
    rec("dispute", "dispute (active rental)", market.dispute(d[0], b"\x01" * 32, sender=r.renter))
    market.dispute(d[1], b"\x02" * 32, sender=r.renter)
    collateral = market.getRental(d[0]).collateral
    rec("resolve", "resolveDispute (50 % split, 50 % slash)",
        market.resolveDispute(d[0], 5000, collateral // 2, sender=r.arbiter))
    chain.pending_timestamp = market.disputeOf(d[1])[4]
    rec("default_ruling", "applyDefaultRuling (timeout path)", market.applyDefaultRuling(d[1], sender=r.stranger))

    # ── Pull withdrawals.
    rec("withdraw_fees", "withdrawProtocolFees", market.withdrawProtocolFees(usd, sender=r.stranger))
    rec("withdraw_credits", "withdrawCredits (broker)", market.withdrawCredits(usd, sender=r.broker))

    rows += _measure_vault(system, r, rec)
    if r.extra:
        _measure_signed_and_clusters(system, r, rec, rows)
    return rows


def _measure_signed_and_clusters(system, r: Roles, rec, rows: list[Row]) -> None:
    """Signed offers and cluster bookings: six more providers each list one on-chain offer and sign
    offers off-chain; clusters of 1, 2 and 6 parts (one per provider) of on-chain offers, of signed
    offers at their first fill (which records them), and of the same signed offers once recorded."""
    from ape import chain

    from gpumarket.signed import Domain, SignedOffer, digest, sign_digest

    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    domain = Domain(chain.chain_id, market.address)
    extra = list(r.extra)[:6]
    offers = []
    for p in extra:
        token.transfer(p, 10_000 * GPUC, sender=r.treasury)
        token.approve(registry, 2**256 - 1, sender=p)
        registry.register("ipfs://spec", sender=p)
        registry.stake(10_000 * GPUC, sender=p)
        tx = market.createOffer(("H100-SXM-80GB", "AU-QLD", usd.address, PRICE, 64, 1, 720, ZERO, 500, TIERS), sender=p)
        offers.append(tx.decode_logs(market.OfferCreated)[0].offerId)
    expiry = chain.pending_timestamp + 30 * DAY

    def signed(p, nonce):
        o = SignedOffer(provider=p.address, gpu_model="H100-SXM-80GB", region="AU-QLD", payment_token=usd.address,
                        price_per_gpu_hour=PRICE, gpus=64, min_hours=1, max_hours=720, expiry=expiry, nonce=nonce,
                        max_broker_bps=500, tiers=tuple(TIERS))
        return (o.as_tuple(), sign_digest(bytes.fromhex(p.private_key.removeprefix("0x")), digest(o, domain)), 8)

    def book(parts, signed_parts):
        return market.bookCluster(r.renter, 24, parts, signed_parts, 2**128, ZERO, 0, sender=r.renter)

    # ── One signed offer: its first fill (checks the signature, records the offer), then a later fill.
    one = signed(extra[0], 100)
    rec("signed_fill_first", "openSignedRental (first fill: checks the signature, records the offer)",
        market.openSignedRental(one[0], one[1], r.renter, 8, 24, PRICE, ZERO, 0, sender=r.renter))
    # A recorded offer's signature was checked when it was recorded: the client sends none.
    rec("signed_fill_later", "openSignedRental (offer already recorded, has rentals; no signature sent)",
        market.openSignedRental(one[0], b"", r.renter, 8, 24, PRICE, ZERO, 0, sender=r.renter))

    # ── Clusters of on-chain offers, of signed offers at their first fill, of recorded signed offers.
    g = {}
    for n in (1, 2, 6):
        g[n] = rec(f"cluster_{n}", f"bookCluster ({n} on-chain offer{'s' * (n > 1)}, {n} provider{'s' * (n > 1)})",
                   book([(offers[i], 8) for i in range(n)], [])).gas_used
    rows.append(Row("cluster_extra", "bookCluster (on-chain): each rental after the first (6 vs 1, ÷ 5)",
                    (g[6] - g[1]) // 5))
    fresh = {n: [signed(extra[i], n) for i in range(n)] for n in (1, 2, 6)}
    for n in (1, 2, 6):
        g[n] = rec(f"cluster_signed_{n}", f"bookCluster ({n} signed offer{'s' * (n > 1)} at their first fill)",
                   book([], fresh[n])).gas_used
    rows.append(Row("cluster_signed_extra", "bookCluster (signed, first fills): each rental after the first (÷ 5)",
                    (g[6] - g[1]) // 5))
    for n in (1, 2, 6):
        g[n] = rec(f"cluster_signed_recorded_{n}", f"bookCluster ({n} signed offer{'s' * (n > 1)}, already recorded)",
                   book([], [(o, b"", gpus) for o, _, gpus in fresh[6][:n]])).gas_used
    rows.append(Row("cluster_signed_recorded_extra",
                    "bookCluster (signed, recorded): each rental after the first (6 vs 1, ÷ 5)", (g[6] - g[1]) // 5))


def _measure_vault(system, r: Roles, rec) -> list[Row]:
    """An investor-backed provider: `broker` operates a vault, `stranger` and `payer` back it."""
    from ape import chain, project

    token, market, usd = system.token, system.market, system.stablecoin
    factory = system.contracts["VaultFactory"]
    tx = rec("vault_create", "VaultFactory.create (a vault for an operator)",
             factory.create(1_000, "Backers", "BK", "ipfs://vault", sender=r.broker))
    vault = project.ProviderVault.at(tx.decode_logs(factory.VaultCreated)[0].vault)
    for who in (r.stranger, r.payer):
        token.transfer(who, 20_000 * GPUC, sender=r.treasury)
        token.approve(vault, 2**256 - 1, sender=who)
    rec("vault_deposit_first", "vault deposit (the vault's first: stakes it all)",
        vault.deposit(10_000 * GPUC, r.stranger, sender=r.stranger), once=True)
    params = ("H100-SXM-80GB", "AU-QLD", usd.address, PRICE, 16, 1, 720, ZERO, 500, TIERS)
    vault.callMarket(market.createOffer.encode_input(params), sender=r.broker)
    offer = market.nextOfferId() - 1
    rid = _rid(market, market.openRental(offer, 8, 24, PRICE, ZERO, 0, sender=r.renter))
    rec("vault_activate", "vault activate (tracks the rental)", vault.activate(rid, sender=r.broker))
    chain.pending_timestamp += HOUR
    rec("vault_deposit", "vault deposit (1 rental tracked: claims and distributes first)",
        vault.deposit(5_000 * GPUC, r.payer, sender=r.payer))
    chain.pending_timestamp += HOUR
    rec("vault_harvest", "vault harvest (a claim into a vault: 1 rental mid-stream, distributed)",
        vault.harvest(sender=r.stranger))
    chain.pending_timestamp += HOUR
    rec("vault_claim_direct", "claim of a vault's rental by anyone (paid to the vault, distributed later)",
        market.claim(rid, sender=r.stranger))
    chain.pending_timestamp += HOUR
    rec("vault_transfer", "vault share transfer (1 rental tracked)",
        vault.transfer(r.payer, vault.balanceOf(r.stranger) // 10, sender=r.stranger))
    rec("vault_withdraw_income", "vault withdrawIncome (an investor's mUSD)", vault.withdrawIncome(usd, sender=r.stranger))
    rec("vault_request_redeem", "vault requestRedeem", vault.requestRedeem(vault.balanceOf(r.payer), r.payer, sender=r.payer))
    rec("vault_start_batch", "vault startBatch (requests unbonding)", vault.startBatch(sender=r.stranger))
    chain.pending_timestamp += 7 * DAY
    rec("vault_finish_batch", "vault finishBatch (withdraws, burns, restakes the rest)", vault.finishBatch(sender=r.stranger))
    rec("vault_claim_redemption", "vault claimRedemption", vault.claimRedemption(1, sender=r.stranger))
    return []


# ───────────────────────────── Population by raw JSON-RPC ─────────────────────────────


class _Rpc:
    def __init__(self, uri: str):
        self.uri = uri
        self.id = 0

    def batch(self, calls: list[tuple[str, list]], chunk: int = 500) -> list:
        out = []
        for i in range(0, len(calls), chunk):
            body = []
            for method, params in calls[i:i + chunk]:
                self.id += 1
                body.append({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
            req = urllib.request.Request(self.uri, json.dumps(body).encode(), {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=180) as resp:
                res = sorted(json.loads(resp.read()), key=lambda x: x["id"])
            for x in res:
                if "error" in x:
                    raise RuntimeError(f"{x['error']}")
                out.append(x["result"])
        return out

    def call(self, method: str, params: list):
        return self.batch([(method, params)])[0]

    def send_all(self, txs: list[tuple[str, list]], chunk: int = 1000) -> None:
        """Sends a phase of transactions into the pool (automine is off) a thousand at a time, mining
        blocks until the pool is empty after each thousand (anvil's pool slows down more than linearly
        with its size). Each sender's transactions carry explicit increasing nonces."""
        for i in range(0, len(txs), chunk):
            self.batch(txs[i:i + chunk])
            self._mine_pool()

    def _mine_pool(self) -> None:
        for _ in range(100_000):
            status = self.call("txpool_status", [])
            if int(status["pending"], 16) == 0 and int(status["queued"], 16) == 0:
                return
            if int(status["pending"], 16) == 0:
                raise RuntimeError(f"population stuck: {int(status['queued'], 16)} transactions queued")
            self.call("evm_mine", [])
        raise RuntimeError("anvil did not mine the population")


def _address(tag: int, i: int) -> str:
    return "0x" + f"{tag:08x}" + f"{i:032x}"


#: Above this many, `populate` creates this many for real and moves the id counters past the rest.
REAL_POPULATION = 1_000
#: ComputeMarket's slot 2, from the low bits: protocolFeeBps (16) | activationWindow (32) | nextOfferId (32)
#: | nextRentalId (64) | signed offers recorded (32). `populate` checks it through the getters.
CONFIG_SLOT, OFFER_ID_SHIFT, RENTAL_ID_SHIFT = 2, 48, 80


def populate(system, roles: Roles, n: int, tag: int = 0xB0B0, real: int = REAL_POPULATION) -> None:
    """Makes the market hold `n` providers, offers and rentals: `populate_real` for up to
    REAL_POPULATION of them, and beyond that the offer and rental counters moved on by the rest with
    `anvil_setStorageAt` (anvil, which ape-foundry runs with step tracing, keeps every transaction's
    trace in memory: 60,000 transactions took over 20 GB)."""
    from ape import chain

    real = min(n, real)
    populate_real(system, roles, real, tag)
    if n > real:
        market = system.market
        rpc = _Rpc(chain.provider.uri)
        addr = str(market.address)
        word = int(rpc.call("eth_getStorageAt", [addr, hex(CONFIG_SLOT), "latest"]), 16)
        skip = n - real
        word += (skip << OFFER_ID_SHIFT) + (skip << RENTAL_ID_SHIFT)
        offers, rentals = market.nextOfferId(), market.nextRentalId()
        rpc.call("anvil_setStorageAt", [addr, hex(CONFIG_SLOT), "0x" + f"{word:064x}"])
        got = (market.nextOfferId(), market.nextRentalId())
        assert got == (offers + skip, rentals + skip), f"config slot layout: {got} after {offers, rentals} + {skip}"


def populate_real(system, roles: Roles, n: int, tag: int = 0xB0B0) -> None:
    """Adds `n` providers (each registered, staked with 1,000 GPUC and listing one 8-GPU offer) and `n`
    Pending rentals (one 1-GPU rental of each offer), all through real transactions sent as JSON-RPC
    batches from impersonated addresses. About √n renters each fund √n providers with GPUC and rent
    from their offers (anvil's pool slows down sharply with thousands of transactions from one
    sender). Every address is new; `roles` is left as it was."""
    from ape import chain

    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    rpc = _Rpc(chain.provider.uri)
    providers = [_address(tag, i) for i in range(n)]
    renters = [_address(tag + 1, j) for j in range(max(1, math.isqrt(n)))]
    share = -(-n // len(renters))  # providers per renter
    first_offer = market.nextOfferId()
    first_rental = market.nextRentalId()
    stake = 1_000 * GPUC
    gas = hex(400_000)
    rpc.call("anvil_autoImpersonateAccount", [True])
    rpc.call("evm_setAutomine", [False])
    gas_limit = rpc.call("eth_getBlockByNumber", ["latest", False])["gasLimit"]
    rpc.call("evm_setBlockGasLimit", [hex(2_000_000_000)])  # a few thousand transactions per block
    rpc.batch([("anvil_setBalance", [a, hex(10**21)]) for a in providers + renters])
    treasury = str(roles.treasury.address)
    nonce = int(rpc.call("eth_getTransactionCount", [treasury, "latest"]), 16)

    def tx(sender, to, data, nonce_):
        return ("eth_sendTransaction", [{"from": sender, "to": str(to.address), "data": data, "gas": gas,
                                         "nonce": hex(nonce_)}])

    def data(method, *args) -> str:
        return "0x" + bytes(method.encode_input(*args)).hex()

    # Phase 1: the treasury funds each renter with GPUC for its providers; each renter mints mUSD
    # and approves the market (renter nonces 0 and 1).
    rpc.send_all([tx(treasury, token, data(token.transfer, r, share * stake), nonce + j) for j, r in enumerate(renters)]
                 + [tx(r, usd, data(usd.mint, r, 10**15), 0) for r in renters]
                 + [tx(r, usd, data(usd.approve, market, 2**256 - 1), 1) for r in renters])
    # Phase 2: each renter passes GPUC on to its providers (nonces 2 …).
    rpc.send_all([tx(renters[i // share], token, data(token.transfer, p, stake), 2 + i % share)
                  for i, p in enumerate(providers)])
    # Phase 3: each provider approves, registers, stakes and lists (its own nonces 0..3).
    params = ("H100-SXM-80GB", "EU-FRA", usd.address, PRICE, 8, 1, 720, ZERO, 500, TIERS)
    approve = data(token.approve, registry, 2**256 - 1)
    register = data(registry.register, "ipfs://spec")
    stake_ = data(registry.stake, stake)
    offer = data(market.createOffer, params)
    for k, (contract, payload) in enumerate(((token, approve), (registry, register), (registry, stake_),
                                            (market, offer))):
        rpc.send_all([tx(p, contract, payload, k) for p in providers])
    # Phase 4: each renter rents one GPU of each of its providers' offers.
    passed_on = [min(share, n - j * share) for j in range(len(renters))]  # phase-2 transfers per renter
    rpc.send_all([tx(renters[i // share], market, data(market.openRental, first_offer + i, 1, 24, PRICE, ZERO, 0),
                     2 + passed_on[i // share] + i % share) for i in range(n)])
    rpc.call("evm_setBlockGasLimit", [gas_limit])
    rpc.call("evm_mine", [])  # a block with the usual gas limit, which ape reads for its transactions
    rpc.call("evm_setAutomine", [True])
    rpc.call("anvil_autoImpersonateAccount", [False])
    # Every transaction must have gone through: the counters say so.
    if market.nextOfferId() != first_offer + n or market.nextRentalId() != first_rental + n:
        raise RuntimeError(f"population of {n} incomplete: offers {market.nextOfferId() - first_offer}, "
                           f"rentals {market.nextRentalId() - first_rental}")
