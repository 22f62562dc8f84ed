"""Receipt gasUsed (21k intrinsic included) of the core operations on a local anvil.

    ape run gas --network ethereum:local:foundry

6-decimal stablecoin, provider already holds the token, renter pays for itself, no broker unless
stated. A first version of the benchmark; it prints a markdown table.
"""

from __future__ import annotations

from ape import accounts, chain
from ape.logging import logger

from gpumarket.deployment import GPUC, deploy_system

ZERO = "0x0000000000000000000000000000000000000000"
HOUR = 3600


def main():
    logger.set_level("WARNING")
    a = accounts.test_accounts
    deployer, treasury, provider, renter, payer, broker = a[0], a[1], a[2], a[4], a[5], a[6]
    s = deploy_system(deployer, treasury.address, arbiter=a[7].address)
    token, registry, market, usd = s.token, s.registry, s.market, s.stablecoin
    rows: list[tuple[str, int]] = []

    def record(name, tx):
        rows.append((name, tx.gas_used))
        return tx

    token.transfer(provider, 20_000 * GPUC, sender=treasury)
    registry.register("ipfs://spec", sender=provider)
    token.approve(registry, 2**256 - 1, sender=provider)
    record("stake (first)", registry.stake(5_000 * GPUC, sender=provider))
    record("stake (top-up)", registry.stake(5_000 * GPUC, sender=provider))
    params = ("H100-SXM-80GB", "AU-QLD", usd.address, 1_950_000, 64, 1, 720, ZERO, 500, [(96, 250), (192, 500)])
    record("createOffer (2 tiers)", market.createOffer(params, sender=provider))
    usd.mint(provider, 1, sender=deployer)  # the provider already holds the token
    for acct in (renter, payer):
        usd.mint(acct, 10**13, sender=deployer)
        usd.approve(market, 2**256 - 1, sender=acct)

    r1 = record("openRental (first on offer)", market.openRental(1, 8, 24, 1_950_000, ZERO, 0, sender=renter))
    r2 = record("openRental (second on offer)", market.openRental(1, 8, 24, 1_950_000, ZERO, 0, sender=renter))
    record("openRentalFor (third-party payer + broker)",
           market.openRentalFor(renter, 1, 8, 24, 1_950_000, broker, 300, sender=payer))
    id1 = r1.decode_logs(market.RentalOpened)[0].rentalId
    id2 = r2.decode_logs(market.RentalOpened)[0].rentalId
    record("activate", market.activate(id1, sender=provider))
    market.activate(id2, sender=provider)
    market.activate(3, sender=provider)
    t0 = market.getRental(id1).startedAt
    chain.pending_timestamp = t0 + 2 * HOUR
    record("claim (first on rental)", market.claim(id1, sender=provider))
    chain.pending_timestamp = t0 + 4 * HOUR
    record("claim (mid-rental, later)", market.claim(id1, sender=provider))
    record("claim (with broker fee)", market.claim(3, sender=provider))
    chain.pending_timestamp = t0 + 5 * HOUR
    record("extend (+4 h)", market.extend(id1, 4, sender=renter))
    record("stopRental", market.stopRental(id1, sender=renter))
    r4 = market.openRental(1, 8, 24, 1_950_000, ZERO, 0, sender=renter)
    id4 = r4.decode_logs(market.RentalOpened)[0].rentalId
    record("cancelPending (before deadline)", market.cancelPending(id4, sender=renter))
    r5 = market.openRental(1, 8, 24, 1_950_000, ZERO, 0, sender=renter)
    id5 = r5.decode_logs(market.RentalOpened)[0].rentalId
    chain.pending_timestamp = market.getRental(id5).activationDeadline + 1
    record("cancelPending (no-show, slashes penalty)", market.cancelPending(id5, sender=renter))
    chain.pending_timestamp = market.releasableAt(id1)
    record("release (stopped rental → settled)", market.release(id1, sender=a[8]))
    record("claimMany (1 rental)", market.claimMany([id2], sender=provider))
    chain.pending_timestamp += HOUR
    record("claimMany (2 rentals, same provider)", market.claimMany([id2, 3], sender=provider))

    # Disputes: one ruled by the arbiter (half to the provider, half the collateral slashed), one
    # left to the default ruling after the arbitration timeout.
    arbiter = a[7]
    ids = []
    for _ in range(2):
        tx = market.openRental(1, 8, 24, 1_950_000, ZERO, 0, sender=renter)
        rid = tx.decode_logs(market.RentalOpened)[0].rentalId
        market.activate(rid, sender=provider)
        ids.append(rid)
    chain.pending_timestamp += 3 * HOUR
    market.claim(ids[0], sender=provider)
    chain.pending_timestamp += HOUR
    record("dispute (active rental)", market.dispute(ids[0], b"\x01" * 32, sender=renter))
    record("dispute (second)", market.dispute(ids[1], b"\x02" * 32, sender=renter))
    collateral = market.getRental(ids[0]).collateral
    record("resolveDispute (50 % split, 50 % slash)", market.resolveDispute(ids[0], 5000, collateral // 2, sender=arbiter))
    chain.pending_timestamp = market.disputeOf(ids[1])[4]
    record("applyDefaultRuling (timeout path)", market.applyDefaultRuling(ids[1], sender=a[8]))

    print("| operation | gasUsed |\n|---|---:|")
    for name, gas in rows:
        print(f"| {name} | {gas:,} |")
