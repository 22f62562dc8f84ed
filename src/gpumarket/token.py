"""Token: one ERC-20 the market deals in (GPUC, a payment token): amounts both ways, balances,
allowances, transfers, and the test stablecoin's mint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpumarket.errors import InsufficientError, WrongStateError
from gpumarket.parse import parse_address, parse_amount
from gpumarket.units import amount, fmt

if TYPE_CHECKING:
    from gpumarket.market import Market


class Token:
    def __init__(self, market: Market, address: str, symbol: str, decimals: int, contract: Any):
        self.market, self.address, self.symbol, self.decimals, self.contract = (
            market, address, symbol, decimals, contract)

    # ── units ──

    def amount(self, raw: int) -> dict[str, str]:
        """`{"raw", "units", "symbol"}`, as JSON output shows every amount."""
        return amount(raw, self.decimals, self.symbol)

    def parse(self, text: str, what: str, **kwargs) -> int:
        return parse_amount(text, self.decimals, f"{what} ({self.symbol}, {self.decimals} decimals)", **kwargs)

    def show(self, raw: int) -> str:
        return fmt(int(raw), self.decimals, self.symbol)

    # ── reads ──

    def balance_of(self, address: str) -> int:
        return self.contract.balanceOf(address)

    def require_balance(self, needed: int, what: str) -> None:
        """The account holds `needed`. No market or registry error covers this (the token's own error, if it
        has one, does not say what the amount was for), so the sentence is the client's."""
        me = self.market.me
        balance = self.balance_of(me)
        if balance < needed:
            raise InsufficientError(f"{what} needs {self.show(needed)} but {me} holds only {self.show(balance)}.")

    # ── actions ──

    def ensure_allowance(self, spender, needed: int) -> str | None:
        """Approves `spender` (a contract handle) for `needed` if the allowance is short; returns the
        approval's transaction hash, or None."""
        if self.contract.allowance(self.market.me, spender) >= needed:
            return None
        receipt = self.market.send(f"approve {self.show(needed)} to {spender.address}", self.contract.approve,
                                   spender, needed)
        return receipt.txn_hash

    def transfer(self, to: str, text: str) -> dict:
        to = parse_address(to, "recipient address")
        value = self.parse(text, "amount")
        self.require_balance(value, "The transfer")
        tx = self.market.send(f"transfer {self.show(value)} to {to}", self.contract.transfer, to, value)
        return {"to": to, "amount": self.amount(value), "tx": tx.txn_hash}

    def mint(self, to: str, text: str) -> dict:
        """Mints the test stablecoin (mUSD has a public mint; no real token does)."""
        if self.address != self.market.record["contracts"].get("MockStablecoin", {}).get("address"):
            # A client rule: only the deployment's test stablecoin is known to mint to anyone.
            raise WrongStateError(f"Only the test stablecoin mUSD can be minted, not {self.symbol}.")
        to = parse_address(to, "recipient address")
        value = self.parse(text, "amount")
        tx = self.market.send(f"mint {self.show(value)} to {to}", self.contract.mint, to, value)
        return {"to": to, "amount": self.amount(value), "tx": tx.txn_hash}
