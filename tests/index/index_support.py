"""Fixtures of the event-index tests: an index file over the session's anvil and the deployed system."""

import pytest
from ape import chain

from gpumarket.index import Index, build_abis


@pytest.fixture
def record(system):
    """The deployment record of the test system (what `gpumarket deploy` writes), from block 0."""
    return {"contracts": {name: {"address": c.address, "block": 0} for name, c in system.contracts.items()}}


@pytest.fixture(scope="session")
def abis():
    return build_abis()


@pytest.fixture
def open_index(tmp_path, record, abis):
    """open_index(step=2000) -> a new Index on the session's node, in a temporary file."""
    opened = []

    def open_index(step: int = 2_000, path=None):
        idx = Index.open(path or tmp_path / "index.sqlite", chain.provider.uri, record, abis=abis, step=step)
        opened.append(idx)
        return idx

    yield open_index
    for idx in opened:
        idx.close()
