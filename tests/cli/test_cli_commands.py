"""Every `gpumarket` command, run through click's test runner on the session's anvil, with the shape
of its --json output checked (stable keys; amounts raw and in units)."""

from __future__ import annotations

import json

from ape import chain
from cli_support import amount_shape, deployment_dir, gm, ok, record_file  # noqa: F401  (fixtures)
from click.testing import CliRunner
from conftest import DAY, HOUR, USD
from rental_model import dispute_bond, stop_charge

from gpumarket.cli import cli

def at(timestamp: int) -> None:
    """Mines a block at `timestamp`, so views (claimableOf, ...) see the time the CLI's checks see."""
    chain.mine(timestamp=timestamp)


def advance(seconds: int) -> None:
    at(chain.pending_timestamp + seconds)


ROLE_KEYS = {"id", "offer_id", "status", "provider", "renter", "payer", "broker", "gpus", "hours_paid",
             "total", "claimed", "accrued", "claimable", "refundable", "collateral", "time_left_s",
             "releasable_at", "ends_at", "dispute"}


def test_help_lists_every_group_without_a_chain():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for group in ("deploy", "info", "index", "provider", "offer", "rental", "vault", "fees", "token", "admin"):
        assert f"  {group}" in result.output


def test_deploy_writes_the_record_and_is_idempotent(gm, owner, tmp_path):
    first = ok(gm("deploy", account=owner, deployments=tmp_path))
    assert set(first["contracts"]) == {"ComputeToken", "ProviderRegistry", "OfferModule", "DisputeModule", "AdminModule",
                                       "BookingModule", "ComputeMarket", "VaultFactory", "MockStablecoin"}
    assert "deploy ComputeMarket" in first["steps_sent"]
    assert "wire the registry to the market" in first["steps_sent"]
    record = json.loads(record_file(tmp_path).read_text())
    assert record["contracts"]["ComputeMarket"]["address"] == first["contracts"]["ComputeMarket"]
    assert record["parameters"]["activation_window"] == 600  # the [ethereum-local] table applies
    nonce = owner.nonce
    again = ok(gm("deploy", account=owner, deployments=tmp_path))
    assert again["steps_sent"] == [] and again["contracts"] == first["contracts"]
    assert owner.nonce == nonce  # nothing sent on a re-run
    info = ok(gm("info", deployments=tmp_path))
    assert info["parameters"]["activation_window_s"] == 600 and info["parameters"]["dispute_window_s"] == 3600
    assert info["payment_tokens"]["mUSD"]["allowed"] and info["offers"] == 0


def test_deploy_resumes_after_a_partial_run(gm, owner, tmp_path, market):
    ok(gm("deploy", account=owner, deployments=tmp_path))
    path = record_file(tmp_path)
    record = json.loads(path.read_text())
    del record["contracts"]["MockStablecoin"]  # as if the run stopped before the stablecoin
    path.write_text(json.dumps(record))
    again = ok(gm("deploy", account=owner, deployments=tmp_path))
    assert again["steps_sent"][:2] == ["deploy MockStablecoin (mUSD, 6 decimals, public mint: test networks only)",
                                       "allow mUSD as a payment token"]
    assert again["contracts"]["ComputeMarket"] == record["contracts"]["ComputeMarket"]["address"]


def test_info_shows_the_session_deployment(gm, market, arbiter):
    data = ok(gm("info"))
    assert data["contracts"]["ComputeMarket"] == market.address
    assert data["arbiter"] == arbiter.address and data["paused"] is False
    amount_shape(data["parameters"]["stake_per_gpu"], "GPUC")


def test_index__follows_the_market_and_resumes(gm, market, provider, stake_provider, create_offer, tmp_path):
    stake_provider(provider)
    create_offer(provider)
    path = tmp_path / "market.index.sqlite"
    first = ok(gm("index", "--index", path))
    assert first["new_events"] > 0 and first["offers"] == market.nextOfferId() - 1 and path.exists()
    assert first["rolled_back_blocks"] == 0
    again = ok(gm("index", "--index", path))
    assert again["new_events"] == 0 and again["offers"] == first["offers"]
    create_offer(provider, gpus=2)
    assert ok(gm("index", "--index", path))["offers"] == first["offers"] + 1
    path.write_bytes(b"not an index" * 50)
    refused = gm("index", "--index", path)
    assert refused.code != 0 and "is not a gpumarket index" in refused.err


def test_provider_register_stake_status_unbond_withdraw(gm, provider, gpuc, treasury, registry):
    gpuc.transfer(provider, 7_000 * 10**18, sender=treasury)
    assert ok(gm("provider", "register", "sha256:abc/h100x8.json", account=provider))["provider"] == provider.address
    staked = ok(gm("provider", "stake", "5000", account=provider))
    assert staked["approval_tx"] and staked["staked"]["units"] == "5000.000000000000000000"
    permit = ok(gm("provider", "stake", "1000.5", "--permit", account=provider))
    assert permit["approval_tx"] is None and permit["staked"]["raw"] == str(60005 * 10**17)
    status = ok(gm("provider", "status", account=provider))
    assert status["registered"] and status["active"] and status["metadata"] == "sha256:abc/h100x8.json"
    for key in ("staked", "locked", "unbonding", "free", "min_stake"):
        amount_shape(status[key], "GPUC")
    assert set(status["reputation"]) == {"gpu_hours_served", "rentals_completed", "disputes_lost", "amount_slashed"}
    unbond = ok(gm("provider", "unbond", "500", account=provider))
    assert unbond["unbonding"]["units"] == "500.000000000000000000" and unbond["ready_at"]
    assert ok(gm("provider", "cancel-unbond", account=provider))["rebonded"]["units"] == "500.000000000000000000"
    unbond = ok(gm("provider", "unbond", "500", account=provider))
    at(unbond["ready_at"])
    assert ok(gm("provider", "withdraw", account=provider))["withdrawn"]["units"] == "500.000000000000000000"
    assert registry.providerOf(provider).staked == 55005 * 10**17


def test_offer_create_show_update_pause_resume_close_list(gm, staked, provider2, stake_provider):
    created = ok(gm("offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "8",
                    "--price", "1.95", "--tier", "96:2.5", "--tier", "192:5", account=staked))
    offer = created["offer"]
    assert offer["status"] == "active" and offer["gpus_free"] == 8 and offer["token"] == "mUSD"
    assert offer["price_per_gpu_hour"] == {"raw": "1950000", "units": "1.950000", "symbol": "mUSD"}
    assert offer["tiers"] == [{"min_gpu_hours": 96, "discount_bps": 250}, {"min_gpu_hours": 192, "discount_bps": 500}]
    oid = offer["id"]
    assert ok(gm("offer", "show", oid))["gpu_model"] == "H100-SXM-80GB"
    updated = ok(gm("offer", "update", oid, "--price", "1.80", "--no-tiers", account=staked))["offer"]
    assert updated["price_per_gpu_hour"]["raw"] == "1800000" and updated["tiers"] == [] and updated["gpus_offered"] == 8
    assert ok(gm("offer", "pause", oid, account=staked))["offer"]["status"] == "paused"
    assert ok(gm("offer", "list")) == []
    assert [o["id"] for o in ok(gm("offer", "list", "--all"))] == [oid]
    assert ok(gm("offer", "resume", oid, account=staked))["offer"]["status"] == "active"
    stake_provider(provider2)
    cheap = ok(gm("offer", "create", "--gpu-model", "A100-80GB", "--region", "EU-DE", "--gpus", "4",
                  "--price", "1.10", account=provider2))["offer"]["id"]
    rows = ok(gm("offer", "list"))
    assert [r["id"] for r in rows] == [cheap, oid]  # sorted by price
    assert [r["id"] for r in ok(gm("offer", "list", "--gpu-model", "h100-sxm-80gb"))] == [oid]
    assert [r["id"] for r in ok(gm("offer", "list", "--region", "EU-DE"))] == [cheap]
    assert [r["id"] for r in ok(gm("offer", "list", "--max-price", "1.5"))] == [cheap]
    assert [r["id"] for r in ok(gm("offer", "list", "--min-gpus", "5"))] == [oid]
    assert ok(gm("offer", "close", oid, account=staked))["offer"]["status"] == "closed"
    human = gm("offer", "list", "--all", as_json=False)
    assert human.code == 0 and "H100-SXM-80GB" in human.out and "price/GPU-h" in human.out


def _usd_offer(gm, provider):
    return ok(gm("offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "8",
                 "--price", "1.95", "--tier", "96:2.5", "--tier", "192:5", account=provider))["offer"]["id"]


def test_rent_for_a_renter_through_a_broker_then_claim_stop_release(gm, staked, renter, payer, broker, usd, owner,
                                                                      market):
    oid = _usd_offer(gm, staked)
    quote = ok(gm("rental", "quote", oid, "--gpus", "8", "--hours", "24"))
    assert quote["discount_bps"] == 500 and quote["cost"]["raw"] == str(8 * 24 * 1_852_500)
    ok(gm("token", "mint", payer.address, "400", account=owner))
    rent = ok(gm("rental", "rent", oid, "--gpus", "8", "--hours", "24", "--max-price", "1.95", "--broker",
                 broker.address, "--broker-pct", "3", "--for", renter.address, account=payer))
    r = rent["rental"]
    assert ROLE_KEYS <= set(r) and r["status"] == "pending" and r["payer"] == payer.address
    assert r["renter"] == renter.address and r["broker"] == broker.address and r["broker_bps"] == 300
    assert rent["paid"]["raw"] == quote["cost"]["raw"] and rent["approval_tx"]
    rid = r["id"]
    active = ok(gm("rental", "activate", rid, account=staked))["rental"]
    assert active["status"] == "active" and active["time_left_s"] > 0
    at(active["started_at"] + 10 * HOUR)
    claims = ok(gm("rental", "claim", rid, account=staked))["claims"]
    assert len(claims) == 1 and int(claims[0]["gross"]) > 0 and int(claims[0]["broker_fee"]) > 0
    stop_from = active["started_at"] + 10 * HOUR + 1800
    at(stop_from)
    stopped = ok(gm("rental", "stop", rid, account=renter))
    assert stopped["rental"]["status"] == "ended" and int(stopped["refund"]["raw"]) > 0
    # The stop lands in the next block: its time is `stop_from` plus the wall-clock seconds anvil saw pass
    # (0 or 1 on an idle machine, more on a loaded CI runner). The rental now ends at that block's time.
    stopped_at = stopped["rental"]["ends_at"]
    assert stop_from <= stopped_at <= stop_from + 60
    shown = ok(gm("rental", "show", rid))
    assert shown["ends_at"] == stopped_at
    assert shown["releasable_at"] == stopped_at + market.disputeWindow()
    at(shown["releasable_at"])
    assert ok(gm("rental", "release", rid, account=renter))["rental"]["status"] == "settled"
    fees = ok(gm("fees", "show", broker.address))
    assert int(fees["tokens"]["mUSD"]["credits"]["raw"]) > 0
    withdrawn = ok(gm("fees", "withdraw", "mUSD", account=broker))
    assert withdrawn["to"] == broker.address and usd.balanceOf(broker) == int(withdrawn["amount"]["raw"])
    protocol = ok(gm("fees", "withdraw", "mUSD", "--protocol", account=renter))
    assert protocol["to"] == market.treasury() and int(protocol["amount"]["raw"]) > 0
    mine = ok(gm("rental", "list", "--as", "payer", "--address", payer.address))
    assert [x["id"] for x in mine] == [rid]
    assert [x["id"] for x in ok(gm("rental", "list", "--as", "provider", account=staked))] == [rid]


def test_extend_claim_many_and_claim_all(gm, staked, renter, owner):
    oid = _usd_offer(gm, staked)
    ok(gm("token", "mint", renter.address, "1000", account=owner))
    a = ok(gm("rental", "rent", oid, "--gpus", "2", "--hours", "5", "--max-price", "2", account=renter))["rental"]
    b = ok(gm("rental", "rent", oid, "--gpus", "2", "--hours", "5", "--max-price", "2", account=renter))["rental"]
    for rid in (a["id"], b["id"]):
        ok(gm("rental", "activate", rid, account=staked))
    extended = ok(gm("rental", "extend", a["id"], "--hours", "3", account=renter))
    assert extended["rental"]["hours_paid"] == 8 and int(extended["cost"]["raw"]) == 3 * 2 * 1_950_000
    advance(2 * HOUR)
    many = ok(gm("rental", "claim", a["id"], b["id"], account=staked))["claims"]
    assert sorted(c["rental_id"] for c in many) == sorted([a["id"], b["id"]])
    advance(HOUR)
    every = ok(gm("rental", "claim", "--all", account=staked))["claims"]
    assert len(every) == 2


def test_cancel_pending_and_no_show_release(gm, staked, renter, owner, market):
    oid = _usd_offer(gm, staked)
    ok(gm("token", "mint", renter.address, "100", account=owner))
    rid = ok(gm("rental", "rent", oid, "--gpus", "1", "--hours", "2", "--max-price", "1.95", account=renter))["rental"]["id"]
    cancelled = ok(gm("rental", "cancel", rid, account=renter))
    assert cancelled["rental"]["status"] == "cancelled" and cancelled["refund"]["raw"] == str(2 * 1_950_000)
    assert cancelled["penalty"]["raw"] == "0"
    rid = ok(gm("rental", "rent", oid, "--gpus", "1", "--hours", "2", "--max-price", "1.95", account=renter))["rental"]
    at(rid["activation_deadline"] + 1)
    released = ok(gm("rental", "release", rid["id"], account=renter))["rental"]
    assert released["status"] == "cancelled"


def test_dispute_resolve_and_timeout(gm, staked, renter, owner, arbiter):
    oid = _usd_offer(gm, staked)
    ok(gm("token", "mint", renter.address, "100", account=owner))
    ids = []
    for _ in range(2):
        rid = ok(gm("rental", "rent", oid, "--gpus", "1", "--hours", "4", "--max-price", "1.95",
                    account=renter))["rental"]["id"]
        ok(gm("rental", "activate", rid, account=staked))
        ids.append(rid)
    advance(HOUR)
    disputed = ok(gm("rental", "dispute", ids[0], "--evidence", "nvidia-smi showed no GPUs", account=renter))
    assert disputed["rental"]["status"] == "disputed" and disputed["evidence_hash"].startswith("0x")
    assert disputed["rental"]["dispute"]["timeout_at"] > 0
    # Billed as a stop at the dispute's second, the rest refunded; a bond of about 8 hours of rent (the defaults).
    r = disputed["rental"]
    total, used = 4 * 1_950_000, r["dispute"]["disputed_at"] - r["started_at"]
    billed = stop_charge(total, 0, used, 4)
    assert (disputed["frozen"]["raw"], disputed["refund"]["raw"], disputed["bond"]["raw"]) == \
        (str(billed), str(total - billed), str(dispute_bond(billed, used, 7 * DAY, DAY)))
    assert r["dispute"]["bond"] == disputed["bond"]
    resolved = ok(gm("rental", "resolve", ids[0], "--provider-share", "25", "--slash", "50", account=arbiter))
    assert resolved["rental"]["status"] == "resolved"
    ok(gm("rental", "dispute", ids[1], "--evidence", "0x" + "ab" * 32, account=renter))
    advance(7 * DAY)
    assert ok(gm("rental", "timeout", ids[1], account=owner))["rental"]["status"] == "resolved"


def test_token_balance_transfer(gm, treasury, stranger):
    sent = ok(gm("token", "transfer", "GPUC", stranger.address, "12.5", account=treasury))
    assert sent["amount"]["raw"] == str(125 * 10**17)
    balances = ok(gm("token", "balance", stranger.address))["balances"]
    assert balances["GPUC"]["units"] == "12.500000000000000000" and set(balances) == {"GPUC", "mUSD"}


def test_admin_commands(gm, owner, market, registry, stranger, usd):
    assert ok(gm("admin", "set", "protocol-fee", "2.5", account=owner))["value"] == "250"
    assert ok(gm("admin", "set", "stake-per-gpu", "150", account=owner))["value"] == str(150 * 10**18)
    assert ok(gm("admin", "set", "dispute-window", "7200", account=owner))["value"] == "7200"
    assert ok(gm("admin", "set", "min-stake", "2000", account=owner))["value"] == str(2000 * 10**18)
    assert registry.minStake() == 2000 * 10**18 and market.protocolFeeBps() == 250
    assert ok(gm("admin", "set-address", "treasury", stranger.address, account=owner))["value"] == stranger.address
    assert market.treasury() == stranger.address
    assert ok(gm("admin", "token", "mUSD", "--disallow", account=owner))["allowed"] is False
    assert not market.isPaymentToken(usd)
    assert ok(gm("admin", "pause", account=owner))["paused"] is True
    assert ok(gm("admin", "unpause", account=owner))["paused"] is False


def test_human_output_is_a_table(gm, staked):
    oid = _usd_offer(gm, staked)
    shown = gm("offer", "show", oid, as_json=False)
    assert shown.code == 0
    lines = dict(line.split(None, 1) for line in shown.out.strip().splitlines())
    assert lines["price_per_gpu_hour"].strip() == "1.950000 mUSD" and lines["status"].strip() == "active"


def test_addresses_without_a_checksum_are_taken_and_mint_takes_transfers_order(gm, treasury, owner, stranger, gpuc,
                                                                                usd):
    """All-lowercase and all-uppercase hex carry no EIP-55 checksum: taken as typed (a mixed-case address with a
    wrong checksum is refused: the bad-input matrix)."""
    before = gpuc.balanceOf(stranger)
    for typed in (stranger.address.lower(), "0x" + stranger.address[2:].upper()):
        assert ok(gm("token", "transfer", "GPUC", typed, "1", account=treasury))["to"] == stranger.address
    assert gpuc.balanceOf(stranger) == before + 2 * 10**18
    minted = usd.balanceOf(stranger)
    assert ok(gm("token", "mint", "mUSD", stranger.address, "2", account=owner))["amount"]["raw"] == "2000000"
    assert ok(gm("token", "mint", stranger.address, "3", account=owner))["amount"]["raw"] == "3000000"  # the old form
    assert usd.balanceOf(stranger) == minted + 5 * USD


def test_deploy_shows_its_roles_and_notes_one_nobody_has_used(gm, owner, tmp_path, monkeypatch):
    fresh = "0x" + "ab" * 20  # all lowercase: no checksum to check, and no one has ever used it
    monkeypatch.setenv("GPUMARKET_ARBITER", fresh)
    monkeypatch.delenv("GPUMARKET_TREASURY", raising=False)
    monkeypatch.delenv("GPUMARKET_OWNER", raising=False)
    result = gm("deploy", account=owner, deployments=tmp_path)
    arbiter = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert ok(result)["roles"] == {
        "treasury": {"address": owner.address, "from": "the deployer, as GPUMARKET_TREASURY is unset"},
        "arbiter": {"address": arbiter, "from": "from GPUMARKET_ARBITER"},
        "owner": {"address": owner.address, "from": "the deployer, as GPUMARKET_OWNER is unset"}}
    lines = result.err.splitlines()
    assert f"  arbiter   {arbiter} (from GPUMARKET_ARBITER)" in lines
    assert f"  treasury  {owner.address} (the deployer, as GPUMARKET_TREASURY is unset)" in lines
    assert (f"  note: the arbiter {arbiter} has no code, has sent no transaction and holds no ether on this chain: "
            "check that someone controls it (an all-lowercase address carries no checksum).") in lines
    assert sum("note:" in line for line in lines) == 1  # the deployer is not noted
    assert ok(gm("info", deployments=tmp_path))["arbiter"] == arbiter


def test_a_token_allowlisted_after_deployment_shows_everywhere(gm, staked, renter, owner, market):
    """bUSD is allowed by the owner after `deploy` (the record knows only GPUC and mUSD); its deferred payouts
    (credits) and protocol fees show in `info`, `fees show`, `token balance` and `provider status`."""
    from ape import project

    busd = owner.deploy(project.BlocklistToken)
    assert ok(gm("admin", "token", busd.address, "--allow", account=owner))["allowed"] is True
    oid = ok(gm("offer", "create", "--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "8",
                "--price", "1.95", "--token", busd.address, account=staked))["offer"]["id"]
    busd.mint(renter, 100 * USD, sender=owner)
    rid = ok(gm("rental", "rent", oid, "--gpus", "1", "--hours", "4", "--max-price", "1.95",
                account=renter))["rental"]["id"]
    ok(gm("rental", "activate", rid, account=staked))
    advance(HOUR)
    busd.setBlocked(staked, True, sender=owner)  # the provider's net is deferred: credited in the market
    ok(gm("rental", "claim", rid, account=staked))
    busd.setBlocked(renter, True, sender=owner)  # the renter's refund too
    ok(gm("rental", "stop", rid, account=renter))
    refund, net, fees = (market.credits(renter, busd), market.credits(staked, busd), market.protocolFees(busd))
    assert refund and net and fees

    def shown(raw: int) -> dict:
        return {"raw": str(raw), "units": f"{raw // USD}.{raw % USD:06d}", "symbol": "bUSD"}

    assert ok(gm("info"))["payment_tokens"]["bUSD"] == {"address": busd.address, "allowed": True}
    assert ok(gm("fees", "show", renter.address))["tokens"]["bUSD"] == {"credits": shown(refund),
                                                                        "protocol_fees": shown(fees)}
    assert ok(gm("token", "balance", renter.address))["balances"]["bUSD"] == shown(busd.balanceOf(renter))
    assert ok(gm("provider", "status", staked.address))["credits"]["bUSD"] == shown(net)
    human = gm("fees", "show", renter.address, as_json=False)
    assert human.code == 0 and "tokens.bUSD" in human.out
    busd.setBlocked(renter, False, sender=owner)  # and the symbol names it in a command
    assert ok(gm("fees", "withdraw", "bUSD", account=renter))["amount"] == shown(refund)
