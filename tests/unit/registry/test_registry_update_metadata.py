import pytest

from conftest import PROVIDER_STAKE
from reverts import reverts


def test_update_metadata__replaces_the_metadata_and_keeps_the_stake(registry, staked):
    tx = registry.updateMetadata("ipfs://bafy-a100-spec", sender=staked)
    assert registry.metadataOf(staked) == "ipfs://bafy-a100-spec"
    p = registry.providerOf(staked)
    assert p.registered is True
    assert p.staked == PROVIDER_STAKE
    [event] = tx.decode_logs(registry.MetadataUpdated)
    assert (event["provider"], event.metadata) == (staked.address, "ipfs://bafy-a100-spec")


def test_update_metadata__by_an_unregistered_address__reverts(registry, stranger):
    with reverts(registry.RegistryNotRegistered, provider=stranger.address):
        registry.updateMetadata("ipfs://x", sender=stranger)
    assert registry.metadataOf(stranger) == ""


@pytest.mark.parametrize("length", [1, 512])
def test_update_metadata__at_the_length_bounds__succeeds(registry, staked, length):
    registry.updateMetadata("b" * length, sender=staked)
    assert registry.metadataOf(staked) == "b" * length


@pytest.mark.parametrize("length", [0, 513])
def test_update_metadata__outside_the_length_bounds__reverts(registry, staked, length):
    before = registry.metadataOf(staked)
    with reverts(registry.RegistryInvalidMetadata, length=length):
        registry.updateMetadata("b" * length, sender=staked)
    assert registry.metadataOf(staked) == before
