import pytest

from reverts import reverts

METADATA = "ipfs://bafy-h100-spec"


def test_register__records_the_provider_with_no_stake(registry, provider):
    tx = registry.register(METADATA, sender=provider)
    p = registry.providerOf(provider)
    assert p.registered is True
    assert (p.staked, p.locked, p.unbonding, p.unbondingReadyAt) == (0, 0, 0, 0)
    assert registry.metadataOf(provider) == METADATA
    [event] = tx.decode_logs(registry.ProviderRegistered)
    assert (event["provider"], event.metadata) == (provider.address, METADATA)


def test_register__twice__reverts(registry, provider):
    registry.register(METADATA, sender=provider)
    with reverts(registry.RegistryAlreadyRegistered, provider=provider.address):
        registry.register("ipfs://other", sender=provider)
    assert registry.metadataOf(provider) == METADATA


def test_register__does_not_make_the_provider_active_without_stake(registry, provider):
    registry.register(METADATA, sender=provider)
    assert registry.isActive(provider) is False
    assert registry.freeStakeOf(provider) == 0


@pytest.mark.parametrize("length", [1, 512])
def test_register__with_metadata_at_the_length_bounds__succeeds(registry, provider, length):
    metadata = "a" * length
    registry.register(metadata, sender=provider)
    assert registry.metadataOf(provider) == metadata
    assert registry.providerOf(provider).registered is True


@pytest.mark.parametrize("length", [0, 513])
def test_register__with_metadata_outside_the_length_bounds__reverts(registry, provider, length):
    with reverts(registry.RegistryInvalidMetadata, length=length):
        registry.register("a" * length, sender=provider)
    assert registry.providerOf(provider).registered is False


def test_register__metadata_length_is_counted_in_bytes_not_characters(registry, provider):
    # "€" is 3 bytes in UTF-8: 171 characters are 513 bytes.
    with reverts(registry.RegistryInvalidMetadata, length=513):
        registry.register("€" * 171, sender=provider)
    registry.register("€" * 170, sender=provider)
    assert registry.metadataOf(provider) == "€" * 170
