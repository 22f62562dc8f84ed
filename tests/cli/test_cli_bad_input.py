"""The bad-input matrix: every refused request exits non-zero with one line that names the problem,
prints nothing on stdout, and sends no transaction (no account's nonce moves)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cli_support import assert_refused, deployment_dir, gm, nonces, record_file, record_of  # noqa: F401  (fixtures)

from gpumarket.deployment import write_record


@pytest.fixture(scope="module")
def scene(accounts, system, stake_provider, create_offer, open_rental, market, usd, provider, provider2, renter,
          payer):
    """A staked provider with an open offer (#a), a paused offer (#p), a pending rental and an active
    rental paid by a third-party payer; provider2 registered without stake."""
    stake_provider(provider)
    offer = create_offer(provider)  # 8 GPUs, 1.95 mUSD, 1..720 h, broker ≤ 5 %
    paused = create_offer(provider)
    market.pauseOffer(paused, sender=provider)
    pending = open_rental(offer, renter, gpus=2, hours=4)
    active = open_rental(offer, renter, gpus=2, hours=4, payer=payer)
    market.activate(active, sender=provider)
    system.registry.register("ipfs://unstaked", sender=provider2)
    return SimpleNamespace(offer=offer, paused=paused, pending=pending, active=active)


SIGN = "--gpu-model H100 --region EU --gpus 1 --price 1"
CLUSTER = "--gpu-model H100-SXM-80GB --region AU-QLD --hours 4"


def mistyped(address: str) -> str:
    """A checksummed address with the case of one letter flipped: its EIP-55 checksum no longer holds."""
    i = max(i for i, c in enumerate(address) if c in "abcdefABCDEF")
    typo = address[:i] + address[i].swapcase() + address[i + 1:]
    assert typo[2:] not in (typo[2:].lower(), typo[2:].upper())
    return typo


def checksum(what: str, who: str) -> str:
    """The refusal of `who`'s address (a placeholder) typed with a wrong EIP-55 checksum, as the `what`."""
    return (f"error: '{{bad_{who}}}' is not a valid {what}: its EIP-55 checksum is wrong, so a character may be "
            f"mistyped; if all 40 hex digits are right, it is {{{who}}}.")


# (id, argv, account role or alias, expected words). Placeholders, in both: {offer} {paused} {pending} {active},
# a role's address ({renter}, {broker}, ...: see `ROLES`) and the same with a wrong checksum ({bad_renter}, ...).
# Expected words that start with "error: " are the whole line.
CASES = [
    ("unknown-offer", "rental rent 99 --gpus 1 --hours 1 --max-price 2", "renter", "Offer #99 does not exist"),
    ("zero-hours", "rental rent {offer} --gpus 1 --hours 0 --max-price 2", "renter", "at least 1, not 0"),
    ("negative-hours", "rental rent {offer} --gpus 1 --hours=-3 --max-price 2", "renter", "at least 1, not -3"),
    ("text-hours", "rental rent {offer} --gpus 1 --hours many --max-price 2", "renter", "'many' is not a whole number"),
    ("zero-gpus", "rental rent {offer} --gpus 0 --hours 2 --max-price 2", "renter", "GPU count must be at least 1"),
    ("price-decimals", "rental rent {offer} --gpus 1 --hours 2 --max-price 1.9500001", "renter",
     "has more than 6 decimals"),
    ("negative-price", "rental rent {offer} --gpus 1 --hours 2 --max-price=-1", "renter",
     "error: The maximum price per GPU-hour (mUSD, 6 decimals) must be above zero, not -1."),
    ("price-not-number", "rental rent {offer} --gpus 1 --hours 2 --max-price two", "renter", "is not a number"),
    ("bad-broker-address", "rental rent {offer} --gpus 1 --hours 2 --max-price 2 --broker 0x1234 --broker-pct 1",
     "renter", "'0x1234' is not a valid broker address"),
    ("bad-status-address", "provider status 0xZZ", None, "'0xZZ' is not a valid provider address"),
    ("price-above-max", "rental rent {offer} --gpus 1 --hours 2 --max-price 1.5", "renter",
     "costs 1.950000 mUSD per GPU-hour, above your maximum of 1.500000 mUSD"),
    ("too-many-gpus", "rental rent {offer} --gpus 7 --hours 2 --max-price 2", "renter", "has 4 GPUs free; 7 were asked for"),
    ("hours-outside-offer", "rental rent {offer} --gpus 1 --hours 1000 --max-price 2", "renter",
     "must be between 1 and 720, not 1000"),
    ("fee-without-broker", "rental rent {offer} --gpus 1 --hours 2 --max-price 2 --broker-pct 2", "renter",
     "A broker fee needs --broker"),
    ("broker-above-offer-cap", "rental rent {offer} --gpus 1 --hours 2 --max-price 2 --broker {broker} --broker-pct 8",
     "renter", "at most 5 %, not 8 %"),
    ("paused-offer", "rental rent {paused} --gpus 1 --hours 2 --max-price 2", "renter", "is paused, not active: it takes no new"),
    ("insufficient-balance", "rental rent {offer} --gpus 2 --hours 2 --max-price 2", "stranger",
     "needs 7.800000 mUSD but"),
    ("not-registered-stake", "provider stake 100", "stranger", "is not a registered provider"),
    ("insufficient-stake-offer", "offer create --gpu-model H100 --region EU --gpus 1 --price 1", "provider2",
     "is not active: it is not registered, or its bonded stake is below the minimum stake"),
    ("unbond-above-free", "provider unbond 99999", "provider",
     "error: Provider {provider} has only 9,600.000000000000000000 GPUC of free stake (stake neither locked as "
     "collateral nor already unbonding), less than the 99,999.000000000000000000 GPUC needed."),
    ("withdraw-nothing", "provider withdraw", "provider", "has nothing unbonding"),
    ("register-twice", "provider register ipfs://again", "provider", "is already registered"),
    ("wrong-role-activate", "rental activate {pending}", "stranger", "is not the provider of rental"),
    ("wrong-role-stop", "rental stop {active}", "payer", "is not the renter of rental"),
    ("wrong-role-resolve", "rental resolve {active} --provider-share 50", "renter", "is not the arbiter"),
    ("wrong-role-admin", "admin set protocol-fee 2", "stranger", "is not the owner"),
    ("wrong-role-offer", "offer pause {offer}", "renter", "is not the provider of offer"),
    ("state-activate-active", "rental activate {active}", "provider", "is active; only pending rentals can be activated"),
    ("state-stop-pending", "rental stop {pending}", "renter", "is pending; only active rentals can be stopped"),
    ("state-claim-pending", "rental claim {pending}", "provider", "is pending; only active or ended"),
    ("state-release-early", "rental release {active}", "stranger", "can be released from"),
    ("state-cancel-active", "rental cancel {active}", "renter", "is active; only pending rentals can be activated or cancelled"),
    ("state-resume-active", "offer resume {offer}", "provider", "is active, not paused"),
    ("extend-sponsored", "rental extend {active} --hours 1", "renter", "only self-funded rentals can be extended"),
    ("timeout-not-disputed", "rental timeout {active}", "stranger", "is active; only disputed rentals"),
    ("unknown-rental", "rental show 4242", None, "Rental #4242 does not exist"),
    ("unknown-token", "offer create --gpu-model H100 --region EU --gpus 1 --price 1 --token DOGE", "provider",
     "Unknown token 'DOGE'"),
    ("label-too-long", "offer create --gpu-model " + "X" * 33 + " --region EU --gpus 1 --price 1", "provider",
     "must be 1 to 32 bytes"),
    ("bad-tier", "offer create --gpu-model H100 --region EU --gpus 1 --price 1 --tier 96-2.5", "provider",
     "must look like GPU_HOURS:PERCENT"),
    ("empty-evidence", "rental dispute {active} --evidence ''", "renter", "evidence must not be empty"),
    ("fee-above-cap", "admin set protocol-fee 20", "owner", "The protocol fee must be between 0 % and 10 %, not 20 %"),
    ("no-account", "rental stop {active}", None, "choose an account with --account"),
    ("unknown-alias", "rental stop {active}", "alias:nobody", "no ape account named 'nobody'"),
    ("missing-option", "rental rent {offer} --hours 2 --max-price 2", "renter", "Missing option '--gpus'"),
    ("nothing-to-withdraw", "fees withdraw mUSD", "broker", "Nothing in mUSD is waiting for"),
    # Signed offers and clusters.
    ("sign-label-too-long", "offer sign --gpu-model " + "X" * 33 + " --region EU --gpus 1 --price 1", "provider",
     "A GPU model or region of 33 bytes is invalid: it must be 1 to 32 bytes."),
    ("sign-not-active", f"offer sign {SIGN}", "provider2",
     "is not active: it is not registered, or its bonded stake is below the minimum stake"),
    ("sign-bad-duration", f"offer sign {SIGN} --expires-in soon", "provider",
     "The duration 'soon' must be a whole number of seconds, or of minutes, hours or days with m, h or d (e.g. 24h)."),
    ("sign-both-expiries", f"offer sign {SIGN} --expires-in 1h --expiry 2000000000", "provider",
     "Give --expires-in or --expiry, not both."),
    ("sign-expiry-past", f"offer sign {SIGN} --expiry 1970-01-01T00:16:40Z", "provider",
     "expired at 1970-01-01 00:16:40 UTC; ask its provider for a new one."),
    ("sign-bad-expiry", f"offer sign {SIGN} --expiry tomorrow", "provider",
     "The expiry 'tomorrow' is neither a unix time nor an ISO 8601 date"),
    ("sign-bad-nonce", f"offer sign {SIGN} --nonce many", "provider", "The nonce 'many' is not a whole number (or 'now')."),
    ("sign-no-account", f"offer sign {SIGN}", None, "choose an account with --account"),
    ("cancel-signed-nothing-named", "offer cancel-signed", "provider", "Name one signed offer's FILE, or --below NONCE."),
    ("cancel-signed-floor-not-raised", "offer cancel-signed --below 0", "provider",
     "The nonce floor is already 0; give a higher nonce than that (not 0)."),
    ("cancel-signed-missing-file", "offer cancel-signed /nonexistent/offer.json", "provider",
     "Cannot read /nonexistent/offer.json: No such file or directory."),
    ("rent-offer-and-signed", "rental rent {offer} --signed x.json --gpus 1 --hours 1 --max-price 2", "renter",
     "Name an OFFER id, or a signed offer with --signed FILE."),
    ("rent-no-offer", "rental rent --gpus 1 --hours 1 --max-price 2", "renter",
     "Name an OFFER id, or a signed offer with --signed FILE."),
    ("rent-signed-missing-file", "rental rent --signed /nonexistent/offer.json --gpus 1 --hours 1 --max-price 2",
     "renter", "Cannot read /nonexistent/offer.json: No such file or directory."),
    ("cluster-zero-gpus", f"rental cluster --gpus 0 {CLUSTER} --max-price 2", "renter",
     "The GPU count must be at least 1, not 0."),
    ("cluster-no-such-offers", "rental cluster --gpus 8 --gpu-model B200 --region EU --hours 4 --max-price 2", "renter",
     "Only 0 B200 GPUs in EU can be booked for 4 hours (free capacity backed by free stake, across 0 offers); 8 were "
     "asked for."),
    ("cluster-hours-outside-offers", "rental cluster --gpus 2 --gpu-model H100-SXM-80GB --region AU-QLD --hours 1000 "
     "--max-price 2", "renter", "Only 0 H100-SXM-80GB GPUs in AU-QLD can be booked for 1000 hours"),
    ("cluster-price-above-max", f"rental cluster --gpus 2 {CLUSTER} --max-price 1.5", "renter",
     "costs 15.600000 mUSD, an average of 1.950000 mUSD per GPU-hour, above your maximum of 1.500000 mUSD."),
    ("cluster-more-than-free", f"rental cluster --gpus 5 {CLUSTER} --max-price 2", "renter",
     "Only 4 H100-SXM-80GB GPUs in AU-QLD can be booked for 4 hours"),
    ("cluster-missing-directory", f"rental cluster --gpus 2 {CLUSTER} --max-price 2 --signed /nonexistent", "renter",
     "/nonexistent is not a directory of signed offers."),
    ("cluster-broker-without-fee", f"rental cluster --gpus 2 {CLUSTER} --max-price 2 --broker {{broker}}", "renter",
     "--broker needs a fee (--broker-pct)."),
    ("cluster-unknown-token", f"rental cluster --gpus 2 {CLUSTER} --max-price 2 --token DOGE", "renter",
     "Unknown token 'DOGE'"),
    ("cluster-one-hour", "rental cluster --gpus 5 --gpu-model H100-SXM-80GB --region AU-QLD --hours 1 --max-price 2",
     "renter", "error: Only 4 H100-SXM-80GB GPUs in AU-QLD can be booked for 1 hour (free capacity backed by free "
     "stake, across 1 offer paid in mUSD); 5 were asked for."),
    # Addresses: a mixed-case address must carry a right EIP-55 checksum, wherever it is typed.
    ("transfer-bad-checksum", "token transfer GPUC {bad_stranger} 5", "treasury",
     checksum("recipient address", "stranger")),
    ("mint-bad-checksum", "token mint {bad_stranger} 5", "owner", checksum("recipient address", "stranger")),
    ("mint-token-first-bad-checksum", "token mint mUSD {bad_stranger} 5", "owner",
     checksum("recipient address", "stranger")),
    ("rent-broker-bad-checksum", "rental rent {offer} --gpus 1 --hours 2 --max-price 2 --broker {bad_broker} "
     "--broker-pct 1", "renter", checksum("broker address", "broker")),
    ("rent-for-bad-checksum", "rental rent {offer} --gpus 1 --hours 2 --max-price 2 --for {bad_renter}", "payer",
     checksum("renter address", "renter")),
    ("cluster-broker-bad-checksum", f"rental cluster --gpus 2 {CLUSTER} --max-price 2 --broker {{bad_broker}} "
     "--broker-pct 1", "renter", checksum("broker address", "broker")),
    ("status-bad-checksum", "provider status {bad_provider}", None, checksum("provider address", "provider")),
    ("fees-bad-checksum", "fees show {bad_broker}", None, checksum("address", "broker")),
    ("balance-bad-checksum", "token balance {bad_renter}", None, checksum("address", "renter")),
    ("rental-list-bad-checksum", "rental list --address {bad_renter}", None, checksum("address", "renter")),
    ("offer-reserved-bad-checksum", f"offer create {SIGN} --reserved-for {{bad_renter}}", "provider",
     checksum("reserved-for address", "renter")),
    ("update-reserved-bad-checksum", "offer update {offer} --reserved-for {bad_renter}", "provider",
     checksum("reserved-for address", "renter")),
    ("arbiter-bad-checksum", "admin set-address arbiter {bad_stranger}", "owner",
     checksum("arbiter address", "stranger")),
    ("token-bad-checksum", "fees withdraw {bad_usd}", "broker", checksum("token address", "usd")),
    ("vault-bad-checksum", "vault status {bad_provider2}", None, checksum("vault address", "provider2")),
    ("zero-recipient", "token transfer GPUC 0x0000000000000000000000000000000000000000 5", "treasury",
     "error: The recipient address must not be the zero address."),
    # Negative numbers: an argument, refused by its own parsing (not click's "No such option: -5").
    ("negative-transfer", "token transfer GPUC {stranger} -5", "treasury",
     "error: The amount (GPUC, 18 decimals) must be above zero, not -5."),
    ("negative-mint", "token mint {stranger} -0.5", "owner",
     "error: The amount (mUSD, 6 decimals) must be above zero, not -0.5."),
    ("negative-stake", "provider stake -5", "provider",
     "error: The stake (GPUC, 18 decimals) must not be negative (-5)."),
    ("negative-unbond", "provider unbond -1.5", "provider",
     "error: The amount to unbond (GPUC, 18 decimals) must not be negative (-1.5)."),
    ("negative-rental-id", "rental show -1", None, "error: The rental id must be at least 1, not -1."),
    ("unknown-short-option", "provider stake -x", "provider", "error: No such option: -x"),
    # `token mint` takes the arguments of `token transfer` (TOKEN TO AMOUNT); TOKEN may be left out.
    ("mint-too-many-arguments", "token mint mUSD {stranger} 5 6", "owner",
     "error: `token mint` takes [TOKEN] TO AMOUNT, e.g. `gpumarket token mint mUSD 0x15d3…6A65 500`."),
    ("mint-not-the-stablecoin", "token mint GPUC {stranger} 5", "owner",
     "error: Only the test stablecoin mUSD can be minted, not GPUC."),
]

NETWORK_CASES = [
    ("unknown-network", {"network": "nowhere:mainnet:node"}, "Cannot use network 'nowhere:mainnet:node'"),
    ("testnet-without-rpc", {"network": "base:sepolia:node"}, "needs its RPC URL in the environment variable "
                                                               "BASE_SEPOLIA_RPC_URL"),
    ("missing-deployment", {"deployments": "EMPTY"}, "No deployment for ethereum:local"),
    ("deployment-for-another-chain", {"deployments": "OTHER_CHAIN"}, "was written for chain 11155111"),
    ("stale-deployment", {"deployments": "STALE"}, "has no code on this chain"),
]


ROLES = {"owner": 0, "treasury": 1, "provider": 2, "provider2": 3, "renter": 4, "payer": 5, "broker": 6,
         "arbiter": 7, "stranger": 8}


@pytest.mark.parametrize("argv,who,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_one_sentence_and_no_transaction(argv, who, words, scene, gm, accounts, usd, monkeypatch):
    import shlex

    monkeypatch.delenv("GPUMARKET_ACCOUNT", raising=False)
    addresses = {name: accounts[i].address for name, i in ROLES.items()} | {"usd": usd.address}
    values = dict(offer=scene.offer, paused=scene.paused, pending=scene.pending, active=scene.active, **addresses,
                  **{f"bad_{name}": mistyped(address) for name, address in addresses.items()})
    args = shlex.split(argv.format(**values))
    account = None if who is None else (who.split(":", 1)[1] if who.startswith("alias:") else accounts[ROLES[who]])
    before = nonces(accounts)
    result = gm(*args, account=account)
    words = words.format(**values)
    assert_refused(result, words.removeprefix("error: "))
    if words.startswith("error: "):  # the whole line, not only words of it
        assert result.err.strip() == words
    assert nonces(accounts) == before, "a refused command sent a transaction"


@pytest.mark.parametrize("overrides,words", [c[1:] for c in NETWORK_CASES], ids=[c[0] for c in NETWORK_CASES])
def test_network_and_deployment_problems(overrides, words, gm, system, accounts, renter, tmp_path, monkeypatch):
    monkeypatch.delenv("BASE_SEPOLIA_RPC_URL", raising=False)
    kwargs = dict(overrides)
    if kwargs.get("deployments") == "EMPTY":
        kwargs["deployments"] = tmp_path
    elif kwargs.get("deployments") in ("OTHER_CHAIN", "STALE"):
        record = record_of(system)
        if kwargs["deployments"] == "OTHER_CHAIN":
            record["chain_id"] = 11155111
        else:
            record["contracts"]["ComputeMarket"]["address"] = "0x000000000000000000000000000000000000dEaD"
        write_record(record_file(tmp_path), record)
        kwargs["deployments"] = tmp_path
    before = nonces(accounts)
    result = gm("rental", "stop", "1", account=renter, **kwargs)
    assert_refused(result, words)
    assert nonces(accounts) == before


def test_the_matrix_is_large_enough():
    assert len(CASES) + len(NETWORK_CASES) >= 25


# ───────────────────────────── The roles `deploy` reads ─────────────────────────────


@pytest.mark.parametrize("variable,value,sentence", [
    ("GPUMARKET_ARBITER", "MISTYPED", "'{typed}' is not a valid arbiter address in GPUMARKET_ARBITER: its EIP-55 "
     "checksum is wrong, so a character may be mistyped; if all 40 hex digits are right, it is {address}."),
    ("GPUMARKET_TREASURY", "MISTYPED", "'{typed}' is not a valid treasury address in GPUMARKET_TREASURY: its EIP-55 "
     "checksum is wrong, so a character may be mistyped; if all 40 hex digits are right, it is {address}."),
    ("GPUMARKET_ARBITER", "0x0000000000000000000000000000000000000000",
     "The arbiter address in GPUMARKET_ARBITER must not be the zero address."),
    ("GPUMARKET_OWNER", "0x1234", "'0x1234' is not a valid owner address in GPUMARKET_OWNER (expected 0x followed by 40 "
     "hex digits)."),
], ids=["mistyped-arbiter", "mistyped-treasury", "zero-arbiter", "short-owner"])
def test_deploy_refuses_a_mistyped_role_address(variable, value, sentence, gm, owner, stranger, accounts, tmp_path,
                                                monkeypatch):
    for name in ("GPUMARKET_ARBITER", "GPUMARKET_TREASURY", "GPUMARKET_OWNER"):
        monkeypatch.delenv(name, raising=False)
    typed = mistyped(stranger.address) if value == "MISTYPED" else value
    monkeypatch.setenv(variable, typed)
    before = nonces(accounts)
    result = gm("deploy", account=owner, deployments=tmp_path)
    assert_refused(result, sentence.format(typed=typed, address=stranger.address))
    assert result.err.strip() == "error: " + sentence.format(typed=typed, address=stranger.address)
    assert nonces(accounts) == before and list(tmp_path.iterdir()) == [], "a refused deploy sent or wrote something"
