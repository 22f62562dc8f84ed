"""`gpumarket rental cluster` through click's test runner on the session's anvil: the cheapest mix across
on-chain and signed offers (volume tiers and each provider's free stake included) against a brute-force
optimum, the atomic booking, the refusals (cap, coverage, several tokens) that send nothing, and
`rental list` naming each rental's cluster."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import pytest
from ape import chain
from cli_support import assert_refused, deployment_dir, gm, nonces, ok  # noqa: F401  (fixtures)
from conftest import GPUC, PRICE_GPUC, USD
from rental_model import ceil_div, rental_cost

HOURS = 4
REQUEST = ["--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--hours", str(HOURS)]


def _sign(gm, tmp_path, who, name, *terms):
    doc = ok(gm("offer", "sign", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", *terms, account=who))
    (tmp_path / name).write_text(json.dumps(doc))
    return doc


@pytest.fixture
def offers(gm, staked, provider2, more_providers, stake_provider, create_offer, renter, fund, usd, tmp_path):
    """Four offers of H100s in AU-QLD, two on chain and two signed (in tmp_path/signed):
    A on chain by P (6 GPUs at 1.80, 10 % from 24 GPU-hours); B on chain by Q (6 at 1.50);
    C signed by Q (6 at 1.60, 5 % from 20 GPU-hours); D signed by R (8 at 1.90, 5 % from 16, 15 % from 32).
    Q has only the minimum stake (1,000 GPUC: 10 GPUs of collateral) for its 12 GPUs. Beside them: a file
    for another region (ignored) and one that is not a signed offer (skipped)."""
    signed_dir = tmp_path / "signed"
    signed_dir.mkdir()
    q, r = provider2, more_providers[0]
    stake_provider(q, 1_000 * GPUC)
    stake_provider(r)
    a = create_offer(staked, gpus=6, price=1_800_000, tiers=[(24, 1000)])
    b = create_offer(q, gpus=6, price=1_500_000)
    c = _sign(gm, signed_dir, q, "c.json", "--gpus", "6", "--price", "1.60", "--tier", "20:5")
    d = _sign(gm, signed_dir, r, "d.json", "--gpus", "8", "--price", "1.90", "--tier", "16:5", "--tier", "32:15")
    elsewhere = ok(gm("offer", "sign", "--gpu-model", "H100-SXM-80GB", "--region", "EU-DE", "--gpus", "8", "--price",
                      "0.5", account=r))
    (signed_dir / "elsewhere.json").write_text(json.dumps(elsewhere))
    (signed_dir / "notes.json").write_text('{"schema": "my-notes/1"}')
    fund(renter, usd, 1_000 * USD)
    # (label, provider, GPUs, price, tiers) as the test knows them, independently of the client.
    table = [(f"#{a}", staked.address, 6, 1_800_000, [(24, 1000)]), (f"#{b}", q.address, 6, 1_500_000, []),
             (c["hash"][:10] + "…", q.address, 6, 1_600_000, [(20, 500)]),
             (d["hash"][:10] + "…", r.address, 8, 1_900_000, [(16, 500), (32, 1500)])]
    return SimpleNamespace(dir=signed_dir, a=a, b=b, c=c, d=d, table=table, q=q, r=r)


def brute_force(table, gpus, caps):
    """Every split of `gpus` over the offers within capacity and each provider's cap, cheapest first."""
    splits = []
    for ks in itertools.product(*[range(g + 1) for _, _, g, _, _ in table]):
        used = {}
        for (_, p, *_), k in zip(table, ks):
            used[p] = used.get(p, 0) + k
        if sum(ks) == gpus and all(used[p] <= caps[p] for p in used):
            splits.append((sum(rental_cost(k, price, HOURS, tiers) for (*_, price, tiers), k in zip(table, ks)), ks))
    return sorted(splits)


def test_the_plan_is_the_brute_force_optimum(gm, offers, registry, market, renter, accounts):
    per_gpu = market.stakePerGpu()
    caps = {p: registry.freeStakeOf(p) // per_gpu for _, p, *_ in offers.table}
    assert caps[offers.q.address] == 10  # Q's stake backs only 10 of its 12 GPUs
    splits = brute_force(offers.table, 18, caps)
    (best, split), runner_up = splits[0], splits[1]
    assert best < runner_up[0]  # a unique optimum ...
    assert split == (0, 5, 5, 8)  # ... which takes 5 of B, 5 of C (its tier) and 8 of D (its 15 % tier)
    assert brute_force(offers.table, 18, {p: 99 for p in caps})[0][1] == (6, 6, 6, 0)  # without Q's cap: another

    before = (nonces(accounts), chain.blocks.height)
    plan = ok(gm("rental", "cluster", "--gpus", "18", *REQUEST, "--max-price", "1.60", "--signed", offers.dir,
                 "--dry-run", account=renter))
    assert (nonces(accounts), chain.blocks.height) == before  # a dry run sends nothing
    chosen = {row["offer"]: row["gpus"] for row in plan["parts"]}
    assert chosen == {label: k for (label, *_), k in zip(offers.table, split) if k}
    assert plan["total"]["raw"] == str(best) and plan["token"] == "mUSD" and plan["dry_run"] is True
    assert plan["average_price_per_gpu_hour"]["raw"] == str(ceil_div(best, 18 * HOURS))
    for row, ((label, provider, _, price, tiers), k) in zip(plan["parts"], [(t, k) for t, k in zip(offers.table, split)
                                                                            if k]):
        assert (row["offer"], row["provider"], row["cost"]["raw"]) == \
            (label, provider, str(rental_cost(k, price, HOURS, tiers)))
        assert row["effective_price_per_gpu_hour"]["raw"] == str(ceil_div(rental_cost(k, price, HOURS, tiers),
                                                                          k * HOURS))
    assert [row["offer_id"] for row in plan["parts"]] == [offers.b, None, None]  # on-chain parts first
    assert {s["offer"]: s["reason"] for s in plan["skipped"]} == {
        str(offers.dir / "notes.json"): f'{offers.dir / "notes.json"} is not a gpumarket signed offer (its "schema" '
                                        'is not "gpumarket.signed-offer/1").'}


def test_the_cluster_is_booked_in_one_transaction(gm, offers, market, usd, renter, registry, params):
    balance, first = usd.balanceOf(renter), market.nextRentalId()
    booked = ok(gm("rental", "cluster", "--gpus", "18", *REQUEST, "--max-price", "1.60", "--signed", offers.dir,
                   account=renter))
    total = int(booked["total"]["raw"])
    assert booked["cluster_id"] == first and usd.balanceOf(renter) == balance - total
    receipt = chain.provider.get_receipt(booked["tx"])
    [event] = receipt.decode_logs(market.ClusterBooked)
    assert (event.firstRentalId, event.renter, event.payer, event.token, event.rentals, event.totalCost) == \
        (first, renter.address, renter.address, usd.address, 3, total)
    assert len([t for t in receipt.decode_logs(usd.Transfer) if t.to == market.address]) == 1  # one pull
    assert [row["rental_id"] for row in booked["parts"]] == [first, first + 1, first + 2]
    for row in booked["parts"]:
        r = market.getRental(row["rental_id"])
        assert (r.gpus, r.total, r.renter, r.hoursPaid) == (row["gpus"], int(row["cost"]["raw"]), renter.address, HOURS)
        assert market.getOffer(r.offerId).provider == row["provider"]
    assert registry.providerOf(offers.q).locked == 10 * params["stake_per_gpu"]
    assert market.signedOfferOf(offers.c["hash"])[0] > 0 and market.signedOfferOf(offers.d["hash"])[0] > 0


@pytest.mark.parametrize("case", ["average above the maximum", "more GPUs than can be covered", "two tokens"])
def test_a_cluster_that_cannot_be_met_sends_nothing(case, gm, offers, staked, create_offer, gpuc, renter, accounts):
    argv = ["--gpus", "18", *REQUEST, "--max-price", "1.60", "--signed", offers.dir]
    if case == "average above the maximum":
        argv[argv.index("1.60")] = "1.55"
        sentence = ("The cheapest mix of 18 H100-SXM-80GB GPUs in AU-QLD for 4 hours costs 112.080000 mUSD, an average "
                    "of 1.556667 mUSD per GPU-hour, above your maximum of 1.550000 mUSD.")
    elif case == "more GPUs than can be covered":
        argv[1] = "25"  # A 6 + Q's 10 (its stake) + D 8 = 24
        sentence = ("Only 24 H100-SXM-80GB GPUs in AU-QLD can be booked for 4 hours (free capacity backed by free "
                    "stake, across 4 offers paid in mUSD); 25 were asked for.")
    else:
        create_offer(staked, token=gpuc, price=PRICE_GPUC)
        sentence = ("The offers of H100-SXM-80GB in AU-QLD for 4 hours are paid in GPUC and mUSD; choose one with "
                    "--token (a cluster is paid in one token).")
    before = (nonces(accounts), chain.blocks.height)
    result = gm("rental", "cluster", *argv, account=renter)
    assert_refused(result, sentence)
    assert result.err.strip() == f"error: {sentence}"
    assert (nonces(accounts), chain.blocks.height) == before
    if case == "two tokens":  # naming the token settles it; the other token's offer is left out, with why
        plan = ok(gm("rental", "cluster", *argv, "--token", "mUSD", "--dry-run", account=renter))
        assert plan["total"]["raw"] == "112080000"
        assert {"offer": f"#{offers.b + 1}", "reason": "It is paid in GPUC, not mUSD."} in plan["skipped"]


def test_rental_list_names_each_rentals_cluster(gm, offers, renter, market):
    alone = ok(gm("rental", "rent", offers.a, "--gpus", "1", "--hours", "4", "--max-price", "2",
                  account=renter))["rental"]["id"]
    booked = ok(gm("rental", "cluster", "--gpus", "18", *REQUEST, "--max-price", "1.60", "--signed", offers.dir,
                   account=renter))
    rows = ok(gm("rental", "list", "--as", "renter", account=renter))
    first = booked["cluster_id"]
    assert [(r["id"], r["cluster_id"]) for r in rows] == [(alone, None), (first, first), (first + 1, first),
                                                          (first + 2, first)]
    human = gm("rental", "list", "--as", "renter", account=renter, as_json=False)
    header, *lines = human.out.strip().splitlines()
    assert header.split()[-1] == "cluster" and lines[0].split()[-1] == "-"
    assert [line.split()[-1] for line in lines[1:]] == [str(first)] * 3
