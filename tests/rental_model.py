"""An independent Python model of the market's rental money (integers only, no floats).

It restates the rules of contracts/libraries/RentalMath.sol from their specification so that tests
compute expected values themselves instead of reading them back from the contract:

- the stream: what a rental of `total` running from `started` to `ends` has paid out at time `t`,
  rounded down (claims);
- the fee split of a claim: one fee on the combined bps of the cumulative gross, then divided;
- the stop charge: the used time at the list (undiscounted) rate, at least one hour, at most `total`;
- the dispute bond: the billed hourly rate × (arbitration timeout + dispute window) / dispute window.
"""

from __future__ import annotations

BPS = 10_000


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def accrued_down(total: int, started: int, ends: int, t: int) -> int:
    """What the stream has paid out by `t`, rounded down (a claim). The end comes first: a stream
    stopped in its activation second (`started == ends`) has accrued its whole billed total."""
    if t >= ends:
        return total
    if t <= started:
        return 0
    return total * (t - started) // (ends - started)


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


def stop_charge(total: int, started: int, t: int, hours_paid: int, discount_bps: int = 0) -> int:
    """What a renter stopping (or disputing) a running rental at `t` is billed (the rental's new total;
    the rest is refunded), as the README states it:
    min(total, max(rate, ⌈rate × elapsed × 10000 / (3600 × (10000 − discount))⌉)), rate = total / hours:
    the time used at the list rate (stopping early forfeits the volume discount), rounded up once, at
    least one hour at the rental's rate, never more than `total`."""
    rate = total // hours_paid
    listed = ceil_div(rate * (t - started) * BPS, 3600 * (BPS - discount_bps))
    return min(total, max(rate, listed))


def dispute_bond(billed: int, billed_seconds: int, arbitration_timeout: int, dispute_window: int) -> int:
    """The bond a renter posts with a dispute: the billed hourly rate (billed × 3600 / max(seconds, 1 h))
    × (arbitration timeout + dispute window) / dispute window, rounded up once."""
    return ceil_div(billed * 3600 * (arbitration_timeout + dispute_window),
                    max(billed_seconds, 3600) * dispute_window)


def discount_bps(tiers, gpu_hours: int) -> int:
    """The volume discount `gpu_hours` (GPUs × hours at open) earns: the highest tier reached."""
    bps = 0
    for min_gpu_hours, tier_bps in tiers:
        if gpu_hours < min_gpu_hours:
            break
        bps = tier_bps
    return bps


def rental_cost(gpus: int, price: int, hours: int, tiers=()) -> int:
    """What opening a rental costs: the hourly rate ⌈gpus × price × (10000 − discount) / 10000⌉ × hours."""
    rate = ceil_div(gpus * price * (BPS - discount_bps(tiers, gpus * hours)), BPS)
    return rate * hours
