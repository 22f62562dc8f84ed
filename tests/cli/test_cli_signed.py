"""Signed offers from the CLI, through click's test runner on the session's anvil: `offer sign` (and the
vault's), `rental rent --signed`, `offer cancel-signed`; every file the client must refuse is refused
with its sentence before anything is sent (no account's nonce moves, no block is mined)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ape import chain
from cli_support import assert_refused, deployment_dir, gm, nonces, ok  # noqa: F401  (fixtures)
from conftest import DAY, GPUC, PRICE_USD, USD
from eth_abi import decode
from rental_model import rental_cost

from gpumarket import signed

BASE = 1_000_000_000  # SIGNED_OFFER_ID_BASE
TERMS = ["--gpu-model", "H100-SXM-80GB", "--region", "AU-QLD", "--gpus", "8", "--price", "1.95"]


@pytest.fixture
def people(staked, provider2, renter, payer, stranger, fund, usd):
    """The staked provider, a renter and a payer with 10,000 mUSD each."""
    for who in (renter, payer):
        fund(who, usd, 10_000 * USD)
    return SimpleNamespace(provider=staked, provider2=provider2, renter=renter, payer=payer, stranger=stranger)


def write(tmp_path, doc: dict, name: str = "offer.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def sign_file(gm, tmp_path, who, *extra, name="offer.json", command=("offer", "sign")):
    """`offer sign` (or `vault offer sign`) by `who`, its document written to a file: (path, document)."""
    doc = ok(gm(*command, *TERMS, *extra, account=who))
    return write(tmp_path, doc, name), doc


def short(h: str) -> str:
    return h[:10] + "…"


def test_sign_then_rent_the_signed_offer(gm, people, market, usd, tmp_path, params):
    before = (nonces([people.provider]), chain.blocks.height)
    path, doc = sign_file(gm, tmp_path, people.provider, "--tier", "100:2.5", "--expires-in", "2h")
    assert (nonces([people.provider]), chain.blocks.height) == before  # signing sends nothing
    assert doc["schema"] == "gpumarket.signed-offer/1" and doc["signer"] == people.provider.address
    assert doc["domain"] == {"name": "gpumarket", "version": "1", "chainId": chain.chain_id,
                             "verifyingContract": market.address}
    offer = signed.SignedOffer.from_message(doc["offer"])
    assert (offer.provider, offer.price_per_gpu_hour, offer.gpus, offer.tiers, offer.payment_token) == \
        (people.provider.address, PRICE_USD, 8, ((100, 250),), usd.address)
    assert chain.pending_timestamp + 2 * 3600 - 60 <= offer.expiry <= chain.pending_timestamp + 2 * 3600
    assert doc["hash"] == "0x" + bytes(market.hashSignedOffer(offer.as_tuple())).hex()  # the market's own hash
    assert market.signedOfferOf(doc["hash"]) == (0, False)

    rent = ok(gm("rental", "rent", "--signed", path, "--gpus", "5", "--hours", "24", "--max-price", "1.95",
                 account=people.renter))
    r = rent["rental"]
    cost = rental_cost(5, PRICE_USD, 24, [(100, 250)])  # 120 GPU-hours reach the 2.5 % tier
    assert (r["offer_id"], r["provider"], r["renter"], r["gpus"], r["hours_paid"], r["status"]) == \
        (BASE + 1, people.provider.address, people.renter.address, 5, 24, "pending")
    assert r["total"]["raw"] == rent["paid"]["raw"] == str(cost) and r["discount_bps"] == 250
    assert rent["offer_hash"] == doc["hash"] and market.signedOfferOf(doc["hash"]) == (BASE + 1, False)
    assert market.getRental(r["id"]).total == cost
    assert r["collateral"]["raw"] == str(5 * params["stake_per_gpu"])

    # A second fill, by a payer for the renter, sends no signature: the market checked it at the first.
    again = ok(gm("rental", "rent", "--signed", path, "--gpus", "3", "--hours", "2", "--max-price", "1.95",
                  "--for", people.renter.address, account=people.payer))
    assert again["rental"]["offer_id"] == BASE + 1 and again["rental"]["payer"] == people.payer.address
    tx = chain.provider.web3.eth.get_transaction(again["tx"])
    args = decode(["(address,string,string,address,uint96,uint16,uint16,uint16,address,uint16,(uint32,uint16)[],"
                   "uint64,uint256)", "bytes", "address", "uint256", "uint256", "uint256", "address", "uint256"],
                  bytes(tx["input"])[4:])
    assert args[1] == b"" and args[2] == people.renter.address.lower()
    assert market.getOffer(BASE + 1).gpusInUse == 8
    full = gm("rental", "rent", "--signed", path, "--gpus", "1", "--hours", "2", "--max-price", "1.95",
              account=people.renter)
    assert_refused(full, f"Offer #{BASE + 1} has 0 GPUs free; 1 were asked for.")


# ───────────────────────────── Files the client refuses ─────────────────────────────


def _python_signed(sign_offer, signer, domain, tmp_path, name="py.json", **terms):
    """A document signed in Python (the conftest's `sign_offer`), possibly for another domain or by another key."""
    offer, sig = sign_offer(signer, in_domain=domain, **terms)
    return offer, write(tmp_path, signed.dump(offer, domain, sig, signer.address), name)


def _another_chain(c):
    other = signed.Domain(c.domain.chain_id + 1, c.domain.market)
    _, path = _python_signed(c.sign_offer, c.people.provider, other, c.tmp_path)
    return path, (f"{path} was signed for chain {other.chain_id}, but this is chain {c.domain.chain_id}; ask its "
                  "provider to sign it for this market.")


def _another_market(c):
    other = signed.Domain(c.domain.chain_id, c.people.stranger.address)
    _, path = _python_signed(c.sign_offer, c.people.provider, other, c.tmp_path)
    return path, (f"{path} was signed for the market at {c.people.stranger.address}, not this deployment's market at "
                  f"{c.domain.market}; ask its provider to sign it for this market.")


def _tampered(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider)
    doc["offer"]["pricePerGpuHour"] = "1000000"  # a cheaper price than the one signed
    write(c.tmp_path, doc)
    return path, f"The terms in {path} do not match its hash {doc['hash']}: the file was changed after it was signed."


def _tampered_and_rehashed(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider)
    doc["offer"]["pricePerGpuHour"] = "1000000"
    cheaper = signed.SignedOffer.from_message(doc["offer"])
    doc["hash"] = "0x" + signed.digest(cheaper, c.domain).hex()
    write(c.tmp_path, doc)
    return path, (f"The signature on offer {short(doc['hash'])} is not {c.people.provider.address}'s for these terms "
                  "in this market (wrong signer, changed terms, or signed for another chain or deployment).")


def _wrong_signer(c):
    offer, path = _python_signed(c.sign_offer, c.people.stranger, c.domain, c.tmp_path, provider=c.people.provider)
    h = "0x" + signed.digest(offer, c.domain).hex()
    return path, (f"The signature on offer {short(h)} is not {c.people.provider.address}'s for these terms in this "
                  "market (wrong signer, changed terms, or signed for another chain or deployment).")


def _expired(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider, "--expires-in", "10m")
    expiry = doc["offer"]["expiry"]
    chain.mine(timestamp=expiry + 1)
    from gpumarket.units import when

    return path, f"The signed offer {short(doc['hash'])} expired at {when(expiry)}; ask its provider for a new one."


def _cancelled(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider)
    ok(c.gm("rental", "rent", "--signed", path, "--gpus", "2", "--hours", "2", "--max-price", "2",
            account=c.people.renter))
    out = ok(c.gm("offer", "cancel-signed", path, account=c.people.provider))
    assert (out["offer_hash"], out["offer_id"], out["cancelled"]) == (doc["hash"], BASE + 1, True)
    assert c.market.getOffer(BASE + 1).status == 3  # its record is closed
    return path, f"The provider cancelled the signed offer {short(doc['hash'])}."


def _below_the_floor(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider, "--nonce", "5")
    out = ok(c.gm("offer", "cancel-signed", "--below", "6", account=c.people.provider))
    assert out["nonce_floor"] == "6" and c.market.signedNonceFloor(c.people.provider) == 6
    return path, (f"The provider cancelled every signed offer with a nonce below 6, and the offer {short(doc['hash'])} "
                  "has nonce 5.")


def _unknown_schema(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider)
    doc["schema"] = "gpumarket.signed-offer/2"
    write(c.tmp_path, doc)
    return path, f'{path} is not a gpumarket signed offer (its "schema" is not "gpumarket.signed-offer/1").'


def _not_json(c):
    path = c.tmp_path / "offer.json"
    path.write_text("gpus: 8\n")
    return path, f"{path} is not JSON (line 1: Expecting value)."


def _too_wide(c):
    path, doc = sign_file(c.gm, c.tmp_path, c.people.provider)
    doc["offer"]["gpus"] = 70_000
    write(c.tmp_path, doc)
    return path, f"{path} is not a complete signed offer: its gpus 70000 is not a uint16."


REFUSED = [("signed for another chain", _another_chain), ("signed for another market", _another_market),
           ("tampered terms", _tampered), ("tampered terms with a new hash", _tampered_and_rehashed),
           ("wrong signer", _wrong_signer), ("expired", _expired), ("cancelled", _cancelled),
           ("below the nonce floor", _below_the_floor), ("unknown schema", _unknown_schema), ("not JSON", _not_json),
           ("a number too wide", _too_wide)]


@pytest.mark.parametrize("make", [c[1] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_file_the_client_refuses_sends_nothing(make, gm, people, market, domain, sign_offer, tmp_path, accounts):
    c = SimpleNamespace(gm=gm, people=people, market=market, domain=domain, sign_offer=sign_offer, tmp_path=tmp_path)
    path, sentence = make(c)
    before = (nonces(accounts), chain.blocks.height)
    result = gm("rental", "rent", "--signed", path, "--gpus", "1", "--hours", "2", "--max-price", "2",
                account=people.renter)
    assert_refused(result, sentence)
    assert result.err.strip() == f"error: {sentence}"
    assert (nonces(accounts), chain.blocks.height) == before, "a refused fill sent a transaction"


# ───────────────────────────── A vault signs; cancelling ─────────────────────────────

ERC1271_MAGIC = bytes.fromhex("1626ba7e")


def test_a_vault_signs_through_its_operator(gm, vault, deposit, investors, people, market, domain, sign_offer,
                                            tmp_path, accounts):
    for who, amount in zip(investors, (6_000, 3_000, 1_000)):
        deposit(who, amount * GPUC)
    path, doc = sign_file(gm, tmp_path, people.provider2, command=("vault", "offer", "sign"))
    assert (doc["offer"]["provider"], doc["signer"]) == (vault.address, people.provider2.address)
    assert bytes(vault.isValidSignature(doc["hash"], doc["signature"], sender=market.address)) == ERC1271_MAGIC

    # One the operator did not make: the client asks the vault (ERC-1271) and refuses it before sending.
    forged, forged_path = _python_signed(sign_offer, people.stranger, domain, tmp_path, "forged.json", provider=vault)
    h = "0x" + signed.digest(forged, domain).hex()
    before = (nonces(accounts), chain.blocks.height)
    assert_refused(gm("rental", "rent", "--signed", forged_path, "--gpus", "1", "--hours", "2", "--max-price", "2",
                      account=people.renter),
                   f"The signature on offer {short(h)} is not {vault.address}'s for these terms in this market")
    assert (nonces(accounts), chain.blocks.height) == before

    rent = ok(gm("rental", "rent", "--signed", path, "--gpus", "4", "--hours", "3", "--max-price", "1.95",
                 account=people.renter))["rental"]
    assert (rent["offer_id"], rent["provider"], rent["total"]["raw"]) == \
        (BASE + 1, vault.address, str(rental_cost(4, PRICE_USD, 3)))
    ok(gm("vault", "activate", rent["id"], account=people.provider2))
    assert list(vault.trackedRentals()) == [rent["id"]]

    # The operator cancels the vault's signed offers through callMarket.
    out = ok(gm("vault", "offer", "cancel-signed", path, account=people.provider2))
    assert (out["provider"], out["offer_id"], out["cancelled"]) == (vault.address, BASE + 1, True)
    assert market.signedOfferOf(doc["hash"]) == (BASE + 1, True)
    floor = ok(gm("vault", "offer", "cancel-signed", "--below", "now", account=people.provider2))
    assert int(floor["nonce_floor"]) == market.signedNonceFloor(vault) > int(doc["offer"]["nonce"])


def test_only_its_provider_cancels_a_signed_offer_and_only_once(gm, people, market, tmp_path, accounts):
    path, doc = sign_file(gm, tmp_path, people.provider)
    before = (nonces(accounts), chain.blocks.height)
    assert_refused(gm("offer", "cancel-signed", path, account=people.stranger),
                   f"{people.stranger.address} is not the provider of the signed offer {short(doc['hash'])}; only its "
                   "provider may cancel it.")
    assert (nonces(accounts), chain.blocks.height) == before
    ok(gm("offer", "cancel-signed", path, account=people.provider))
    assert market.signedOfferOf(doc["hash"]) == (0, True)  # cancelled before any fill: no record
    before = (nonces(accounts), chain.blocks.height)
    assert_refused(gm("offer", "cancel-signed", path, account=people.provider),
                   f"The provider cancelled the signed offer {short(doc['hash'])}.")
    assert (nonces(accounts), chain.blocks.height) == before


def test_the_default_nonce_grows_and_stays_at_or_above_the_floor(gm, people, market, tmp_path):
    _, first = sign_file(gm, tmp_path, people.provider)
    _, second = sign_file(gm, tmp_path, people.provider)
    assert int(first["offer"]["nonce"]) < int(second["offer"]["nonce"])  # milliseconds apart at least
    assert first["hash"] != second["hash"]
    ok(gm("offer", "cancel-signed", "--below", str(10**18), account=people.provider))
    _, third = sign_file(gm, tmp_path, people.provider)
    assert int(third["offer"]["nonce"]) == 10**18 == market.signedNonceFloor(people.provider)
