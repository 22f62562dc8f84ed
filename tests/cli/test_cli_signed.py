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
