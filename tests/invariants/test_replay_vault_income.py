"""A replay of the one failure a 1,000,000-step run of the machine found (seed 186, `make bench-invariants`
on 2026-12-02): a withdrawal of vault income that must revert (`VaultNoIncome`) settled the backer in the
model but not on chain (the revert rolls it back), so the model dropped a sub-unit remainder of that
backer's income that the chain kept, and the next paid withdrawal was one unit above the model. The fix
is in the model (tests/invariants/vault_model.py, `vault_withdraw_income`); the contract was right.
The steps are hypothesis's shrunk sequence, as printed by tools/invariants_report.py."""

from machine import MarketMachine


def test_replay_failed_withdrawal_leaves_the_backer_unsettled():
    state = MarketMachine()
    state.two_offers()
    state.resolve(n=590423)
    state.activate(n=9938)
    state.bad_call(n=4_294_967_295)
    state.activate(n=3_796_163_322)
    state.create_offer(n=1234329)
    state.accrue_and_claim(n=1721)
    state.accrue_and_claim(n=14184182)
    state.accrue_and_claim(n=2869868)
    state.dispute(n=231)
    state.activate(n=381589120)
    state.vault_commission(n=745898756)
    state.vault_commission(n=5833)
    state.vault_commission(n=99997)
    state.activate(n=41396386)
    state.accrue_and_claim(n=118)
    state.dispute(n=231)
    state.accrue_and_claim(n=3_570_720_342)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=194)
    state.accrue_and_claim(n=22)
    state.accrue_and_claim(n=187)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=1)
    state.accrue_and_claim(n=376112)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=1)
    state.accrue_and_claim(n=0)
    state.vault_withdraw_income(n=27111)
    state.accrue_and_claim(n=0)
    state.accrue_and_claim(n=0)
    state.vault_commission(n=0)
    state.extend(n=6416)
    state.fill_signed(n=228)
    state.cancel(n=2762555)
    state.vault_withdraw_income(n=577)
    state.withdraw(n=13220226)
    state.withdraw(n=75)
    state.vault_redeem(n=83580)
    state.cancel(n=3108)
    state.vault_withdraw_income(n=1000000)
    state.teardown()
