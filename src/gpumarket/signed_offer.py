"""A signed offer on the connected market (the chain-facing side of `gpumarket.signed`, which is the format):
the provider's actions (`sign`, off-chain: no transaction; `cancel` = cancelSignedOffer; `cancel_below` =
cancelSignedOffersBelow) and `SignedOfferFile`, a signed offer's JSON file checked against the market
before anything is sent, which `Rental.open` fills (openSignedRental) and `Cluster` books.

A provider acts through a seat, as for on-chain offers (`offer.OwnSeat`, or a vault the account operates):
for a vault, the vault is the provider and the account, its operator, signs; the vault accepts its
operator's signature through ERC-1271 (`isValidSignature`), and cancels through `callMarket`.

docs/signed-offers.md describes the file, what the client checks and in which order."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from gpumarket import signed
from gpumarket.errors import InputError, WrongStateError
from gpumarket.offer import Offer, OwnSeat, check_labels, check_terms, check_tiers, discount_for, hourly_rate, new_terms
from gpumarket.status import OfferStatus
from gpumarket.units import when

if TYPE_CHECKING:
    from gpumarket.market import Market

__all__ = ["SignedOfferFile", "cancel", "cancel_below", "sign"]

ERC1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)'s selector: "valid"
DEFAULT_EXPIRES_IN = "24h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def short(h: bytes) -> str:
    """An offer hash as sentences and labels show it: 0x and its first 8 hex digits."""
    return "0x" + h.hex()[:8] + "…"


# ───────────────────────────── The provider ─────────────────────────────


def parse_duration(text: str) -> int:
    """'24h', '90m', '7d', '3600' or '3600s' -> seconds."""
    text = str(text).strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    if not number.isdigit() or int(number) == 0:
        raise InputError(f"The duration '{text}' must be a whole number of seconds, or of minutes, hours or days "
                         "with m, h or d (e.g. 24h).")
    return int(number) * _UNITS[unit]


def parse_time(text: str) -> int:
    """A unix time in seconds, or an ISO 8601 date and time (UTC unless it names its zone)."""
    text = str(text).strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"The expiry '{text}' is neither a unix time nor an ISO 8601 date "
                         "(e.g. 2026-07-01T12:00:00Z).") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())


def default_nonce(market: Market, provider: str) -> int:
    """The current unix time in milliseconds, or the provider's nonce floor if that is higher: it grows with
    every offer a provider signs (two offers of one provider collide only if signed in the same
    millisecond with the same terms and expiry), and `cancel-signed --below now` cancels all signed so far."""
    return max(time.time_ns() // 1_000_000, market.contract.signedNonceFloor(provider))


def parse_nonce(text: str, what: str = "nonce") -> int:
    """A nonce (a uint256), or 'now': the current unix time in milliseconds."""
    if str(text).strip().lower() == "now":
        return time.time_ns() // 1_000_000
    try:
        nonce = int(str(text).strip())
    except ValueError:
        raise InputError(f"The {what} '{text}' is not a whole number (or 'now').") from None
    if not 0 <= nonce < 2**256:
        raise InputError(f"The {what} must be between 0 and 2^256 − 1, not {nonce}.")
    return nonce


def sign(market: Market, *, expires_in: str | None = None, expiry: str | None = None, nonce: str | None = None,
         seat=None, **terms) -> dict:
    """Signs an offer with the account's key for the seat's address as provider, after the checks createOffer
    makes on its terms (a pause aside: a signature outlives it). Sends nothing; returns the document
    (`signed.dump`) to publish."""
    m = market
    seat = seat or OwnSeat(m)
    if expires_in is not None and expiry is not None:
        raise InputError("Give --expires-in or --expiry, not both.")
    t = new_terms(m, seat.address, paused_matters=False, **terms)
    now = m.now()
    last = parse_time(expiry) if expiry is not None else now + parse_duration(expires_in or DEFAULT_EXPIRES_IN)
    if last >= 2**64:
        raise InputError(f"The expiry {last} is too far off (it is a uint64 of unix seconds).")
    floor = m.contract.signedNonceFloor(seat.address)
    n = parse_nonce(nonce) if nonce is not None else default_nonce(m, seat.address)
    offer = signed.SignedOffer(provider=seat.address, gpu_model=t.gpu_model, region=t.region,
                               payment_token=t.token.address, price_per_gpu_hour=t.price, gpus=t.gpus,
                               min_hours=t.min_hours, max_hours=t.max_hours, reserved_for=t.reserved_for,
                               max_broker_bps=t.max_broker_bps, tiers=tuple(t.tiers), expiry=last, nonce=n)
    h = signed.digest(offer, m.domain)
    # What the first fill would refuse at once, refused before signing.
    if now > last:
        raise m.error("MarketSignedOfferExpired", offerHash=h, expiry=last)
    if n < floor:
        raise m.error("MarketSignedOfferNonceCancelled", offerHash=h, nonce=n, nonceFloor=floor)
    signature = m.chain.sign_typed_data(m.account, offer.typed_data(m.domain))
    if signature is None:
        raise WrongStateError("Nothing was signed: the account declined.")
    m.say(f"signed offer {short(h)}: {t.gpus} × {t.gpu_model} in {t.region} at {t.token.show(t.price)}/GPU-hour, "
          f"provider {seat.address}, nonce {n}, fillable until {when(last)}")
    return signed.dump(offer, m.domain, signature, m.me)


def cancel(market: Market, path: str | Path, seat=None) -> dict:
    """cancelSignedOffer: the seat's signed offer in the file takes no more fills, and its record (if it was
    filled) closes; its rentals go on."""
    m = market
    seat = seat or OwnSeat(m)
    f = SignedOfferFile(m, path)
    if f.offer.provider != seat.address:
        raise m.error("MarketNotSignedOfferProvider", offerHash=f.hash, caller=seat.address)
    if f.cancelled:
        raise m.error("MarketSignedOfferCancelled", offerHash=f.hash)
    r = seat.send_market(f"cancel signed offer {short(f.hash)}", "cancelSignedOffer", f.offer.as_tuple())
    return {"offer_hash": "0x" + f.hash.hex(), "provider": seat.address, "offer_id": f.recorded_id or None,
            "cancelled": m.contract.signedOfferOf(f.hash)[1], "tx": r.txn_hash}


def cancel_below(market: Market, nonce: str, seat=None) -> dict:
    """cancelSignedOffersBelow: every signed offer of the seat with a lower nonce takes no more fills (records
    already made stay open: close them with `offer close`)."""
    m = market
    seat = seat or OwnSeat(m)
    n = parse_nonce(nonce, "nonce floor")
    floor = m.contract.signedNonceFloor(seat.address)
    if n <= floor:
        raise m.error("MarketNonceFloorNotRaised", nonce=n, nonceFloor=floor)
    r = seat.send_market(f"cancel every signed offer with a nonce below {n}", "cancelSignedOffersBelow", n)
    return {"provider": seat.address, "nonce_floor": str(m.contract.signedNonceFloor(seat.address)),
            "tx": r.txn_hash}


# ───────────────────────────── A file to fill ─────────────────────────────


class SignedOfferFile:
    """A signed offer file, read and checked against the connected market: its schema, its domain (this
    chain and this market), its hash (the terms as signed). `require_active` makes the checks of a fill;
    after them it serves `Rental.open` as an `Offer` does (`record`, `token`, `cost`, `id`, `rent_call`)."""

    def __init__(self, market: Market, path: str | Path):
        m = self.market = market
        self.path = Path(path)
        try:
            self.offer, domain, self.signature, doc = signed.load(path)
        except ValueError as err:
            text = str(err)
            raise InputError(f"{text[:1].upper()}{text[1:]}.") from None
        self._check_widths()
        if domain != m.domain:
            raise InputError(_another_domain(self.path, domain, m.domain))
        self.hash = signed.digest(self.offer, m.domain)
        if str(doc.get("hash", "")).lower() != "0x" + self.hash.hex():
            raise InputError(f"The terms in {self.path} do not match its hash {doc.get('hash')}: the file was changed "
                             "after it was signed.")
        self.recorded_id, self.cancelled = (int(v) for v in m.contract.signedOfferOf(self.hash))

    def _check_widths(self) -> None:
        """Each number fits its EIP-712 type (the file is text: it could hold anything)."""
        o = self.offer
        numbers = [("pricePerGpuHour", o.price_per_gpu_hour, 96), ("gpus", o.gpus, 16), ("minHours", o.min_hours, 16),
                   ("maxHours", o.max_hours, 16), ("maxBrokerBps", o.max_broker_bps, 16), ("expiry", o.expiry, 64),
                   ("nonce", o.nonce, 256)]
        for i, (gpu_hours, bps) in enumerate(o.tiers, 1):
            numbers += [(f"tier {i} minGpuHours", gpu_hours, 32), (f"tier {i} discountBps", bps, 16)]
        for name, value, bits in numbers:
            if not 0 <= value < 2**bits:
                raise InputError(f"{self.path} is not a complete signed offer: its {name} {value} is not a uint{bits}.")

    # ── the checks of a fill ──

    def signature_valid(self) -> bool:
        """The provider's signature of the hash: an ECDSA signature by its key, or, for a contract provider (a
        vault), what its ERC-1271 `isValidSignature` answers to an eth_call from the market (a vault answers
        the market only)."""
        provider = self.offer.provider
        if self.market.chain.has_code(provider):
            from eth_abi import encode

            answer = self.market.chain.call(provider, ERC1271_MAGIC + encode(["bytes32", "bytes"],
                                                                              [self.hash, self.signature]),
                                              sender=self.market.contract.address)
            return answer is not None and answer[:4] == ERC1271_MAGIC
        return signed.recover(self.hash, self.signature) == provider

    def require_fillable(self) -> None:
        """The checks of every fill, in the market's order: not cancelled, not expired, the nonce not below the
        provider's floor; then, before its first fill, the signature and the terms (createOffer's bounds)."""
        m, o = self.market, self.offer
        if self.cancelled:
            raise m.error("MarketSignedOfferCancelled", offerHash=self.hash)
        if m.now() > o.expiry:
            raise m.error("MarketSignedOfferExpired", offerHash=self.hash, expiry=o.expiry)
        floor = m.contract.signedNonceFloor(o.provider)
        if o.nonce < floor:
            raise m.error("MarketSignedOfferNonceCancelled", offerHash=self.hash, nonce=o.nonce, nonceFloor=floor)
        if self.recorded_id:
            return  # its signature and terms were checked when the market recorded it
        if not self.signature_valid():
            raise m.error("MarketInvalidSignature", offerHash=self.hash, provider=o.provider)
        check_labels(m, o.gpu_model, o.region)
        check_terms(m, o.price_per_gpu_hour, o.min_hours, o.max_hours, o.max_broker_bps, gpus=o.gpus)
        check_tiers(m, list(o.tiers))

    def require_active(self) -> None:
        """For `Rental.open`: the checks of a fill, then (a recorded offer) its record is active."""
        self.require_fillable()
        if self.recorded_id:
            self._record.require_active()

    # ── as an offer ──

    @cached_property
    def _record(self) -> Offer:
        return Offer(self.market, self.recorded_id)

    @cached_property
    def id(self) -> int:
        """Its record's id, or the id its first fill will record it under."""
        if self.recorded_id:
            return self.recorded_id
        offer_id = self.market.next_signed_offer_id()
        self.market.unrecorded_tokens[offer_id] = self.offer.payment_token
        return offer_id

    @property
    def label(self) -> str:
        return f"signed offer {short(self.hash)}"

    @property
    def record(self) -> Any:
        """The record a fill reads: the market's, or the one its first fill will write."""
        if self.recorded_id:
            return self._record.record
        o = self.offer
        return SimpleNamespace(provider=o.provider, gpusOffered=o.gpus, gpusInUse=0, minHours=o.min_hours,
                               maxHours=o.max_hours, maxBrokerBps=o.max_broker_bps, reservedFor=o.reserved_for,
                               paymentToken=o.payment_token, pricePerGpuHour=o.price_per_gpu_hour,
                               status=OfferStatus.ACTIVE)

    @property
    def tiers(self) -> tuple:
        return self.offer.tiers

    @property
    def token(self):
        return self.market.token_at(self.offer.payment_token)

    def cost(self, gpus: int, hours: int) -> dict[str, Any]:
        """`Offer.cost` (the contract's `quote` of its record), or for an offer not yet recorded the same
        figures from its signed terms."""
        if self.recorded_id:
            return self._record.cost(gpus, hours) | {"offer_id": self.recorded_id}
        m, t = self.market, self.token
        discount = discount_for(self.offer.tiers, gpus * hours)
        rate = hourly_rate(gpus, self.offer.price_per_gpu_hour, discount)
        return {"offer_id": None, "gpus": gpus, "hours": hours, "cost": t.amount(rate * hours),
                "discount_bps": discount, "hourly_rate": t.amount(rate),
                "effective_price_per_gpu_hour": t.amount(-(-rate // gpus)),
                "collateral": m.gpuc.amount(m.contract.stakePerGpu() * gpus)}

    def signature_to_send(self) -> bytes:
        """Empty once recorded: the market no longer reads it (and calldata costs gas)."""
        return b"" if self.recorded_id else self.signature

    def rent_call(self, renter: str | None):
        """(label, function, leading arguments) of the fill, for `Rental.open`."""
        user = renter or self.market.me
        label = self.label + (f" for {renter}" if renter else "")
        return label, self.market.contract.openSignedRental, (self.offer.as_tuple(), self.signature_to_send(), user)


def _another_domain(path: Path, got: signed.Domain, want: signed.Domain) -> str:
    if got.chain_id != want.chain_id:
        where = f"chain {got.chain_id}, but this is chain {want.chain_id}"
    elif got.market != want.market:
        where = f"the market at {got.market}, not this deployment's market at {want.market}"
    else:
        where = (f"the EIP-712 domain '{got.name}' version {got.version}, not this market's '{want.name}' "
                 f"version {want.version}")
    return f"{path} was signed for {where}; ask its provider to sign it for this market."

