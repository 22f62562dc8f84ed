"""Rental views: accruedOf, claimableOf, refundableOf, releasableAt, payerOf, getRental."""

from conftest import HOUR


def _floor_accrued(r, t):
    return r.total * (min(max(t, r.startedAt), r.endsAt) - r.startedAt) // (r.endsAt - r.startedAt)


def test_views__pending_rental(market, rental_id, renter):
    r = market.getRental(rental_id)
    assert market.accruedOf(rental_id) == 0
    assert market.claimableOf(rental_id) == 0
    assert market.refundableOf(rental_id) == r.total  # cancel would refund it all
    assert market.releasableAt(rental_id) == r.activationDeadline + 1
    assert market.payerOf(rental_id) == renter.address


def test_views__active_rental_mid_stream(market, active_id, provider, time_travel):
    r = market.getRental(active_id)
    time_travel.at(r.startedAt + 5 * HOUR + 17)
    market.claim(active_id, sender=provider)  # mined at that second; views below read the same block
    t = r.startedAt + 5 * HOUR + 17
    claimed = market.getRental(active_id).claimed
    assert claimed == _floor_accrued(r, t)
    assert market.accruedOf(active_id) == claimed
    assert market.claimableOf(active_id) == 0
    used = -(-r.total * (t - r.startedAt) // (r.endsAt - r.startedAt))  # stop bills the accrual rounded up
    assert market.refundableOf(active_id) == r.total - max(used, r.total // r.hoursPaid)
    assert market.releasableAt(active_id) == r.endsAt + market.disputeWindow()


def test_views__after_the_end(market, active_id, time_travel, stranger):
    r = market.getRental(active_id)
    time_travel.at(r.endsAt + 1)
    market.release(active_id, sender=stranger)  # capacity back; mines a block past the end
    assert market.accruedOf(active_id) == r.total
    assert market.claimableOf(active_id) == r.total
    assert market.refundableOf(active_id) == 0
    assert market.releasableAt(active_id) == r.endsAt + market.disputeWindow()


def test_views__unknown_rental_is_empty(market):
    assert market.getRental(999).status == 0
    assert (market.accruedOf(999), market.claimableOf(999), market.refundableOf(999), market.releasableAt(999)) == (0, 0, 0, 0)
