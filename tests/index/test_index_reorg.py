"""The index survives a reorganised chain: what the reorg removed is rolled back, what replaced it is
indexed, and every entity again equals the chain's views. The reorg is made with anvil's snapshots:
the index reads blocks N+1.. of one history, the chain goes back to N and mines another."""

import pytest
from ape import chain

from compare import disagreements
from index_support import abis, open_index, record  # noqa: F401 (fixtures)
from gpumarket.index import KEEP_BLOCKS, IndexError_


def test_a_reorg__rolls_back_the_removed_blocks_and_indexes_the_new_ones(
    open_index, market, registry, usd, gpuc, provider, provider2, renter, stake_provider, create_offer, open_rental
):
    stake_provider(provider)
    offer = create_offer(provider, gpus=8)
    idx = open_index()
    idx.refresh()
    fork = chain.snapshot()
    fork_block = chain.blocks.head.number

    # History A: a rental and a second offer, indexed.
    rental_a = open_rental(offer, renter, gpus=6, hours=5)
    create_offer(provider, gpus=2, region="EU-DE")
    idx.refresh()
    assert idx.rental(rental_a)["gpus"] == 6
    assert len(idx.offers(include_all=True)) == 2

    # History B replaces it from the fork: a different rental, another provider, more blocks than A.
    chain.restore(fork)
    assert chain.blocks.head.number == fork_block
    stake_provider(provider2)
    rental_b = open_rental(offer, renter, gpus=1, hours=9)
    assert rental_b == rental_a  # the same id, another rental
    chain.mine(3)
    done = idx.refresh()

    assert done["rolled_back"] >= 1
    assert idx.rental(rental_b)["gpus"] == 1 and idx.rental(rental_b)["hours_paid"] == 9
    assert len(idx.offers(include_all=True)) == 1  # history A's second offer is gone
    assert idx.rows("SELECT gpus_in_use FROM offers WHERE id = ?", (offer,))[0]["gpus_in_use"] == 1
    found = disagreements(idx, market, registry, [usd, gpuc], [provider, provider2, renter])
    assert not found, "\n".join(found)
    hashes = dict(idx.db.execute("SELECT number, hash FROM blocks"))
    head = chain.blocks.head.number
    assert hashes[head].removeprefix("0x") == chain.blocks[head].hash.hex().removeprefix("0x")


def test_a_reorg_deeper_than_the_kept_blocks__is_refused_with_a_sentence(open_index, provider, stake_provider,
                                                                         create_offer):
    stake_provider(provider)
    create_offer(provider)
    idx = open_index()
    idx.refresh()
    # Forge the kept window: every kept hash differs from the chain's, and the window starts above the
    # deployment block, as after a reorg deeper than KEEP_BLOCKS.
    idx.db.execute("UPDATE blocks SET hash = '0x' || printf('%064d', number)")
    idx.db.execute("DELETE FROM blocks WHERE number < (SELECT max(number) FROM blocks)")
    with pytest.raises(IndexError_, match=rf"deeper than the {KEEP_BLOCKS} blocks the index keeps"):
        idx.refresh()


def test_an_index_file__of_another_deployment_or_not_an_index__is_refused(open_index, tmp_path, record):
    idx = open_index()
    idx.refresh()
    idx.close()
    other = {"contracts": dict(record["contracts"], ComputeMarket={"address": "0x" + "12" * 20, "block": 0})}
    from gpumarket.index import Index, build_abis

    with pytest.raises(IndexError_, match="belongs to another chain or deployment"):
        Index.open(tmp_path / "index.sqlite", chain.provider.uri, other, abis=build_abis())
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(IndexError_, match="is not a gpumarket index"):
        Index.open(garbage, chain.provider.uri, record, abis=build_abis())
