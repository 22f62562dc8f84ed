"""The gpumarket client: the deployed contracts of one network, human units both ways, and every action
checked before it is sent.

Each action reads what the chain would check (offer state, capacity, price, balance, allowance, role,
rental state) and raises a typed `GpuMarketError` with one plain sentence if the transaction would
fail, so nothing is sent in vain. What only the chain can decide (a race with another transaction) is
decoded from the custom error into the same kind of sentence (`errors.from_exception`).

Reads return plain dicts with stable keys; amounts are `{"raw": "<base units>", "units": "<decimal>",
"symbol": ...}` so scripts never lose precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from gpumarket.errors import (
    OFFER_STATUS,
    RENTAL_STATUS,
    GpuMarketError,
    InputError,
    InsufficientError,
    NotFoundError,
    WrongRoleError,
    WrongStateError,
    from_exception,
)
from gpumarket.units import BPS, UnitError, fmt, to_base

ZERO = "0x0000000000000000000000000000000000000000"
GPUC_DECIMALS = 18
MAX_TIERS = 4


# ───────────────────────────── Parsing human input ─────────────────────────────


def parse_amount(text: str, decimals: int, what: str = "amount", *, allow_zero: bool = False) -> int:
    """'1.95' -> base units; one sentence on anything that is not a non-negative number with at most
    `decimals` decimals."""
    try:
        value = to_base(str(text).strip(), decimals)
    except UnitError as err:
        raise InputError(f"The {what} {err}.") from None
    if value == 0 and not allow_zero:
        raise InputError(f"The {what} must be above zero.")
    return value


def parse_pct(text: str, what: str = "percentage", *, maximum_bps: int = BPS) -> int:
    """'2.5' (percent) -> 250 bps; at most two decimals."""
    try:
        bps = to_base(str(text).strip(), 2)
    except UnitError as err:
        raise InputError(f"The {what} {err} (percent, at most 2 decimals).") from None
    if bps > maximum_bps:
        raise InputError(f"The {what} of {text} % is above the maximum of {maximum_bps / 100:g} %.")
    return bps


def parse_address(text: str, what: str = "address") -> str:
    from eth_utils import is_address, to_checksum_address

    text = str(text).strip()
    if not is_address(text) or not text.startswith("0x"):
        raise InputError(f"'{text}' is not a valid {what} (expected 0x followed by 40 hex digits).")
    address = to_checksum_address(text)
    if address == ZERO:
        raise InputError(f"The {what} must not be the zero address.")
    return address


def parse_label(text: str, what: str) -> str:
    raw = str(text).encode()
    if not 1 <= len(raw) <= 32 or not str(text).isprintable() or " " in str(text):
        raise InputError(f"The {what} '{text}' must be 1 to 32 bytes, printable, without spaces.")
    return str(text)


def parse_tier(text: str) -> tuple[int, int]:
    """'96:2.5' -> (96 GPU-hours, 250 bps)."""
    try:
        hours_text, pct_text = str(text).split(":")
        gpu_hours = int(hours_text)
    except ValueError:
        raise InputError(f"The tier '{text}' must look like GPU_HOURS:PERCENT, e.g. 96:2.5.") from None
    if gpu_hours <= 0:
        raise InputError(f"The tier '{text}' needs a positive number of GPU-hours.")
    return gpu_hours, parse_pct(pct_text, "tier discount", maximum_bps=5000)


def parse_evidence(text: str) -> bytes:
    """A 0x-prefixed 32-byte hash as is; any other text is hashed (keccak256)."""
    from eth_utils import keccak

    text = str(text).strip()
    if text.startswith("0x") and len(text) == 66:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            raise InputError(f"The evidence hash '{text}' is not hex.") from None
    if not text:
        raise InputError("The evidence must not be empty.")
    return keccak(text=text)


def positive_int(value: Any, what: str, maximum: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"The {what} '{value}' is not a whole number.") from None
    if number <= 0:
        raise InputError(f"The {what} must be at least 1, not {number}.")
    if maximum is not None and number > maximum:
        raise InputError(f"The {what} must be at most {maximum}, not {number}.")
    return number


# ───────────────────────────── Output helpers ─────────────────────────────


def amount(raw: int, decimals: int, symbol: str) -> dict[str, str]:
    return {"raw": str(int(raw)), "units": fmt(int(raw), decimals).replace(",", ""), "symbol": symbol}


def when(ts: int) -> str | None:
    if not ts:
        return None
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Token:
    address: str
    symbol: str
    decimals: int
    contract: Any

    def amount(self, raw: int) -> dict[str, str]:
        return amount(raw, self.decimals, self.symbol)

    def parse(self, text: str, what: str, **kwargs) -> int:
        return parse_amount(text, self.decimals, f"{what} ({self.symbol}, {self.decimals} decimals)", **kwargs)

    def show(self, raw: int) -> str:
        return fmt(int(raw), self.decimals, self.symbol)


# ───────────────────────────── The client ─────────────────────────────

_BUILD_TYPES: dict[str, dict] = {}


def _build_types() -> dict[str, dict]:
    """The contract types of the project's build (empty if there is none: ape's project is used)."""
    if not _BUILD_TYPES:
        import json
        from pathlib import Path

        path = Path(".build") / "__local__.json"
        if path.exists():
            _BUILD_TYPES.update(json.loads(path.read_text()).get("contractTypes", {}))
    return _BUILD_TYPES


class Client:
    """The deployed system on the connected network, acting as `account` (None: read-only)."""

    def __init__(self, record: dict[str, Any], account=None, *, say: Callable[[str], None] = lambda s: None,
                 project=None):
        if project is None:
            from ape import project
        self.project = project
        self.record = record
        c = record["contracts"]
        self.market = self._at("ComputeMarket", c["ComputeMarket"]["address"])
        self.registry = self._at("ProviderRegistry", c["ProviderRegistry"]["address"])
        self.gpuc_address = c["ComputeToken"]["address"]
        self.account = account
        self.say = say
        self._tokens: dict[str, Token] = {}

    # ── basics ──

    def _at(self, name: str, address: str):
        """A contract instance from the compiled build (`.build/__local__.json`), read directly: ape's
        `project.<Name>` re-scans the source tree first (≈ 4 s per command)."""
        from ape import Contract
        from ethpm_types import ContractType

        types = _build_types()
        if name in types:
            return Contract(address, contract_type=ContractType.model_validate(types[name]))
        return getattr(self.project, name).at(address)

    @property
    def me(self) -> str:
        if self.account is None:
            raise InputError("This command sends a transaction: choose an account with --account.")
        return self.account.address

    def address_or_me(self, address: str | None, what: str = "address") -> str:
        """`address` checked, or the --account's address when none is given."""
        return parse_address(address, what) if address else self.me

    def now(self) -> int:
        """The timestamp the next transaction will see (on anvil: the pending block's)."""
        from ape import chain

        return int(chain.pending_timestamp)

    def token(self, ref: str) -> Token:
        """A token by symbol from the deployment (GPUC, mUSD, USDC, ...) or by address."""
        known = {k.lower(): v for k, v in self.record.get("payment_tokens", {}).items()}
        known.setdefault("gpuc", self.gpuc_address)
        key = str(ref).strip()
        address = known.get(key.lower())
        if address is None:
            if not key.startswith("0x"):
                names = ", ".join(sorted(self.record.get("payment_tokens", {}))) or "GPUC"
                raise NotFoundError(f"Unknown token '{key}'; known tokens are {names}, or give an address.")
            address = parse_address(key, "token address")
        return self._token_at(address)

    def _token_at(self, address: str) -> Token:
        from ape import chain
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
        if address not in self._tokens:
            if not chain.provider.get_code(address):
                raise NotFoundError(f"There is no token contract at {address}.")
            contract = self._at("MockStablecoin", address)  # any ERC-20 ABI will do
            self._tokens[address] = Token(address, contract.symbol(), contract.decimals(), contract)
        return self._tokens[address]

    @property
    def gpuc(self) -> Token:
        return self._token_at(self.gpuc_address)

    def send(self, label: str, fn, *args) -> Any:
        """Sends one transaction as the account, printing what it does; decodes a revert."""
        self.say(f"sending {label} …")
        try:
            receipt = fn(*args, sender=self.account)
        except GpuMarketError:
            raise
        except Exception as err:  # an ape revert, a node error
            raise from_exception(err) from None
        self.say(f"  confirmed in block {receipt.block_number} (gas used {receipt.gas_used:,})")
        return receipt

    def _ensure_allowance(self, token: Token, spender, needed: int) -> str | None:
        """Approves `spender` for `needed` if the allowance is short; returns the approval tx hash."""
        if token.contract.allowance(self.me, spender) >= needed:
            return None
        receipt = self.send(f"approve {token.show(needed)} to {spender.address}", token.contract.approve,
                            spender, needed)
        return receipt.txn_hash

    def _require_balance(self, token: Token, needed: int, what: str) -> None:
        balance = token.contract.balanceOf(self.me)
        if balance < needed:
            raise InsufficientError(f"{what} needs {token.show(needed)} but {self.me} holds only {token.show(balance)}.")

    def _require_unpaused(self) -> None:
        if self.market.paused():
            raise WrongStateError("The market is paused by its owner; new offers, rentals and extensions wait.")

    # ── reads ──

    def info(self) -> dict[str, Any]:
        m = self.market
        tokens = {sym: {"address": addr, "allowed": m.isPaymentToken(addr)}
                  for sym, addr in sorted(self.record.get("payment_tokens", {}).items())}
        return {
            "network": self.record.get("network"),
            "chain_id": self.record.get("chain_id"),
            "contracts": {k: v["address"] for k, v in self.record["contracts"].items()},
            "owner": m.owner(),
            "treasury": m.treasury(),
            "arbiter": m.arbiter(),
            "paused": m.paused(),
            "payment_tokens": tokens,
            "parameters": {
                "protocol_fee_bps": m.protocolFeeBps(),
                "stake_per_gpu": self.gpuc.amount(m.stakePerGpu()),
                "activation_window_s": m.activationWindow(),
                "dispute_window_s": m.disputeWindow(),
                "no_show_penalty_bps": m.noShowPenaltyBps(),
                "arbitration_timeout_s": m.arbitrationTimeout(),
                "slash_treasury_bps": m.slashTreasuryBps(),
                "min_stake": self.gpuc.amount(self.registry.minStake()),
                "unbonding_period_s": self.registry.unbondingPeriod(),
            },
            "offers": self.market.nextOfferId() - 1,
            "rentals": self.market.nextRentalId() - 1,
        }

    def _get(self, kind: str, number) -> tuple[int, Any]:
        """(id, on-chain record) of an offer or a rental; a missing one names the ids that exist."""
        number = positive_int(number, f"{kind} id")
        m = self.market
        getter, counter = (m.getOffer, m.nextOfferId) if kind == "offer" else (m.getRental, m.nextRentalId)
        record = getter(number)
        if record.status == 0:
            raise NotFoundError(f"{kind.capitalize()} #{number} does not exist ({kind}s run from #1 to "
                                f"#{counter() - 1}).")
        return number, record

    def offer(self, offer_id: int) -> dict[str, Any]:
        offer_id, o = self._get("offer", offer_id)
        token = self._token_at(o.paymentToken)
        model, region = self.market.offerLabels(offer_id)
        tiers = [{"min_gpu_hours": t.minGpuHours, "discount_bps": t.discountBps}
                 for t in self.market.offerTiers(offer_id)]
        return {
            "id": offer_id, "provider": o.provider, "status": OFFER_STATUS[o.status],
            "gpu_model": model, "region": region, "token": token.symbol, "token_address": token.address,
            "price_per_gpu_hour": token.amount(o.pricePerGpuHour),
            "gpus_offered": o.gpusOffered, "gpus_in_use": o.gpusInUse, "gpus_free": o.gpusOffered - o.gpusInUse,
            "min_hours": o.minHours, "max_hours": o.maxHours,
            "reserved_for": None if o.reservedFor == ZERO else o.reservedFor,
            "max_broker_bps": o.maxBrokerBps, "tiers": tiers,
        }

    def offers(self, *, gpu_model: str | None = None, region: str | None = None, max_price: str | None = None,
               min_gpus: int | None = None, include_all: bool = False, sort: str = "price") -> list[dict]:
        """Scans every offer id (1 .. nextOfferId−1); filters are case-insensitive. Prices compare in
        each offer's own token units."""
        rows = []
        for offer_id in range(1, self.market.nextOfferId()):
            row = self.offer(offer_id)
            if not include_all and row["status"] != "active":
                continue
            if gpu_model and row["gpu_model"].lower() != gpu_model.lower():
                continue
            if region and row["region"].lower() != region.lower():
                continue
            if min_gpus and row["gpus_free"] < min_gpus:
                continue
            if max_price is not None:
                token = self._token_at(row["token_address"])
                if int(row["price_per_gpu_hour"]["raw"]) > token.parse(max_price, "maximum price"):
                    continue
            rows.append(row)
        key = {"price": lambda r: (Decimal(r["price_per_gpu_hour"]["units"]), r["id"]), "id": lambda r: r["id"],
               "gpus": lambda r: (-r["gpus_free"], r["id"])}[sort]
        return sorted(rows, key=key)

    def rental(self, rental_id: int) -> dict[str, Any]:
        rental_id, r = self._get("rental", rental_id)
        o = self.market.getOffer(r.offerId)
        token = self._token_at(o.paymentToken)
        now = self.now()
        status = RENTAL_STATUS[r.status]
        payer = r.payer if r.payer != ZERO else r.renter
        time_left = max(0, r.endsAt - now) if status == "active" else 0
        dispute = None
        if status in ("disputed", "resolved"):
            frozen, bond, collateral, disputed_at, timeout_at = self.market.disputeOf(rental_id)
            dispute = {"frozen": token.amount(frozen), "bond": token.amount(bond),
                       "disputed_at": disputed_at, "timeout_at": timeout_at, "timeout_at_utc": when(timeout_at)}
        releasable = self.market.releasableAt(rental_id)
        return {
            "id": rental_id, "offer_id": r.offerId, "status": status, "provider": o.provider,
            "renter": r.renter, "payer": payer, "broker": None if r.broker == ZERO else r.broker,
            "broker_bps": r.brokerBps, "gpus": r.gpus, "hours_paid": r.hoursPaid, "discount_bps": r.discountBps,
            "protocol_fee_bps": r.protocolFeeBps, "token": token.symbol, "token_address": token.address,
            "total": token.amount(r.total), "claimed": token.amount(r.claimed),
            "accrued": token.amount(self.market.accruedOf(rental_id)),
            "claimable": token.amount(self.market.claimableOf(rental_id)),
            "refundable": token.amount(self.market.refundableOf(rental_id)),
            "collateral": self.gpuc.amount(r.collateral),
            "started_at": r.startedAt, "ends_at": r.endsAt, "ends_at_utc": when(r.endsAt),
            "activation_deadline": r.activationDeadline, "time_left_s": time_left,
            "releasable_at": releasable, "releasable_at_utc": when(releasable), "now": now, "dispute": dispute,
        }

    def rentals(self, address: str, role: str = "any") -> list[dict]:
        """Every rental where `address` is the renter, payer or provider (scans ids 1 .. nextRentalId−1)."""
        rows = []
        for rental_id in range(1, self.market.nextRentalId()):
            row = self.rental(rental_id)
            roles = {"renter": row["renter"] == address, "payer": row["payer"] == address,
                     "provider": row["provider"] == address, "broker": row["broker"] == address}
            if (role == "any" and any(roles.values())) or roles.get(role):
                rows.append(row)
        return rows

    def provider_status(self, address: str) -> dict[str, Any]:
        p = self.registry.providerOf(address)
        g = self.gpuc
        rep = self.market.reputationOf(address)
        claimable: dict[str, int] = {}  # by token address: a symbol need not be in the deployment record
        for row in self.rentals(address, "provider"):
            raw = int(row["claimable"]["raw"])
            if raw:
                claimable[row["token_address"]] = claimable.get(row["token_address"], 0) + raw
        credits = {}
        for symbol, token_address in self.record.get("payment_tokens", {}).items():
            token = self._token_at(token_address)
            if raw := self.market.credits(address, token_address):
                credits[symbol] = token.amount(raw)
        return {
            "address": address, "registered": p.registered, "active": self.registry.isActive(address),
            "metadata": self.registry.metadataOf(address) if p.registered else None,
            "staked": g.amount(p.staked), "locked": g.amount(p.locked), "unbonding": g.amount(p.unbonding),
            "free": g.amount(self.registry.freeStakeOf(address)),
            "unbonding_ready_at": p.unbondingReadyAt or None, "unbonding_ready_at_utc": when(p.unbondingReadyAt),
            "min_stake": g.amount(self.registry.minStake()),
            "reputation": {"gpu_hours_served": str(Decimal(rep.gpuSecondsServed) / 3600),
                           "rentals_completed": rep.rentalsCompleted, "disputes_lost": rep.disputesLost,
                           "amount_slashed": g.amount(rep.amountSlashed)},
            "claimable": {self._token_at(a).symbol: self._token_at(a).amount(v) for a, v in claimable.items()},
            "credits": credits,
        }

    def quote(self, offer_id: int, gpus: int, hours: int) -> dict[str, Any]:
        offer_id, o = self._get("offer", offer_id)
        gpus, hours = positive_int(gpus, "GPU count", 65535), positive_int(hours, "number of hours", 8760)
        return self._quote(offer_id, o, gpus, hours)

    def _quote(self, offer_id: int, o, gpus: int, hours: int) -> dict[str, Any]:
        token = self._token_at(o.paymentToken)
        cost, discount, rate = self.market.quote(offer_id, gpus, hours)
        effective = -(-rate // gpus)
        return {"offer_id": offer_id, "gpus": gpus, "hours": hours, "cost": token.amount(cost),
                "discount_bps": discount, "hourly_rate": token.amount(rate),
                "effective_price_per_gpu_hour": token.amount(effective),
                "collateral": self.gpuc.amount(self.market.stakePerGpu() * gpus)}

    # ── provider ──

    def register(self, metadata: str) -> dict:
        if not 1 <= len(metadata.encode()) <= 512:
            raise InputError("The metadata must be 1 to 512 bytes (e.g. a hash or URL of the hardware spec).")
        if self.registry.providerOf(self.me).registered:
            raise WrongStateError(f"{self.me} is already registered as a provider.")
        r = self.send("register", self.registry.register, metadata)
        return {"provider": self.me, "tx": r.txn_hash}

    def stake(self, text: str, *, permit: bool = False) -> dict:
        g = self.gpuc
        value = g.parse(text, "stake")
        if not self.registry.providerOf(self.me).registered:
            raise WrongRoleError(f"{self.me} is not a registered provider; run `gpumarket provider register` first.")
        self._require_balance(g, value, "Staking")
        if permit:
            from gpumarket.permit import sign_permit

            deadline = self.now() + 3600
            v, r, s = sign_permit(self.account, g.contract, self.registry.address, value, deadline)
            receipt = self.send(f"stake {g.show(value)} with a permit", self.registry.stakeWithPermit, value,
                                deadline, v, r, s)
            approval = None
        else:
            approval = self._ensure_allowance(g, self.registry, value)
            receipt = self.send(f"stake {g.show(value)}", self.registry.stake, value)
        return {"provider": self.me, "staked": g.amount(self.registry.providerOf(self.me).staked),
                "amount": g.amount(value), "approval_tx": approval, "tx": receipt.txn_hash}

    def unbond(self, text: str) -> dict:
        g = self.gpuc
        value = g.parse(text, "amount to unbond")
        free = self.registry.freeStakeOf(self.me)
        if value > free:
            raise InsufficientError(f"{self.me} has {g.show(free)} of free stake (not locked as collateral or "
                                    f"already unbonding); {g.show(value)} cannot be unbonded.")
        r = self.send(f"unbond {g.show(value)}", self.registry.requestUnbond, value)
        p = self.registry.providerOf(self.me)
        return {"provider": self.me, "unbonding": g.amount(p.unbonding), "ready_at": p.unbondingReadyAt,
                "ready_at_utc": when(p.unbondingReadyAt), "tx": r.txn_hash}

    def cancel_unbond(self) -> dict:
        p = self.registry.providerOf(self.me)
        if not p.unbonding:
            raise WrongStateError(f"{self.me} has nothing unbonding.")
        r = self.send("cancel unbonding", self.registry.cancelUnbond)
        return {"provider": self.me, "rebonded": self.gpuc.amount(p.unbonding), "tx": r.txn_hash}

    def withdraw_unbonded(self) -> dict:
        p = self.registry.providerOf(self.me)
        if not p.unbonding:
            raise WrongStateError(f"{self.me} has nothing unbonding to withdraw.")
        if self.now() < p.unbondingReadyAt:
            raise WrongStateError(f"The unbonding stake of {self.me} is ready at {when(p.unbondingReadyAt)}, "
                                  f"in {p.unbondingReadyAt - self.now()} s.")
        r = self.send("withdraw unbonded stake", self.registry.withdrawUnbonded)
        return {"provider": self.me, "withdrawn": self.gpuc.amount(p.unbonding), "tx": r.txn_hash}

    # ── offers ──

    def _require_provider_active(self) -> None:
        if not self.registry.isActive(self.me):
            p, g = self.registry.providerOf(self.me), self.gpuc
            if not p.registered:
                raise WrongRoleError(f"{self.me} is not a registered provider; run `gpumarket provider register`.")
            raise InsufficientError(f"{self.me} has {g.show(p.staked - p.unbonding)} bonded; offers need the "
                                    f"minimum stake of {g.show(self.registry.minStake())}.")

    def _check_terms(self, gpus: int, min_hours: int, max_hours: int, max_broker_bps: int,
                     tiers: list[tuple[int, int]]) -> list[tuple[int, int]]:
        positive_int(gpus, "GPU count", 65535)
        positive_int(min_hours, "minimum hours", 8760)
        positive_int(max_hours, "maximum hours", 8760)
        if min_hours > max_hours:
            raise InputError(f"The minimum of {min_hours} hours is above the maximum of {max_hours} hours.")
        if max_broker_bps > 1000:
            raise InputError(f"The broker cap of {max_broker_bps / 100:g} % is above the protocol's 10 %.")
        tiers = sorted(tiers)
        if len(tiers) > MAX_TIERS:
            raise InputError(f"An offer takes at most {MAX_TIERS} discount tiers, not {len(tiers)}.")
        for (h0, d0), (h1, d1) in zip(tiers, tiers[1:]):
            if h1 <= h0 or d1 <= d0:
                raise InputError("Discount tiers must grow in both GPU-hours and discount.")
        return tiers

    def create_offer(self, *, gpu_model: str, region: str, token: str, price: str, gpus: int, min_hours: int,
                     max_hours: int, reserved_for: str | None, max_broker_pct: str, tiers: list[str]) -> dict:
        t = self.token(token)
        gpu_model, region = parse_label(gpu_model, "GPU model"), parse_label(region, "region")
        raw_price = t.parse(price, "price per GPU-hour")
        if raw_price >= 2**96:
            raise InputError(f"The price {price} {t.symbol} is too large.")
        broker_bps = parse_pct(max_broker_pct, "broker cap", maximum_bps=1000)
        parsed = self._check_terms(gpus, min_hours, max_hours, broker_bps, [parse_tier(x) for x in tiers])
        reserved = parse_address(reserved_for, "reserved-for address") if reserved_for else ZERO
        self._require_unpaused()
        if not self.market.isPaymentToken(t.address):
            raise WrongStateError(f"{t.symbol} ({t.address}) is not an allowed payment token.")
        self._require_provider_active()
        r = self.send(f"create offer {gpus} × {gpu_model} in {region} at {t.show(raw_price)}/GPU-hour",
                      self.market.createOffer,
                      (gpu_model, region, t.address, raw_price, gpus, min_hours, max_hours, reserved, broker_bps,
                       parsed))
        offer_id = r.decode_logs(self.market.OfferCreated)[0].offerId
        return {"offer": self.offer(offer_id), "tx": r.txn_hash}

    def _own_offer(self, offer_id: int):
        offer_id, o = self._get("offer", offer_id)
        if o.provider != self.me:
            raise WrongRoleError(f"{self.me} is not the provider of offer #{offer_id} ({o.provider} is).")
        return offer_id, o

    def update_offer(self, offer_id: int, *, price: str | None, gpus: int | None, min_hours: int | None,
                     max_hours: int | None, reserved_for: str | None, max_broker_pct: str | None,
                     tiers: list[str] | None) -> dict:
        offer_id, o = self._own_offer(offer_id)
        t = self._token_at(o.paymentToken)
        if o.status == 3:
            raise WrongStateError(f"Offer #{offer_id} is closed; create a new offer instead.")
        raw_price = t.parse(price, "price per GPU-hour") if price is not None else o.pricePerGpuHour
        gpus = gpus if gpus is not None else o.gpusOffered
        min_hours = min_hours if min_hours is not None else o.minHours
        max_hours = max_hours if max_hours is not None else o.maxHours
        broker_bps = parse_pct(max_broker_pct, "broker cap", maximum_bps=1000) if max_broker_pct is not None \
            else o.maxBrokerBps
        if reserved_for is None:
            reserved = o.reservedFor
        else:
            reserved = ZERO if reserved_for.lower() in ("", "none", "public") else parse_address(reserved_for)
        parsed = [parse_tier(x) for x in tiers] if tiers is not None else \
            [(x.minGpuHours, x.discountBps) for x in self.market.offerTiers(offer_id)]
        parsed = self._check_terms(gpus, min_hours, max_hours, broker_bps, parsed)
        if gpus < o.gpusInUse:
            raise WrongStateError(f"Offer #{offer_id} has {o.gpusInUse} GPUs in use; it cannot offer only {gpus}.")
        r = self.send(f"update offer #{offer_id}", self.market.updateOffer, offer_id, raw_price, gpus, min_hours,
                      max_hours, reserved, broker_bps, parsed)
        return {"offer": self.offer(offer_id), "tx": r.txn_hash}

    def set_offer_status(self, offer_id: int, action: str) -> dict:
        offer_id, o = self._own_offer(offer_id)
        status = OFFER_STATUS[o.status]
        allowed = {"pause": ("active",), "resume": ("paused",), "close": ("active", "paused")}[action]
        if status not in allowed:
            done = {"pause": "paused", "resume": "resumed", "close": "closed"}[action]
            raise WrongStateError(f"Offer #{offer_id} is {status}; only {' or '.join(allowed)} offers can be {done}.")
        fn = {"pause": self.market.pauseOffer, "resume": self.market.resumeOffer, "close": self.market.closeOffer}
        r = self.send(f"{action} offer #{offer_id}", fn[action], offer_id)
        return {"offer": self.offer(offer_id), "tx": r.txn_hash}

    # ── rentals ──

    def rent(self, offer_id: int, *, gpus: int, hours: int, max_price: str, broker: str | None = None,
             broker_pct: str = "0", renter: str | None = None) -> dict:
        offer_id, o = self._get("offer", offer_id)
        gpus, hours = positive_int(gpus, "GPU count", 65535), positive_int(hours, "number of hours", 8760)
        t = self._token_at(o.paymentToken)
        max_raw = t.parse(max_price, "maximum price per GPU-hour")
        broker_bps = parse_pct(broker_pct, "broker fee", maximum_bps=1000)
        broker_addr = parse_address(broker, "broker address") if broker else ZERO
        if (broker_addr == ZERO) != (broker_bps == 0):
            raise InputError("A broker fee needs --broker, and --broker needs a fee (--broker-pct).")
        user = parse_address(renter, "renter address") if renter else self.me
        status = OFFER_STATUS[o.status]
        self._require_unpaused()
        if status != "active":
            raise WrongStateError(f"Offer #{offer_id} is {status}; it takes no new rentals.")
        if o.reservedFor not in (ZERO, user):
            raise WrongRoleError(f"Offer #{offer_id} is reserved for {o.reservedFor}.")
        if o.provider == user:
            raise WrongRoleError(f"{user} is the provider of offer #{offer_id} and cannot rent it.")
        free = o.gpusOffered - o.gpusInUse
        if gpus > free:
            raise InsufficientError(f"Offer #{offer_id} has {free} of {o.gpusOffered} GPUs free; {gpus} were asked for.")
        if not o.minHours <= hours <= o.maxHours:
            raise InputError(f"Offer #{offer_id} rents for {o.minHours} to {o.maxHours} hours, not {hours}.")
        if broker_bps > o.maxBrokerBps:
            raise InputError(f"Offer #{offer_id} allows a broker fee of at most {o.maxBrokerBps / 100:g} %, "
                             f"not {broker_bps / 100:g} %.")
        if not self.market.isPaymentToken(t.address):
            raise WrongStateError(f"{t.symbol} is no longer an allowed payment token.")
        if not self.registry.isActive(o.provider):
            raise WrongStateError(f"The provider of offer #{offer_id} is not active (stake below the minimum).")
        q = self._quote(offer_id, o, gpus, hours)
        effective, cost = int(q["effective_price_per_gpu_hour"]["raw"]), int(q["cost"]["raw"])
        if effective > max_raw:
            raise InputError(f"Offer #{offer_id} costs {t.show(effective)} per GPU-hour, above your maximum of "
                             f"{t.show(max_raw)}.")
        collateral = int(q["collateral"]["raw"])
        if self.registry.freeStakeOf(o.provider) < collateral:
            raise InsufficientError(f"The provider of offer #{offer_id} has not enough free stake to back "
                                    f"{gpus} GPUs ({self.gpuc.show(collateral)} needed).")
        self._require_balance(t, cost, f"Renting {gpus} GPUs for {hours} h")
        approval = self._ensure_allowance(t, self.market, cost)
        if renter:
            r = self.send(f"rent offer #{offer_id} for {user}: {gpus} GPUs × {hours} h = {t.show(cost)}",
                          self.market.openRentalFor, user, offer_id, gpus, hours, max_raw, broker_addr, broker_bps)
        else:
            r = self.send(f"rent offer #{offer_id}: {gpus} GPUs × {hours} h = {t.show(cost)}",
                          self.market.openRental, offer_id, gpus, hours, max_raw, broker_addr, broker_bps)
        rental_id = r.decode_logs(self.market.RentalOpened)[0].rentalId
        return {"rental": self.rental(rental_id), "paid": t.amount(cost), "approval_tx": approval,
                "tx": r.txn_hash}

    def _rental_as(self, rental_id: int, role: str, states: tuple[str, ...], action: str):
        rental_id, r = self._get("rental", rental_id)
        status = RENTAL_STATUS[r.status]
        if status not in states:
            raise WrongStateError(f"Rental #{rental_id} is {status}; only {' or '.join(states)} rentals can be "
                                  f"{action}.")
        if role == "renter" and r.renter != self.me:
            raise WrongRoleError(f"{self.me} is not the renter of rental #{rental_id} ({r.renter} is).")
        if role == "provider":
            provider = self.market.getOffer(r.offerId).provider
            if provider != self.me:
                raise WrongRoleError(f"{self.me} is not the provider of rental #{rental_id} ({provider} is).")
        return rental_id, r

    def activate(self, rental_id: int) -> dict:
        rental_id, r = self._rental_as(rental_id, "provider", ("pending",), "activated")
        if self.now() >= r.activationDeadline:
            raise WrongStateError(f"Rental #{rental_id} can no longer be activated: its deadline was "
                                  f"{when(r.activationDeadline)}.")
        tx = self.send(f"activate rental #{rental_id}", self.market.activate, rental_id)
        return {"rental": self.rental(rental_id), "tx": tx.txn_hash}

    def claim(self, rental_ids: list[int], *, all_mine: bool = False) -> dict:
        if all_mine:
            rental_ids = [row["id"] for row in self.rentals(self.me, "provider") if int(row["claimable"]["raw"])]
            if not rental_ids:
                raise WrongStateError(f"No rental of provider {self.me} has anything to claim.")
        if not rental_ids:
            raise InputError("Name at least one rental id to claim, or use --all.")
        checked = []
        for rid in rental_ids:
            rid, r = self._get("rental", rid)
            status = RENTAL_STATUS[r.status]
            if status not in ("active", "ended"):
                raise WrongStateError(f"Rental #{rid} is {status}; only active or ended rentals can be claimed.")
            if not self.market.claimableOf(rid):
                raise WrongStateError(f"Rental #{rid} has nothing to claim yet.")
            checked.append(rid)
        if len(checked) == 1:
            tx = self.send(f"claim rental #{checked[0]}", self.market.claim, checked[0])
        else:
            tx = self.send(f"claim rentals {', '.join('#' + str(i) for i in checked)}", self.market.claimMany,
                           checked)
        claims = [{"rental_id": c.rentalId, "gross": str(c.gross), "provider_net": str(c.providerNet),
                   "protocol_fee": str(c.protocolFee), "broker_fee": str(c.brokerFee)}
                  for c in tx.decode_logs(self.market.RentalClaimed)]
        return {"claims": claims, "tx": tx.txn_hash}

    def extend(self, rental_id: int, hours: int) -> dict:
        hours = positive_int(hours, "number of hours", 8760)
        rental_id, r = self._rental_as(rental_id, "renter", ("active",), "extended")
        if r.payer not in (ZERO, r.renter):
            raise WrongRoleError(f"Rental #{rental_id} was paid by {r.payer}; only self-funded rentals can be extended.")
        if self.now() >= r.endsAt:
            raise WrongStateError(f"Rental #{rental_id} already ended at {when(r.endsAt)}.")
        o = self.market.getOffer(r.offerId)
        if o.status != 1:
            raise WrongStateError(f"Offer #{r.offerId} is {OFFER_STATUS[o.status]}; its rentals cannot be extended.")
        if r.hoursPaid + hours > o.maxHours:
            raise InputError(f"Rental #{rental_id} has {r.hoursPaid} h paid and offer #{r.offerId} allows at most "
                             f"{o.maxHours} h; {hours} more is too many.")
        self._require_unpaused()
        t = self._token_at(o.paymentToken)
        cost = r.total // r.hoursPaid * hours
        self._require_balance(t, cost, f"Extending by {hours} h")
        approval = self._ensure_allowance(t, self.market, cost)
        tx = self.send(f"extend rental #{rental_id} by {hours} h for {t.show(cost)}", self.market.extend, rental_id,
                       hours)
        return {"rental": self.rental(rental_id), "cost": t.amount(cost), "approval_tx": approval,
                "tx": tx.txn_hash}

    def stop(self, rental_id: int) -> dict:
        rental_id, r = self._rental_as(rental_id, "renter", ("active",), "stopped")
        if self.now() >= r.endsAt:
            raise WrongStateError(f"Rental #{rental_id} already ended at {when(r.endsAt)}; release it instead.")
        tx = self.send(f"stop rental #{rental_id}", self.market.stopRental, rental_id)
        refund = tx.decode_logs(self.market.RentalStopped)[0].refund
        token = self._token_at(self.market.getOffer(r.offerId).paymentToken)
        return {"rental": self.rental(rental_id), "refund": token.amount(refund), "tx": tx.txn_hash}

    def cancel(self, rental_id: int) -> dict:
        rental_id, r = self._rental_as(rental_id, "renter", ("pending",), "cancelled")
        tx = self.send(f"cancel rental #{rental_id}", self.market.cancelPending, rental_id)
        ev = tx.decode_logs(self.market.RentalCancelled)[0]
        token = self._token_at(self.market.getOffer(r.offerId).paymentToken)
        return {"rental": self.rental(rental_id), "refund": token.amount(ev.refund),
                "penalty": self.gpuc.amount(ev.penalty), "tx": tx.txn_hash}

    def release(self, rental_id: int) -> dict:
        rental_id, r = self._get("rental", rental_id)
        at = self.market.releasableAt(rental_id)
        now = self.now()
        status = RENTAL_STATUS[r.status]
        movable = status == "active" and now >= r.endsAt
        if at == 0 or (now < at and not movable):
            if at == 0:
                raise WrongStateError(f"Rental #{rental_id} is {status}; there is nothing to release.")
            raise WrongStateError(f"Rental #{rental_id} is {status} and can be released from {when(at)} "
                                  f"(in {at - now} s).")
        tx = self.send(f"release rental #{rental_id}", self.market.release, rental_id)
        return {"rental": self.rental(rental_id), "tx": tx.txn_hash}

    def dispute(self, rental_id: int, evidence: str) -> dict:
        evidence_hash = parse_evidence(evidence)
        rental_id, r = self._rental_as(rental_id, "renter", ("active", "ended"), "disputed")
        closes = r.endsAt + self.market.disputeWindow()
        if self.now() >= closes:
            raise WrongStateError(f"The dispute window of rental #{rental_id} closed at {when(closes)}.")
        t = self._token_at(self.market.getOffer(r.offerId).paymentToken)
        bond_cap = self._dispute_bond_cap(r)
        self._require_balance(t, bond_cap, f"Disputing rental #{rental_id} (a bond of up to {t.show(bond_cap)})")
        approval = self._ensure_allowance(t, self.market, bond_cap)
        tx = self.send(f"dispute rental #{rental_id} (bond up to {t.show(bond_cap)})", self.market.dispute, rental_id,
                       evidence_hash)
        ev = tx.decode_logs(self.market.RentalDisputed)[0]
        return {"rental": self.rental(rental_id), "evidence_hash": "0x" + evidence_hash.hex(),
                "frozen": t.amount(ev.frozen), "refund": t.amount(ev.refund), "bond": t.amount(ev.bond),
                "approval_tx": approval, "tx": tx.txn_hash}

    def _dispute_bond_cap(self, r) -> int:
        """The most `dispute` can take as a bond in the block that includes it (contracts/libraries/
        RentalMath.sol `disputeBondUp`: the billed hourly rate × (timeout + window) / window, rounded up).
        Exact for an ended stream; for a running one the bill is that of a stop at the block's second, whose
        hourly rate is at most the list rate (the rental's rate grossed up by its discount) plus rounding."""
        timeout, window = self.market.arbitrationTimeout(), self.market.disputeWindow()
        if RENTAL_STATUS[r.status] == "active" and self.now() < r.endsAt:
            list_rate = -(-(r.total // r.hoursPaid) * BPS // (BPS - r.discountBps))
            return -(-list_rate * (timeout + window) // window) - (-(timeout + window) // window) + 1
        return -(-r.total * 3600 * (timeout + window) // (max(r.endsAt - r.startedAt, 3600) * window))

    def resolve(self, rental_id: int, provider_share_pct: str, slash: str) -> dict:
        share = parse_pct(provider_share_pct, "provider share")
        slash_raw = self.gpuc.parse(slash, "slash", allow_zero=True)
        if self.market.arbiter() != self.me:
            raise WrongRoleError(f"{self.me} is not the arbiter ({self.market.arbiter()} is).")
        rental_id, r = self._rental_as(rental_id, "any", ("disputed",), "resolved")
        _, _, collateral, _, timeout_at = self.market.disputeOf(rental_id)
        if self.now() >= timeout_at:
            raise WrongStateError(f"The arbitration of rental #{rental_id} timed out at {when(timeout_at)}; "
                                  "anyone can apply the default ruling with `gpumarket rental timeout`.")
        if slash_raw > collateral:
            raise InputError(f"A slash of {self.gpuc.show(slash_raw)} is above rental #{rental_id}'s collateral "
                             f"of {self.gpuc.show(collateral)}.")
        tx = self.send(f"resolve rental #{rental_id}: provider {share / 100:g} %, slash {self.gpuc.show(slash_raw)}",
                       self.market.resolveDispute, rental_id, share, slash_raw)
        return {"rental": self.rental(rental_id), "tx": tx.txn_hash}

    def timeout(self, rental_id: int) -> dict:
        rental_id, r = self._rental_as(rental_id, "any", ("disputed",), "ruled by default")
        timeout_at = self.market.disputeOf(rental_id)[4]
        if self.now() < timeout_at:
            raise WrongStateError(f"The arbiter can still rule on rental #{rental_id} until {when(timeout_at)} "
                                  f"(in {timeout_at - self.now()} s).")
        tx = self.send(f"apply the default ruling to rental #{rental_id}", self.market.applyDefaultRuling, rental_id)
        return {"rental": self.rental(rental_id), "tx": tx.txn_hash}

    # ── fees ──

    def balances(self, address: str) -> dict:
        out = {}
        for symbol, token_address in sorted(self.record.get("payment_tokens", {}).items()):
            t = self._token_at(token_address)
            out[symbol] = {"credits": t.amount(self.market.credits(address, token_address)),
                           "protocol_fees": t.amount(self.market.protocolFees(token_address))}
        return {"address": address, "treasury": self.market.treasury(), "tokens": out}

    def withdraw_fees(self, token: str, *, protocol: bool) -> dict:
        t = self.token(token)
        if protocol:
            owed = self.market.protocolFees(t.address)
            if not owed:
                raise WrongStateError(f"No protocol fees in {t.symbol} are waiting for the treasury.")
            tx = self.send(f"send {t.show(owed)} of protocol fees to the treasury", self.market.withdrawProtocolFees,
                           t.address)
            return {"to": self.market.treasury(), "amount": t.amount(owed), "tx": tx.txn_hash}
        owed = self.market.credits(self.me, t.address)
        if not owed:
            raise WrongStateError(f"{self.me} has no {t.symbol} credits (broker fees or deferred payouts) to withdraw.")
        tx = self.send(f"withdraw {t.show(owed)} of credits", self.market.withdrawCredits, t.address)
        return {"to": self.me, "amount": t.amount(owed), "tx": tx.txn_hash}

    # ── tokens ──

    def token_balances(self, address: str) -> dict:
        out = {}
        for symbol, token_address in sorted({"GPUC": self.gpuc_address,
                                             **self.record.get("payment_tokens", {})}.items()):
            t = self._token_at(token_address)
            out[symbol] = t.amount(t.contract.balanceOf(address))
        return {"address": address, "balances": out}

    def transfer(self, token: str, to: str, text: str) -> dict:
        t = self.token(token)
        to = parse_address(to, "recipient address")
        value = t.parse(text, "amount")
        self._require_balance(t, value, "The transfer")
        tx = self.send(f"transfer {t.show(value)} to {to}", t.contract.transfer, to, value)
        return {"to": to, "amount": t.amount(value), "tx": tx.txn_hash}

    def mint(self, token: str, to: str, text: str) -> dict:
        """Mints the test stablecoin (mUSD has a public mint; no real token does)."""
        t = self.token(token)
        mock = self.record["contracts"].get("MockStablecoin", {}).get("address")
        if t.address != mock:
            raise WrongStateError(f"Only the test stablecoin mUSD can be minted, not {t.symbol}.")
        to = parse_address(to, "recipient address")
        value = t.parse(text, "amount")
        tx = self.send(f"mint {t.show(value)} to {to}", t.contract.mint, to, value)
        return {"to": to, "amount": t.amount(value), "tx": tx.txn_hash}

    # ── admin ──

    #: name -> (contract, setter, getter, kind, lower bound, upper bound); bounds mirror the contracts.
    ADMIN_SETTERS: dict[str, tuple[str, str, str, str, int, int]] = {
        "protocol-fee": ("market", "setProtocolFee", "protocolFeeBps", "pct", 0, 1000),
        "stake-per-gpu": ("market", "setStakePerGpu", "stakePerGpu", "gpuc", 0, 10**6 * 10**18),
        "activation-window": ("market", "setActivationWindow", "activationWindow", "seconds", 300, 7 * 86400),
        "dispute-window": ("market", "setDisputeWindow", "disputeWindow", "seconds", 3600, 30 * 86400),
        "no-show-penalty": ("market", "setNoShowPenalty", "noShowPenaltyBps", "pct", 0, 10_000),
        "arbitration-timeout": ("market", "setArbitrationTimeout", "arbitrationTimeout", "seconds", 86400,
                                60 * 86400),
        "slash-treasury-share": ("market", "setSlashTreasuryShare", "slashTreasuryBps", "pct", 0, 5000),
        "min-stake": ("registry", "setMinStake", "minStake", "gpuc", 0, 10**9 * 10**18),
        "unbonding-period": ("registry", "setUnbondingPeriod", "unbondingPeriod", "seconds", 86400, 90 * 86400),
    }

    def _require_owner(self, contract) -> None:
        owner = contract.owner()
        if owner != self.me:
            raise WrongRoleError(f"{self.me} is not the owner ({owner} is).")

    def admin_set(self, name: str, value: str) -> dict:
        which, setter, getter, kind, low, high = self.ADMIN_SETTERS[name]
        contract = self.market if which == "market" else self.registry
        if kind == "pct":
            raw = parse_pct(value, name.replace("-", " "), maximum_bps=high)
        elif kind == "gpuc":
            raw = self.gpuc.parse(value, name.replace("-", " "), allow_zero=True)
        else:
            raw = positive_int(value, f"{name.replace('-', ' ')} in seconds")
        if not low <= raw <= high:
            raise InputError(f"The {name.replace('-', ' ')} must be between {low} and {high} ({kind}), not {raw}.")
        self._require_owner(contract)
        tx = self.send(f"set {name} to {value}", getattr(contract, setter), raw)
        return {"parameter": name, "value": str(getattr(contract, getter)()), "tx": tx.txn_hash}

    def admin_address(self, name: str, address: str) -> dict:
        address = parse_address(address, f"{name} address")
        self._require_owner(self.market)
        fn = {"treasury": self.market.setTreasury, "arbiter": self.market.setArbiter}[name]
        tx = self.send(f"set the {name} to {address}", fn, address)
        return {"parameter": name, "value": address, "tx": tx.txn_hash}

    def admin_token(self, token: str, allowed: bool) -> dict:
        address = self.token(token).address
        self._require_owner(self.market)
        if self.market.isPaymentToken(address) == allowed:
            raise WrongStateError(f"Token {address} is already {'allowed' if allowed else 'not allowed'}.")
        tx = self.send(f"{'allow' if allowed else 'disallow'} payment token {address}", self.market.setPaymentToken,
                       address, allowed)
        return {"token": address, "allowed": allowed, "tx": tx.txn_hash}

    def admin_pause(self, pause: bool) -> dict:
        self._require_owner(self.market)
        if self.market.paused() == pause:
            raise WrongStateError(f"The market is already {'paused' if pause else 'running'}.")
        tx = self.send("pause the market" if pause else "unpause the market",
                       self.market.pause if pause else self.market.unpause)
        return {"paused": self.market.paused(), "tx": tx.txn_hash}

