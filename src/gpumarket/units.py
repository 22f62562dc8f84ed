"""Human units <-> base units, exactly (Decimal, never float), and how amounts, times and counts are output."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

SECONDS_PER_HOUR = 3600
BPS = 10_000


class UnitError(ValueError):
    """A human amount that cannot be expressed in base units."""


def to_base(amount: str | int | Decimal, decimals: int) -> int:
    """'1.95' with 6 decimals -> 1950000. Refuses negatives and extra decimals."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise UnitError(f"'{amount}' is not a number") from None
    if not value.is_finite():
        raise UnitError(f"'{amount}' is not a finite number")
    if value < 0:
        raise UnitError(f"'{amount}' is negative")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise UnitError(f"'{amount}' has more than {decimals} decimals")
    return int(scaled)


def from_base(amount: int, decimals: int) -> Decimal:
    """1950000 with 6 decimals -> Decimal('1.95')."""
    return (Decimal(amount).scaleb(-decimals)).normalize() if amount else Decimal(0)


def fmt(amount: int, decimals: int, symbol: str = "") -> str:
    """Base units as a fixed-point string with all decimals: 1950000, 6 -> '1.950000'."""
    sign = "-" if amount < 0 else ""
    q, r = divmod(abs(amount), 10**decimals)
    text = f"{sign}{q:,}" + (f".{r:0{decimals}d}" if decimals else "")
    return f"{text} {symbol}".rstrip()


def amount(raw: int, decimals: int, symbol: str) -> dict[str, str]:
    """An amount as JSON output shows it: raw base units (a string, so no reader loses precision), units."""
    return {"raw": str(int(raw)), "units": fmt(int(raw), decimals).replace(",", ""), "symbol": symbol}


def when(ts: int) -> str | None:
    """A unix time as 'YYYY-MM-DD HH:MM:SS UTC' (None for 0: never)."""
    if not ts:
        return None
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun in agreement: (1, 'GPU') -> '1 GPU', (8, 'GPU') -> '8 GPUs', (0, 'rental') ->
    '0 rentals'."""
    return f"{n} {noun if int(n) == 1 else plural or noun + 's'}"


def were(n: int) -> str:
    """The verb after a count: '1 was', '8 were'."""
    return f"{n} {'was' if int(n) == 1 else 'were'}"
