from conftest import HOUR
from reverts import reverts


def test_activate__starts_the_stream_for_the_hours_paid(market, rental_id, provider, time_travel):
    ts = time_travel.now() + 10
    time_travel.at(ts)
    tx = market.activate(rental_id, sender=provider)
    r = market.getRental(rental_id)
    assert r.status == 2
    assert r.startedAt == ts
    assert r.endsAt == ts + 24 * HOUR
    [event] = tx.decode_logs(market.RentalActivated)
    assert (event.rentalId, event.startedAt, event.endsAt) == (rental_id, ts, ts + 24 * HOUR)


def test_activate__exactly_at_the_deadline__succeeds(market, rental_id, provider, time_travel):
    deadline = market.getRental(rental_id).activationDeadline
    time_travel.at(deadline)
    market.activate(rental_id, sender=provider)
    assert market.getRental(rental_id).startedAt == deadline


def test_activate__one_second_after_the_deadline__reverts(market, rental_id, provider, time_travel):
    deadline = market.getRental(rental_id).activationDeadline
    time_travel.at(deadline + 1)
    with reverts(market.MarketActivationExpired, rentalId=rental_id, activationDeadline=deadline):
        market.activate(rental_id, sender=provider)


def test_activate__by_someone_else__reverts(market, rental_id, renter):
    with reverts(market.MarketNotProvider, rentalId=rental_id, caller=renter.address):
        market.activate(rental_id, sender=renter)


def test_activate__twice__reverts(market, active_id, provider):
    with reverts(market.MarketRentalNotPending, rentalId=active_id, status=2):
        market.activate(active_id, sender=provider)
