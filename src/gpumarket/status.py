"""The contracts' status enums with their ABI numbers (`Offer.Status` in contracts/types/Offer.sol,
`Rental.Status` in contracts/types/Rental.sol; a test keeps them in step). Output shows the lowercase
name (`OfferStatus.ACTIVE.label == "active"`)."""

from __future__ import annotations

from enum import IntEnum


class _Status(IntEnum):
    @property
    def label(self) -> str:
        """The lowercase name, as JSON output and sentences show it."""
        return self.name.lower()

    @classmethod
    def label_of(cls, value) -> str:
        """The label of a raw ABI value (a number outside the enum shows as the number)."""
        try:
            return cls(int(value)).label
        except ValueError:
            return str(value)


class OfferStatus(_Status):
    NONE = 0
    ACTIVE = 1
    PAUSED = 2
    CLOSED = 3


class RentalStatus(_Status):
    NONE = 0
    PENDING = 1
    ACTIVE = 2
    ENDED = 3
    CANCELLED = 4
    SETTLED = 5
    DISPUTED = 6
    RESOLVED = 7
