"""Market: the deployed system on one network, for one session (one CLI command).

It holds the connection, the ComputeMarket and ProviderRegistry contracts, the acting account (None:
read-only), the tokens and the contracts' limits; it has the market-wide reads (info, listings, fees,
balances) and the owner's actions. Offers, rentals, providers, tokens and vaults are objects of their own:
`market.offer(1)`, `market.rental(7)`, `market.provider(address)`, `market.token("mUSD")`,
`market.vault(address)` (a ProviderVault of the deployment's VaultFactory, `market.factory`).

Every action reads what the chain would check and raises the error the contract would raise (a
`ContractError`, with the sentence of the decoded revert) before anything is sent. What only the chain
can decide (a race with another transaction) comes back from `send` as the same kind of error.

Reads return plain dicts with stable keys; amounts are `{"raw": "<base units>", "units": "<decimal>",
"symbol": ...}` so scripts never lose precision.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from gpumarket.connection import ApeConnection
from gpumarket.errors import ContractError, GpuMarketError, InputError, NotFoundError, Phrasing, WrongStateError, pct
from gpumarket.limits import Limits
from gpumarket.offer import Offer
from gpumarket.parse import ZERO, parse_address, parse_pct, positive_int
from gpumarket.provider import Provider
from gpumarket.rental import Rental
from gpumarket.token import Token
from gpumarket.units import when
from gpumarket.vault import Vault

#: `gpumarket admin set` name -> (contract, setter, getter, unit, lower bound, upper bound), the bounds by
#: the names of the contracts' constants (None: zero, the setter checks only a maximum).
PARAMETERS: dict[str, tuple[str, str, str, str, str | None, str]] = {
    "protocol-fee": ("market", "setProtocolFee", "protocolFeeBps", "pct", None, "MAX_PROTOCOL_FEE_BPS"),
    "stake-per-gpu": ("market", "setStakePerGpu", "stakePerGpu", "gpuc", None, "MAX_STAKE_PER_GPU"),
    "activation-window": ("market", "setActivationWindow", "activationWindow", "seconds", "MIN_ACTIVATION_WINDOW",
                          "MAX_ACTIVATION_WINDOW"),
    "dispute-window": ("market", "setDisputeWindow", "disputeWindow", "seconds", "MIN_DISPUTE_WINDOW",
                       "MAX_DISPUTE_WINDOW"),
    "no-show-penalty": ("market", "setNoShowPenalty", "noShowPenaltyBps", "pct", None, "MAX_NO_SHOW_PENALTY_BPS"),
    "arbitration-timeout": ("market", "setArbitrationTimeout", "arbitrationTimeout", "seconds",
                            "MIN_ARBITRATION_TIMEOUT", "MAX_ARBITRATION_TIMEOUT"),
    "slash-treasury-share": ("market", "setSlashTreasuryShare", "slashTreasuryBps", "pct", None,
                             "MAX_SLASH_TREASURY_BPS"),
    "min-stake": ("registry", "setMinStake", "minStake", "gpuc", None, "MAX_MIN_STAKE"),
    "unbonding-period": ("registry", "setUnbondingPeriod", "unbondingPeriod", "seconds", "MIN_UNBONDING_PERIOD",
                         "MAX_UNBONDING_PERIOD"),
}


class SessionPhrasing(Phrasing):
    """Error sentences in the session's terms: token units, UTC times, the limits read from the contracts,
    a parameter's bound in its own unit."""

    def __init__(self, market: Market):
        self.market = market

    def amount(self, raw: int, *, offer: int | None = None, token: str | None = None) -> str:
        if token is None:
            token = self.market.offer_token(offer)
        return self.market.token_at(token).show(raw)

    def gpuc(self, raw: int) -> str:
        return self.market.gpuc.show(raw)

    def token(self, address: str) -> str:
        t = self.market.token_at(address)
        return f"{t.symbol} ({t.address})"

    def symbol(self, address: str) -> str:
        return self.market.token_at(address).symbol

    def shares(self, raw: int) -> str:
        vault = self.market.vault_in_use
        return vault.shares.show(raw) if vault is not None else super().shares(raw)

    def time(self, timestamp: int) -> str:
        return when(timestamp) or "never"

    def until(self, timestamp: int) -> str:
        now = self.market.now()
        return f"{self.time(timestamp)} (in {int(timestamp) - now} s)" if int(timestamp) > now else self.time(timestamp)

    def limit(self, name: str) -> int:
        return self.market.limits[name]

    def bounds(self, contract: str, value: int, low: int, high: int) -> str:
        limits = self.market.limits
        found = [(name, unit) for name, (which, _, _, unit, lo, hi) in PARAMETERS.items()
                 if which == contract and (limits[lo] if lo else 0, limits[hi]) == (int(low), int(high))]
        if len(found) != 1:
            return super().bounds(contract, value, low, high)
        name, unit = found[0]
        show = {"pct": pct, "gpuc": self.gpuc, "seconds": lambda v: f"{v} s"}[unit]
        low, high, value = show(int(low)), show(int(high)), show(int(value))
        return f"The {name.replace('-', ' ')} must be between {low} and {high}, not {value}."


class Market:
    """The deployed system on the connected network, acting as `account` (None: read-only)."""

    def __init__(self, record: dict[str, Any], account=None, *, say: Callable[[str], None] = lambda s: None,
                 connection=None):
        self.chain = connection if connection is not None else ApeConnection()
        self.record = record
        c = record["contracts"]
        self.contract = self.chain.contract("ComputeMarket", c["ComputeMarket"]["address"])
        self.registry = self.chain.contract("ProviderRegistry", c["ProviderRegistry"]["address"])
        self.gpuc_address = c["ComputeToken"]["address"]
        self.account = account
        self.say = say
        self.phrasing = SessionPhrasing(self)
        self._tokens: dict[str, Token] = {}
        #: The vault this session acts on (its shares name the amounts in sentences), once one is loaded.
        self.vault_in_use: Vault | None = None
        #: Payment tokens of signed offers this session would record at their first fill, by the offer id the
        #: market will give them (sentences about them name amounts in that token).
        self.unrecorded_tokens: dict[int, str] = {}
        #: The event index the listings read (`index`): its file, and whether the user chose it (a default
        #: file is a cache, rebuilt when it no longer fits the chain); None: listings scan the chain by id.
        self.index_path: Path | None = None
        self.index_chosen = False

    # ── the session ──

    @cached_property
    def index(self):
        """The event index, refreshed once for this session (README, Event index), or None without a file."""
        if self.index_path is None:
            return None
        from gpumarket.index import Index, IndexError_

        url = getattr(self.chain, "url", None)
        try:
            idx = Index.open(self.index_path, url, self.record)
            idx.refresh()
        except IndexError_ as err:
            if self.index_chosen:
                raise
            self.say(f"{err.sentence} Rebuilding the index {self.index_path}.")
            Path(self.index_path).unlink(missing_ok=True)
            idx = Index.open(self.index_path, url, self.record)
            idx.refresh()
        return idx

    @cached_property
    def limits(self) -> Limits:
        names = ("ComputeMarket", "ProviderRegistry")
        return Limits(dict(zip(names, (self.contract, self.registry))), {n: self.chain.abi(n) for n in names})

    @property
    def me(self) -> str:
        if self.account is None:
            raise InputError("This command sends a transaction: choose an account with --account.")
        return self.account.address

    def address_or_me(self, address: str | None, what: str = "address") -> str:
        """`address` checked, or the --account's address when none is given."""
        return parse_address(address, what) if address else self.me

    def now(self) -> int:
        """The timestamp the next transaction will see."""
        return self.chain.now()

    def error(self, name: str, **inputs) -> ContractError:
        """The error a contract would raise, for a pre-check to raise before anything is sent."""
        return ContractError(name, inputs, self.phrasing)

    def send(self, label: str, fn, *args) -> Any:
        """Sends one transaction as the account, printing what it does; decodes a revert."""
        self.say(f"sending {label} …")
        try:
            receipt = self.chain.send(fn, args, self.account)
        except GpuMarketError:
            raise
        except Exception as err:  # a revert, a node error
            raise self.chain.decode(err, self.phrasing) from None
        self.say(f"  confirmed in block {receipt.block_number} (gas used {receipt.gas_used:,})")
        return receipt

    def preview(self, fn, *args, sender: str | None = None) -> Any:
        """What sending `fn(*args)` as the account (or `sender`) would return now (an eth_call, nothing sent);
        a refusal raises the contract's error, decoded, as a pre-check does."""
        try:
            return self.chain.preview(fn, args, sender or self.account)
        except GpuMarketError:
            raise
        except Exception as err:
            error = self.chain.decode(err, self.phrasing)
            if isinstance(error, ContractError):
                error.sent = False
            raise error from None

    @cached_property
    def domain(self):
        """The market's EIP-712 domain, as the market states it (`eip712Domain`): what a signed offer is signed in."""
        from gpumarket.signed import Domain

        d = self.contract.eip712Domain()
        return Domain(int(d.chainId), d.verifyingContract, d.name, d.version)

    def offer_token(self, offer_id: int) -> str:
        """The payment token of offer #`offer_id`, also of a signed offer this session is about to record."""
        return self.unrecorded_tokens.get(int(offer_id)) or self.contract.getOffer(offer_id).paymentToken

    def next_signed_offer_id(self) -> int:
        """The id the next signed offer's first fill records it under: records take consecutive ids above
        SIGNED_OFFER_ID_BASE and are never deleted, so a search over `getOffer` finds the first free one."""
        from gpumarket.status import OfferStatus

        base = self.limits.SIGNED_OFFER_ID_BASE

        def recorded(n: int) -> bool:
            return n == 0 or self.contract.getOffer(base + n).status != OfferStatus.NONE

        low, high = 0, 1
        while recorded(high):
            low, high = high, high * 2
        while high - low > 1:  # recorded(low), not recorded(high)
            middle = (low + high) // 2
            low, high = (middle, high) if recorded(middle) else (low, middle)
        return base + high

    def events(self, receipt, name: str, contract=None) -> list:
        return self.chain.events(receipt, contract if contract is not None else self.contract, name)

    def require_unpaused(self) -> None:
        if self.contract.paused():
            raise self.error("EnforcedPause")

    def require_owner(self, contract) -> None:
        if contract.owner() != self.me:
            raise self.error("OwnableUnauthorizedAccount", account=self.me)

    # ── the objects ──

    def offer(self, offer_id) -> Offer:
        return Offer(self, offer_id)

    def rental(self, rental_id) -> Rental:
        return Rental(self, rental_id)

    def provider(self, address: str | None = None) -> Provider:
        """The provider at `address`, or the --account."""
        return Provider(self, address or self.me)

    def token(self, ref: str) -> Token:
        """A token by symbol (GPUC, or a payment token's: the deployment record's first, then every token
        allowlisted since) or by address."""
        key = str(ref).strip()
        if key.startswith("0x"):
            return self.token_at(parse_address(key, "token address"))

        def find(tokens: dict[str, str]) -> str | None:
            return {k.lower(): v for k, v in {"GPUC": self.gpuc_address, **tokens}.items()}.get(key.lower())

        address = find(self.record.get("payment_tokens", {})) or find(self.payment_tokens)
        if address is None:
            names = ", ".join(sorted({"GPUC", *self.payment_tokens}))
            raise NotFoundError(f"Unknown token '{key}'; known tokens are {names}, or give an address.")
        return self.token_at(address)

    @cached_property
    def payment_tokens(self) -> dict[str, str]:
        """Every payment token of the market, by label: the deployment record's, and every token the owner has
        allowlisted since (the market's `PaymentTokenSet` events), still allowed or not (credits and fees in it
        may wait to be withdrawn), labelled by its symbol, or by its address if it has none or another token
        has it. A token address without code (it could never have moved) is left out."""
        from eth_utils import to_checksum_address

        tokens = dict(self.record.get("payment_tokens", {}))
        for event in self.chain.logs(self.contract, "PaymentTokenSet"):
            address = to_checksum_address(event.token)
            if not event.allowed or address in tokens.values() or not self.chain.has_code(address):
                continue
            symbol = self.token_at(address).symbol
            tokens[symbol if symbol and symbol not in tokens and symbol != "GPUC" else address] = address
        return tokens

    def token_at(self, address: str) -> Token:
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
        if address not in self._tokens:
            if not self.chain.has_code(address):
                raise NotFoundError(f"There is no token contract at {address}.")
            contract = self.chain.contract("MockStablecoin", address)  # any ERC-20 ABI will do
            # symbol() and decimals() are optional in ERC-20: without them, the address and base units
            symbol, decimals = _optional(contract.symbol, address), _optional(contract.decimals, 0)
            self._tokens[address] = Token(self, address, symbol, decimals, contract)
        return self._tokens[address]

    @property
    def gpuc(self) -> Token:
        return self.token_at(self.gpuc_address)

    @cached_property
    def factory(self):
        """The deployment's VaultFactory."""
        entry = self.record["contracts"].get("VaultFactory")
        if not entry or not self.chain.has_code(entry["address"]):
            raise NotFoundError("This deployment has no VaultFactory; run `gpumarket deploy` again to add it.")
        return self.chain.contract("VaultFactory", entry["address"])

    def vault(self, ref: str | None = None) -> Vault:
        """A vault of the factory, by its address or its operator's; None: the vault the --account operates."""
        if ref:
            address = parse_address(ref, "vault address")
            if not self.factory.isVault(address):
                operated = self.factory.vaultOf(address)
                if operated == ZERO:
                    raise NotFoundError(f"{address} is neither a vault of the VaultFactory at {self.factory.address} "
                                        "nor the operator of one (see `gpumarket vault list`).")
                address = operated
        else:
            if self.account is None:
                raise InputError("Name the vault with --vault (its address or its operator's), or choose its "
                                 "operator with --account.")
            address = self.factory.vaultOf(self.me)
            if address == ZERO:
                raise NotFoundError(f"{self.me} operates no vault: name one with --vault, or create one with "
                                    "`gpumarket vault create`.")
        self.vault_in_use = Vault(self, address)
        return self.vault_in_use

    def vaults(self) -> list[dict]:
        """Every vault of the factory, in order of creation."""
        return [Vault(self, address).summary() for address in self.factory.vaults()]

    # ── reads ──

    def info(self) -> dict[str, Any]:
        m, r = self.contract, self.registry
        tokens = {sym: {"address": addr, "allowed": m.isPaymentToken(addr)}
                  for sym, addr in sorted(self.payment_tokens.items())}
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
                "min_stake": self.gpuc.amount(r.minStake()),
                "unbonding_period_s": r.unbondingPeriod(),
            },
            "offers": m.nextOfferId() - 1,
            "rentals": m.nextRentalId() - 1,
        }

    def offers(self, *, gpu_model: str | None = None, region: str | None = None, max_price: str | None = None,
               min_gpus: int | None = None, include_all: bool = False, sort: str = "price") -> list[dict]:
        """The on-chain offers (ids below SIGNED_OFFER_ID_BASE), from the event index when there is one, else by
        scanning every id (1 .. nextOfferId−1); filters are case-insensitive. Prices compare in each offer's
        own token units."""
        from decimal import Decimal

        if self.index is not None:
            found = self.index.offers(gpu_model=gpu_model, region=region, include_all=include_all,
                                      min_gpus=min_gpus, below_id=self.limits.SIGNED_OFFER_ID_BASE)
            candidates = [self._indexed_offer(row) for row in found]
        else:
            candidates = (self.offer(offer_id).info() for offer_id in range(1, self.contract.nextOfferId()))
        rows = []
        for row in candidates:
            if not include_all and row["status"] != "active":
                continue
            if gpu_model and row["gpu_model"].lower() != gpu_model.lower():
                continue
            if region and row["region"].lower() != region.lower():
                continue
            if min_gpus and row["gpus_free"] < min_gpus:
                continue
            if max_price is not None:
                token = self.token_at(row["token_address"])
                if int(row["price_per_gpu_hour"]["raw"]) > token.parse(max_price, "maximum price"):
                    continue
            rows.append(row)
        key = {"price": lambda r: (Decimal(r["price_per_gpu_hour"]["units"]), r["id"]), "id": lambda r: r["id"],
               "gpus": lambda r: (-r["gpus_free"], r["id"])}[sort]
        return sorted(rows, key=key)

    def _indexed_offer(self, row: dict) -> dict[str, Any]:
        """An index row in the shape of `Offer.info`."""
        import json

        from gpumarket.status import OfferStatus

        token = self.token_at(row["token"])
        return {
            "id": row["id"], "provider": row["provider"], "status": OfferStatus(row["status"]).label,
            "gpu_model": row["gpu_model"], "region": row["region"], "token": token.symbol,
            "token_address": token.address, "price_per_gpu_hour": token.amount(int(row["price"])),
            "gpus_offered": row["gpus_offered"], "gpus_in_use": row["gpus_in_use"],
            "gpus_free": row["gpus_offered"] - row["gpus_in_use"], "min_hours": row["min_hours"],
            "max_hours": row["max_hours"], "reserved_for": None if row["reserved_for"] == ZERO else row["reserved_for"],
            "max_broker_bps": row["max_broker_bps"],
            "tiers": [{"min_gpu_hours": t[0], "discount_bps": t[1]} for t in json.loads(row["tiers"])],
        }

    def rentals(self, address: str, role: str = "any") -> list[dict]:
        """Every rental where `address` is the renter, payer, provider or broker, each with the cluster it was booked
        in (`cluster_id`: the cluster's first rental id; None: booked alone). The index names the rentals when
        there is one (then only those are read from the chain); else every id 1 .. nextRentalId−1 is scanned."""
        clusters = self.clusters()
        if self.index is not None:
            roles = ("renter", "payer", "provider", "broker") if role == "any" else (role,)
            where = " OR ".join(f"{r} = ?" for r in roles)
            ids = [row["id"] for row in self.index.rows(f"SELECT id FROM rentals WHERE {where} ORDER BY id",
                                                        (address,) * len(roles))]
        else:
            ids = range(1, self.contract.nextRentalId())
        rows = []
        for rental_id in ids:
            row = self.rental(rental_id).info() | {"cluster_id": clusters.get(rental_id)}
            roles = {"renter": row["renter"] == address, "payer": row["payer"] == address,
                     "provider": row["provider"] == address, "broker": row["broker"] == address}
            if (role == "any" and any(roles.values())) or roles.get(role):
                rows.append(row)
        return rows

    def clusters(self) -> dict[int, int]:
        """Rental id -> the id of the cluster it was booked in (its first rental: `ClusterBooked` names the first
        of its consecutive ids and how many there are)."""
        if self.index is not None:
            return {row["id"]: row["cluster_id"] for row in
                    self.index.rows("SELECT id, cluster_id FROM rentals WHERE cluster_id IS NOT NULL")}
        return {rental_id: ev.firstRentalId for ev in self.chain.logs(self.contract, "ClusterBooked")
                for rental_id in range(ev.firstRentalId, ev.firstRentalId + ev.rentals)}

    # ── fees ──

    def balances(self, address: str) -> dict:
        out = {}
        for symbol, token_address in sorted(self.payment_tokens.items()):
            t = self.token_at(token_address)
            out[symbol] = {"credits": t.amount(self.contract.credits(address, token_address)),
                           "protocol_fees": t.amount(self.contract.protocolFees(token_address))}
        return {"address": address, "treasury": self.contract.treasury(), "tokens": out}

    def withdraw_fees(self, token: str, *, protocol: bool) -> dict:
        """`withdrawProtocolFees` (anyone; to the treasury) or `withdrawCredits` (the account's own)."""
        t, m = self.token(token), self.contract
        if protocol:
            owed, treasury = m.protocolFees(t.address), m.treasury()
            if not owed:
                raise self.error("MarketNoFees", account=treasury, token=t.address)
            tx = self.send(f"send {t.show(owed)} of protocol fees to the treasury", m.withdrawProtocolFees, t.address)
            return {"to": treasury, "amount": t.amount(owed), "tx": tx.txn_hash}
        owed = m.credits(self.me, t.address)
        if not owed:
            raise self.error("MarketNoFees", account=self.me, token=t.address)
        tx = self.send(f"withdraw {t.show(owed)} of credits", m.withdrawCredits, t.address)
        return {"to": self.me, "amount": t.amount(owed), "tx": tx.txn_hash}

    def token_balances(self, address: str) -> dict:
        out = {}
        for symbol, token_address in sorted({"GPUC": self.gpuc_address, **self.payment_tokens}.items()):
            t = self.token_at(token_address)
            out[symbol] = t.amount(t.balance_of(address))
        return {"address": address, "balances": out}

    # ── the owner ──

    def admin_set(self, name: str, value: str) -> dict:
        which, setter, getter, unit, low_name, high_name = PARAMETERS[name]
        contract = self.contract if which == "market" else self.registry
        label = name.replace("-", " ")
        if unit == "pct":
            raw = parse_pct(value, label)
        elif unit == "gpuc":
            raw = self.gpuc.parse(value, label, allow_zero=True)
        else:
            raw = positive_int(value, f"{label} in seconds")
        self.require_owner(contract)
        low, high = self.limits[low_name] if low_name else 0, self.limits[high_name]
        if not low <= raw <= high:
            raise self.error(f"{'Market' if which == 'market' else 'Registry'}ParameterOutOfBounds", value=raw, min=low,
                             max=high)
        tx = self.send(f"set {name} to {value}", getattr(contract, setter), raw)
        return {"parameter": name, "value": str(getattr(contract, getter)()), "tx": tx.txn_hash}

    def admin_address(self, name: str, address: str) -> dict:
        address = parse_address(address, f"{name} address")
        self.require_owner(self.contract)
        fn = {"treasury": self.contract.setTreasury, "arbiter": self.contract.setArbiter}[name]
        tx = self.send(f"set the {name} to {address}", fn, address)
        return {"parameter": name, "value": address, "tx": tx.txn_hash}

    def admin_token(self, token: str, allowed: bool) -> dict:
        address = self.token(token).address
        self.require_owner(self.contract)
        if self.contract.isPaymentToken(address) == allowed:
            # A client rule: `setPaymentToken` would accept it and change nothing.
            raise WrongStateError(f"Token {address} is already {'allowed' if allowed else 'not allowed'}.")
        tx = self.send(f"{'allow' if allowed else 'disallow'} payment token {address}", self.contract.setPaymentToken,
                       address, allowed)
        return {"token": address, "allowed": allowed, "tx": tx.txn_hash}

    def admin_pause(self, pause: bool) -> dict:
        m = self.contract
        self.require_owner(m)
        if m.paused() == pause:
            raise self.error("EnforcedPause" if pause else "ExpectedPause")
        tx = self.send("pause the market" if pause else "unpause the market", m.pause if pause else m.unpause)
        return {"paused": m.paused(), "tx": tx.txn_hash}


def _optional(read: Callable[[], Any], default: Any) -> Any:
    """An optional ERC-20 view (`symbol`, `decimals`): its value, or `default` where the token has none (it
    reverts, or returns something else than the type)."""
    try:
        value = read()
    except Exception:
        return default
    return value if isinstance(value, type(default)) and value != "" else default
