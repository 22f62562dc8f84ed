"""The registry's market hooks driven by the real ComputeMarket (not an impersonated caller)."""

from conftest import GPUC, PROVIDER_STAKE

COLLATERAL = 8 * 100 * GPUC  # stake_per_gpu × 8 GPUs
PENALTY = COLLATERAL * 1_000 // 10_000  # no_show_penalty_bps


def test_market_open_rental__locks_the_collateral_in_the_registry(
    registry, staked, create_offer, open_rental, renter, usd
):
    offer = create_offer(staked, token=usd)
    open_rental(offer, renter, gpus=8)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked) == (PROVIDER_STAKE, COLLATERAL)
    assert registry.freeStakeOf(staked) == PROVIDER_STAKE - COLLATERAL


def test_market_no_show_cancel__slashes_the_penalty_to_the_renter_and_unlocks_the_rest(
    registry, market, gpuc, usd, staked, create_offer, open_rental, renter, time_travel
):
    offer = create_offer(staked, token=usd)
    rental = open_rental(offer, renter, gpus=8)
    time_travel.at(market.getRental(rental).activationDeadline + 1)
    tx = market.cancelPending(rental, sender=renter)
    p = registry.providerOf(staked)
    assert (p.staked, p.locked) == (PROVIDER_STAKE - PENALTY, 0)
    assert gpuc.balanceOf(renter) == PENALTY
    assert gpuc.balanceOf(registry) == p.staked
    [slashed] = tx.decode_logs(registry.StakeSlashed)
    assert (slashed.amount, list(slashed.recipients), list(slashed.amounts)) == (PENALTY, [renter.address], [PENALTY])
    [unlocked] = tx.decode_logs(registry.CollateralUnlocked)
    assert (unlocked.amount, unlocked.locked) == (COLLATERAL - PENALTY, 0)
