"""The contracts' bounds, as the contracts define them, for one session.

Public constants (`MAX_RENTAL_HOURS`, `MAX_BROKER_FEE_BPS`, `MAX_DISCOUNT_BPS`, `MAX_LABEL_LENGTH`,
`MAX_PROTOCOL_FEE_BPS`, the MIN_/MAX_ parameter bounds of ComputeMarket and ProviderRegistry, ...) are read
from the chain the first time one is needed and then kept: a constant never changes. The widths of ABI
types (a GPU count is a uint16, a price per GPU-hour a uint96) come from the compiled ABI.
"""

from __future__ import annotations

from typing import Any


def _field_type(entries: list[dict], path: list) -> str | None:
    """The ABI type at `path` below a list of ABI parameters: each step a component's name, or a
    parameter's position (an int)."""
    for i, entry in enumerate(entries):
        if entry.get("name") == path[0] or i == path[0]:
            return entry["type"] if len(path) == 1 else _field_type(entry.get("components", []), path[1:])
    return None


def uint_max(abi: list[dict], function: str, *path) -> int:
    """The largest value of an unsigned ABI type, e.g. `uint_max(abi, "createOffer", 0, "gpusOffered")`
    (the uint16 of `Offer.Params.gpusOffered`) -> 2**16 - 1."""
    for item in abi:
        if item.get("type") == "function" and item.get("name") == function:
            kind = _field_type(item.get("inputs", []), list(path))
            if kind and kind.startswith("uint"):
                return 2 ** int(kind[4:] or 256) - 1
    raise LookupError(f"{function}({'.'.join(path)}) is not an unsigned integer in the ABI")


class Limits:
    """`limits.MAX_RENTAL_HOURS` reads ComputeMarket's constant once; any upper-case public constant of the
    market or the registry works the same way. Three limits are not public constants of the contracts:

    - `MAX_GPUS`: the largest GPU count, from the uint16 of `Offer.Params.gpusOffered` in the ABI;
    - `MAX_PRICE`: the largest price per GPU-hour, from the uint96 of `Offer.Params.pricePerGpuHour`;
    - `MAX_TIER_GPU_HOURS`: the largest tier threshold, from the uint32 of `Offer.Tier.minGpuHours`;
    """

    def __init__(self, contracts: dict[str, Any], abis: dict[str, list[dict]]):
        self._contracts = contracts  # contract name -> handle; constants are looked up in this order
        self._abis = abis

    def __getattr__(self, name: str) -> int:
        if not name.isupper():
            raise AttributeError(name)
        for contract, abi in self._abis.items():
            if any(i.get("type") == "function" and i.get("name") == name and not i.get("inputs") for i in abi):
                value = int(getattr(self._contracts[contract], name)())
                setattr(self, name, value)  # read once: __getattr__ is not called again for it
                return value
        raise AttributeError(f"No contract defines a constant {name}.")

    def __getitem__(self, name: str) -> int:
        return getattr(self, name)

    @property
    def MAX_GPUS(self) -> int:  # noqa: N802 (named like the constants it stands with)
        return uint_max(self._abis["ComputeMarket"], "createOffer", 0, "gpusOffered")

    @property
    def MAX_PRICE(self) -> int:  # noqa: N802
        return uint_max(self._abis["ComputeMarket"], "createOffer", 0, "pricePerGpuHour")

    @property
    def MAX_TIER_GPU_HOURS(self) -> int:  # noqa: N802
        return uint_max(self._abis["ComputeMarket"], "createOffer", 0, "tiers", "minGpuHours")
