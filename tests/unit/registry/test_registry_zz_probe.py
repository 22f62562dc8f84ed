import ape
from conftest import GPUC

def test_probe(registry, market, accounts, chain, owner, staked, gpuc, provider2):
    chain.set_balance(market.address, 10**18)
    m = accounts[market.address]
    print(type(m), m.address)
    tx = registry.lock(staked, 5 * GPUC, sender=m)
    print(tx.decode_logs(registry.CollateralLocked))
    assert registry.providerOf(staked).locked == 5 * GPUC
    registry.register("x", sender=provider2)
    try:
        registry.stake(GPUC, sender=provider2)
    except Exception as e:
        print("ERR", type(e), repr(e), getattr(e, "message", None))
    with ape.reverts(gpuc.ERC20InsufficientAllowance):
        registry.stake(GPUC, sender=provider2)
