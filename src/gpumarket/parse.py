"""Human input -> what the contracts take, with one sentence (`InputError`) on anything malformed.

These check the form of what was typed: a number with at most the token's decimals, a percentage with
at most two, an address, a whole count of at least 1 that fits its ABI type, a label without spaces.
They run before anything is read from the chain. A bound the contracts themselves check (an offer's
hours, the broker cap, a label's length, a parameter's range, ...) is not checked here: the objects
raise that contract's error (`errors.ContractError`), with the sentence of its decoded revert.
"""

from __future__ import annotations

from typing import Any

from gpumarket.errors import InputError
from gpumarket.units import UnitError, to_base

ZERO = "0x0000000000000000000000000000000000000000"


def parse_amount(text: str, decimals: int, what: str = "amount", *, allow_zero: bool = False) -> int:
    """'1.95' -> base units; one sentence on anything that is not a non-negative number with at most
    `decimals` decimals (or zero, unless `allow_zero`: the caller checks zero against the contract)."""
    text = str(text).strip()
    if text.startswith("-") and _is_number(text):
        # (the CLI passes a negative number on as an argument, so that this sentence says what is wrong)
        raise InputError(f"The {what} must not be negative ({text})." if allow_zero else
                         f"The {what} must be above zero, not {text}.")
    try:
        value = to_base(text, decimals)
    except UnitError as err:
        raise InputError(f"The {what} {err}.") from None
    if value == 0 and not allow_zero:
        raise InputError(f"The {what} must be above zero.")
    return value


def _is_number(text: str) -> bool:
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def parse_pct(text: str, what: str = "percentage") -> int:
    """'2.5' (percent) -> 250 bps; at most two decimals. The caller checks it against the contract's bound."""
    try:
        return to_base(str(text).strip(), 2)
    except UnitError as err:
        raise InputError(f"The {what} {err} (percent, at most 2 decimals).") from None


def checksummed(text: str, what: str = "address") -> str:
    """`text` as a checksummed address, once its form is right: 0x and 40 hex digits, and, if it mixes upper
    and lower case, a correct EIP-55 checksum. The mixed case of an address is its checksum: a wrong one
    means a mistyped character, and sending to the address as typed would reach an address nobody controls.
    All-lowercase and all-uppercase hex carry no checksum and are taken as they are."""
    from eth_utils import is_hex_address, to_checksum_address

    text = str(text).strip()
    if not text.startswith("0x") or not is_hex_address(text):
        raise InputError(f"'{text}' is not a valid {what} (expected 0x followed by 40 hex digits).")
    address = to_checksum_address(text)
    digits = text[2:]
    if text != address and digits not in (digits.lower(), digits.upper()):
        raise InputError(f"'{text}' is not a valid {what}: its EIP-55 checksum is wrong, so a character may be "
                         f"mistyped; if all 40 hex digits are right, it is {address}.")
    return address


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address (`checksummed`). The zero address is refused for every address the CLI takes,
    whether or not the contract would refuse it (it never means anything a user wants)."""
    address = checksummed(text, what)
    if address == ZERO:
        raise InputError(f"The {what} must not be the zero address.")
    return address


def parse_label(text: str, what: str) -> str:
    """A GPU model or region: printable and without spaces (the CLI's rule, so labels stay one word in
    tables). Its length is the contract's bound (`MarketInvalidLabel`), checked by `Offer.create`."""
    if not str(text).isprintable() or " " in str(text):
        raise InputError(f"The {what} '{text}' must be printable, without spaces.")
    return str(text)


def parse_tier(text: str, max_gpu_hours: int | None = None) -> tuple[int, int]:
    """'96:2.5' -> (96 GPU-hours, 250 bps); `max_gpu_hours` is the width of the ABI type."""
    try:
        hours_text, pct_text = str(text).split(":")
        gpu_hours = int(hours_text)
    except ValueError:
        raise InputError(f"The tier '{text}' must look like GPU_HOURS:PERCENT, e.g. 96:2.5.") from None
    if gpu_hours <= 0:
        raise InputError(f"The tier '{text}' needs a positive number of GPU-hours.")
    if max_gpu_hours is not None and gpu_hours > max_gpu_hours:
        raise InputError(f"The tier '{text}' has more than {max_gpu_hours} GPU-hours.")
    return gpu_hours, parse_pct(pct_text, "tier discount")


def parse_evidence(text: str) -> bytes:
    """A 0x-prefixed 32-byte hash as is; any other text is hashed (keccak256)."""
    from eth_utils import keccak

    text = str(text).strip()
    if text.startswith("0x") and len(text) == 66:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            raise InputError(f"The evidence hash '{text}' is not hex.") from None
    if not text:
        raise InputError("The evidence must not be empty.")
    return keccak(text=text)


def positive_int(value: Any, what: str, maximum: int | None = None) -> int:
    """A whole count of at least 1; `maximum` is the width of its ABI type where a larger number could
    not even be encoded (a GPU count is a uint16)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"The {what} '{value}' is not a whole number.") from None
    if number <= 0:
        raise InputError(f"The {what} must be at least 1, not {number}.")
    if maximum is not None and number > maximum:
        raise InputError(f"The {what} must be at most {maximum}, not {number}.")
    return number
