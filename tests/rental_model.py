"""An independent Python model of the market's rental money (integers only, no floats).

It restates the rules of contracts/libraries/RentalMath.sol from their specification so that tests
compute expected values themselves instead of reading them back from the contract:

- the stream: what a rental of `total` running from `started` to `ends` has paid out at time `t`,
  rounded down for claims and up for a stop;
- the fee split of a claim: one fee on the combined bps of the cumulative gross, then divided;
- the stop charge: the used time at the list (undiscounted) rate, at least one hour, at most `total`.
"""

from __future__ import annotations

BPS = 10_000


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def accrued_down(total: int, started: int, ends: int, t: int) -> int:
    """What the stream has paid out by `t`, rounded down (a claim)."""
    if t <= started:
        return 0
    if t >= ends:
        return total
    return total * (t - started) // (ends - started)


def accrued_up(total: int, started: int, ends: int, t: int) -> int:
    """What the stream has paid out by `t`, rounded up (a stop, against the renter who calls it)."""
    if t <= started:
        return 0
    if t >= ends:
        return total
    return ceil_div(total * (t - started), ends - started)


def split_claim(before: int, after: int, protocol_bps: int, broker_bps: int) -> tuple[int, int, int]:
    """(provider net, protocol fee, broker fee) of claiming the cumulative gross from `before` to `after`.

    The combined fee is fee_total(after) − fee_total(before), fee_total(a) = ⌊a × (p + b) / 10 000⌋; its
    protocol part is ⌊fee_total × p / (p + b)⌋ taken cumulatively, the broker part the rest."""
    fee_bps = protocol_bps + broker_bps
    if fee_bps == 0:
        return after - before, 0, 0
    fee_before, fee_after = before * fee_bps // BPS, after * fee_bps // BPS
    protocol = fee_after * protocol_bps // fee_bps - fee_before * protocol_bps // fee_bps
    broker = (fee_after - fee_before) - protocol
    return after - before - protocol - broker, protocol, broker


def stop_charge(total: int, started: int, ends: int, t: int, hours_paid: int, discount_bps: int = 0) -> int:
    """What a renter stopping at `t` is billed (the rental's new total; the rest is refunded): the
    accrual rounded up, grossed up to the list rate (stopping early forfeits the volume discount),
    at least one hour at the rental's rate, never more than `total`."""
    charge = ceil_div(accrued_up(total, started, ends, t) * BPS, BPS - discount_bps)
    return min(total, max(charge, total // hours_paid))
