"""Every entity of the index against the chain's own views, field by field: the list of disagreements
(empty when the index is right). Shared by the replay and reorg tests."""

from __future__ import annotations

import json

ZERO = "0x0000000000000000000000000000000000000000"
SIGNED_OFFER_ID_BASE = 1_000_000_000


def _offer_ids(market) -> list[int]:
    ids = list(range(1, market.nextOfferId()))
    n = 1
    while market.getOffer(SIGNED_OFFER_ID_BASE + n).status != 0:
        ids.append(SIGNED_OFFER_ID_BASE + n)
        n += 1
    return ids


def disagreements(idx, market, registry, tokens, accounts, vaults=()) -> list[str]:
    out: list[str] = []

    def check(what: str, indexed, chain) -> None:
        if indexed != chain:
            out.append(f"{what}: index {indexed!r}, chain {chain!r}")

    offers = {row["id"]: row for row in idx.rows("SELECT * FROM offers")}
    ids = _offer_ids(market)
    check("offer ids", sorted(offers), ids)
    for offer_id in ids:
        o, row = market.getOffer(offer_id), offers.get(offer_id)
        if row is None:
            continue
        check(f"offer {offer_id}", (row["provider"], row["token"], int(row["price"]), row["gpus_offered"],
                                    row["gpus_in_use"], row["min_hours"], row["max_hours"], row["reserved_for"],
                                    row["max_broker_bps"], row["status"]),
              (o.provider, o.paymentToken, o.pricePerGpuHour, o.gpusOffered, o.gpusInUse, o.minHours, o.maxHours,
               o.reservedFor if o.reserved else ZERO, o.maxBrokerBps, o.status))
        check(f"offer {offer_id} tiers", [tuple(t) for t in json.loads(row["tiers"])],
              [(t.minGpuHours, t.discountBps) for t in market.offerTiers(offer_id)])

    rentals = {row["id"]: row for row in idx.rows("SELECT * FROM rentals")}
    check("rental ids", sorted(rentals), list(range(1, market.nextRentalId())))
    for rental_id, row in rentals.items():
        r = market.getRental(rental_id)
        check(f"rental {rental_id}",
              (row["offer_id"], row["renter"], row["payer"], row["broker"], row["broker_bps"], row["gpus"],
               row["hours_paid"], int(row["total"]), int(row["claimed"]), int(row["collateral"]), row["status"],
               row["started_at"], row["ends_at"], row["activation_deadline"], row["protocol_fee_bps"],
               row["discount_bps"], row["disputed_at"]),
              (r.offerId, r.renter, market.payerOf(rental_id), r.broker, r.brokerBps, r.gpus, r.hoursPaid, r.total,
               r.claimed, r.collateral, r.status, r.startedAt, r.endsAt, r.activationDeadline, r.protocolFeeBps,
               r.discountBps, r.disputedAt))
        check(f"rental {rental_id} provider and token", (row["provider"], row["token"]),
              (market.getOffer(r.offerId).provider, market.getOffer(r.offerId).paymentToken))

    providers = {row["address"]: row for row in idx.rows("SELECT * FROM providers")}
    for address in {*providers, *(a.address for a in accounts), *(v.address for v in vaults)}:
        p, rep = registry.providerOf(address), market.reputationOf(address)
        row = providers.get(address)
        if row is None:
            check(f"provider {address}", None, None if not p.registered and p.staked == 0 else "registered")
            continue
        check(f"provider {address}", (bool(row["registered"]), int(row["staked"]), int(row["locked"]),
                                      int(row["unbonding"]), row["unbonding_ready_at"], row["metadata"]),
              (p.registered, p.staked, p.locked, p.unbonding, p.unbondingReadyAt, registry.metadataOf(address)))
        check(f"reputation {address}", (int(row["gpu_seconds_served"]), row["rentals_completed"],
                                        row["disputes_lost"], int(row["amount_slashed"])),
              (rep.gpuSecondsServed, rep.rentalsCompleted, rep.disputesLost, rep.amountSlashed))
        check(f"nonce floor {address}", int(row["nonce_floor"]), market.signedNonceFloor(address))

    fees = {row["token"]: int(row["amount"]) for row in idx.rows("SELECT * FROM protocol_fees")}
    credits = {(row["account"], row["token"]): int(row["amount"]) for row in idx.rows("SELECT * FROM credits")}
    for t in tokens:
        check(f"protocol fees in {t.address}", fees.get(t.address, 0), market.protocolFees(t))
        for a in accounts:
            check(f"credits of {a.address} in {t.address}", credits.get((a.address, t.address), 0),
                  market.credits(a, t))
        allowed = idx.rows("SELECT allowed FROM payment_tokens WHERE token = ?", (t.address,))
        check(f"allowlisted {t.address}", bool(allowed and allowed[0]["allowed"]), market.isPaymentToken(t))

    for h, offer_id, cancelled in idx.db.execute("SELECT hash, offer_id, cancelled FROM signed_offers"):
        check(f"signed offer {h}", (offer_id, bool(cancelled)), tuple(market.signedOfferOf(h)))

    indexed_vaults = {row["address"]: row for row in idx.rows("SELECT * FROM vaults")}
    check("vaults", sorted(indexed_vaults), sorted(v.address for v in vaults))
    for v in vaults:
        row = indexed_vaults.get(v.address)
        if row:
            check(f"vault {v.address}", (row["operator"], row["commission_bps"], int(row["total_supply"])),
                  (v.operator(), v.commission()[0], v.totalSupply()))

    params = dict(idx.db.execute("SELECT name, value FROM params"))
    for name in ("protocolFeeBps", "stakePerGpu", "activationWindow", "disputeWindow", "noShowPenaltyBps",
                 "arbitrationTimeout", "slashTreasuryBps"):
        check(f"parameter {name}", int(params.get(name, -1)), getattr(market, name)())
    check("treasury", params.get("treasury"), market.treasury())
    check("stake token", params.get("stakeToken"), registry.stakeToken())
    return out
