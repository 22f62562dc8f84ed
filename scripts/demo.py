"""The gpumarket demo, in three parts, on a local anvil.

    make demo        (= ape run demo --network ethereum:local:foundry)

Part 1, one cluster rental from listing to settlement: a pseudonymous provider stakes GPUC and lists
8 × H100-SXM-80GB in AU-QLD at 1.95 mUSD per GPU-hour with a bulk tier; a renter rents the whole cluster
for 24 hours through a broker, paid by a separate payer account; 10 hours pass; the provider claims; the
renter stops early; after the dispute window anyone releases the rental. The settlement report shows
every party's balance change and checks, to the base unit, that they add up to what the payer paid.

Part 2, a vault of investors behind a provider: a Brisbane operator creates a ProviderVault and puts in
1,000 GPUC; investors in Dubai, the US and Korea deposit 8,500 more. The vault (the provider) takes a
48-GPU rental whose collateral the operator's own stake could not cover; a no-show on another rental is
slashed from the vault's stake, and every share loses the same ratio; the rental's income is split
(the operator's commission, the rest pro rata to shares), checked to the base unit; Dubai redeems
(request, the batch waits for the collateral, starts, unbonds, finishes, is claimed).

Part 3, a broker assembles a dedicated cluster: two providers sign offers off-chain (JSON files, no
transaction), the part-2 vault's operator signs one for the vault, a third provider lists on chain. A
broker collects the files, plans the cheapest mix of 256 H100s for 72 hours across the on-chain and
signed offers (volume tiers and each provider's free stake included), and books it for a renter in one
transaction: every rental opens, or none. The providers activate, the renter stops one rental early,
the rest run to the end and settle; every mUSD base unit the broker paid is accounted for.

Exits non-zero if any check fails.
"""

from __future__ import annotations

import sys

from ape import accounts, chain, project
from ape.logging import logger

from gpumarket.deployment import DAY, GPUC, deploy_system
from gpumarket.errors import ContractError
from gpumarket.market import Market
from gpumarket.units import fmt, to_base

ZERO = "0x0000000000000000000000000000000000000000"
HOUR = 3600
SCALE = 10**36  # VaultMath.SCALE: income per share is kept × 1e36, every division rounds down


def main():
    logger.set_level("WARNING")
    a = accounts.test_accounts
    deployer, treasury, provider, renter, payer, broker = a[0], a[1], a[2], a[4], a[5], a[6]

    print("== gpumarket demo (local anvil) ==")
    system = deploy_system(deployer, treasury.address, arbiter=a[7].address)
    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    print(f"ComputeToken     {token.address}")
    print(f"ProviderRegistry {registry.address}")
    print(f"ComputeMarket    {market.address}")
    print(f"mUSD (6 dec.)    {usd.address}")

    # A pseudonymous provider: an address, a hardware-spec hash and a stake. Nothing else.
    stake = 5_000 * GPUC
    token.transfer(provider, stake, sender=treasury)
    registry.register("sha256:9f2c…/h100-sxm-80gb-x8.json", sender=provider)
    token.approve(registry, stake, sender=provider)
    registry.stake(stake, sender=provider)
    print(f"\nprovider {provider.address} staked {fmt(stake, 18, 'GPUC')}")

    price = to_base("1.95", 6)
    tiers = [(96, 250), (192, 500)]  # ≥ 96 GPU-hours: 2.5 % off; ≥ 192 GPU-hours: 5 % off
    tx = market.createOffer(
        ("H100-SXM-80GB", "AU-QLD", usd.address, price, 8, 1, 720, ZERO, 500, tiers), sender=provider
    )
    offer_id = tx.decode_logs(market.OfferCreated)[0].offerId
    print(f"offer #{offer_id}: 8 × H100-SXM-80GB in AU-QLD at {fmt(price, 6, 'mUSD')}/GPU-hour, "
          "bulk tiers 96 GPU-h −2.5 %, 192 GPU-h −5 %")

    gpus, hours, broker_bps = 8, 24, 300
    cost, discount, rate = market.quote(offer_id, gpus, hours)
    usd.mint(payer, cost, sender=deployer)
    usd.approve(market, cost, sender=payer)
    before = {name: usd.balanceOf(acct) for name, acct in _parties(payer, renter, provider, broker, treasury, market)}
    tx = market.openRentalFor(renter, offer_id, gpus, hours, price, broker, broker_bps, sender=payer)
    rental_id = tx.decode_logs(market.RentalOpened)[0].rentalId
    print(f"\nrental #{rental_id}: {gpus} GPUs × {hours} h = {gpus * hours} GPU-hours, discount {discount / 100} %, "
          f"{fmt(rate, 6, 'mUSD')}/h; payer {payer.address[:10]}… paid {fmt(cost, 6, 'mUSD')} into escrow "
          f"for renter {renter.address[:10]}…, broker {broker.address[:10]}… takes {broker_bps / 100} %")
    print(f"collateral locked: {fmt(market.getRental(rental_id).collateral, 18, 'GPUC')}")

    market.activate(rental_id, sender=provider)
    started = market.getRental(rental_id).startedAt
    print("provider activated the rental (access handed over off-chain); streaming starts")

    chain.pending_timestamp = started + 10 * HOUR
    tx = market.claim(rental_id, sender=provider)
    c = tx.decode_logs(market.RentalClaimed)[0]
    print(f"+10 h: provider claimed gross {fmt(c.gross, 6)} → net {fmt(c.providerNet, 6)}, "
          f"protocol fee {fmt(c.protocolFee, 6)}, broker fee {fmt(c.brokerFee, 6)} mUSD")

    chain.pending_timestamp = started + 10 * HOUR + 30 * 60
    tx = market.stopRental(rental_id, sender=renter)
    refund = tx.decode_logs(market.RentalStopped)[0].refund
    charge = market.getRental(rental_id).total
    print(f"+10.5 h: renter stopped early: 10.5 h used, billed {fmt(charge, 6, 'mUSD')} at the list price "
          f"(stopping early forfeits the bulk discount); {fmt(refund, 6, 'mUSD')} refunded to the payer at once")

    settle_at = market.releasableAt(rental_id)
    chain.pending_timestamp = settle_at
    market.release(rental_id, sender=a[8])  # anyone may trigger it
    print(f"+dispute window: a stranger released the rental → settled, collateral unlocked "
          f"(locked now {fmt(registry.providerOf(provider).locked, 18, 'GPUC')})")
    market.withdrawProtocolFees(usd, sender=a[8])
    market.withdrawCredits(usd, sender=broker)

    after = {name: usd.balanceOf(acct) for name, acct in _parties(payer, renter, provider, broker, treasury, market)}
    _report(before, after, cost)
    story = VaultStory(system, a)
    failed = story.run()
    failed += ClusterStory(system, a, story.vault).run()
    if failed:
        print(f"\n{failed} CHECK(S) FAILED", file=sys.stderr)
        sys.exit(1)
    print("\nevery check passed")
    return 0


def _parties(payer, renter, provider, broker, treasury, market):
    return [("payer", payer), ("renter", renter), ("provider", provider), ("broker", broker),
            ("treasury", treasury), ("market escrow", market)]


def _report(before: dict, after: dict, paid: int) -> int:
    print("\n== settlement report (mUSD) ==")
    print(f"{'party':<15}{'before':>16}{'after':>16}{'change':>16}")
    for name in before:
        print(f"{name:<15}{fmt(before[name], 6):>16}{fmt(after[name], 6):>16}{fmt(after[name] - before[name], 6):>16}")
    received = sum(after[n] - before[n] for n in ("provider", "broker", "treasury"))
    refunded = after["payer"] - before["payer"] + paid  # payer's net change is −paid + refund
    escrow_left = after["market escrow"] - before["market escrow"]
    total = received + refunded + escrow_left
    print(f"\npaid by payer        {fmt(paid, 6):>16}")
    print(f"provider+fees        {fmt(received, 6):>16}")
    print(f"refund               {fmt(refunded, 6):>16}")
    print(f"left in escrow       {fmt(escrow_left, 6):>16}")
    if total == paid and escrow_left == 0:
        print(f"CHECK OK: provider + fees + refund == paid ({paid} base units), to the unit")
        return 0
    print(f"CHECK FAILED: {total} != {paid}", file=sys.stderr)
    sys.exit(1)


def _g(raw: int) -> str:
    return fmt(raw, 18)


def _u(raw: int) -> str:
    return fmt(raw, 6)


class VaultStory:
    """Part 2: investors in Dubai, the US and Korea back a Brisbane operator's vault."""

    DEPOSITS = {"Brisbane (operator)": 1_000, "Dubai": 5_000, "US": 2_000, "Korea": 1_500}
    COMMISSION_BPS = 1_000

    def __init__(self, system, a):
        self.s, self.a = system, a
        self.token, self.registry, self.market = system.token, system.registry, system.market
        self.usd = system.stablecoin
        self.factory = system.contracts["VaultFactory"]
        self.deployer, self.treasury = a[0], a[1]
        self.people = {"Brisbane (operator)": a[3], "Dubai": a[9], "US": a[10], "Korea": a[11]}
        self.operator = a[3]
        self.renter, self.renter2, self.anyone = a[4], a[5], a[8]
        self.failed = 0

    def check(self, ok: bool, text: str) -> None:
        print(f"{'CHECK OK' if ok else 'CHECK FAILED'}: {text}")
        self.failed += not ok

    def values(self) -> dict[str, int]:
        """What each holder's shares are worth now (GPUC base units)."""
        return {n: self.vault.convertToAssets(self.vault.balanceOf(p)) for n, p in self.people.items()}

    def price(self) -> int:
        return self.vault.convertToAssets(10**self.vault.decimals())

    def run(self) -> int:
        print("\n\n== part 2: a vault of investors behind a provider ==")
        print(f"VaultFactory     {self.factory.address}")
        self.create_and_deposit()
        rental_id = self.big_rental()
        self.no_show()
        self.income_split(rental_id)
        self.redemption(rental_id)
        return self.failed

    def create_and_deposit(self):
        tx = self.factory.create(self.COMMISSION_BPS, "Brisbane H100 Vault", "bH100",
                                 "sha256:41be…/brisbane-h100-sxm-80gb-x64.json", sender=self.operator)
        self.vault = project.ProviderVault.at(tx.decode_logs(self.factory.VaultCreated)[0].vault)
        print(f"Brisbane operator {self.operator.address[:10]}… created vault bH100 at {self.vault.address} "
              f"with a {self.COMMISSION_BPS / 100:g} % commission; the vault is the provider in the registry")
        print(f"\n{'deposit':<22}{'GPUC in':>28}{'bH100 shares out':>36}")
        for name, units in self.DEPOSITS.items():
            who, amount = self.people[name], units * GPUC
            self.token.transfer(who, amount, sender=self.treasury)
            self.token.approve(self.vault, amount, sender=who)
            shares = self.vault.deposit(amount, who, sender=who).decode_logs(self.vault.Deposit)[0].shares
            print(f"{name:<22}{_g(amount):>28}{fmt(shares, 24):>36}")
        staked = self.registry.providerOf(self.vault).staked
        print(f"the vault staked every deposit: {fmt(staked, 18, 'GPUC')}")
        self.check(staked == sum(self.DEPOSITS.values()) * GPUC, "the vault's stake is the sum of the deposits")

    def big_rental(self) -> int:
        m, price = self.market, to_base("1.95", 6)
        params = ("H100-SXM-80GB", "AU-QLD", self.usd.address, price, 64, 1, 720, ZERO, 500, [])
        tx = self.vault.callMarket(m.createOffer.encode_input(params), sender=self.operator)
        self.offer_id = tx.decode_logs(m.OfferCreated)[0].offerId
        print(f"\noffer #{self.offer_id} (sent by the operator through the vault's callMarket): 64 × H100-SXM-80GB "
              f"in AU-QLD at {fmt(price, 6, 'mUSD')}/GPU-hour; its provider is the vault")
        gpus, hours = 48, 24
        cost = m.quote(self.offer_id, gpus, hours).cost
        self.usd.mint(self.renter, cost, sender=self.deployer)
        self.usd.approve(m, cost, sender=self.renter)
        tx = m.openRental(self.offer_id, gpus, hours, price, ZERO, 0, sender=self.renter)
        rental_id = tx.decode_logs(m.RentalOpened)[0].rentalId
        collateral = m.getRental(rental_id).collateral
        own = self.DEPOSITS["Brisbane (operator)"] * GPUC
        vault_stake = self.registry.providerOf(self.vault).staked
        print(f"rental #{rental_id}: {gpus} GPUs × {hours} h for {fmt(cost, 6, 'mUSD')}")
        print(f"  collateral needed        {fmt(collateral, 18, 'GPUC'):>30}")
        print(f"  the operator's own stake {fmt(own, 18, 'GPUC'):>30}  (backs at most {own // m.stakePerGpu()} GPUs)")
        print(f"  the vault's stake        {fmt(vault_stake, 18, 'GPUC'):>30}")
        self.check(own < collateral <= vault_stake,
                   "the operator alone could not have taken this rental; the vault could")
        self.vault.activate(rental_id, sender=self.operator)
        self.started = m.getRental(rental_id).startedAt
        print(f"the operator activated rental #{rental_id} through the vault, which tracks its stream")
        return rental_id

    def no_show(self):
        m = self.market
        gpus, hours = 8, 4
        cost = m.quote(self.offer_id, gpus, hours).cost
        self.usd.mint(self.renter2, cost, sender=self.deployer)
        self.usd.approve(m, cost, sender=self.renter2)
        tx = m.openRental(self.offer_id, gpus, hours, to_base("1.95", 6), ZERO, 0, sender=self.renter2)
        rental_id = tx.decode_logs(m.RentalOpened)[0].rentalId
        print(f"\nrental #{rental_id}: {gpus} GPUs × {hours} h by another renter; the operator never activates it")
        price_before, values_before = self.price(), self.values()
        assets_before = self.vault.totalAssets()
        chain.pending_timestamp = m.getRental(rental_id).activationDeadline + 1
        penalty = m.cancelPending(rental_id, sender=self.renter2).decode_logs(m.RentalCancelled)[0].penalty
        price_after, values_after = self.price(), self.values()
        assets_after = self.vault.totalAssets()
        print(f"after the activation deadline the renter cancelled: no-show slash of {fmt(penalty, 18, 'GPUC')} "
              "from the vault's stake, to the renter")
        print(f"  share price  {_g(price_before)} → {_g(price_after)} GPUC per bH100 "
              f"({(price_after - price_before) * 100 / price_before:+.4f} %)")
        print(f"  {'holder':<22}{'value before':>26}{'value after':>26}{'change':>11}")
        same = True
        for name in self.people:
            b, a = values_before[name], values_after[name]
            print(f"  {name:<22}{_g(b):>26}{_g(a):>26}{(a - b) * 100 / b:>+10.4f}%")
            # The same ratio for every share: a holder's value moved by totalAssets' ratio, to the base unit.
            same &= abs(a * assets_before - b * assets_after) <= assets_before
        self.check(assets_before - assets_after == penalty, "the vault's assets fell by exactly the slash")
        self.check(same, "every holder lost the same ratio of its value (to the base unit)")

    def income_split(self, rental_id: int):
        m, v, usd = self.market, self.vault, self.usd
        chain.pending_timestamp = self.started + 24 * HOUR
        held = usd.balanceOf(v)
        tx = v.harvest(sender=self.anyone)
        ev = tx.decode_logs(v.IncomeDistributed)[0]
        received, commission, earning = ev.received, ev.commission, ev.earningShares
        print(f"\n+24 h: rental #{rental_id} ended; anyone harvested: the vault claimed its stream and shared it")
        per_share = (received - commission) * SCALE // earning
        expected = {n: v.balanceOf(p) * per_share // SCALE for n, p in self.people.items()}
        got = {n: v.incomeOf(p, usd) for n, p in self.people.items()}
        operator = "Brisbane (operator)"
        got_operator_shares = got[operator] - commission
        print("\n== income split (mUSD) ==")
        print(f"{'received by the vault':<40}{_u(received):>16}")
        print(f"{f'commission {self.COMMISSION_BPS / 100:g} % (operator)':<40}{_u(commission):>16}")
        print(f"{'to shareholders, pro rata':<40}{_u(received - commission):>16}")
        for name, who in self.people.items():
            shares = v.balanceOf(who)
            mine = got_operator_shares if name == operator else got[name]
            print(f"  {name + f' ({fmt(shares, 24).split(chr(46))[0]} sh)':<38}{_u(mine):>16}")
        dust = received - sum(got.values())
        print(f"{'rounding dust (stays unallocated)':<40}{_u(dust):>16}")
        print(f"{'operator in all (commission + shares)':<40}{_u(got[operator]):>16}")
        self.check(usd.balanceOf(v) - held == received, "what the vault received is exactly what arrived in mUSD")
        self.check(commission == received * self.COMMISSION_BPS // 10_000, "the commission is 10 % of it, rounded down")
        self.check(got_operator_shares == expected[operator] and all(got[n] == expected[n] for n in expected
                                                                     if n != operator),
                   "each holder's income is (received − commission) × its shares / all shares, rounded down "
                   "(VaultMath)")
        self.check(commission + sum(expected.values()) + dust == received and 0 <= dust < len(self.people),
                   f"commission + every holder's income + dust == received ({received} base units), to the unit")
        paid = 0
        for name, who in self.people.items():
            before = usd.balanceOf(who)
            v.withdrawIncome(usd, sender=who)
            paid += usd.balanceOf(who) - before
        self.check(paid == received - dust and usd.balanceOf(v) == held + dust,
                   "every holder withdrew exactly its income; only the dust stays in the vault")

    def redemption(self, rental_id: int):
        m, v, reg = self.market, self.vault, self.registry
        dubai = self.people["Dubai"]
        shares = v.balanceOf(dubai)
        worth = v.convertToAssets(shares)
        price_before = self.price()
        tx = v.requestRedeem(shares, dubai, sender=dubai)
        request_id = tx.decode_logs(v.RedeemRequested)[0].requestId
        print("\n== redemption ==")
        print(f"Dubai asked to redeem all its {fmt(shares, 24, 'bH100')} (worth {fmt(worth, 18, 'GPUC')}): "
              f"request #{request_id}, in escrow, queued")
        session = Market(_record(self.s), self.anyone)
        try:
            session.vault(v.address).start_batch()
            self.check(False, "the batch should wait for the collateral")
        except ContractError as refused:
            print(f"start-batch now is refused before sending: {refused.sentence}")
        chain.pending_timestamp = m.releasableAt(rental_id)
        m.release(rental_id, sender=self.anyone)
        print(f"+{m.disputeWindow() // HOUR} h (the dispute window): anyone released rental #{rental_id}; its "
              f"collateral is free (locked now {fmt(reg.providerOf(v).locked, 18, 'GPUC')})")
        ev = v.startBatch(sender=self.anyone).decode_logs(v.BatchStarted)[0]
        print(f"anyone started batch #{ev.batch}: {fmt(ev.assets, 18, 'GPUC')} unbonding for "
              f"{reg.unbondingPeriod() // DAY} days")
        chain.pending_timestamp = ev.readyAt
        fin = v.finishBatch(sender=self.anyone).decode_logs(v.BatchFinished)[0]
        before = self.token.balanceOf(dubai)
        v.claimRedemption(request_id, sender=self.anyone)
        got = self.token.balanceOf(dubai) - before
        print(f"+{reg.unbondingPeriod() // DAY} days: anyone finished the batch (payout {fmt(fin.payout, 18, 'GPUC')}, "
              f"restaked {fmt(fin.restaked, 18, 'GPUC')}) and claimed request #{request_id}")
        print(f"Dubai received {fmt(got, 18, 'GPUC')} for {fmt(5_000 * GPUC, 18, 'GPUC')} deposited "
              "(its part of the no-show slash included)")
        self.check(got == worth, "Dubai got what its shares were worth at the request, to the base unit")
        self.check(abs(self.price() - price_before) <= 1,
                   f"the remaining holders' share price is unchanged ({_g(self.price())} GPUC per bH100)")
        self.check(v.totalAssets() == reg.providerOf(v).staked, "everything left in the vault is staked")


class ClusterStory:
    """Part 3: a broker books a 256-GPU cluster across on-chain and signed offers, the vault's included."""

    GPUS, HOURS, BROKER_PCT = 256, 72, "2"

    def __init__(self, system, a, vault):
        self.s, self.a, self.vault = system, a, vault
        self.token, self.registry, self.market, self.usd = system.token, system.registry, system.market, system.stablecoin
        self.deployer, self.treasury, self.operator = a[0], a[1], a[3]
        self.renter, self.broker, self.anyone = a[4], a[6], a[8]
        self.signers = {"Perth (signed)": a[12], "Sydney (signed)": a[13]}
        self.lister = a[14]
        self.failed = 0

    check = VaultStory.check

    def run(self) -> int:
        import tempfile
        from pathlib import Path

        print("\n\n== part 3: a broker assembles a dedicated cluster from on-chain and signed offers ==")
        with tempfile.TemporaryDirectory(prefix="gpumarket-signed-") as directory:
            self.providers_publish(Path(directory))
            rental_ids, paid = self.broker_books(Path(directory))
        self.run_and_settle(rental_ids, paid)
        return self.failed

    def _stake(self, who, units: int) -> None:
        amount = units * GPUC
        self.token.transfer(who, amount, sender=self.treasury)
        if not self.registry.providerOf(who).registered:
            self.registry.register("sha256:…/h100-sxm-80gb.json", sender=who)
        self.token.approve(self.registry, amount, sender=who)
        self.registry.stake(amount, sender=who)

    def providers_publish(self, directory) -> None:
        import json

        from gpumarket.signed_offer import sign

        terms = dict(gpu_model="H100-SXM-80GB", region="AU-QLD", token="mUSD", min_hours="24", max_hours="720",
                     reserved_for=None, max_broker_pct="5", expires_in="7d")
        signed = [("Perth (signed)", self.signers["Perth (signed)"], None, "96", "1.80", ["5000:5"]),
                  ("Sydney (signed)", self.signers["Sydney (signed)"], None, "64", "1.85", []),
                  ("Brisbane vault (signed by its operator)", self.operator, self.vault.address, "40", "1.75", [])]
        for name, who, _, _, _, _ in signed[:2]:
            self._stake(who, 20_000)
        for name, who, vault, gpus, price, tiers in signed:
            session = Market(_record(self.s), who)
            seat = session.vault(vault).as_provider() if vault else None
            doc = sign(session, seat=seat, gpus=gpus, price=price, tiers=tiers, **terms)
            path = directory / f"{name.split()[0].lower()}.json"
            path.write_text(json.dumps(doc, indent=2))
            print(f"{name:<40} signed {gpus:>3} GPUs at {price} mUSD/GPU-hour{' (≥ 5,000 GPU-h: −5 %)' if tiers else ''}"
                  f" → {path.name}, hash {doc['hash'][:10]}…, no transaction")
        self._stake(self.lister, 20_000)
        params = ("H100-SXM-80GB", "AU-QLD", self.usd.address, to_base("1.90", 6), 128, 24, 720, ZERO, 500, [])
        tx = self.market.createOffer(params, sender=self.lister)
        self.listed = tx.decode_logs(self.market.OfferCreated)[0].offerId
        print(f"{'Melbourne (on chain)':<40} listed offer #{self.listed}: 128 GPUs at 1.90 mUSD/GPU-hour")
        free = self.registry.freeStakeOf(self.vault) // self.market.stakePerGpu()
        print(f"the vault's free stake backs {free} GPUs; the part-1 provider's offer #1 (8 GPUs at 1.95, tiers) and "
              "the vault's on-chain offer are still open")

    def broker_books(self, directory):
        from gpumarket.cluster import Cluster

        m, usd = self.market, self.usd
        session = Market(_record(self.s), self.broker)
        plan = Cluster.plan(session, gpus=str(self.GPUS), gpu_model="H100-SXM-80GB", region="AU-QLD",
                            hours=str(self.HOURS), max_price="1.90", signed_dir=str(directory),
                            broker=self.broker.address, broker_pct=self.BROKER_PCT, renter=self.renter.address)
        view = plan.as_dict()
        print(f"\nthe broker's plan: {self.GPUS} GPUs × {self.HOURS} h for renter {self.renter.address[:10]}…, "
              f"the cheapest mix (exact, tiers and stake caps included)")
        print(f"  {'offer':<14}{'provider':<14}{'GPUs':>6}{'discount':>10}{'cost (mUSD)':>18}{'per GPU-hour':>14}")
        for row in view["parts"]:
            print(f"  {row['offer']:<14}{row['provider'][:10] + '…':<14}{row['gpus']:>6}{row['discount_bps'] / 100:>9g}%"
                  f"{row['cost']['units']:>18}{row['effective_price_per_gpu_hour']['units']:>14}")
        print(f"  total {view['total']['units']} mUSD, an average of {view['average_price_per_gpu_hour']['units']} "
              "per GPU-hour")
        for row in view["skipped"]:
            print(f"  skipped {row['offer']}: {row['reason']}")
        usd.mint(self.broker, plan.total, sender=self.deployer)
        if m.protocolFees(usd):  # the earlier parts' fees go to the treasury first: the escrow starts empty
            m.withdrawProtocolFees(usd, sender=self.anyone)
        self.parties = {"broker (payer)": self.broker, "renter": self.renter, "vault": self.vault,
                        "Perth": self.signers["Perth (signed)"], "Sydney": self.signers["Sydney (signed)"],
                        "Melbourne": self.lister, "part-1 provider": self.a[2], "treasury": self.treasury,
                        "market escrow": m}
        self.before = {n: usd.balanceOf(w) for n, w in self.parties.items()}
        rentals_before = m.nextRentalId()
        booked = plan.book()
        ids = [r["id"] for r in booked["rentals"]]
        print(f"booked in one transaction ({booked['tx'][:12]}…): cluster #{booked['cluster_id']}, rentals "
              f"{', '.join('#' + str(i) for i in ids)}")
        providers = {m.getOffer(m.getRental(i).offerId).provider for i in ids}
        signed_records = [m.getRental(i).offerId for i in ids if m.getRental(i).offerId > m.SIGNED_OFFER_ID_BASE()]
        self.check(m.nextRentalId() - rentals_before == len(plan.parts) == len(ids),
                   f"one rental per part ({len(ids)}), all opened by the one bookCluster")
        self.check(sum(m.getRental(i).gpus for i in ids) == self.GPUS, f"they cover exactly {self.GPUS} GPUs")
        self.check(self.vault.address in providers and len(signed_records) == 3 and len(providers) >= 4,
                   f"{len(providers)} providers; three signed offers recorded at this first fill, the vault's included")
        paid = self.before["broker (payer)"] - usd.balanceOf(self.broker)
        self.check(paid == plan.total == sum(m.getRental(i).total for i in ids),
                   "the broker paid the plan's total, once, and it is the sum of the rentals' escrows")
        return ids, paid

    def run_and_settle(self, ids, paid) -> None:
        m, usd = self.market, self.usd
        for i in ids:
            provider = m.getOffer(m.getRental(i).offerId).provider
            if provider == self.vault.address:
                self.vault.activate(i, sender=self.operator)
            else:
                m.activate(i, sender=self.a[[acct.address for acct in self.a].index(provider)])
        started = max(m.getRental(i).startedAt for i in ids)
        stopped = max(ids, key=lambda i: m.getRental(i).gpus)
        chain.pending_timestamp = started + 20 * HOUR
        refund = m.stopRental(stopped, sender=self.renter).decode_logs(m.RentalStopped)[0].refund
        print(f"\nevery provider activated; +20 h the renter stopped rental #{stopped} "
              f"({m.getRental(stopped).gpus} GPUs) early: {fmt(refund, 6, 'mUSD')} back to the broker who paid")
        chain.pending_timestamp = max(m.releasableAt(i) for i in ids)
        for i in ids:
            m.release(i, sender=self.anyone)
        self.vault.harvest(sender=self.anyone)
        m.withdrawProtocolFees(usd, sender=self.anyone)
        m.withdrawCredits(usd, sender=self.broker)
        print(f"+{self.HOURS} h and the dispute window: anyone released every rental (each paid its provider); "
              "the vault harvested; the protocol fees and the broker's credits were withdrawn")
        after = {n: usd.balanceOf(w) for n, w in self.parties.items()}
        print(f"\n{'party':<18}{'change (mUSD)':>18}")
        for n in self.parties:
            print(f"{n:<18}{fmt(after[n] - self.before[n], 6):>18}")
        self.check(sum(after[n] - self.before[n] for n in self.parties) == 0,
                   f"the changes add up to zero: all {fmt(paid, 6, 'mUSD')} the broker paid is accounted for, "
                   "to the base unit")
        self.check(after["market escrow"] == self.before["market escrow"], "the market holds nothing of the cluster")
        self.check(all(m.getRental(i).status == 5 for i in ids), "every rental of the cluster is settled")


def _record(system) -> dict:
    """A deployment record of the demo's system, for a `gpumarket` session (what `gpumarket deploy` writes)."""
    return {"contracts": {name: {"address": c.address} for name, c in system.contracts.items()},
            "payment_tokens": {"GPUC": system.token.address, "mUSD": system.stablecoin.address}}
