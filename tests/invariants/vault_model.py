"""The investor-backed provider in the settlement machine: an independent integer model of
ProviderVault (shares, income per token, commission, redemption batches) and the rules that drive it.

The model restates the vault's rules from its specification (contracts/interfaces/IProviderVault.sol):

- shares: ERC-4626 with 10^6 virtual shares per unit of GPUC; total assets = the vault's stake in the
  registry (bonded + unbonding);
- income: every change of shares first claims every tracked rental (the market's claim, modelled by the
  machine) and distributes what arrived per token since the last distribution: the commission to the
  operator, the rest per earning share (shares not in escrow) into an accumulator scaled by 10^36;
  an account's income is settled against the accumulator (rounded down) before its shares change;
- commission: a cut at once, a rise after twice the unbonding period;
- redemption: escrow, a batch that waits for free stake, unbonding, payout = what the batch's shares
  are worth at the end (slashes included), claims pro rata (rounded down).

Vault invariants (checked after every step that touched the vault, and at teardown):

- V1 income per account: the chain's `incomeOf` equals the model for every investor and the operator,
  in every token, to the unit;
- V2 conservation: per token, everything the vault received as income = what it paid out + what it owes
  + rounding dust, with 0 ≤ dust ≤ one unit per account and distribution; the vault holds exactly the
  income it has not paid out;
- V3 shares and assets: supply, balances, escrow, total assets = the vault's stake, as modelled;
- V4 no income goes down but by its owner's withdrawal;
- V5 a slash moves every share's value by the same ratio (the price per share follows total assets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from rental_model import accrued_down
from system import GPUC, INVESTOR_DEPOSITS, VAULT_COMMISSION_BPS

BPS = 10_000
SCALE = 10**36
OFFSET = 10**6
WEEK = 7 * 86_400
ACTIVE, ENDED = 2, 3
N = st.integers(0, 2**32)  # as in machine.py: one draw per rule


@dataclass
class VaultG:
    """What the vault should hold and owe."""

    address: str
    operator: str
    shares: dict = field(default_factory=dict)  # account -> shares (the vault itself: escrow)
    supply: int = 0
    escrowed: int = 0
    ips: dict = field(default_factory=dict)  # token -> income per share × SCALE
    paid: dict = field(default_factory=dict)  # (account, token) -> accumulator at its last settlement
    owed: dict = field(default_factory=dict)  # (account, token) -> settled, not withdrawn
    accounted: dict = field(default_factory=dict)  # token -> distributed and not paid out (incl. dust)
    commission: dict = field(default_factory=dict)  # token -> the operator's commission, not withdrawn
    tokens: list = field(default_factory=list)  # income tokens, in order
    tracked: list = field(default_factory=list)  # rental ids
    bps: int = VAULT_COMMISSION_BPS
    pending: tuple | None = None  # (bps, effective at)
    reserved: int = 0
    queued: int = 1
    unbonding: int = 0
    batches: dict = field(default_factory=dict)  # id -> [shares, payout, ready_at, finished]
    requests: dict = field(default_factory=dict)  # id -> [owner, receiver, shares, batch, claimed]
    next_request: int = 1
    received: dict = field(default_factory=dict)  # token -> income received in all (model)
    withdrawn: dict = field(default_factory=dict)  # token -> income paid out in all
    distributions: int = 0


class VaultRules:
    """Mixed into MarketMachine: `self.v` is the vault's model; `self.s.vault` the contract."""

    def _vault_init(self) -> None:
        s = self.s
        v = self.v = VaultG(s.vault.address, s.operator)
        self.g.staked[v.address] = 0
        for who, amount in zip(s.investors, INVESTOR_DEPOSITS):  # System.fresh deposited these
            minted = self._shares_for(amount)
            v.shares[who] = v.shares.get(who, 0) + minted
            v.supply += minted
            self.g.staked[v.address] += amount
        self.vault_touched = True
        self.vault_last_income: dict = {}
        self.vault_withdrew: set = set()

    # ── the model's arithmetic ──

    def _total_assets(self) -> int:
        return self.g.staked[self.v.address]

    def _shares_for(self, assets: int) -> int:
        return assets * (self.v.supply + OFFSET) // (self._total_assets() + 1)

    def _assets_for(self, shares: int) -> int:
        return shares * (self._total_assets() + 1) // (self.v.supply + OFFSET)

    def _vault_balance(self, token: str) -> int:
        v = self.v
        return self.s.base_balances[(v.address, token)] + self.g.balances[(v.address, token)]

    def _apply_commission(self) -> None:
        v = self.v
        if v.pending and self.now >= v.pending[1]:
            if v.pending[0] > v.bps:
                self._edge("commission rise applied")
            v.bps, v.pending = v.pending[0], None

    def _settle(self, account: str) -> None:
        v = self.v
        for token in v.tokens:
            ips, paid = v.ips.get(token, 0), v.paid.get((account, token), 0)
            if ips == paid:
                continue
            v.paid[(account, token)] = ips
            v.owed[(account, token)] = v.owed.get((account, token), 0) + v.shares.get(account, 0) * (ips - paid) // SCALE

    def _distribute(self, token: str) -> None:
        v = self.v
        held = self._vault_balance(token) - (v.reserved if token == self.s.gpuc.address else 0)
        received = held - v.accounted.get(token, 0)
        if received == 0:
            return
        assert received > 0, f"V2 vault: its {token} income went down by {-received} outside a withdrawal"
        v.accounted[token] = held
        v.received[token] = v.received.get(token, 0) + received
        earning = v.supply - v.escrowed
        to_operator = received if earning == 0 else received * v.bps // BPS
        v.commission[token] = v.commission.get(token, 0) + to_operator
        if earning:
            v.ips[token] = v.ips.get(token, 0) + (received - to_operator) * SCALE // earning
        v.distributions += 1

    def _harvest(self) -> None:
        """The vault's `_harvest`: claim every tracked stream, drop closed ones, distribute."""
        v = self.v
        by_id = {r.id: r for r in self.g.rentals}
        for rid in v.tracked:
            r = by_id[rid]
            if r.status in (ACTIVE, ENDED):
                accrued = accrued_down(r.total, r.started, r.ends, self.now)
                if accrued > r.claimed:
                    _, net, _, _ = self._claim_model(r, accrued)
                    self._pay(r.offer.token, v.address, net)
        for token in v.tokens:
            self._distribute(token)
        self._apply_commission()  # a change that came due applies after this distribution

    def _prune(self) -> None:
        """The vault's `_prune`: drop tracked rentals whose stream is closed or frozen (swap and pop)."""
        v = self.v
        by_id = {r.id: r for r in self.g.rentals}
        i = len(v.tracked)
        while i > 0:
            if by_id[v.tracked[i - 1]].status not in (ACTIVE, ENDED):
                v.tracked[i - 1] = v.tracked[-1]
                v.tracked.pop()
            i -= 1

    def _move_shares(self, frm: str | None, to: str | None, amount: int) -> None:
        """The vault's `_update`: harvest, settle both sides (never the vault itself), move."""
        v = self.v
        self._harvest()
        for who in (frm, to):
            if who is not None and who != v.address:
                self._settle(who)
        if frm is None:
            v.supply += amount
        else:
            v.shares[frm] -= amount
        if to is None:
            v.supply -= amount
        else:
            v.shares[to] = v.shares.get(to, 0) + amount
        self.vault_touched = True

    def _income_model(self, account: str, token: str) -> int:
        v = self.v
        pending = v.shares.get(account, 0) * (v.ips.get(token, 0) - v.paid.get((account, token), 0)) // SCALE
        commission = v.commission.get(token, 0) if account == v.operator else 0
        return v.owed.get((account, token), 0) + commission + pending

    # ── rules ──

    @rule(n=N)
    def vault_deposit(self, n):
        """An investor (or the operator) deposits GPUC; it is staked at once."""
        n = self._n(n)
        s, v = self.s, self.v
        who = (*s.investors, s.operator)[n % 4]
        amount = (n // 4 % 3_000 + 1) * GPUC // (1 + n // 12_000 % 3)
        shares = self._shares_for(amount)
        if shares == 0:
            return
        if who == s.operator and s.gpuc.uint("balanceOf", who) < amount:
            s.gpuc.call(s.treasury, "transfer", who, amount)  # the operator backs its own vault too
            self._move(s.treasury, s.gpuc.address, -amount)
            self._move(who, s.gpuc.address, amount)
        if who == s.operator and s.gpuc.uint("allowance", who, v.address) < amount:
            # Its first deposit may be paid from GPUC income it withdrew (a 1,000,000-step run found the
            # approval tied to the transfer above missing then).
            s.gpuc.call(who, "approve", v.address, 2**256 - 1)
        (got,) = s.vault.call(who, "deposit", amount, who)
        assert got == shares, f"vault deposit minted {got}, model {shares}"
        self._move(who, s.gpuc.address, -amount)
        self.g.staked[v.address] += amount
        self._move_shares(None, who, shares)
        self._touch(p=v.address)
        self._count("vault.deposit")

    @rule(n=N)
    def vault_transfer(self, n):
        """Shares change hands between investors; income follows the share that earned it."""
        n = self._n(n)
        s, v = self.s, self.v
        frm, to = s.investors[n % 3], s.investors[(n // 3 % 2 + 1 + n % 3) % 3]
        have = v.shares.get(frm, 0)
        if have == 0:
            return
        amount = have * (n // 6 % 100 + 1) // 100
        s.vault.call(frm, "transfer", to, amount)
        self._move_shares(frm, to, amount)
        self._count("vault.transfer")

    @rule(n=N)
    def vault_harvest(self, n):
        """Anyone claims the vault's streams and distributes what arrived."""
        n = self._n(n)
        self.s.vault.call(self.s.stranger, "harvest")
        self._harvest()
        self.vault_touched = True
        self._count("vault.harvest")

    @rule(n=N)
    def vault_withdraw_income(self, n):
        n = self._n(n)
        s, v = self.s, self.v
        who = (*s.investors, s.operator)[n % 4]
        tokens = v.tokens or [s.usd.address]  # no income token yet: nothing to withdraw (VaultNoIncome)
        token = tokens[n // 4 % len(tokens)]
        self._harvest()
        before = {k: dict(getattr(v, k)) for k in ("paid", "owed")}
        self._settle(who)
        owed = v.owed.get((who, token), 0) + (v.commission.get(token, 0) if who == v.operator else 0)
        if owed == 0:
            # The failed withdrawal's own harvest and settlement are rolled back with it: the model's
            # harvest above is made on chain first (anyone may harvest), so that both agree on what was
            # claimed, and the model's settlement of `who` is undone (it would drop a sub-unit remainder
            # of its income that the chain keeps: found by a 1,000,000-step run).
            v.paid, v.owed = before["paid"], before["owed"]
            s.vault.call(s.stranger, "harvest")
            self._expect_revert("VaultNoIncome", {"account": who, "token": token}, s.vault, who, "withdrawIncome", token)
            self.vault_touched = True
            return
        (got,) = s.vault.call(who, "withdrawIncome", token)
        assert got == owed, f"vault paid {got} of income, model {owed}"
        v.owed[(who, token)] = 0
        if who == v.operator:
            v.commission[token] = 0
        v.accounted[token] -= owed
        v.withdrawn[token] = v.withdrawn.get(token, 0) + owed
        self._move(v.address, token, -owed)
        self._move(who, token, owed)
        self.vault_withdrew.add((who, token))
        self.vault_touched = True
        self._count("vault.withdrawIncome")

    @rule(n=N)
    def vault_commission(self, n):
        """The operator proposes a commission: a cut at once, a rise after twice the unbonding period."""
        n = self._n(n)
        s, v = self.s, self.v
        bps = n % 5_001
        self._harvest()
        s.vault.call(s.operator, "proposeCommission", bps)
        v.pending = (bps, self.now if bps <= v.bps else self.now + 2 * WEEK)
        self._edge("commission cut (at once)" if bps <= v.bps else "commission rise scheduled")
        self._apply_commission()
        self.vault_touched = True
        self._count("vault.proposeCommission")

    @rule(n=N)
    def vault_redeem(self, n):
        """The redemption flow, one step at a time: request, start a batch, finish it, claim."""
        n = self._n(n)
        s, v = self.s, self.v
        # The step that applies now: a finish as soon as a batch is unbonding (with undistributed income
        # it must not share with the batch's escrowed shares), a start as soon as one is queued. The later
        # the step, the likelier: an example of 50 steps gets a few of this rule's, and a claim needs all
        # four (request, start, finish, claim) in order.
        steps = [0]  # (two requests to one batch now and then: its claims round down)
        if v.unbonding:
            steps += [2, 2, 2]
        elif v.batches.get(v.queued, [0])[0]:
            steps += [1, 1, 1]
        if any(not q[4] and v.batches[q[3]][3] for q in v.requests.values()):
            steps += [3, 3, 3]
        step = steps[n % len(steps)]
        n //= len(steps)
        if step == 0:
            who = s.investors[n // 4 % 3]
            have = v.shares.get(who, 0)
            if have == 0:
                return
            self._request_redeem(who, have * (n // 12 % 100 + 1) // 100)
        elif step == 1:
            b = v.batches.get(v.queued)
            if v.unbonding or b is None or b[0] == 0:
                return
            assets = self._assets_for(b[0])
            free = self._free(v.address)
            if assets > free:
                self._expect_revert("VaultRedemptionWaitsForCollateral", {"needed": assets, "free": free}, s.vault,
                                    s.stranger, "startBatch")
                return
            s.vault.call(s.stranger, "startBatch")
            b[2] = self.now + (WEEK if assets else 0)
            if assets:
                self.g.unbonding[v.address] += assets
                self.g.ready_at[v.address] = self.now + WEEK
            v.unbonding, v.queued = v.queued, v.queued + 1
            self._touch(p=v.address)
            self._count("vault.startBatch")
        elif step == 2:
            if not v.unbonding:
                return
            b = v.batches[v.unbonding]
            if self.now < b[2]:
                self.s.chain.set_time(b[2])
            payout = self._assets_for(b[0])
            got = self.g.unbonding[v.address]
            idle = got
            if got:
                self.g.unbonding[v.address] = 0
                self.g.staked[v.address] -= got
                self._move(v.address, s.gpuc.address, got)
            payout = min(payout, idle)
            s.vault.call(s.stranger, "finishBatch")
            # The burn distributes first: the withdrawn GPUC is principal (idle), not income.
            v.reserved += idle  # counted out of GPUC income while the burn distributes
            self._move_shares(v.address, None, b[0])  # still escrowed while it distributes: they earn nothing
            v.escrowed -= b[0]
            v.reserved -= idle - payout
            b[1], b[3] = payout, True
            restake = idle - payout
            if restake:
                self.g.staked[v.address] += restake
                self._move(v.address, s.gpuc.address, -restake)
            v.unbonding = 0
            self._touch(p=v.address)
            self._count("vault.finishBatch")
        else:
            claimable = [i for i, q in v.requests.items() if not q[4] and v.batches[q[3]][3]]
            if not claimable:
                return
            rid = claimable[n // 4 % len(claimable)]
            owner, receiver, shares, batch, _ = v.requests[rid]
            b = v.batches[batch]
            expect = b[1] * shares // b[0]
            self._round("redemption claim rounded down", b[1] * shares % b[0] != 0)
            (got,) = s.vault.call(s.stranger, "claimRedemption", rid)
            assert got == expect, f"vault redemption {rid} paid {got}, model {expect}"
            v.requests[rid][4] = True
            v.reserved -= expect
            self._move(v.address, s.gpuc.address, -expect)
            self._move(receiver, s.gpuc.address, expect)
            self._count("vault.claimRedemption")
        self.vault_touched = True

    def _request_redeem(self, who: str, shares: int) -> None:
        """Backer `who` requests the redemption of `shares` (≤ its balance, > 0: a valid call)."""
        s, v = self.s, self.v
        (rid,) = s.vault.call(who, "requestRedeem", shares, who)
        assert rid == v.next_request
        self._move_shares(who, v.address, shares)
        v.escrowed += shares
        v.batches.setdefault(v.queued, [0, 0, 0, False])[0] += shares
        v.requests[rid] = [who, who, shares, v.queued, False]
        v.next_request += 1
        self._count("vault.requestRedeem")
        self.vault_touched = True

    # ── invariants ──

    @invariant()
    def inv_vault(self):
        """V1–V5 (see the module's docstring), after every step that touched the vault."""
        if not getattr(self, "vault_touched", False):
            return
        self.vault_touched = False
        self._check_vault()

    def _check_vault(self) -> None:
        s, v = self.s, self.v
        c = s.vault
        accounts = (*s.investors, s.operator)
        # V3: shares and assets.
        assert c.uint("totalSupply") == v.supply, f"V3 vault supply {c.uint('totalSupply')}, model {v.supply}"
        for who in (*accounts, v.address):
            assert c.uint("balanceOf", who) == v.shares.get(who, 0), f"V3 vault shares of {who}"
        assert c.uint("totalAssets") == self._total_assets(), "V3 vault total assets != its stake"
        # V5: every share is worth the same: the price per share follows total assets.
        price = c.uint("convertToAssets", 10**24)
        assert price == 10**24 * (self._total_assets() + 1) // (v.supply + OFFSET), "V5 vault share price"
        for token in v.tokens:
            # V2: the vault holds exactly the model's balance, and owes no more than it kept for its
            # accounts: distributed-and-not-paid = owed + dust, 0 ≤ dust ≤ a unit per account and distribution.
            held = (s.usd if token == s.usd.address else s.gpuc).uint("balanceOf", v.address)
            assert held == self._vault_balance(token), f"V2 vault holds {held} of {token}, model {self._vault_balance(token)}"
            owed = 0
            for who in accounts:
                chain = c.uint("incomeOf", who, token)
                model = self._income_model(who, token)
                # V1: to the unit.
                assert chain == model, f"V1 vault income of {who} in {token}: chain {chain}, model {model}"
                # V4: never down but by its owner's withdrawal.
                last = self.vault_last_income.get((who, token), 0)
                assert chain >= last or (who, token) in self.vault_withdrew, \
                    f"V4 vault income of {who} in {token} went down: {last} -> {chain}"
                self.vault_last_income[(who, token)] = chain
                owed += chain
            kept = v.accounted.get(token, 0)
            dust = kept - owed
            assert 0 <= dust <= (len(accounts) + 1) * max(v.distributions, 1), \
                f"V2 vault {token}: owes {owed} of the {kept} it kept (dust {dust})"
            assert v.received.get(token, 0) == v.withdrawn.get(token, 0) + kept, f"V2 vault {token} income not conserved"
        self.vault_withdrew.clear()
