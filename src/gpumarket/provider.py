"""Provider: an account in the ProviderRegistry, its stake, collateral and reputation (`status`), and its
actions (`register`, `stake`/`stakeWithPermit`, `requestUnbond`, `cancelUnbond`, `withdrawUnbonded`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gpumarket.errors import InputError
from gpumarket.units import when

if TYPE_CHECKING:
    from gpumarket.market import Market


class Provider:
    def __init__(self, market: Market, address: str):
        self.market, self.address = market, address

    @property
    def record(self):
        """`providerOf`: registered, staked, locked, unbonding, unbondingReadyAt (read each time)."""
        return self.market.registry.providerOf(self.address)

    def _me(self) -> str:
        """The acting account, which must be this provider: the registry acts for msg.sender."""
        me = self.market.me
        if me != self.address:
            raise InputError(f"{me} cannot act for provider {self.address}.")
        return me

    # ── reads ──

    def status(self) -> dict[str, Any]:
        m, reg, g, address = self.market, self.market.registry, self.market.gpuc, self.address
        p = self.record
        rep = m.contract.reputationOf(address)
        claimable: dict[str, int] = {}  # by token address: a symbol need not be in the deployment record
        for row in m.rentals(address, "provider"):
            raw = int(row["claimable"]["raw"])
            if raw:
                claimable[row["token_address"]] = claimable.get(row["token_address"], 0) + raw
        credits = {}
        for symbol, token_address in sorted(m.payment_tokens.items()):
            if raw := m.contract.credits(address, token_address):
                credits[symbol] = m.token_at(token_address).amount(raw)
        return {
            "address": address, "registered": p.registered, "active": reg.isActive(address),
            "metadata": reg.metadataOf(address) if p.registered else None,
            "staked": g.amount(p.staked), "locked": g.amount(p.locked), "unbonding": g.amount(p.unbonding),
            "free": g.amount(reg.freeStakeOf(address)),
            "unbonding_ready_at": p.unbondingReadyAt or None, "unbonding_ready_at_utc": when(p.unbondingReadyAt),
            "min_stake": g.amount(reg.minStake()),
            "reputation": {"gpu_hours_served": str(Decimal(rep.gpuSecondsServed) / 3600),
                           "rentals_completed": rep.rentalsCompleted, "disputes_lost": rep.disputesLost,
                           "amount_slashed": g.amount(rep.amountSlashed)},
            "claimable": {m.token_at(a).symbol: m.token_at(a).amount(v) for a, v in claimable.items()},
            "credits": credits,
        }

    # ── actions ──

    def register(self, metadata: str) -> dict:
        m, me = self.market, self._me()
        if self.record.registered:
            raise m.error("RegistryAlreadyRegistered", provider=me)
        length = len(metadata.encode())
        if not 1 <= length <= m.limits.MAX_METADATA_LENGTH:
            raise m.error("RegistryInvalidMetadata", length=length)
        r = m.send("register", m.registry.register, metadata)
        return {"provider": me, "tx": r.txn_hash}

    def stake(self, text: str, *, permit: bool = False) -> dict:
        m, g = self.market, self.market.gpuc
        value = g.parse(text, "stake", allow_zero=True)
        me = self._me()
        if value == 0:
            raise m.error("RegistryZeroAmount")
        if not self.record.registered:
            raise m.error("RegistryNotRegistered", provider=me)
        g.require_balance(value, "Staking")
        if permit:
            deadline = m.now() + 3600
            v, r, s = m.chain.sign_permit(m.account, g.contract, m.registry.address, value, deadline)
            receipt = m.send(f"stake {g.show(value)} with a permit", m.registry.stakeWithPermit, value, deadline, v,
                             r, s)
            approval = None
        else:
            approval = g.ensure_allowance(m.registry, value)
            receipt = m.send(f"stake {g.show(value)}", m.registry.stake, value)
        return {"provider": me, "staked": g.amount(self.record.staked), "amount": g.amount(value),
                "approval_tx": approval, "tx": receipt.txn_hash}

    def unbond(self, text: str) -> dict:
        m, g = self.market, self.market.gpuc
        value = g.parse(text, "amount to unbond", allow_zero=True)
        me = self._me()
        if value == 0:
            raise m.error("RegistryZeroAmount")
        free = m.registry.freeStakeOf(me)
        if value > free:
            raise m.error("RegistryInsufficientFreeStake", provider=me, free=free, needed=value)
        r = m.send(f"unbond {g.show(value)}", m.registry.requestUnbond, value)
        p = self.record
        return {"provider": me, "unbonding": g.amount(p.unbonding), "ready_at": p.unbondingReadyAt,
                "ready_at_utc": when(p.unbondingReadyAt), "tx": r.txn_hash}

    def cancel_unbond(self) -> dict:
        m, me, p = self.market, self._me(), self.record
        if not p.unbonding:
            raise m.error("RegistryNothingUnbonding", provider=me)
        r = m.send("cancel unbonding", m.registry.cancelUnbond)
        return {"provider": me, "rebonded": m.gpuc.amount(p.unbonding), "tx": r.txn_hash}

    def withdraw_unbonded(self) -> dict:
        m, me, p = self.market, self._me(), self.record
        if not p.unbonding:
            raise m.error("RegistryNothingUnbonding", provider=me)
        now = m.now()
        if now < p.unbondingReadyAt:
            raise m.error("RegistryUnbondingNotReady", provider=me, readyAt=p.unbondingReadyAt, nowTime=now)
        r = m.send("withdraw unbonded stake", m.registry.withdrawUnbonded)
        return {"provider": me, "withdrawn": m.gpuc.amount(p.unbonding), "tx": r.txn_hash}
