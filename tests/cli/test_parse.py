"""The parsers of human input and the count helper, without a chain."""

from __future__ import annotations

import pytest

from gpumarket.errors import InputError
from gpumarket.parse import checksummed, parse_address, parse_amount
from gpumarket.units import count, were

GOOD = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_an_address_is_checksummed_and_a_mixed_case_one_must_carry_its_checksum():
    assert checksummed(GOOD) == GOOD
    assert checksummed(GOOD.lower()) == GOOD and checksummed("0x" + GOOD[2:].upper()) == GOOD  # no checksum to check
    typo = GOOD[:-1] + "c"
    with pytest.raises(InputError) as raised:
        parse_address(typo, "recipient address")
    assert raised.value.sentence == (f"'{typo}' is not a valid recipient address: its EIP-55 checksum is wrong, so a "
                                     f"character may be mistyped; if all 40 hex digits are right, it is {GOOD}.")
    assert checksummed("0x" + "0" * 40) == "0x" + "0" * 40  # a file's reservedFor may be zero
    with pytest.raises(InputError, match="must not be the zero address"):
        parse_address("0x" + "0" * 40)
    for malformed in ("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x3C44", "0X" + GOOD[2:], "0x" + "g" * 40):
        with pytest.raises(InputError, match="expected 0x followed by 40 hex digits"):
            checksummed(malformed)


def test_a_negative_amount_reads_as_one():
    with pytest.raises(InputError) as raised:
        parse_amount("-5", 6, "amount (mUSD, 6 decimals)")
    assert raised.value.sentence == "The amount (mUSD, 6 decimals) must be above zero, not -5."
    with pytest.raises(InputError) as raised:
        parse_amount("-0.5", 18, "stake", allow_zero=True)
    assert raised.value.sentence == "The stake must not be negative (-0.5)."
    with pytest.raises(InputError, match="'-x' is not a number"):
        parse_amount("-x", 6)


def test_counts_agree_with_their_noun():
    assert [count(n, "GPU") for n in (0, 1, 2)] == ["0 GPUs", "1 GPU", "2 GPUs"]
    assert count(1, "hour") == "1 hour" and count(1, "H100 GPU") == "1 H100 GPU" and count(3, "rental") == "3 rentals"
    assert (were(1), were(4)) == ("1 was", "4 were")
