"""tests/reverts.py fails on a wrong error, a wrong, missing or extra argument, no revert and an
undecodable revert, and passes on the right error with the right arguments — on both engines: ape on
anvil (with tests/conftest.py's quiet revert handler, and with ape's own) and pyrevm."""

from __future__ import annotations

import sys
from enum import IntEnum
from pathlib import Path

import pytest
from ape.exceptions import ContractLogicError, CustomError
from ape_foundry.provider import FoundryProvider

import conftest
from conftest import PRICE_USD, ZERO
from reverts import ExpectedRevert, raised_by, reverts

sys.path.insert(0, str(Path(__file__).resolve().parent / "security"))
from evm import _Fn  # noqa: E402
from world import PRICE, world  # noqa: E402


def fails(match: str):
    return pytest.raises(AssertionError, match=match)


# ───────────────────────────── ape on anvil ─────────────────────────────


@pytest.fixture
def usd_offer(staked, create_offer, usd):
    return create_offer(staked, token=usd, price=PRICE_USD)


def test_ape__the_right_error_and_arguments__pass(market, stranger):
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address) as raised:
        market.pause(sender=stranger)
    assert isinstance(raised.exception, CustomError)  # decoded by ape: encoded back to its bytes
    assert (raised.name, raised.inputs) == ("OwnableUnauthorizedAccount", {"account": stranger.address})
    with reverts("OwnableUnauthorizedAccount", account=stranger):  # a name; an account for an address
        market.pause(sender=stranger)
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address.lower()):
        market.pause(sender=stranger)


def test_ape__a_wrong_error__fails(market, stranger):
    with fails(r"expected MarketNotArbiter\(caller=.*\), got OwnableUnauthorizedAccount\(account="):
        with reverts(market.MarketNotArbiter, caller=stranger.address):
            market.pause(sender=stranger)


def test_ape__a_wrong_argument__fails(market, owner, stranger):
    with fails(f"account is '{stranger.address}', expected '{owner.address}'"):
        with reverts(market.OwnableUnauthorizedAccount, account=owner.address):
            market.pause(sender=stranger)


def test_ape__a_missing_or_an_extra_argument__fails_before_the_call(market, stranger):
    with fails(r"missing \['account'\]"):
        with reverts(market.OwnableUnauthorizedAccount):
            pytest.fail("the block must not run")
    with fails(r"not its inputs \['caller'\]"):
        with reverts(market.OwnableUnauthorizedAccount, account=stranger.address, caller=stranger.address):
            pytest.fail("the block must not run")


def test_ape__no_revert__fails(market, owner):
    with fails(r"did not revert \(expected ExpectedPause\(\)\)"):
        with reverts(market.ExpectedPause):
            market.pause(sender=owner)


def test_ape__a_revert_without_data__fails(market, stranger):
    with fails("a revert without data"):  # the market has no receive(): a plain transfer reverts empty
        with reverts(market.MarketZeroAddress):
            stranger.transfer(market, 1)
    # a reverted eth_call: ape keeps the node's message, not the revert data
    with fails(r"data ape did not keep .* send a view as a transaction"):
        with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
            market.renounceOwnership(sender=stranger)


def test_ape__an_error_ape_did_not_decode__is_checked_from_the_raw_data(market, usd, usd_offer, renter):
    """A token's error bubbling up through the market: not in the market's ABI, so ape raises a plain
    ContractLogicError whose message is the revert data."""
    cost = market.quote(usd_offer, 1, 2).cost

    def open_without_allowance():
        market.openRental(usd_offer, 1, 2, PRICE_USD, ZERO, 0, sender=renter)

    with reverts(usd.ERC20InsufficientAllowance, spender=market, allowance=0, needed=cost) as raised:
        open_without_allowance()
    assert type(raised.exception) is ContractLogicError
    with fails(f"needed is {cost}, expected {cost + 1}"):
        with reverts(usd.ERC20InsufficientAllowance, spender=market, allowance=0, needed=cost + 1):
            open_without_allowance()
    with fails("expected ERC20InsufficientBalance"):
        with reverts(usd.ERC20InsufficientBalance, sender=renter, balance=0, needed=cost):
            open_without_allowance()


def test_ape__with_apes_own_revert_handler__the_same(market, usd, usd_offer, renter, monkeypatch):
    """Without the quiet handler ape traces the transaction and decodes the token's error itself."""
    monkeypatch.setattr(FoundryProvider, "_handle_execution_reverted", conftest._original_handle)
    cost = market.quote(usd_offer, 1, 2).cost
    with reverts(usd.ERC20InsufficientAllowance, spender=market, allowance=0, needed=cost) as raised:
        market.openRental(usd_offer, 1, 2, PRICE_USD, ZERO, 0, sender=renter)
    assert isinstance(raised.exception, CustomError)
    with fails("allowance is 0, expected 1"):
        with reverts(usd.ERC20InsufficientAllowance, spender=market, allowance=1, needed=cost):
            market.openRental(usd_offer, 1, 2, PRICE_USD, ZERO, 0, sender=renter)


def test_ape__anything_but_a_revert__is_not_caught(market):
    with pytest.raises(ZeroDivisionError):
        with reverts(market.ExpectedPause):
            1 // 0


# ───────────────────────────── pyrevm ─────────────────────────────


def _open_above_max(w):
    w.market.call(w.renter, "openRental", w.offer, 2, 10, PRICE - 1, ZERO, 0)


def test_pyrevm__the_right_error_and_arguments__pass():
    w = world()
    with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE, maxPrice=PRICE - 1) as raised:
        _open_above_max(w)
    assert (raised.name, raised.inputs) == ("MarketPriceAboveMax", {"offerId": w.offer, "price": PRICE, "maxPrice": PRICE - 1})
    w.market.call(w.provider, "pauseOffer", w.offer)

    class Status(IntEnum):
        PAUSED = 2

    with reverts("MarketOfferNotActive", offerId=w.offer, status=Status.PAUSED):  # an enum as its int
        _open_above_max(w)


def test_pyrevm__a_wrong_error__fails():
    w = world()
    with fails(r"expected MarketInvalidHours\(.*\), got MarketPriceAboveMax\(offerId=1, price=1950000, maxPrice=1949999\)"):
        with reverts("MarketInvalidHours", hoursRequested=10, minHours=1, maxHours=100):
            _open_above_max(w)


def test_pyrevm__a_wrong_argument__fails():
    w = world()
    with fails(f"maxPrice is {PRICE - 1}, expected {PRICE}"):
        with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE, maxPrice=PRICE):
            _open_above_max(w)
    with fails("an integer for uint256"):  # compared as ABI values: no string for a number
        with reverts("MarketPriceAboveMax", offerId=str(w.offer), price=PRICE, maxPrice=PRICE - 1):
            _open_above_max(w)


def test_pyrevm__a_missing_or_an_extra_argument__fails():
    w = world()
    with fails(r"missing \['maxPrice'\]"):
        with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE):
            _open_above_max(w)
    with fails(r"not its inputs \['renter'\]"):
        with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE, maxPrice=PRICE - 1, renter=w.renter):
            _open_above_max(w)


def test_pyrevm__no_revert__fails():
    w = world()
    with fails(r"did not revert \(expected MarketPriceAboveMax"):
        with reverts("MarketPriceAboveMax", offerId=w.offer, price=PRICE, maxPrice=PRICE - 1):
            w.market.call(w.renter, "openRental", w.offer, 2, 10, PRICE, ZERO, 0)


def test_pyrevm__an_undecodable_revert__fails():
    w = world()
    unknown = _Fn(b"\xde\xad\xbe\xef", [], [])  # no such function (and no fallback): an empty revert
    with fails("a revert without data"):
        with reverts("MarketZeroAddress"):
            w.chain.send(w.renter, w.market.address, unknown, ())
    assert "unknown error 0xdeadbeef" in ExpectedRevert("MarketZeroAddress").check(b"\xde\xad\xbe\xef")


def test_pyrevm__an_unknown_error_name__fails():
    with fails("no error named 'MarketNoSuchError'"):
        with reverts("MarketNoSuchError"):
            pytest.fail("the block must not run")


def test_expected_revert__data_and_check_agree():
    w = world()
    expected = ExpectedRevert("MarketPriceAboveMax", offerId=w.offer, price=PRICE, maxPrice=PRICE - 1)
    raised = raised_by(lambda: _open_above_max(w))
    assert expected.check(raised) is None and raised.data == expected.data
    assert raised_by(lambda: None) is None
    assert "did not revert" in expected.check(None)
