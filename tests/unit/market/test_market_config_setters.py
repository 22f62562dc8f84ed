"""Owner setters: bounded parameters, addresses and the payment-token allowlist."""

import pytest

from conftest import DAY, GPUC, HOUR, ZERO
from reverts import reverts

# setter -> (getter, event, event field, min, max)
BOUNDED = {
    "setProtocolFee": ("protocolFeeBps", "ProtocolFeeSet", "protocolFeeBps", 0, 1_000),
    "setStakePerGpu": ("stakePerGpu", "StakePerGpuSet", "stakePerGpu", 0, 10**6 * GPUC),
    "setActivationWindow": ("activationWindow", "ActivationWindowSet", "activationWindow", 300, 7 * DAY),
    "setDisputeWindow": ("disputeWindow", "DisputeWindowSet", "disputeWindow", HOUR, 30 * DAY),
    "setNoShowPenalty": ("noShowPenaltyBps", "NoShowPenaltySet", "noShowPenaltyBps", 0, 10_000),
}


@pytest.mark.parametrize("setter", BOUNDED)
def test_bounded_setter__accepts_its_bounds_and_rejects_one_beyond(market, owner, setter):
    getter, event_name, field, low, high = BOUNDED[setter]
    for value in (low, high):
        tx = getattr(market, setter)(value, sender=owner)
        assert getattr(market, getter)() == value
        [event] = tx.decode_logs(getattr(market, event_name))
        assert getattr(event, field) == value

    outside = [high + 1] + ([low - 1] if low > 0 else [])
    for value in outside:
        with reverts(market.MarketParameterOutOfBounds, value=value, min=low, max=high):
            getattr(market, setter)(value, sender=owner)
    assert getattr(market, getter)() == high


def test_owner_functions__by_a_non_owner__revert(market, owner, treasury, stranger, usd):
    calls = [
        ("setProtocolFee", 200), ("setStakePerGpu", 50 * GPUC), ("setActivationWindow", 2 * HOUR),
        ("setDisputeWindow", 2 * DAY), ("setNoShowPenalty", 5_000), ("setTreasury", stranger.address),
        ("setArbiter", stranger.address), ("setPaymentToken", usd.address, False), ("pause",),
        ("transferOwnership", stranger.address),
    ]
    for fn, *args in calls:
        with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
            getattr(market, fn)(*args, sender=stranger)
    market.pause(sender=owner)
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
        market.unpause(sender=stranger)
    assert market.paused()
    assert (market.protocolFeeBps(), market.treasury(), market.pendingOwner()) == (100, treasury.address, ZERO)
    assert market.isPaymentToken(usd)


# ───────────────────────────── Addresses ─────────────────────────────


def test_treasury_and_arbiter_setters__store_and_emit(market, owner, stranger, broker):
    tx = market.setTreasury(stranger, sender=owner)
    assert market.treasury() == stranger.address
    assert [e.treasury for e in tx.decode_logs(market.TreasurySet)] == [stranger.address]

    tx = market.setArbiter(broker, sender=owner)
    assert market.arbiter() == broker.address
    assert [e.arbiter for e in tx.decode_logs(market.ArbiterSet)] == [broker.address]


def test_address_setters__with_the_zero_address__revert(market, owner):
    for fn, *args in [("setTreasury", ZERO), ("setArbiter", ZERO), ("setPaymentToken", ZERO, True)]:
        with reverts(market.MarketZeroAddress):
            getattr(market, fn)(*args, sender=owner)
    assert market.treasury() != ZERO and market.arbiter() != ZERO


# ───────────────────────────── Payment tokens ─────────────────────────────


def test_set_payment_token__allows_and_disallows_with_events(market, owner, registry):
    token = registry.address  # any non-zero address: the allowlist does not inspect the token
    assert not market.isPaymentToken(token)

    tx = market.setPaymentToken(token, True, sender=owner)
    assert market.isPaymentToken(token)
    [event] = tx.decode_logs(market.PaymentTokenSet)
    assert (event.token, event.allowed) == (token, True)

    tx = market.setPaymentToken(token, False, sender=owner)
    assert not market.isPaymentToken(token)
    [event] = tx.decode_logs(market.PaymentTokenSet)
    assert (event.token, event.allowed) == (token, False)


def test_set_payment_token__removal__stops_new_rentals_on_existing_offers(market, owner, staked, renter, usd,
                                                                          create_offer, open_rental):
    offer_id = create_offer(staked, token=usd)
    market.setPaymentToken(usd, False, sender=owner)
    assert market.getOffer(offer_id).status == 1  # the offer itself stays Active
    with reverts(market.MarketTokenNotAllowed, token=usd.address):
        open_rental(offer_id, renter, gpus=1)
