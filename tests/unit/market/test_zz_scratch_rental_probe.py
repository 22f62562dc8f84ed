import ape
from ape import chain
import pytest
from conftest import GPUC, ZERO

@pytest.mark.parametrize("pay_token", ["usd"], indirect=True)
def test_probe_rental(market, registry, offer_id, open_rental, renter, provider, owner, time_travel, pay_token):
    market.setStakePerGpu(2000 * GPUC, sender=owner)
    try:
        open_rental(offer_id, renter)
    except Exception as e:
        print("EXC", type(e), type(e).__mro__, repr(e), getattr(e, "inputs", None))
    with ape.reverts(registry.RegistryInsufficientFreeStake, provider=provider.address, free=10_000 * GPUC, needed=16_000 * GPUC):
        open_rental(offer_id, renter)
    market.setStakePerGpu(100 * GPUC, sender=owner)
    rid = open_rental(offer_id, renter)
    ts = time_travel.now() + 5
    time_travel.at(ts)
    tx = market.activate(rid, sender=provider)
    print("tx.timestamp", tx.timestamp, ts, chain.blocks.head.timestamp)
    time_travel.at(ts + 100)
    with ape.reverts(market.MarketNotRenter):
        market.stopRental(rid, sender=provider)
    print("after revert pending", chain.pending_timestamp, chain.blocks.head.timestamp)
    tx = market.claim(rid, sender=owner)
    print("claim ts", tx.timestamp)
    print([ (l.event_name, dict(l.event_arguments)) for l in tx.decode_logs(pay_token.Transfer)])
    print(market.getRental(rid))
    print(tx.return_value)
    assert 0
