"""The owner: pause/unpause, Ownable2Step handover, and parameters snapshotted into rentals at open."""

import pytest

from conftest import GPUC, PRICE_USD, ZERO
from reverts import reverts


# ───────────────────────────── Pause ─────────────────────────────


def test_pause__then_unpause__by_the_owner__toggles_with_events(market, owner):
    assert not market.paused()
    tx = market.pause(sender=owner)
    assert market.paused()
    assert [e.account for e in tx.decode_logs(market.Paused)] == [owner.address]

    tx = market.unpause(sender=owner)
    assert not market.paused()
    assert [e.account for e in tx.decode_logs(market.Unpaused)] == [owner.address]


def test_pause__when_paused__reverts_and_unpause_when_not__reverts(market, owner):
    with reverts(market.ExpectedPause):
        market.unpause(sender=owner)
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        market.pause(sender=owner)


# ───────────────────────────── Ownable2Step ─────────────────────────────


def test_transfer_ownership__takes_effect_only_when_accepted(market, owner, treasury):
    tx = market.transferOwnership(treasury, sender=owner)
    assert market.owner() == owner.address
    assert market.pendingOwner() == treasury.address
    [event] = tx.decode_logs(market.OwnershipTransferStarted)
    assert (event.previousOwner, event.newOwner) == (owner.address, treasury.address)

    tx = market.acceptOwnership(sender=treasury)
    assert market.owner() == treasury.address
    assert market.pendingOwner() == ZERO
    [event] = tx.decode_logs(market.OwnershipTransferred)
    assert (event.previousOwner, event.newOwner) == (owner.address, treasury.address)

    # The new owner configures; the old one no longer can.
    market.setProtocolFee(300, sender=treasury)
    assert market.protocolFeeBps() == 300
    with reverts(market.OwnableUnauthorizedAccount, account=owner.address):
        market.setProtocolFee(400, sender=owner)


def test_accept_ownership__by_someone_other_than_the_pending_owner__reverts(market, owner, treasury, stranger):
    market.transferOwnership(treasury, sender=owner)
    with reverts(market.OwnableUnauthorizedAccount, account=stranger.address):
        market.acceptOwnership(sender=stranger)
    assert (market.owner(), market.pendingOwner()) == (owner.address, treasury.address)


# ───────────────────────────── Snapshots at open ─────────────────────────────


@pytest.fixture
def big_offer(staked, create_offer):
    """An offer of 16 GPUs in mUSD, room for two rentals of 8."""
    return create_offer(staked, gpus=16, price=PRICE_USD)


def test_set_protocol_fee__applies_only_to_rentals_opened_afterwards(market, owner, big_offer, renter, payer,
                                                                     open_rental):
    before = open_rental(big_offer, renter, gpus=8)
    market.setProtocolFee(250, sender=owner)
    after = open_rental(big_offer, payer, gpus=8)
    assert market.getRental(before).protocolFeeBps == 100
    assert market.getRental(after).protocolFeeBps == 250


def test_set_stake_per_gpu__applies_only_to_rentals_opened_afterwards(market, owner, registry, staked, big_offer,
                                                                      renter, payer, open_rental):
    before = open_rental(big_offer, renter, gpus=8)
    market.setStakePerGpu(30 * GPUC, sender=owner)
    after = open_rental(big_offer, payer, gpus=8)

    assert market.getRental(before).collateral == 8 * 100 * GPUC
    assert market.getRental(after).collateral == 8 * 30 * GPUC
    assert registry.providerOf(staked).locked == 8 * 100 * GPUC + 8 * 30 * GPUC


def test_set_stake_per_gpu__zero__opens_rentals_without_collateral(market, owner, registry, staked, big_offer,
                                                                   renter, open_rental):
    market.setStakePerGpu(0, sender=owner)
    rental_id = open_rental(big_offer, renter, gpus=8)
    assert market.getRental(rental_id).collateral == 0
    assert registry.providerOf(staked).locked == 0
