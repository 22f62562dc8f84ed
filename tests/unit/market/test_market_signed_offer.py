"""ComputeMarket.openSignedRental, cancelSignedOffer, cancelSignedOffersBelow: offers signed off-chain
(EIP-712), recorded at their first fill, capacity counted per offer hash."""

import pytest
from ape import chain
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from conftest import DAY, PRICE_USD, ZERO
from gpumarket.signed import Domain, digest
from reverts import reverts

BASE = 1_000_000_000  # SIGNED_OFFER_ID_BASE


@pytest.fixture
def signer(staked):
    return staked


def test_hash__the_contract_the_client_and_eth_account_agree(market, domain, sign_offer, signer, renter):
    offer, _ = sign_offer(signer, tiers=((100, 250), (1_000, 500)), reserved_for=renter.address, nonce=2**200)
    typed = encode_typed_data(full_message=offer.typed_data(domain))
    expected = keccak(b"\x19" + typed.version + typed.header + typed.body)
    assert digest(offer, domain) == expected
    assert market.hashSignedOffer(offer.as_tuple()) == expected
    domain_fields = market.eip712Domain()
    assert (domain_fields.name, domain_fields.version, domain_fields.chainId, domain_fields.verifyingContract) == \
        ("gpumarket", "1", chain.chain_id, market.address)


def test_first_fill__records_the_offer_and_opens_an_ordinary_rental(
    market, registry, usd, params, sign_offer, fill_signed, signer, renter, domain
):
    offer, sig = sign_offer(signer, gpus=16, tiers=((100, 250),))
    h = digest(offer, domain)
    assert market.signedOfferOf(h) == (0, False)
    locked = registry.providerOf(signer).locked

    tx = fill_signed(offer, sig, renter, gpus=8, hours=24)

    [recorded] = tx.decode_logs(market.SignedOfferRecorded)
    # ("provider" is also an attribute of ape's log object: read the argument by key.)
    assert (recorded.offerId, bytes(recorded.offerHash), recorded["provider"], recorded.expiry, recorded.nonce) == \
        (BASE + 1, h, signer.address, offer.expiry, 1)
    [created] = tx.decode_logs(market.OfferCreated)
    assert (created.offerId, created.gpuModel, created.region, created.gpusOffered) == \
        (BASE + 1, "H100-SXM-80GB", "AU-QLD", 16)
    assert market.signedOfferOf(h) == (BASE + 1, False)
    o = market.getOffer(BASE + 1)
    assert (o.provider, o.gpusOffered, o.gpusInUse, o.minHours, o.maxHours, o.maxBrokerBps, o.status, o.reserved,
            o.paymentToken, o.pricePerGpuHour) == \
        (signer.address, 16, 8, 1, 720, 500, 1, False, usd.address, PRICE_USD)
    assert [tuple(t) for t in market.offerTiers(BASE + 1)] == [(100, 250)]
    [opened] = tx.decode_logs(market.RentalOpened)
    r = market.getRental(opened.rentalId)
    cost = market.quote(BASE + 1, 8, 24).cost  # 192 GPU-hours reach the 2.5 % tier
    assert cost == (8 * PRICE_USD * 9_750 + 9_999) // 10_000 * 24
    assert (r.offerId, r.gpus, r.total, r.discountBps, r.renter, r.status) == (BASE + 1, 8, cost, 250, renter.address, 1)
    assert registry.providerOf(signer).locked == locked + 8 * params["stake_per_gpu"]


def test_later_fills__share_the_record_and_its_capacity_until_rentals_end(
    market, sign_offer, fill_signed, signer, renter, payer, domain
):
    offer, sig = sign_offer(signer, gpus=8)
    first = fill_signed(offer, sig, renter, gpus=5).decode_logs(market.RentalOpened)[0].rentalId
    fill_signed(offer, b"", payer, gpus=2)  # a recorded offer's signature was checked at its first fill
    assert market.getOffer(BASE + 1).gpusInUse == 7
    with reverts(market.MarketInsufficientCapacity, offerId=BASE + 1, available=1, requested=2):
        fill_signed(offer, sig, renter, gpus=2)
    market.activate(first, sender=signer)
    market.stopRental(first, sender=renter)  # five GPUs come back
    fill_signed(offer, sig, renter, gpus=6)
    assert market.getOffer(BASE + 1).gpusInUse == 8
    assert market.signedOfferOf(digest(offer, domain)) == (BASE + 1, False)


def test_two_signed_offers__get_their_own_records(market, sign_offer, fill_signed, signer, renter):
    a, sig_a = sign_offer(signer, nonce=1)
    b, sig_b = sign_offer(signer, nonce=2)
    fill_signed(a, sig_a, renter, gpus=8)
    fill_signed(b, sig_b, renter, gpus=8)
    assert (market.getOffer(BASE + 1).gpusInUse, market.getOffer(BASE + 2).gpusInUse) == (8, 8)


@pytest.mark.parametrize("where", ["another market", "another chain"])
def test_a_signature_for_another_domain__is_refused(market, sign_offer, fill_signed, signer, renter, domain,
                                                    stranger, where):
    other = Domain(domain.chain_id, stranger.address) if where == "another market" else \
        Domain(domain.chain_id + 1, domain.market)
    offer, sig = sign_offer(signer, in_domain=other)
    with reverts(market.MarketInvalidSignature, offerHash=digest(offer, domain), provider=signer):
        fill_signed(offer, sig, renter)


def test_a_wrong_signer__is_refused(market, sign_offer, fill_signed, signer, stranger, renter, domain):
    offer, sig = sign_offer(stranger, provider=signer)
    with reverts(market.MarketInvalidSignature, offerHash=digest(offer, domain), provider=signer):
        fill_signed(offer, sig, renter)
    offer, sig = sign_offer(signer)
    with reverts(market.MarketInvalidSignature, offerHash=digest(offer, domain), provider=signer):
        fill_signed(offer, sig[:64] + bytes([sig[64] ^ 1]), renter)  # the other recovery id: another key


def test_changed_terms__are_another_offer_whose_signature_fails(market, sign_offer, fill_signed, signer, renter, domain):
    offer, sig = sign_offer(signer, price_per_gpu_hour=PRICE_USD)
    cheaper = type(offer)(**{**offer.__dict__, "price_per_gpu_hour": PRICE_USD - 1})
    with reverts(market.MarketInvalidSignature, offerHash=digest(cheaper, domain), provider=signer):
        fill_signed(cheaper, sig, renter)


def test_an_expired_offer__is_refused_after_its_last_second(market, sign_offer, fill_signed, signer, renter, domain):
    offer, sig = sign_offer(signer, expiry=chain.pending_timestamp + 600)
    fill_signed(offer, sig, renter, gpus=1, at=offer.expiry)  # its last second: still fillable
    with reverts(market.MarketSignedOfferExpired, offerHash=digest(offer, domain), expiry=offer.expiry):
        fill_signed(offer, sig, renter, gpus=1, at=offer.expiry + 1)


def test_cancel__stops_fills_and_closes_the_record(market, sign_offer, fill_signed, signer, renter, domain):
    offer, sig = sign_offer(signer)
    h = digest(offer, domain)
    rid = fill_signed(offer, sig, renter, gpus=4).decode_logs(market.RentalOpened)[0].rentalId
    market.activate(rid, sender=signer)

    tx = market.cancelSignedOffer(offer.as_tuple(), sender=signer)

    [ev] = tx.decode_logs(market.SignedOfferCancelled)
    assert (bytes(ev.offerHash), ev["provider"], ev.offerId) == (h, signer.address, BASE + 1)
    assert market.signedOfferOf(h) == (BASE + 1, True)
    assert market.getOffer(BASE + 1).status == 3  # Closed: its rentals cannot be extended
    with reverts(market.MarketSignedOfferCancelled, offerHash=h):
        fill_signed(offer, sig, renter, gpus=1)
    with reverts(market.MarketOfferNotActive, offerId=BASE + 1, status=3):
        market.extend(rid, 1, sender=renter)
    with reverts(market.MarketSignedOfferCancelled, offerHash=h):
        market.cancelSignedOffer(offer.as_tuple(), sender=signer)
    assert market.stopRental(rid, sender=renter)  # running rentals go on


def test_cancel__before_any_fill__and_only_by_its_provider(market, sign_offer, fill_signed, signer, stranger,
                                                            renter, domain, owner):
    offer, sig = sign_offer(signer)
    h = digest(offer, domain)
    with reverts(market.MarketNotSignedOfferProvider, offerHash=h, caller=stranger):
        market.cancelSignedOffer(offer.as_tuple(), sender=stranger)
    market.pause(sender=owner)
    market.cancelSignedOffer(offer.as_tuple(), sender=signer)  # cancelling works while paused
    market.unpause(sender=owner)
    assert market.signedOfferOf(h) == (0, True)
    with reverts(market.MarketSignedOfferCancelled, offerHash=h):
        fill_signed(offer, sig, renter)


def test_nonce_floor__cancels_every_offer_below_it(market, sign_offer, fill_signed, signer, renter, domain):
    low, sig_low = sign_offer(signer, nonce=4)
    high, sig_high = sign_offer(signer, nonce=5)

    tx = market.cancelSignedOffersBelow(5, sender=signer)

    [ev] = tx.decode_logs(market.SignedNonceFloorRaised)
    assert (ev["provider"], ev.nonceFloor) == (signer.address, 5)
    assert market.signedNonceFloor(signer) == 5
    with reverts(market.MarketSignedOfferNonceCancelled, offerHash=digest(low, domain), nonce=4, nonceFloor=5):
        fill_signed(low, sig_low, renter)
    fill_signed(high, sig_high, renter)
    with reverts(market.MarketNonceFloorNotRaised, nonce=5, nonceFloor=5):
        market.cancelSignedOffersBelow(5, sender=signer)


def test_a_record__is_filled_only_with_its_signature(market, usd, sign_offer, fill_signed, signer, renter, payer,
                                                      fund):
    """openRental, openRentalFor and a cluster's on-chain part refuse a record's id: otherwise an expired
    or cancelled-by-floor offer would go on filling at its old terms, and its provider, who thinks it
    ended, would be charged the no-show penalty."""
    offer, sig = sign_offer(signer, expiry=chain.pending_timestamp + 3_600, nonce=1)
    fill_signed(offer, sig, renter, gpus=1, hours=1)
    fund(renter, usd, 10**12)
    usd.approve(market, 10**12, sender=renter)
    with reverts(market.MarketSignedOfferNeedsSignature, offerId=BASE + 1):
        market.openRental(BASE + 1, 1, 1, PRICE_USD, ZERO, 0, sender=renter)
    with reverts(market.MarketSignedOfferNeedsSignature, offerId=BASE + 1):
        market.openRentalFor(payer, BASE + 1, 1, 1, PRICE_USD, ZERO, 0, sender=renter)
    with reverts(market.MarketSignedOfferNeedsSignature, offerId=BASE + 1):
        market.bookCluster(renter, 1, [(BASE + 1, 1)], [], 10**12, ZERO, 0, sender=renter)
    # With its signature, the floor and the expiry are checked as on every fill.
    market.cancelSignedOffersBelow(2, sender=signer)
    with reverts(market.MarketSignedOfferNonceCancelled, offerHash=market.hashSignedOffer(offer.as_tuple()), nonce=1,
                 nonceFloor=2):
        fill_signed(offer, b"", renter, gpus=1, hours=1)
    assert market.getOffer(BASE + 1).gpusInUse == 1


def test_a_reserved_offer__fills_only_for_its_renter(market, sign_offer, fill_signed, signer, renter, payer):
    offer, sig = sign_offer(signer, reserved_for=renter.address)
    with reverts(market.MarketOfferReserved, offerId=BASE + 1, reservedFor=renter, renter=payer):
        fill_signed(offer, sig, payer)
    fill_signed(offer, sig, renter, payer=payer)  # a third party may pay for the reserved renter
    o = market.getOffer(BASE + 1)
    assert (o.reserved, o.reservedFor) == (True, renter.address)


def test_the_record_cannot_be_updated_but_can_be_paused_and_closed(market, sign_offer, fill_signed, signer, renter):
    offer, sig = sign_offer(signer)
    fill_signed(offer, sig, renter, gpus=1)
    with reverts(market.MarketSignedOfferTermsFixed, offerId=BASE + 1):
        market.updateOffer(BASE + 1, 1, 8, 1, 720, ZERO, 0, [], sender=signer)
    market.pauseOffer(BASE + 1, sender=signer)
    with reverts(market.MarketOfferNotActive, offerId=BASE + 1, status=2):
        fill_signed(offer, sig, renter, gpus=1)
    market.closeOffer(BASE + 1, sender=signer)
    with reverts(market.MarketOfferNotActive, offerId=BASE + 1, status=3):
        fill_signed(offer, sig, renter, gpus=1)


@pytest.mark.parametrize(("terms", "error", "args"), [
    ({"gpu_model": ""}, "MarketInvalidLabel", {"length": 0}),
    ({"region": "x" * 33}, "MarketInvalidLabel", {"length": 33}),
    ({"price_per_gpu_hour": 0}, "MarketInvalidPrice", {"price": 0}),
    ({"gpus": 0}, "MarketInvalidGpuCount", {"gpus": 0}),
    ({"min_hours": 5, "max_hours": 4}, "MarketInvalidHourBounds", {"minHours": 5, "maxHours": 4}),
    ({"max_broker_bps": 1_001}, "MarketBrokerBpsAboveMax", {"brokerBps": 1_001, "maxBrokerBps": 1_000}),
    ({"tiers": ((10, 500), (5, 600))}, "MarketInvalidTiers", {"index": 1}),
])
def test_terms_out_of_bounds__are_refused_at_the_first_fill(market, sign_offer, fill_signed, signer, renter,
                                                             terms, error, args):
    offer, sig = sign_offer(signer, **terms)
    with reverts(getattr(market, error), **args):
        fill_signed(offer, sig, renter, gpus=1, hours=5)


def test_an_unregistered_signer__cannot_be_filled(market, registry, sign_offer, fill_signed, stranger, renter):
    offer, sig = sign_offer(stranger)
    with reverts(registry.RegistryProviderNotActive, provider=stranger, bonded=0, minStake=registry.minStake()):
        fill_signed(offer, sig, renter, gpus=1)


def test_a_fill_while_paused__is_refused(market, sign_offer, fill_signed, signer, renter, owner):
    offer, sig = sign_offer(signer)
    market.pause(sender=owner)
    with reverts(market.EnforcedPause):
        fill_signed(offer, sig, renter)


def test_a_zero_renter__is_refused(market, sign_offer, signer, payer):
    offer, sig = sign_offer(signer)
    with reverts(market.MarketZeroAddress):
        market.openSignedRental(offer.as_tuple(), sig, ZERO, 1, 1, PRICE_USD, ZERO, 0, sender=payer)


def test_the_price_guard__applies_to_signed_offers(market, sign_offer, fill_signed, signer, renter):
    offer, sig = sign_offer(signer)
    with reverts(market.MarketPriceAboveMax, offerId=BASE + 1, price=PRICE_USD, maxPrice=PRICE_USD - 1):
        fill_signed(offer, sig, renter, max_price=PRICE_USD - 1)


def test_a_signed_rental__runs_like_any_other(market, usd, sign_offer, fill_signed, signer, renter, params,
                                              treasury):
    offer, sig = sign_offer(signer)
    rid = fill_signed(offer, sig, renter, gpus=8, hours=2).decode_logs(market.RentalOpened)[0].rentalId
    market.activate(rid, sender=signer)
    chain.pending_timestamp += 2 * 3600 + params["dispute_window"]
    before = usd.balanceOf(signer)
    market.release(rid, sender=treasury)
    total = 8 * PRICE_USD * 2
    fee = total * params["protocol_fee_bps"] // 10_000
    assert usd.balanceOf(signer) - before == total - fee
    assert market.getRental(rid).status == 5  # Settled
    assert market.reputationOf(signer).rentalsCompleted == 1
    assert market.getOffer(BASE + 1).gpusInUse == 0


# ───────────────────────────── a vault signs through ERC-1271 ─────────────────────────────


def test_a_vault__signs_through_its_operator(market, vault, vault_offer, sign_offer, fill_signed, provider2,
                                             stranger, renter, domain):
    offer, sig = sign_offer(provider2, provider=vault)
    h = digest(offer, domain)
    # The vault answers the market (the staticcall of its SignatureChecker), and only the market.
    assert vault.isValidSignature(h, sig, sender=market.address) == bytes.fromhex("1626ba7e")
    assert vault.isValidSignature(h, sig, sender=stranger) == bytes.fromhex("ffffffff")
    forged, forged_sig = sign_offer(stranger, provider=vault)
    assert vault.isValidSignature(digest(forged, domain), forged_sig, sender=market.address) == bytes.fromhex("ffffffff")
    with reverts(market.MarketInvalidSignature, offerHash=digest(forged, domain), provider=vault):
        fill_signed(forged, forged_sig, renter)

    rid = fill_signed(offer, sig, renter, gpus=8).decode_logs(market.RentalOpened)[0].rentalId

    assert market.getOffer(market.getRental(rid).offerId).provider == vault.address
    vault.activate(rid, sender=provider2)
    assert rid in vault.trackedRentals()
    # The operator cancels the vault's signed offers through callMarket.
    vault.callMarket(market.cancelSignedOffer.encode_input(offer.as_tuple()), sender=provider2)
    assert market.signedOfferOf(h)[1] is True
    vault.callMarket(market.cancelSignedOffersBelow.encode_input(9), sender=provider2)
    assert market.signedNonceFloor(vault) == 9


def test_deadline_is_expiry_not_activation(market, sign_offer, fill_signed, signer, renter, params):
    """A rental filled at the offer's last second still gets the whole activation window."""
    offer, sig = sign_offer(signer, expiry=chain.pending_timestamp + DAY)
    rid = fill_signed(offer, sig, renter, gpus=1, at=offer.expiry).decode_logs(market.RentalOpened)[0].rentalId
    assert market.getRental(rid).activationDeadline == offer.expiry + params["activation_window"]
    chain.pending_timestamp = offer.expiry + params["activation_window"]
    market.activate(rid, sender=signer)
    assert market.getRental(rid).status == 2
