"""ComputeMarket.multicall (OpenZeppelin's Multicall): several market calls in one transaction, all or
nothing, each with the caller as `msg.sender` and each with its own checks."""

import pytest

from conftest import HOUR, ZERO
from reverts import reverts

usd_only = pytest.mark.parametrize("pay_token", ["usd"], indirect=True, ids=["usd6"])


def _call(market, fn: str, *args) -> bytes:
    return bytes(getattr(market, fn).encode_input(*args))


@pytest.fixture
def funded(fund, pay_token, market, renter):
    """The renter holds and has approved plenty of the payment token."""
    fund(renter, pay_token, 10**24 if pay_token.decimals() == 18 else 10**15)
    pay_token.approve(market, 2**256 - 1, sender=renter)
    return renter


def test_multicall__opens_several_rentals_in_one_transaction(market, offer_id, funded, price, pay_token):
    before_id = market.nextRentalId()
    before = pay_token.balanceOf(funded)
    tx = market.multicall([_call(market, "openRental", offer_id, 2, 10, price, ZERO, 0),
                           _call(market, "openRental", offer_id, 3, 5, price, ZERO, 0)], sender=funded)
    opened = tx.decode_logs(market.RentalOpened)
    assert [e.rentalId for e in opened] == [before_id, before_id + 1]
    assert all(e.renter == funded.address and e.payer == funded.address for e in opened)  # msg.sender kept
    assert pay_token.balanceOf(funded) == before - (2 * 10 + 3 * 5) * price
    assert market.getOffer(offer_id).gpusInUse == 5


@usd_only
def test_multicall__one_failing_call_reverts_them_all(market, offer_id, funded, price, usd):
    before_id, before = market.nextRentalId(), usd.balanceOf(funded)
    with reverts(market.MarketInsufficientCapacity, offerId=offer_id, available=6, requested=7):
        market.multicall([_call(market, "openRental", offer_id, 2, 10, price, ZERO, 0),
                          _call(market, "openRental", offer_id, 7, 10, price, ZERO, 0)], sender=funded)
    assert market.nextRentalId() == before_id and usd.balanceOf(funded) == before
    assert market.getOffer(offer_id).gpusInUse == 0


@usd_only
def test_multicall__a_claim_and_a_withdrawal_in_one_transaction(
    market, offer_id, open_rental, renter, provider, broker, usd, time_travel
):
    rid = open_rental(offer_id, renter, broker=broker, broker_bps=300)
    market.activate(rid, sender=provider)
    time_travel.advance(2 * HOUR)
    market.claim(rid, sender=provider)  # books the broker's first fee
    time_travel.advance(HOUR)
    owed_before = market.credits(broker, usd)
    before = usd.balanceOf(broker)
    tx = market.multicall([_call(market, "claim", rid), _call(market, "withdrawCredits", usd.address)], sender=broker)
    [claimed] = tx.decode_logs(market.RentalClaimed)
    [withdrawn] = tx.decode_logs(market.CreditsWithdrawn)
    assert withdrawn.account == broker.address and withdrawn.amount == owed_before + claimed.brokerFee
    assert usd.balanceOf(broker) == before + withdrawn.amount and market.credits(broker, usd) == 0


@usd_only
def test_multicall__a_stop_and_a_new_rental(market, offer_id, funded, provider, price, usd, time_travel):
    tx = market.openRental(offer_id, 8, 24, price, ZERO, 0, sender=funded)
    rid = tx.decode_logs(market.RentalOpened)[0].rentalId
    market.activate(rid, sender=provider)
    time_travel.advance(2 * HOUR)
    # All 8 GPUs are in use: the stop gives them back, and the new rental takes 4 of them, atomically.
    tx = market.multicall([_call(market, "stopRental", rid),
                           _call(market, "openRental", offer_id, 4, 12, price, ZERO, 0)], sender=funded)
    assert market.getRental(rid).status == 3  # Ended
    [new] = tx.decode_logs(market.RentalOpened)
    assert new.renter == funded.address and market.getOffer(offer_id).gpusInUse == 4


@usd_only
def test_multicall__grants_no_privilege__a_provider_still_cannot_rent_its_own_offer(
    market, offer_id, provider, fund, usd, price
):
    fund(provider, usd, 10**12)
    usd.approve(market, 2**256 - 1, sender=provider)
    with reverts(market.MarketSelfRental, offerId=offer_id, provider=provider.address):
        market.multicall([_call(market, "openRental", offer_id, 1, 10, price, ZERO, 0)], sender=provider)


@usd_only
def test_multicall__grants_no_privilege__a_renter_still_cannot_activate(market, rental_id, renter):
    with reverts(market.MarketNotProvider, rentalId=rental_id, caller=renter.address):
        market.multicall([_call(market, "activate", rental_id)], sender=renter)


def test_multicall__grants_no_privilege__a_stranger_cannot_configure_through_it(market, stranger):
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
        market.multicall([_call(market, "setProtocolFee", 0)], sender=stranger)


def test_multicall__modules_run_with_the_callers_identity(market, staked, offer_params):
    """A batch of calls forwarded to a module (offers) keeps msg.sender too: the provider lists and
    pauses an offer in one transaction."""
    next_id = market.nextOfferId()
    market.multicall([_call(market, "createOffer", offer_params()), _call(market, "pauseOffer", next_id)],
                     sender=staked)
    o = market.getOffer(next_id)
    assert o.provider == staked.address and o.status == 2  # Paused
