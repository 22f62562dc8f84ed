"""The deployed configuration and the views of offers that do not exist."""

from conftest import ZERO


def test_deployment__parameters_match_default_params(market, params, registry, owner, treasury, arbiter, usd, gpuc):
    assert market.protocolFeeBps() == params["protocol_fee_bps"]
    assert market.stakePerGpu() == params["stake_per_gpu"]
    assert market.activationWindow() == params["activation_window"]
    assert market.disputeWindow() == params["dispute_window"]
    assert market.noShowPenaltyBps() == params["no_show_penalty_bps"]
    assert (market.owner(), market.treasury(), market.arbiter()) == (owner.address, treasury.address, arbiter.address)
    assert market.registry() == registry.address
    assert market.isPaymentToken(usd) and market.isPaymentToken(gpuc)
    assert (market.nextOfferId(), market.nextRentalId()) == (1, 1)
    assert not market.paused()


def test_offer_views__of_an_unknown_offer__are_empty(market):
    o = market.getOffer(1)
    assert (o.provider, o.status, o.gpusOffered, o.tiers) == (ZERO, 0, 0, 0)
    assert tuple(market.offerLabels(1)) == ("", "")
    assert list(market.offerTiers(1)) == []
