"""Signed offers (`Offer.Signed` on chain): the EIP-712 typed data a provider signs instead of storing
an offer, its digest, its signature, and its JSON file (docs/signed-offers.md is the schema).

Pure: nothing here talks to a node. The digest is computed here, field by field, exactly as
`Offer.structHash` and OpenZeppelin's EIP712 compute it on chain (tests check both against
`ComputeMarket.hashSignedOffer` and against eth-account's `encode_typed_data`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

__all__ = ["SCHEMA", "Domain", "SignedOffer", "digest", "recover", "sign_digest"]

SCHEMA = "gpumarket.signed-offer/1"
DOMAIN_NAME, DOMAIN_VERSION = "gpumarket", "1"
ZERO = "0x0000000000000000000000000000000000000000"

TIER_TYPE = "Tier(uint32 minGpuHours,uint16 discountBps)"
OFFER_TYPE = (
    "SignedOffer(address provider,string gpuModel,string region,address paymentToken,uint96 pricePerGpuHour,"
    "uint16 gpus,uint16 minHours,uint16 maxHours,address reservedFor,uint16 maxBrokerBps,Tier[] tiers,"
    "uint64 expiry,uint256 nonce)" + TIER_TYPE
)
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
TIER_TYPEHASH, OFFER_TYPEHASH, DOMAIN_TYPEHASH = keccak(text=TIER_TYPE), keccak(text=OFFER_TYPE), keccak(text=DOMAIN_TYPE)

#: The EIP-712 types, as eth-account's `encode_typed_data` and wallets take them.
TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                     {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
    "SignedOffer": [{"name": n, "type": t} for n, t in (
        ("provider", "address"), ("gpuModel", "string"), ("region", "string"), ("paymentToken", "address"),
        ("pricePerGpuHour", "uint96"), ("gpus", "uint16"), ("minHours", "uint16"), ("maxHours", "uint16"),
        ("reservedFor", "address"), ("maxBrokerBps", "uint16"), ("tiers", "Tier[]"), ("expiry", "uint64"),
        ("nonce", "uint256"))],
    "Tier": [{"name": "minGpuHours", "type": "uint32"}, {"name": "discountBps", "type": "uint16"}],
}


def _address(value: Any, field: str, where: str) -> str:
    """An address of a file, checksummed; refused with `parse.checksummed`'s sentence (an `InputError`) if it is
    malformed or mixes case with a wrong EIP-55 checksum: a file can be edited by hand, and a mistyped address
    would otherwise read as a changed file at best."""
    from gpumarket.parse import checksummed

    return checksummed(str(value), f"{field} address{where}")


@dataclass(frozen=True)
class Domain:
    """The market's EIP-712 domain: a signature is valid on one chain, for one market deployment."""

    chain_id: int
    market: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def separator(self) -> bytes:
        return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                             [DOMAIN_TYPEHASH, keccak(text=self.name), keccak(text=self.version), self.chain_id,
                              self.market]))

    def as_json(self) -> dict:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": to_checksum_address(self.market)}

    @classmethod
    def from_json(cls, d: dict, where: str = "") -> Domain:
        return cls(int(d["chainId"]), _address(d["verifyingContract"], "verifyingContract", where), d["name"],
                   d["version"])


@dataclass(frozen=True)
class SignedOffer:
    """The terms a provider signs (field for field `Offer.Signed`); `tiers` as (minGpuHours, discountBps)."""

    provider: str
    gpu_model: str
    region: str
    payment_token: str
    price_per_gpu_hour: int
    gpus: int
    min_hours: int
    max_hours: int
    expiry: int
    nonce: int
    reserved_for: str = ZERO
    max_broker_bps: int = 0
    tiers: tuple[tuple[int, int], ...] = field(default_factory=tuple)

    def as_tuple(self) -> tuple:
        """The `Offer.Signed` argument of the market's functions."""
        return (self.provider, self.gpu_model, self.region, self.payment_token, self.price_per_gpu_hour, self.gpus,
                self.min_hours, self.max_hours, self.reserved_for, self.max_broker_bps,
                [tuple(t) for t in self.tiers], self.expiry, self.nonce)

    def struct_hash(self) -> bytes:
        tiers = b"".join(keccak(encode(["bytes32", "uint32", "uint16"], [TIER_TYPEHASH, h, d])) for h, d in self.tiers)
        return keccak(encode(
            ["bytes32", "address", "bytes32", "bytes32", "address", "uint96", "uint16", "uint16", "uint16", "address",
             "uint16", "bytes32", "uint64", "uint256"],
            [OFFER_TYPEHASH, self.provider, keccak(text=self.gpu_model), keccak(text=self.region), self.payment_token,
             self.price_per_gpu_hour, self.gpus, self.min_hours, self.max_hours, self.reserved_for,
             self.max_broker_bps, keccak(tiers), self.expiry, self.nonce]))

    def message(self) -> dict:
        """The `SignedOffer` message of the typed data (and of the JSON file)."""
        return {"provider": to_checksum_address(self.provider), "gpuModel": self.gpu_model, "region": self.region,
                "paymentToken": to_checksum_address(self.payment_token),
                "pricePerGpuHour": str(self.price_per_gpu_hour), "gpus": self.gpus, "minHours": self.min_hours,
                "maxHours": self.max_hours, "reservedFor": to_checksum_address(self.reserved_for),
                "maxBrokerBps": self.max_broker_bps,
                "tiers": [{"minGpuHours": h, "discountBps": d} for h, d in self.tiers],
                "expiry": self.expiry, "nonce": str(self.nonce)}

    @classmethod
    def from_message(cls, m: dict, where: str = "") -> SignedOffer:
        """The terms of a message; `where` (" in FILE") names its file in the sentence refusing an address."""
        return cls(provider=_address(m["provider"], "provider", where), gpu_model=m["gpuModel"], region=m["region"],
                   payment_token=_address(m["paymentToken"], "paymentToken", where),
                   price_per_gpu_hour=int(m["pricePerGpuHour"]), gpus=int(m["gpus"]), min_hours=int(m["minHours"]),
                   max_hours=int(m["maxHours"]),
                   reserved_for=_address(m.get("reservedFor") or ZERO, "reservedFor", where),
                   max_broker_bps=int(m.get("maxBrokerBps", 0)),
                   tiers=tuple((int(t["minGpuHours"]), int(t["discountBps"])) for t in m.get("tiers", ())),
                   expiry=int(m["expiry"]), nonce=int(m["nonce"]))

    def typed_data(self, domain: Domain) -> dict:
        """The full EIP-712 typed data (what a wallet shows and `eth_signTypedData_v4` signs)."""
        message = self.message()
        message["pricePerGpuHour"], message["nonce"] = self.price_per_gpu_hour, self.nonce
        return {"types": TYPES, "primaryType": "SignedOffer", "domain": domain.as_json(), "message": message}


def digest(offer: SignedOffer, domain: Domain) -> bytes:
    """The EIP-712 digest the provider signs: keccak256(0x1901 ‖ domainSeparator ‖ structHash)."""
    return keccak(b"\x19\x01" + domain.separator() + offer.struct_hash())


def sign_digest(private_key: bytes, h: bytes) -> bytes:
    """A 65-byte r ‖ s ‖ v signature of `h` (v = 27 or 28), as OpenZeppelin's ECDSA takes it."""
    from eth_keys import keys

    sig = keys.PrivateKey(private_key).sign_msg_hash(h)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def recover(h: bytes, signature: bytes) -> str | None:
    """The address that made a 65-byte ECDSA `signature` of `h`, or None if it is not one."""
    from eth_keys import keys

    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    try:
        sig = keys.Signature(vrs=(signature[64] - 27, int.from_bytes(signature[:32], "big"),
                                  int.from_bytes(signature[32:64], "big")))
        return sig.recover_public_key_from_msg_hash(h).to_checksum_address()
    except Exception:  # a malformed (r, s): no signer
        return None


def dump(offer: SignedOffer, domain: Domain, signature: bytes, signer: str) -> dict:
    """The JSON document a provider publishes (docs/signed-offers.md)."""
    return {"schema": SCHEMA, "domain": domain.as_json(), "offer": offer.message(),
            "hash": "0x" + digest(offer, domain).hex(), "signer": to_checksum_address(signer),
            "signature": "0x" + signature.hex()}


def load(path: str | Path) -> tuple[SignedOffer, Domain, bytes, dict]:
    """Reads a signed offer file: (offer, domain, signature, the raw document). Raises ValueError with
    one plain sentence when the file is not a signed offer of this schema, and `errors.InputError` when an
    address in it is malformed or has a wrong EIP-55 checksum."""
    try:
        doc: Any = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e.strerror if isinstance(e, OSError) else 'not text'}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a gpumarket signed offer (its \"schema\" is not \"{SCHEMA}\")")
    try:
        where = f" in {path}"
        offer, domain = SignedOffer.from_message(doc["offer"], where), Domain.from_json(doc["domain"], where)
        signature = bytes.fromhex(doc["signature"].removeprefix("0x"))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a complete signed offer ({type(e).__name__}: {e})") from None
    return offer, domain, signature, doc
