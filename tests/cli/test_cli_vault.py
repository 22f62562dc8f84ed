"""Every `gpumarket vault` command through click's test runner on the session's anvil: the --json shapes,
the money as the vault moves it (shares, the income split to the base unit, a redemption through its
batch), and the vault's bad-input matrix (each refusal exits non-zero with one `error:` line and sends
nothing)."""

from __future__ import annotations

import shlex
from types import SimpleNamespace

import pytest
from ape import chain
from cli_support import amount_shape, assert_refused, deployment_dir, gm, nonces, ok, record_file, record_of  # noqa: F401
from conftest import GPUC

from gpumarket.deployment import write_record

SHARE = 10**24  # one whole share: GPUC's 18 decimals + the vault's offset of 6
SCALE = 10**36  # VaultMath.SCALE
VAULT_KEYS = {"address", "name", "symbol", "operator", "metadata", "active", "commission_bps",
              "pending_commission_bps", "pending_commission_at", "pending_commission_at_utc", "total_assets",
              "total_shares", "share_price", "stake", "tracked_rentals", "income_tokens", "streamed_not_harvested",
              "redemption", "account"}
DEPOSITS = {"operator": 1_000, "dubai": 4_000, "us": 2_500, "korea": 1_500}


def at(timestamp: int) -> None:
    chain.mine(timestamp=timestamp)


@pytest.fixture(scope="module")
def people(accounts, provider, renter, stranger, fund, gpuc, usd):
    """The Brisbane operator (the provider role) and three investors, each funded with GPUC; a renter with mUSD."""
    p = SimpleNamespace(operator=provider, dubai=accounts[9], us=accounts[10], korea=accounts[11], renter=renter,
                        stranger=stranger)
    for who in (p.operator, p.dubai, p.us, p.korea):
        fund(who, gpuc, 10_000 * GPUC)
    fund(renter, usd, 100_000 * 10**6)
    return p


def _create(gm, people, commission="10") -> str:
    created = ok(gm("vault", "create", "Brisbane GPU Vault", "bGPU", "ipfs://bafy/brisbane-h100.json",
                    "--commission-pct", commission, account=people.operator))
    return created["vault"]["address"]


def _deposit_all(gm, people, vault: str) -> None:
    for name, amount in DEPOSITS.items():
        ok(gm("vault", "deposit", str(amount), "--vault", vault, account=getattr(people, name)))


def _offer(gm, people, gpus=64) -> int:
    return ok(gm("vault", "offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", gpus,
                 "--price", "1.95", account=people.operator))["offer"]["id"]


def test_create_list_status(gm, people, registry):
    created = ok(gm("vault", "create", "Brisbane GPU Vault", "bGPU", "ipfs://bafy/brisbane-h100.json",
                    "--commission-pct", "12.5", account=people.operator))
    v = created["vault"]
    assert set(v) == VAULT_KEYS and created["tx"].startswith("0x")
    assert v["operator"] == people.operator.address and v["commission_bps"] == 1250 and v["symbol"] == "bGPU"
    assert v["metadata"] == "ipfs://bafy/brisbane-h100.json" and v["active"] is False  # no stake yet
    assert v["share_price"] == {"raw": str(GPUC), "units": "1.000000000000000000", "symbol": "GPUC"}
    assert registry.providerOf(v["address"]).registered  # the vault is the provider
    rows = ok(gm("vault", "list"))
    assert [(r["address"], r["operator"], r["commission_bps"]) for r in rows] == \
        [(v["address"], people.operator.address, 1250)]
    # By its address, by its operator's, and as the vault --account operates; --account's position too.
    for argv, who in ((["vault", "status", v["address"]], None), (["vault", "status", people.operator.address], None),
                      (["vault", "status"], people.operator)):
        status = ok(gm(*argv, account=who))
        assert status["address"] == v["address"]
    mine = ok(gm("vault", "status", account=people.operator))["account"]
    assert mine["address"] == people.operator.address and mine["shares"]["raw"] == "0" and mine["requests"] == []
    human = gm("vault", "list", as_json=False)
    assert human.code == 0 and "bGPU" in human.out and "share price" in human.out


def test_deposit_offer_rent_activate_harvest_and_the_income_split(gm, people, usd, market):
    vault = _create(gm, people)
    deposited = ok(gm("vault", "deposit", "1000", account=people.operator))  # the operator's own vault by default
    assert deposited["approval_tx"] and deposited["shares_minted"]["raw"] == str(1_000 * SHARE)
    amount_shape(deposited["shares_minted"], "bGPU")
    assert deposited["position"]["value"]["raw"] == str(1_000 * GPUC)
    for name in ("dubai", "us", "korea"):
        # An investor names the vault by its operator's address.
        ok(gm("vault", "deposit", str(DEPOSITS[name]), "--vault", people.operator.address,
              account=getattr(people, name)))
    status = ok(gm("vault", "status", vault))
    assert status["active"] and status["total_assets"]["raw"] == str(9_000 * GPUC)
    assert status["stake"]["staked"]["raw"] == str(9_000 * GPUC)

    offer = ok(gm("vault", "offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "64",
                  "--price", "1.95", "--tier", "1000:2", account=people.operator))["offer"]
    assert offer["provider"] == vault and offer["tiers"] == [{"min_gpu_hours": 1000, "discount_bps": 200}]
    # 48 GPUs: 4,800 GPUC of collateral, beyond the operator's own 1,000.
    rent = ok(gm("rental", "rent", offer["id"], "--gpus", "48", "--hours", "24", "--max-price", "1.95",
                 account=people.renter))["rental"]
    assert rent["collateral"]["raw"] == str(4_800 * GPUC)
    active = ok(gm("vault", "activate", rent["id"], "--vault", vault, account=people.operator))["rental"]
    assert active["status"] == "active"
    assert ok(gm("vault", "status", vault))["tracked_rentals"] == [rent["id"]]

    at(active["ends_at"])
    before = ok(gm("vault", "income", people.dubai.address, "--vault", vault))["income"]["mUSD"]
    assert before["as_of_last_harvest"]["raw"] == "0" and int(before["withdrawable_now"]["raw"]) > 0
    assert ok(gm("vault", "status", vault))["streamed_not_harvested"]["mUSD"]["raw"] == rent["total"]["raw"]
    shared = ok(gm("vault", "harvest", "--vault", vault, account=people.stranger))["distributed"]
    assert len(shared) == 1 and shared[0]["token"] == "mUSD"
    received = int(shared[0]["received"]["raw"])
    total = int(rent["total"]["raw"])
    assert received == total - total * market.protocolFeeBps() // 10_000  # the provider's net of the whole stream
    commission = received * 1_000 // 10_000
    assert int(shared[0]["commission"]["raw"]) == commission
    # Pro rata to shares, as VaultMath rounds; what rounding leaves is dust, never owed twice.
    per_share = (received - commission) * SCALE // (9_000 * SHARE)
    expected = {name: amount * SHARE * per_share // SCALE for name, amount in DEPOSITS.items()}
    expected["operator"] += commission
    got = {name: int(ok(gm("vault", "income", "--vault", vault, account=getattr(people, name)))
                     ["income"]["mUSD"]["as_of_last_harvest"]["raw"]) for name in DEPOSITS}
    assert got == expected
    assert 0 <= received - sum(got.values()) < len(DEPOSITS)

    for name in DEPOSITS:
        who = getattr(people, name)
        balance = usd.balanceOf(who)
        out = ok(gm("vault", "withdraw", "--vault", vault, account=who))
        assert out["redemptions"] == [] and out["income"]["mUSD"]["amount"]["raw"] == str(expected[name])
        assert usd.balanceOf(who) - balance == expected[name]
    again = gm("vault", "withdraw", "--vault", vault, account=people.dubai)
    assert_refused(again, "has nothing to withdraw from vault bGPU: no finished redemption request and no income")


def test_operator_runs_offers_commission_and_metadata(gm, people, registry):
    vault = _create(gm, people)
    _deposit_all(gm, people, vault)
    offer = _offer(gm, people)
    updated = ok(gm("vault", "offer", "update", offer, "--price", "1.80", "--gpus", "32", account=people.operator))
    assert updated["offer"]["price_per_gpu_hour"]["raw"] == "1800000" and updated["offer"]["gpus_offered"] == 32
    assert ok(gm("vault", "offer", "pause", offer, account=people.operator))["offer"]["status"] == "paused"
    assert ok(gm("vault", "offer", "resume", offer, account=people.operator))["offer"]["status"] == "active"
    assert ok(gm("vault", "offer", "close", offer, "--vault", vault, account=people.operator))["offer"]["status"] == \
        "closed"

    cut = ok(gm("vault", "commission", "7.5", account=people.operator))
    assert cut["commission_bps"] == 750 and cut["pending_commission_bps"] is None  # a cut applies at once
    proposed_from = chain.pending_timestamp
    rise = ok(gm("vault", "commission", "15", account=people.operator))
    notice = 2 * registry.unbondingPeriod()  # a rise waits: time for a backer to redeem first
    assert rise["commission_bps"] == 750 and rise["pending_commission_bps"] == 1500
    assert proposed_from + notice <= rise["effective_at"] <= proposed_from + notice + 60
    status = ok(gm("vault", "status", vault))
    assert status["pending_commission_bps"] == 1500 and status["pending_commission_at"] == rise["effective_at"]
    at(rise["effective_at"])
    due = ok(gm("vault", "status", vault))  # due, yet it applies only after the next distribution
    assert due["commission_bps"] == 750 and due["pending_commission_bps"] == 1500
    ok(gm("vault", "harvest", "--vault", vault, account=people.dubai))
    after = ok(gm("vault", "status", vault))
    assert after["commission_bps"] == 1500 and after["pending_commission_bps"] is None

    renamed = ok(gm("vault", "metadata", "ipfs://bafy/brisbane-h100-v2.json", account=people.operator))
    assert renamed["metadata"] == "ipfs://bafy/brisbane-h100-v2.json" == registry.metadataOf(vault)


def test_redeem_waits_for_collateral_then_unbonds_and_pays(gm, people, gpuc, market):
    vault = _create(gm, people)
    _deposit_all(gm, people, vault)
    offer = _offer(gm, people)
    rent = ok(gm("rental", "rent", offer, "--gpus", "48", "--hours", "2", "--max-price", "2",
                 account=people.renter))["rental"]
    ok(gm("vault", "activate", rent["id"], account=people.operator))

    asked = ok(gm("vault", "redeem", "all", "--vault", vault, account=people.dubai))
    request = asked["request"]
    assert request["state"] == "queued" and request["shares"]["raw"] == str(4_000 * SHARE) and request["batch"] == 1
    assert asked["worth_now"]["raw"] == str(4_000 * GPUC)
    # 4,800 of 9,000 GPUC back the rental: 4,200 free, the batch needs 4,000 ... it can start.
    assert "can start now" in asked["redemption"]["next"]
    more = ok(gm("vault", "redeem", "1000", "--to", people.stranger.address, "--vault", vault, account=people.us))
    assert more["request"]["receiver"] == people.stranger.address and more["request"]["batch"] == 1
    # ... but not with the US request too (5,000 > 4,200): the batch waits for the collateral.
    waits = gm("vault", "start-batch", "--vault", vault, account=people.korea)
    assert_refused(waits, "need 5,000.000000000000000000 GPUC of the vault's free stake, which is 4,200")
    assert "waits for collateral" in ok(gm("vault", "status", vault))["redemption"]["next"]

    at(market.releasableAt(rent["id"]))
    ok(gm("rental", "release", rent["id"], account=people.stranger))  # the collateral is unlocked
    started = ok(gm("vault", "start-batch", "--vault", vault, account=people.korea))
    assert started["batch"] == 1 and started["unbonding"]["raw"] == str(5_000 * GPUC)
    early = gm("vault", "finish-batch", "--vault", vault, account=people.korea)
    assert_refused(early, "Redemption batch #1 finishes unbonding at")
    status = ok(gm("vault", "status", vault, account=people.dubai))
    assert status["redemption"]["unbonding_batch"] == 1 and status["account"]["requests"][0]["state"] == "unbonding"

    at(started["ready_at"])
    finished = ok(gm("vault", "finish-batch", "--vault", vault, account=people.korea))
    assert finished["payout"]["raw"] == str(5_000 * GPUC) and finished["restaked"]["raw"] == "0"
    balance = gpuc.balanceOf(people.dubai)
    paid = ok(gm("vault", "withdraw", "--only", "redemptions", "--vault", vault, account=people.dubai))
    assert [(r["request_id"], r["paid"]["raw"]) for r in paid["redemptions"]] == [(1, str(4_000 * GPUC))]
    assert gpuc.balanceOf(people.dubai) - balance == 4_000 * GPUC and paid["income"] == {}
    # Anyone pays a request to its receiver.
    claimed = ok(gm("vault", "claim", more["request"]["id"], "--vault", vault, account=people.korea))
    assert claimed["receiver"] == people.stranger.address and claimed["paid"]["raw"] == str(1_000 * GPUC)
    after = ok(gm("vault", "status", vault))
    assert after["total_assets"]["raw"] == str(4_000 * GPUC) and after["share_price"]["raw"] == str(GPUC)


# ───────────────────────────── The bad-input matrix ─────────────────────────────


@pytest.fixture(scope="module")
def scene(gm, people, stake_provider, create_offer, open_rental, market, provider2):
    """The Brisbane vault (10 %) with 1,000 GPUC of the operator and 4,000 of Dubai; its 64-GPU offer with an
    active 40-GPU rental (4,000 GPUC of collateral) and a pending 2-GPU one; Dubai has asked to redeem all its
    shares (the batch waits for collateral). Beside it, provider2's own offer with a pending rental."""
    vault = _create(gm, people)
    ok(gm("vault", "deposit", "1000", "--vault", vault, account=people.operator))
    ok(gm("vault", "deposit", "4000", "--vault", vault, account=people.dubai))
    offer = _offer(gm, people)
    active = ok(gm("rental", "rent", offer, "--gpus", "40", "--hours", "4", "--max-price", "2",
                   account=people.renter))["rental"]["id"]
    ok(gm("vault", "activate", active, account=people.operator))
    pending = ok(gm("rental", "rent", offer, "--gpus", "2", "--hours", "4", "--max-price", "2",
                    account=people.renter))["rental"]["id"]
    ok(gm("vault", "redeem", "all", "--vault", vault, account=people.dubai))
    stake_provider(provider2)
    other_offer = create_offer(provider2)
    other_pending = open_rental(other_offer, people.renter, gpus=1, hours=2)
    return SimpleNamespace(vault=vault, offer=offer, active=active, pending=pending, other_offer=other_offer,
                           other_pending=other_pending)


NEW_OFFER = "--gpu-model H100 --region EU --gpus 1 --price 1"

# (id, argv, who, expected words). Placeholders: {vault} {offer} {active} {pending} {other_offer}
# {other_pending} {stranger}.
CASES = [
    ("create-twice", "vault create B b ipfs://b --commission-pct 5", "operator", "already operates vault"),
    ("create-commission-above-max", "vault create B b ipfs://b --commission-pct 60", "stranger",
     "The commission may be at most 50 % of the income, not 60 %"),
    ("create-commission-not-a-number", "vault create B b ipfs://b --commission-pct ten", "stranger",
     "(percent, at most 2 decimals)"),
    ("create-empty-metadata", "vault create B b '' --commission-pct 5", "stranger", "Metadata of 0 bytes is invalid"),
    ("create-empty-name", "vault create '' b ipfs://b --commission-pct 5", "stranger", "The vault's name must be"),
    ("create-missing-commission", "vault create B b ipfs://b", "stranger", "Missing option '--commission-pct'"),
    ("unknown-vault", "vault status {stranger}", None, "is neither a vault of the VaultFactory"),
    ("bad-vault-address", "vault deposit 10 --vault 0x1234", "korea", "'0x1234' is not a valid vault address"),
    ("account-operates-no-vault", "vault status", "stranger", "operates no vault"),
    ("no-vault-no-account", "vault status", None, "Name the vault with --vault"),
    ("deposit-zero", "vault deposit 0 --vault {vault}", "korea", "The amount must be above zero"),
    ("deposit-above-balance", "vault deposit 999999 --vault {vault}", "korea", "needs 999,999.000000000000000000 GPUC"),
    ("deposit-too-precise", "vault deposit 1.0000000000000000001 --vault {vault}", "korea", "has more than 18 decimals"),
    ("deposit-no-account", "vault deposit 10 --vault {vault}", None, "choose an account with --account"),
    ("redeem-zero", "vault redeem 0 --vault {vault}", "operator", "The number of shares to redeem must be above zero"),
    ("redeem-more-than-held", "vault redeem 1500 --vault {vault}", "operator",
     "Redeeming 1,500.000000000000000000000000 bGPU is more than the 1,000.000000000000000000000000 bGPU held"),
    ("redeem-none-held", "vault redeem all --vault {vault}", "korea", "There are no shares to redeem"),
    ("redeem-bad-receiver", "vault redeem 10 --to 0x12 --vault {vault}", "operator",
     "'0x12' is not a valid receiver address"),
    ("start-batch-waits-for-collateral", "vault start-batch --vault {vault}", "stranger",
     "the batch waits until their collateral is released"),
    ("finish-batch-none-unbonding", "vault finish-batch --vault {vault}", "stranger", "No redemption batch is unbonding"),
    ("claim-unfinished", "vault claim 1 --vault {vault}", "stranger", "its batch #1 has not finished"),
    ("claim-unknown", "vault claim 9 --vault {vault}", "stranger", "Redemption request #9 does not exist"),
    ("claim-not-a-number", "vault claim first --vault {vault}", "stranger", "'first' is not a whole number"),
    ("withdraw-nothing", "vault withdraw --vault {vault}", "korea", "has nothing to withdraw from vault bGPU"),
    ("withdraw-redemption-unfinished", "vault withdraw --only redemptions --vault {vault}", "dubai",
     "its batch #1 has not finished"),
    ("withdraw-income-in-a-token", "vault withdraw --token GPUC --vault {vault}", "dubai", "has no income in GPUC"),
    ("withdraw-bad-choice", "vault withdraw --only shares --vault {vault}", "dubai", "Invalid value for '--only'"),
    ("harvest-unknown-vault", "vault harvest --vault {stranger}", "korea", "is neither a vault of the VaultFactory"),
    ("income-bad-address", "vault income 0xZZ --vault {vault}", None, "'0xZZ' is not a valid address"),
    ("commission-not-operator", "vault commission 5 --vault {vault}", "dubai", "is not the vault's operator"),
    ("commission-above-max", "vault commission 51", "operator", "The commission may be at most 50 %"),
    ("activate-not-operator", "vault activate {pending} --vault {vault}", "dubai", "is not the vault's operator"),
    ("activate-active", "vault activate {active}", "operator", "is active; only pending rentals can be activated"),
    ("activate-another-providers-rental", "vault activate {other_pending}", "operator",
     "is not the provider of rental"),
    ("metadata-too-long", "vault metadata " + "x" * 513, "operator", "must be 1 to 512 bytes"),
    ("metadata-not-operator", "vault metadata ipfs://x --vault {vault}", "dubai", "is not the vault's operator"),
    ("offer-create-not-operator", f"vault offer create {NEW_OFFER} --vault {{vault}}", "dubai",
     "is not the vault's operator"),
    ("offer-create-label-too-long", "vault offer create --gpu-model " + "X" * 33 + " --region EU --gpus 1 --price 1",
     "operator", "must be 1 to 32 bytes"),
    ("offer-create-unknown-token", f"vault offer create {NEW_OFFER} --token DOGE", "operator", "Unknown token 'DOGE'"),
    ("offer-create-missing-option", "vault offer create --region EU --gpus 1 --price 1", "operator",
     "Missing option '--gpu-model'"),
    ("offer-update-below-in-use", "vault offer update {offer} --gpus 10", "operator",
     "has 42 GPUs in use; it cannot offer only 10"),
    ("offer-pause-another-providers", "vault offer pause {other_offer}", "operator", "is not the provider of offer"),
    ("offer-resume-active", "vault offer resume {offer}", "operator", "is active, not paused"),
    ("offer-close-not-operator", "vault offer close {offer} --vault {vault}", "dubai", "is not the vault's operator"),
    ("offer-sign-not-operator", f"vault offer sign {NEW_OFFER} --vault {{vault}}", "dubai", "is not the vault's operator"),
    ("offer-sign-bad-nonce", f"vault offer sign {NEW_OFFER} --nonce=-1", "operator",
     "The nonce must be between 0 and 2^256 − 1, not -1."),
    ("offer-cancel-signed-not-operator", "vault offer cancel-signed --below 5 --vault {vault}", "dubai",
     "is not the vault's operator"),
    ("offer-cancel-signed-floor-not-raised", "vault offer cancel-signed --below 0", "operator",
     "The nonce floor is already 0; give a higher nonce than that (not 0)."),
]


@pytest.mark.parametrize("argv,who,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_one_sentence_and_no_transaction(argv, who, words, scene, people, gm, accounts, monkeypatch):
    monkeypatch.delenv("GPUMARKET_ACCOUNT", raising=False)
    monkeypatch.delenv("GPUMARKET_VAULT", raising=False)
    args = shlex.split(argv.format(**vars(scene), stranger=people.stranger.address))
    before = nonces(accounts)
    result = gm(*args, account=None if who is None else getattr(people, who))
    assert_refused(result, words)
    assert nonces(accounts) == before, "a refused command sent a transaction"


def test_a_deployment_without_a_factory(gm, system, people, tmp_path):
    record = record_of(system)
    del record["contracts"]["VaultFactory"]
    write_record(record_file(tmp_path), record)
    assert_refused(gm("vault", "list", deployments=tmp_path), "This deployment has no VaultFactory")


def test_the_vault_matrix_covers_every_vault_command():
    from gpumarket.cli import vault, vault_offer

    commands = {name for name in vault.commands if name != "offer"} | {f"offer {n}" for n in vault_offer.commands}
    covered = {" ".join(shlex.split(c[1])[1:3]) if shlex.split(c[1])[1] == "offer" else shlex.split(c[1])[1]
               for c in CASES}
    assert commands - {"list"} <= covered, commands - covered  # `list` takes nothing that can be wrong
    assert len(CASES) >= 40
