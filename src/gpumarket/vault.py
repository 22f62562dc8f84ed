"""Vault: a ProviderVault of the deployment's VaultFactory (an ERC-4626 vault over GPUC: investors deposit
GPUC for shares; the vault is the provider in the registry and stakes every deposit; its operator runs
offers through it; rental income is shared per payment token; redemption is asynchronous, in batches).

Reads: `info` (the vault's status, and an account's position), `summary` (a row of `vault list`),
`income`, `requests`, `outlook` (when the queued redemptions can be paid).

Actions, each checked as the contract checks before anything is sent: `create` (VaultFactory `create`),
`deposit`, `request_redeem` (`requestRedeem`), `withdraw` (`claimRedemption` of the account's finished
requests and `withdrawIncome` in every token with income), `claim` (`claimRedemption` of one request),
`harvest`, `propose_commission` (`proposeCommission`), `start_batch`, `finish_batch`, `update_metadata`.

The operator's business goes through `as_provider()`, a provider seat for `Offer` and `Rental`: the
market's offer functions are sent as calldata through `callMarket`, and `activate` through the vault's
own `activate` (which also tracks the rental's stream for the income).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator

from gpumarket.errors import ContractError, InputError, WrongStateError, pct
from gpumarket.parse import ZERO, parse_address, parse_pct
from gpumarket.token import Token
from gpumarket.units import when

if TYPE_CHECKING:
    from gpumarket.market import Market


class Vault:
    """The vault at `address` (the caller checked that the factory created it: `Market.vault`)."""

    def __init__(self, market: Market, address: str):
        self.market, self.address = market, address
        self.contract = market.chain.contract("ProviderVault", address)

    @cached_property
    def shares(self) -> Token:
        """The vault's shares, an ERC-20 of their own (GPUC's decimals + the vault's offset)."""
        c = self.contract
        return Token(self.market, self.address, c.symbol(), c.decimals(), c)

    @cached_property
    def operator(self) -> str:
        return self.contract.operator()

    # ── the factory ──

    @classmethod
    def create(cls, market: Market, *, name: str, symbol: str, metadata: str, commission_pct: str) -> dict:
        """VaultFactory `create`: a vault run by the account, registered as a provider with `metadata`."""
        m = market
        bps = parse_pct(commission_pct, "commission")
        for what, text in (("name", name), ("symbol", symbol)):
            if not text.strip() or not text.isprintable():
                # A client rule: the contract takes any string, but an empty or unprintable one names nothing.
                raise InputError(f"The vault's {what} must be printable text, not '{text}'.")
        me, factory = m.me, m.factory
        existing = factory.vaultOf(me)
        if existing != ZERO:
            raise m.error("VaultFactoryOperatorHasVault", operator=me, vault=existing)
        # The constructor's own checks (the commission bound, the registry's metadata length), in its order:
        # the vault's bound is a constant of a contract that does not exist yet, so ask the chain.
        m.preview(factory.create, bps, name, symbol, metadata)
        r = m.send(f"create vault {name} ({symbol}) with a {pct(bps)} commission", factory.create, bps, name, symbol,
                   metadata)
        address = m.events(r, "VaultCreated", factory)[0].vault
        return {"vault": cls(m, address).info(), "tx": r.txn_hash}

    # ── reads ──

    def summary(self) -> dict[str, Any]:
        c, g = self.contract, self.market.gpuc
        return {"address": self.address, "name": c.name(), "symbol": self.shares.symbol, "operator": self.operator,
                "commission_bps": c.commission()[0], "total_assets": g.amount(c.totalAssets()),
                "share_price": g.amount(self.share_price()), "active": self.market.registry.isActive(self.address)}

    def share_price(self) -> int:
        """GPUC (base units) one whole share is worth now."""
        return self.contract.convertToAssets(10**self.shares.decimals)

    def info(self, account: str | None = None) -> dict[str, Any]:
        """The vault's status; with `account`, that account's shares, their value, income and requests."""
        m, c, g, s, reg = self.market, self.contract, self.market.gpuc, self.shares, self.market.registry
        bps, pending_bps, effective_at = c.commission()
        p = reg.providerOf(self.address)
        streamed: dict[str, int] = {}  # by token address: accrued on tracked rentals, not yet claimed (gross)
        tracked = [int(i) for i in c.trackedRentals()]
        for rental_id in tracked:
            token = m.contract.getOffer(m.contract.getRental(rental_id).offerId).paymentToken
            streamed[token] = streamed.get(token, 0) + m.contract.claimableOf(rental_id)
        return {
            "address": self.address, "name": c.name(), "symbol": s.symbol, "operator": self.operator,
            "metadata": reg.metadataOf(self.address), "active": reg.isActive(self.address),
            "commission_bps": bps, "pending_commission_bps": pending_bps if effective_at else None,
            "pending_commission_at": effective_at or None, "pending_commission_at_utc": when(effective_at),
            "total_assets": g.amount(c.totalAssets()), "total_shares": s.amount(c.totalSupply()),
            "share_price": g.amount(self.share_price()),
            "stake": {"staked": g.amount(p.staked), "locked": g.amount(p.locked), "unbonding": g.amount(p.unbonding),
                      "free": g.amount(reg.freeStakeOf(self.address))},
            "tracked_rentals": tracked,
            "income_tokens": [m.token_at(t).symbol for t in c.incomeTokens()],
            "streamed_not_harvested": {m.token_at(t).symbol: m.token_at(t).amount(v) for t, v in streamed.items()},
            "redemption": self.outlook(),
            "account": self.position(account) if account else None,
        }

    def position(self, account: str) -> dict[str, Any]:
        shares = self.shares.balance_of(account)
        return {"address": account, "shares": self.shares.amount(shares),
                "value": self.market.gpuc.amount(self.contract.convertToAssets(shares)),
                "income": self.income(account)["income"],
                "requests": [q for q in self.requests() if account in (q["owner"], q["receiver"])]}

    def income(self, account: str) -> dict[str, Any]:
        """Per payment token the vault earns in: what `withdrawIncome` would pay `account` now (it harvests
        first, so what has streamed since the last distribution is included), and `incomeOf` (as of the last
        distribution)."""
        out = {}
        for address in self.contract.incomeTokens():
            t = self.market.token_at(address)
            out[t.symbol] = {"withdrawable_now": t.amount(self._withdrawable(account, address)),
                             "as_of_last_harvest": t.amount(self.contract.incomeOf(account, address))}
        return {"vault": self.address, "address": account, "income": out}

    def _withdrawable(self, account: str, token: str) -> int:
        """`withdrawIncome(token)` as `account`, simulated (it harvests first): 0 where it refuses."""
        try:
            return int(self.market.preview(self.contract.withdrawIncome, token, sender=account))
        except ContractError as err:
            if err.name == "VaultNoIncome":
                return 0
            raise

    def requests(self) -> Iterator[dict[str, Any]]:
        """Every redemption request (ids from 1 until the first that does not exist), with its state."""
        c, s, g = self.contract, self.shares, self.market.gpuc
        queued, unbonding = c.batches()
        request_id = 1
        while (q := c.requestOf(request_id)).owner != ZERO:
            b = c.batchOf(q.batch)
            state = ("claimed" if q.claimed else "finished" if b.finished else
                     "unbonding" if q.batch == unbonding else "queued")
            payout = q.shares * b.payout // b.shares if b.finished else None  # VaultMath.shareOfDown
            yield {"id": request_id, "owner": q.owner, "receiver": q.receiver, "shares": s.amount(q.shares),
                   "batch": q.batch, "state": state, "payout": g.amount(payout) if payout is not None else None,
                   "ready_at": b.readyAt or None, "ready_at_utc": when(b.readyAt)}
            request_id += 1

    def request(self, request_id: int) -> dict[str, Any]:
        for q in self.requests():
            if q["id"] == request_id:
                return q
        raise self.market.error("VaultRequestNotClaimable", requestId=request_id, batch=0)

    def outlook(self) -> dict[str, Any]:
        """The redemption batches: the one requests join, the one unbonding, and when the queued one can be
        paid (it starts once no batch is unbonding and the free stake covers it, then unbonds for the
        registry's unbonding period)."""
        m, c, g, s = self.market, self.contract, self.market.gpuc, self.shares
        queued, unbonding = c.batches()
        q = c.batchOf(queued)
        needed, free = c.convertToAssets(q.shares), m.registry.freeStakeOf(self.address)
        period, now = m.registry.unbondingPeriod(), m.now()
        ready = c.batchOf(unbonding).readyAt if unbonding else 0
        paid_at = None
        if not q.shares:
            next_step = "No redemption is queued."
        elif unbonding:
            paid_at = max(ready, now) + period
            next_step = (f"Batch #{queued} starts after batch #{unbonding} finishes unbonding ({when(ready)}); it is "
                         f"then paid after the unbonding period ({period} s), from {when(paid_at)} at the earliest.")
        elif needed > free:
            next_step = (f"Batch #{queued} waits for collateral: it needs {g.show(needed)} of free stake and the vault "
                         f"has {g.show(free)} (the rest backs rentals until they are released).")
        else:
            paid_at = now + period
            next_step = (f"Batch #{queued} can start now (`gpumarket vault start-batch`, anyone) and is then paid "
                         f"after the unbonding period ({period} s), from {when(paid_at)}.")
        return {"queued_batch": queued, "queued_shares": s.amount(q.shares), "queued_value": g.amount(needed),
                "unbonding_batch": unbonding or None,
                "unbonding_shares": s.amount(c.batchOf(unbonding).shares if unbonding else 0),
                "unbonding_ready_at": ready or None, "unbonding_ready_at_utc": when(ready),
                "free_stake": g.amount(free), "earliest_paid_at": paid_at, "earliest_paid_at_utc": when(paid_at),
                "next": next_step}

    # ── the operator ──

    def require_operator(self) -> str:
        me = self.market.me
        if me != self.operator:
            raise self.market.error("VaultNotOperator", caller=me)
        return me

    def as_provider(self) -> Vault:
        """The vault as the provider seat of `Offer` and `Rental` actions, for its operator."""
        self.require_operator()
        return self

    def send_market(self, label: str, function: str, *args):
        """A provider's market call made by the vault: `activate` through the vault's own (which tracks the
        stream), an offer function as calldata through `callMarket`."""
        m = self.market
        label = f"{label} as vault {self.shares.symbol} ({self.address})"
        if function == "activate":
            return m.send(label, self.contract.activate, *args)
        data = m.chain.calldata(getattr(m.contract, function), args)
        return m.send(label, self.contract.callMarket, data)

    def propose_commission(self, commission_pct: str) -> dict:
        m, c = self.market, self.contract
        bps = parse_pct(commission_pct, "commission")
        self.require_operator()
        most = c.MAX_COMMISSION_BPS()
        if bps > most:
            raise m.error("VaultCommissionAboveMax", bps=bps, maxBps=most)
        r = m.send(f"propose a commission of {pct(bps)}", c.proposeCommission, bps)
        ev = m.events(r, "CommissionProposed", c)[0]
        now_bps, pending_bps, effective_at = c.commission()
        return {"vault": self.address, "proposed_bps": bps, "effective_at": ev.effectiveAt,
                "effective_at_utc": when(ev.effectiveAt), "commission_bps": now_bps,
                "pending_commission_bps": pending_bps if effective_at else None, "tx": r.txn_hash}

    def update_metadata(self, metadata: str) -> dict:
        m = self.market
        self.require_operator()
        length = len(metadata.encode())
        if not 1 <= length <= m.limits.MAX_METADATA_LENGTH:
            raise m.error("RegistryInvalidMetadata", length=length)
        r = m.send("update the vault's metadata", self.contract.updateMetadata, metadata)
        return {"vault": self.address, "metadata": m.registry.metadataOf(self.address), "tx": r.txn_hash}

    # ── investors ──

    def deposit(self, text: str) -> dict:
        """ERC-4626 `deposit` for the account: GPUC in (approved first if needed), shares out; staked at once."""
        m, g, c = self.market, self.market.gpuc, self.contract
        value = g.parse(text, "deposit", allow_zero=True)
        if value == 0:
            raise m.error("RegistryZeroAmount")  # what the vault's stake of nothing reverts with
        g.require_balance(value, f"Depositing into vault {self.shares.symbol}")
        expected = c.previewDeposit(value)
        approval = g.ensure_allowance(c, value)
        r = m.send(f"deposit {g.show(value)} into vault {self.shares.symbol} (about {self.shares.show(expected)})",
                   c.deposit, value, m.me)
        minted = m.events(r, "Deposit", c)[0].shares
        return {"vault": self.address, "deposited": g.amount(value), "shares_minted": self.shares.amount(minted),
                "position": self.position(m.me), "approval_tx": approval, "tx": r.txn_hash}

    def request_redeem(self, text: str, receiver: str | None = None) -> dict:
        """`requestRedeem`: SHARES (or 'all') into escrow for `receiver` (default: the account), queued in
        the next batch; they stop earning income at once and share any slash until paid."""
        m, c, s = self.market, self.contract, self.shares
        to = parse_address(receiver, "receiver address") if receiver else None
        balance = s.balance_of(m.me)
        raw = balance if str(text).strip().lower() == "all" else s.parse(text, "shares to redeem", allow_zero=True)
        if raw == 0 or raw > balance:
            raise m.error("VaultInvalidRedeem", shares=raw, balance=balance)
        worth = c.convertToAssets(raw)
        r = m.send(f"request to redeem {s.show(raw)} (worth {m.gpuc.show(worth)} now)", c.requestRedeem, raw,
                   to or m.me)
        request_id = m.events(r, "RedeemRequested", c)[0].requestId
        return {"vault": self.address, "request": self.request(request_id), "worth_now": m.gpuc.amount(worth),
                "redemption": self.outlook(), "tx": r.txn_hash}

    def claim(self, request_id) -> dict:
        """`claimRedemption` (anyone; paid to the request's receiver)."""
        from gpumarket.parse import positive_int

        m, c = self.market, self.contract
        request_id = positive_int(request_id, "request id")
        q = c.requestOf(request_id)
        if q.claimed or not c.batchOf(q.batch).finished:
            raise m.error("VaultRequestNotClaimable", requestId=request_id, batch=q.batch)
        r = m.send(f"claim redemption request #{request_id} for {q.receiver}", c.claimRedemption, request_id)
        ev = m.events(r, "RedemptionClaimed", c)[0]
        return {"request_id": request_id, "receiver": ev.receiver, "paid": m.gpuc.amount(ev.assets), "tx": r.txn_hash}

    def withdraw(self, *, only: str | None = None, token: str | None = None) -> dict:
        """What the vault owes the account: its finished redemption requests (as owner or receiver; paid to the
        receiver) and its income in every token (`only`: "redemptions" or "income"; `token`: one token)."""
        m, c, me = self.market, self.contract, self.market.me
        take_redemptions, take_income = only != "income" and token is None, only != "redemptions"
        mine = [q for q in self.requests() if me in (q["owner"], q["receiver"])] if take_redemptions else []
        claims = [q for q in mine if q["state"] == "finished"]
        waiting = [q for q in mine if q["state"] in ("queued", "unbonding")]
        incomes = []
        if take_income:
            addresses = [m.token(token).address] if token else list(c.incomeTokens())
            incomes = [(a, v) for a in addresses if (v := self._withdrawable(me, a))]
            if token and not incomes:
                raise m.error("VaultNoIncome", account=me, token=addresses[0])
        if not claims and not incomes:
            if only == "redemptions" and waiting:
                raise m.error("VaultRequestNotClaimable", requestId=waiting[0]["id"], batch=waiting[0]["batch"])
            # A client rule: the contract has one error per call, not one for "nothing at all".
            what = {"redemptions": "no finished redemption request", "income": "no income in any token"}.get(
                only, "no finished redemption request and no income")
            hint = f" (request #{waiting[0]['id']} is {waiting[0]['state']})" if waiting else ""
            raise WrongStateError(f"{me} has nothing to withdraw from vault {self.shares.symbol}: {what}{hint}.")
        paid = []
        for q in claims:
            r = m.send(f"claim redemption request #{q['id']}", c.claimRedemption, q["id"])
            ev = m.events(r, "RedemptionClaimed", c)[0]
            paid.append({"request_id": q["id"], "receiver": ev.receiver, "paid": m.gpuc.amount(ev.assets),
                         "tx": r.txn_hash})
        income = {}
        for address, expected in incomes:
            t = m.token_at(address)
            r = m.send(f"withdraw about {t.show(expected)} of income", c.withdrawIncome, address)
            ev = m.events(r, "IncomeWithdrawn", c)[0]
            income[t.symbol] = {"amount": t.amount(ev.amount), "tx": r.txn_hash}
        return {"vault": self.address, "account": me, "redemptions": paid, "income": income}

    # ── anyone ──

    def harvest(self) -> dict:
        """`harvest`: claims every tracked rental and distributes what arrived (commission, then per share)."""
        m, c = self.market, self.contract
        r = m.send(f"harvest vault {self.shares.symbol}", c.harvest)
        shared = []
        for ev in m.events(r, "IncomeDistributed", c):
            t = m.token_at(ev.token)
            shared.append({"token": t.symbol, "received": t.amount(ev.received), "commission": t.amount(ev.commission),
                           "to_shareholders": t.amount(ev.received - ev.commission),
                           "earning_shares": self.shares.amount(ev.earningShares)})
        return {"vault": self.address, "distributed": shared, "tx": r.txn_hash}

    def start_batch(self) -> dict:
        m, c, g = self.market, self.contract, self.market.gpuc
        queued, unbonding = c.batches()
        if unbonding:
            raise m.error("VaultBatchInFlight", batch=unbonding, readyAt=c.batchOf(unbonding).readyAt)
        shares = c.batchOf(queued).shares
        if not shares:
            raise m.error("VaultNothingQueued")
        needed, free = c.convertToAssets(shares), m.registry.freeStakeOf(self.address)
        if needed > free:
            raise m.error("VaultRedemptionWaitsForCollateral", needed=needed, free=free)
        r = m.send(f"start redemption batch #{queued} ({g.show(needed)} to unbond)", c.startBatch)
        ev = m.events(r, "BatchStarted", c)[0]
        return {"vault": self.address, "batch": ev.batch, "shares": self.shares.amount(ev.shares),
                "unbonding": g.amount(ev.assets), "ready_at": ev.readyAt, "ready_at_utc": when(ev.readyAt),
                "tx": r.txn_hash}

    def finish_batch(self) -> dict:
        m, c, g = self.market, self.contract, self.market.gpuc
        _, unbonding = c.batches()
        ready = c.batchOf(unbonding).readyAt if unbonding else 0
        if not unbonding or m.now() < ready:
            raise m.error("VaultBatchNotReady", batch=unbonding, readyAt=ready)
        r = m.send(f"finish redemption batch #{unbonding}", c.finishBatch)
        ev = m.events(r, "BatchFinished", c)[0]
        return {"vault": self.address, "batch": ev.batch, "shares_burned": self.shares.amount(ev.shares),
                "payout": g.amount(ev.payout), "restaked": g.amount(ev.restaked), "tx": r.txn_hash}
