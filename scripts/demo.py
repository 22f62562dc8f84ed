"""The gpumarket demo: one cluster rental from listing to settlement on a local anvil.

    make demo        (= ape run demo --network ethereum:local:foundry)

A pseudonymous provider stakes GPUC and lists 8 × H100-SXM-80GB in AU-QLD at 1.95 mUSD per
GPU-hour with a bulk tier; a renter rents the whole cluster for 24 hours through a broker, paid by a
separate payer account; 10 hours pass; the provider claims; the renter stops early; after the dispute
window anyone releases the rental. The settlement report shows every party's balance change and
checks, to the base unit, that they add up to what the payer paid. Exits non-zero if they do not.
"""

from __future__ import annotations

import sys

from ape import accounts, chain
from ape.logging import logger

from gpumarket.deployment import GPUC, deploy_system
from gpumarket.units import fmt, to_base

ZERO = "0x0000000000000000000000000000000000000000"
HOUR = 3600


def main():
    logger.set_level("WARNING")
    a = accounts.test_accounts
    deployer, treasury, provider, renter, payer, broker = a[0], a[1], a[2], a[4], a[5], a[6]

    print("== gpumarket demo (local anvil) ==")
    system = deploy_system(deployer, treasury.address, arbiter=a[7].address)
    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    print(f"ComputeToken     {token.address}")
    print(f"ProviderRegistry {registry.address}")
    print(f"ComputeMarket    {market.address}")
    print(f"mUSD (6 dec.)    {usd.address}")

    # A pseudonymous provider: an address, a hardware-spec hash and a stake. Nothing else.
    stake = 5_000 * GPUC
    token.transfer(provider, stake, sender=treasury)
    registry.register("sha256:9f2c…/h100-sxm-80gb-x8.json", sender=provider)
    token.approve(registry, stake, sender=provider)
    registry.stake(stake, sender=provider)
    print(f"\nprovider {provider.address} staked {fmt(stake, 18, 'GPUC')}")

    price = to_base("1.95", 6)
    tiers = [(96, 250), (192, 500)]  # ≥ 96 GPU-hours: 2.5 % off; ≥ 192 GPU-hours: 5 % off
    tx = market.createOffer(
        ("H100-SXM-80GB", "AU-QLD", usd.address, price, 8, 1, 720, ZERO, 500, tiers), sender=provider
    )
    offer_id = tx.decode_logs(market.OfferCreated)[0].offerId
    print(f"offer #{offer_id}: 8 × H100-SXM-80GB in AU-QLD at {fmt(price, 6, 'mUSD')}/GPU-hour, "
          "bulk tiers 96 GPU-h −2.5 %, 192 GPU-h −5 %")

    gpus, hours, broker_bps = 8, 24, 300
    cost, discount, rate = market.quote(offer_id, gpus, hours)
    usd.mint(payer, cost, sender=deployer)
    usd.approve(market, cost, sender=payer)
    before = {name: usd.balanceOf(acct) for name, acct in _parties(payer, renter, provider, broker, treasury, market)}
    tx = market.openRentalFor(renter, offer_id, gpus, hours, price, broker, broker_bps, sender=payer)
    rental_id = tx.decode_logs(market.RentalOpened)[0].rentalId
    print(f"\nrental #{rental_id}: {gpus} GPUs × {hours} h = {gpus * hours} GPU-hours, discount {discount / 100} %, "
          f"{fmt(rate, 6, 'mUSD')}/h; payer {payer.address[:10]}… paid {fmt(cost, 6, 'mUSD')} into escrow "
          f"for renter {renter.address[:10]}…, broker {broker.address[:10]}… takes {broker_bps / 100} %")
    print(f"collateral locked: {fmt(market.getRental(rental_id).collateral, 18, 'GPUC')}")

    market.activate(rental_id, sender=provider)
    started = market.getRental(rental_id).startedAt
    print("provider activated the rental (access handed over off-chain); streaming starts")

    chain.pending_timestamp = started + 10 * HOUR
    tx = market.claim(rental_id, sender=provider)
    c = tx.decode_logs(market.RentalClaimed)[0]
    print(f"+10 h: provider claimed gross {fmt(c.gross, 6)} → net {fmt(c.providerNet, 6)}, "
          f"protocol fee {fmt(c.protocolFee, 6)}, broker fee {fmt(c.brokerFee, 6)} mUSD")

    chain.pending_timestamp = started + 10 * HOUR + 30 * 60
    tx = market.stopRental(rental_id, sender=renter)
    refund = tx.decode_logs(market.RentalStopped)[0].refund
    charge = market.getRental(rental_id).total
    print(f"+10.5 h: renter stopped early: 10.5 h used, billed {fmt(charge, 6, 'mUSD')} at the list price "
          f"(stopping early forfeits the bulk discount); {fmt(refund, 6, 'mUSD')} refunded to the payer at once")

    settle_at = market.releasableAt(rental_id)
    chain.pending_timestamp = settle_at
    market.release(rental_id, sender=a[8])  # anyone may trigger it
    print(f"+dispute window: a stranger released the rental → settled, collateral unlocked "
          f"(locked now {fmt(registry.providerOf(provider).locked, 18, 'GPUC')})")
    market.withdrawProtocolFees(usd, sender=a[8])
    market.withdrawCredits(usd, sender=broker)

    after = {name: usd.balanceOf(acct) for name, acct in _parties(payer, renter, provider, broker, treasury, market)}
    return _report(before, after, cost)


def _parties(payer, renter, provider, broker, treasury, market):
    return [("payer", payer), ("renter", renter), ("provider", provider), ("broker", broker),
            ("treasury", treasury), ("market escrow", market)]


def _report(before: dict, after: dict, paid: int) -> int:
    print("\n== settlement report (mUSD) ==")
    print(f"{'party':<15}{'before':>16}{'after':>16}{'change':>16}")
    for name in before:
        print(f"{name:<15}{fmt(before[name], 6):>16}{fmt(after[name], 6):>16}{fmt(after[name] - before[name], 6):>16}")
    received = sum(after[n] - before[n] for n in ("provider", "broker", "treasury"))
    refunded = after["payer"] - before["payer"] + paid  # payer's net change is −paid + refund
    escrow_left = after["market escrow"] - before["market escrow"]
    total = received + refunded + escrow_left
    print(f"\npaid by payer        {fmt(paid, 6):>16}")
    print(f"provider+fees        {fmt(received, 6):>16}")
    print(f"refund               {fmt(refunded, 6):>16}")
    print(f"left in escrow       {fmt(escrow_left, 6):>16}")
    if total == paid and escrow_left == 0:
        print(f"CHECK OK: provider + fees + refund == paid ({paid} base units), to the unit")
        return 0
    print(f"CHECK FAILED: {total} != {paid}", file=sys.stderr)
    sys.exit(1)
