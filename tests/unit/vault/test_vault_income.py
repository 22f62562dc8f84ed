"""ProviderVault income: rental payouts in every payment token, the operator's commission, and the rest
shared among the holders pro rata to the shares they held while it streamed (not when it is claimed)."""

import pytest

from conftest import GPUC, HOUR, VAULT_COMMISSION_BPS
from rental_model import BPS, split_claim
from reverts import reverts

SCALE = 10**36


def _running(vault, market, open_rental, renter, provider2, offer_id, gpus=16, hours=10):
    rid = open_rental(offer_id, renter, gpus=gpus, hours=hours)
    tx = vault.activate(rid, sender=provider2)
    return rid, tx.timestamp


def _expected_split(received, holders: dict, commission_bps=VAULT_COMMISSION_BPS):
    """The model: the commission, then the rest per share (floor), each holder's floor of its part."""
    commission = received * commission_bps // BPS
    earning = sum(holders.values())
    per_share = (received - commission) * SCALE // earning
    return commission, {who: shares * per_share // SCALE for who, shares in holders.items()}


def test_harvest__commission_to_the_operator_the_rest_pro_rata(
    vault_offer, vault, market, usd, open_rental, renter, provider2, investors, time_travel
):
    rid, started = _running(vault, market, open_rental, renter, provider2, vault_offer)
    time_travel.at(started + 3 * HOUR)
    tx = vault.harvest(sender=renter)  # anyone may trigger it
    gross = 16 * 1_950_000 * 3
    net, _, _ = split_claim(0, gross, 100, 0)
    [ev] = tx.decode_logs(vault.IncomeDistributed)
    assert (ev.token, ev.received) == (usd.address, net)
    holders = {who.address: vault.balanceOf(who) for who in investors}
    commission, parts = _expected_split(net, holders)
    assert ev.commission == commission and ev.earningShares == sum(holders.values())
    for who in investors:
        assert vault.incomeOf(who, usd) == parts[who.address]
    assert vault.incomeOf(provider2, usd) == commission
    # 6 : 3 : 1, to the unit
    assert [parts[w.address] for w in investors] == [(net - commission) * k // 10 for k in (6, 3, 1)]
    assert usd.balanceOf(vault) == net
    assert list(vault.trackedRentals()) == [rid] and list(vault.incomeTokens()) == [usd.address]


def test_deposit_just_before_a_large_claim__gets_nothing_that_streamed_before_it(
    vault_offer, vault, market, usd, gpuc, open_rental, renter, provider2, investors, treasury, stranger, time_travel
):
    """Nine hours of a 16-GPU rental have streamed unclaimed when a stranger deposits as much as all the
    investors together: the deposit itself distributes those nine hours to the holders before it."""
    rid, started = _running(vault, market, open_rental, renter, provider2, vault_offer)
    amount = 10_000 * GPUC
    gpuc.transfer(stranger, amount, sender=treasury)
    gpuc.approve(vault, amount, sender=stranger)
    time_travel.at(started + 9 * HOUR)  # the deposit itself is mined at exactly nine hours
    tx = vault.deposit(amount, stranger, sender=stranger)
    assert tx.timestamp == started + 9 * HOUR
    assert vault.incomeOf(stranger, usd) == 0
    before = {w.address: vault.incomeOf(w, usd) for w in investors}
    streamed_9h, _, _ = split_claim(0, 16 * 1_950_000 * 9, 100, 0)
    assert sum(before.values()) + vault.incomeOf(provider2, usd) >= streamed_9h - 3  # all of it, but rounding dust
    # The last hour is shared with the stranger, half of the shares now.
    time_travel.at(started + 10 * HOUR)
    vault.harvest(sender=stranger)
    last_hour = split_claim(0, 16 * 1_950_000 * 10, 100, 0)[0] - streamed_9h
    stranger_part = vault.incomeOf(stranger, usd)
    assert stranger_part == (last_hour - last_hour * VAULT_COMMISSION_BPS // BPS) // 2


def test_share_transfer__income_follows_the_share_that_earned_it(
    vault_offer, vault, market, usd, open_rental, renter, provider2, investors, time_travel
):
    dubai, us, korea = investors
    rid, started = _running(vault, market, open_rental, renter, provider2, vault_offer)
    before = {w.address: vault.balanceOf(w) for w in investors}
    time_travel.at(started + 4 * HOUR)
    vault.transfer(us, before[dubai.address], sender=dubai)  # distributes the four hours first
    net4 = split_claim(0, 16 * 1_950_000 * 4, 100, 0)[0]
    _, first = _expected_split(net4, before)
    assert vault.incomeOf(dubai, usd) == first[dubai.address] and vault.balanceOf(dubai) == 0
    time_travel.at(started + 8 * HOUR)
    vault.harvest(sender=dubai)
    after = {w.address: vault.balanceOf(w) for w in investors if vault.balanceOf(w)}
    _, second = _expected_split(split_claim(0, 16 * 1_950_000 * 8, 100, 0)[0] - net4, after)
    assert vault.incomeOf(dubai, usd) == first[dubai.address]  # nothing after it sold its shares
    assert vault.incomeOf(us, usd) == first[us.address] + second[us.address]  # 3/10 for 4 h, then 9/10
    assert vault.incomeOf(korea, usd) == first[korea.address] + second[korea.address]


def test_withdraw_income__pays_each_token_once(
    vault_offer, vault, market, usd, open_rental, renter, provider2, investors, time_travel
):
    dubai = investors[0]
    rid, started = _running(vault, market, open_rental, renter, provider2, vault_offer)
    time_travel.at(started + 2 * HOUR)
    market.stopRental(rid, sender=renter)  # the bill is final: nothing streams after this
    vault.harvest(sender=dubai)
    owed = vault.incomeOf(dubai, usd)
    before = usd.balanceOf(dubai)
    tx = vault.withdrawIncome(usd, sender=dubai)
    assert usd.balanceOf(dubai) == before + owed and tx.return_value == owed
    [ev] = tx.decode_logs(vault.IncomeWithdrawn)
    assert (ev.account, ev.token, ev.amount) == (dubai.address, usd.address, owed)
    with reverts(vault.VaultNoIncome, account=dubai.address, token=usd.address):
        vault.withdrawIncome(usd, sender=dubai)
    operator_owed = vault.incomeOf(provider2, usd)
    vault.withdrawIncome(usd, sender=provider2)
    assert usd.balanceOf(provider2) >= operator_owed


def test_income_in_two_tokens__is_kept_apart(
    vault, market, usd, gpuc, offer_params, open_rental, renter, provider2, investors, deposit, time_travel
):
    for who in investors:
        deposit(who, 4_000 * GPUC)
    for token, price in ((usd, 1_950_000), (gpuc, 2 * GPUC)):
        vault.callMarket(market.createOffer.encode_input(offer_params(token=token, price=price, gpus=8)), sender=provider2)
    usd_offer, gpuc_offer = market.nextOfferId() - 2, market.nextOfferId() - 1
    r1, t1 = _running(vault, market, open_rental, renter, provider2, usd_offer, gpus=8)
    r2, _ = _running(vault, market, open_rental, renter, provider2, gpuc_offer, gpus=8)
    time_travel.at(t1 + 5 * HOUR)
    vault.harvest(sender=renter)
    assert set(vault.incomeTokens()) == {usd.address, gpuc.address}
    for token in (usd, gpuc):
        owed = sum(vault.incomeOf(w, token) for w in investors) + vault.incomeOf(provider2, token)
        assert 0 < owed <= token.balanceOf(vault)  # GPUC income sits beside no principal: all of it is staked
    # GPUC income is not principal: the stake and the share price did not move.
    assert vault.totalAssets() == 12_000 * GPUC


def test_settled_rentals__are_dropped_by_pruning(
    vault_offer, vault, market, open_rental, renter, provider2, stranger, time_travel
):
    rid, started = _running(vault, market, open_rental, renter, provider2, vault_offer, hours=2)
    time_travel.at(started + 2 * HOUR + market.disputeWindow())
    market.release(rid, sender=stranger)  # settled: the last of the stream is pushed to the vault
    vault.harvest(sender=stranger)
    assert list(vault.trackedRentals()) == [rid]  # harvests skip it at the market; pruning drops it
    vault.pruneRentals(sender=stranger)  # anyone
    assert list(vault.trackedRentals()) == []


@pytest.mark.parametrize("who", ["renter", "stranger"])
def test_operator_only__offers_and_activation(vault, market, vault_offer, open_rental, renter, stranger, who, offer_params):
    caller = {"renter": renter, "stranger": stranger}[who]
    with reverts(vault.VaultNotOperator, caller=caller.address):
        vault.callMarket(market.createOffer.encode_input(offer_params()), sender=caller)
    rid = open_rental(vault_offer, renter, gpus=1, hours=2)
    with reverts(vault.VaultNotOperator, caller=caller.address):
        vault.activate(rid, sender=caller)
    with reverts(vault.VaultNotOperator, caller=caller.address):
        vault.proposeCommission(0, sender=caller)


def test_call_market__only_the_market_offer_functions(vault, market, provider2, vault_offer):
    vault.callMarket(market.pauseOffer.encode_input(vault_offer), sender=provider2)
    assert market.getOffer(vault_offer).status == 2  # Paused, by the vault as its provider
    data = market.withdrawCredits.encode_input(market.address)
    with reverts(vault.VaultCallNotAllowed, selector=bytes(data[:4])):
        vault.callMarket(data, sender=provider2)


def test_operator_signature__cannot_move_income_through_an_erc1271_token(
    vault, market, owner, deposit, investors, provider2, renter, stranger, offer_params, open_rental
):
    """A payment token that honours ERC-1271 in EIP-3009 authorizations (USDC v2.2 does) asks the vault
    itself: the vault answers only the market, so its operator cannot sign its income away."""
    from ape import project

    from conftest import advance
    from gpumarket.signed import sign_digest

    usdc = project.Eip3009Stablecoin.deploy(sender=owner)
    market.setPaymentToken(usdc, True, sender=owner)
    for who, amount in zip(investors, (6_000, 3_000, 1_000)):
        deposit(who, amount * GPUC)
    vault.callMarket(market.createOffer.encode_input(offer_params(token=usdc, gpus=16)), sender=provider2)
    offer_id = market.nextOfferId() - 1
    cost = market.quote(offer_id, 8, 24).cost
    usdc.mint(renter, cost, sender=renter)
    usdc.approve(market, cost, sender=renter)
    rid = market.openRental(offer_id, 8, 24, 2**96 - 1, "0x" + "00" * 20, 0, sender=renter).decode_logs(
        market.RentalOpened)[0].rentalId
    vault.activate(rid, sender=provider2)
    advance(12 * HOUR)
    vault.harvest(sender=stranger)
    held = usdc.balanceOf(vault)
    assert held > 0

    nonce = b"\x11" * 32
    h = usdc.authorizationDigest(vault, provider2, held, 0, 2**255, nonce)
    sig = sign_digest(bytes.fromhex(provider2.private_key.removeprefix("0x")), h)
    assert vault.isValidSignature(h, sig, sender=usdc.address) == bytes.fromhex("ffffffff")
    with reverts(usdc.AuthorizationInvalidSignature, **{"from": vault.address, "digest": h}):
        usdc.transferWithAuthorization(vault, provider2, held, 0, 2**255, nonce, sig, sender=stranger)
    assert usdc.balanceOf(vault) == held
    vault.harvest(sender=stranger)  # the vault's books still balance
    assert usdc.balanceOf(vault) >= held
