"""Deploys and wires the whole gpumarket system with ape.

Used by the tests' fixtures, the demo, and (later) the `gpumarket deploy` command, so that every
path deploys the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GPUC = 10**18
DAY = 86_400

#: Parameters of a fresh deployment; every one is bounded on chain (see README "Parameters").
DEFAULT_PARAMS: dict[str, int] = {
    "gpuc_supply": 1_000_000_000 * GPUC,  # fixed supply, minted once to the treasury
    "unbonding_period": 7 * DAY,  # registry: [1 day, 90 days]
    "min_stake": 1_000 * GPUC,  # registry: bonded stake needed to take rentals, <= 1e9 GPUC
    "protocol_fee_bps": 100,  # market: <= 1000
    "stake_per_gpu": 100 * GPUC,  # market: collateral per rented GPU, <= 1e6 GPUC
    "activation_window": 3600,  # market: [5 min, 7 days]
    "dispute_window": DAY,  # market: [1 h, 30 days]
    "no_show_penalty_bps": 1000,  # market: share of collateral slashed on a no-show, <= 10000
    "arbitration_timeout": 7 * DAY,  # market: [1 day, 60 days]; then anyone applies the default ruling
    "slash_treasury_bps": 2000,  # market: treasury's share of a dispute slash, <= 5000
}


@dataclass
class System:
    token: Any  # ComputeToken
    registry: Any  # ProviderRegistry
    market: Any  # ComputeMarket
    stablecoin: Any | None = None  # MockStablecoin on local chains
    params: dict[str, int] = field(default_factory=dict)


def deploy_system(
    deployer,
    treasury: str,
    *,
    owner: str | None = None,
    arbiter: str | None = None,
    with_mock_stablecoin: bool = True,
    params: dict[str, int] | None = None,
    project=None,
) -> System:
    """Deploys ComputeToken, ProviderRegistry and ComputeMarket, wires the registry to the market,
    allowlists the payment tokens and applies `params` (defaults: DEFAULT_PARAMS).

    The deployer stays owner until the end so it can configure; if `owner` differs, ownership is then
    offered to it (Ownable2Step: the new owner must call acceptOwnership)."""
    if project is None:
        from ape import project
    p = {**DEFAULT_PARAMS, **(params or {})}
    token = deployer.deploy(project.ComputeToken, treasury, p["gpuc_supply"])
    registry = deployer.deploy(project.ProviderRegistry, token, deployer, p["unbonding_period"], p["min_stake"])
    market = deployer.deploy(project.ComputeMarket, registry, deployer, treasury)
    registry.setMarket(market, sender=deployer)
    market.setPaymentToken(token, True, sender=deployer)
    stablecoin = None
    if with_mock_stablecoin:
        stablecoin = deployer.deploy(project.MockStablecoin)
        market.setPaymentToken(stablecoin, True, sender=deployer)
    if arbiter:
        market.setArbiter(arbiter, sender=deployer)
    _set_if_changed(market.protocolFeeBps, market.setProtocolFee, p["protocol_fee_bps"], deployer)
    _set_if_changed(market.stakePerGpu, market.setStakePerGpu, p["stake_per_gpu"], deployer)
    _set_if_changed(market.activationWindow, market.setActivationWindow, p["activation_window"], deployer)
    _set_if_changed(market.disputeWindow, market.setDisputeWindow, p["dispute_window"], deployer)
    _set_if_changed(market.noShowPenaltyBps, market.setNoShowPenalty, p["no_show_penalty_bps"], deployer)
    _set_if_changed(market.arbitrationTimeout, market.setArbitrationTimeout, p["arbitration_timeout"], deployer)
    _set_if_changed(market.slashTreasuryBps, market.setSlashTreasuryShare, p["slash_treasury_bps"], deployer)
    if owner and owner != deployer.address:
        registry.transferOwnership(owner, sender=deployer)
        market.transferOwnership(owner, sender=deployer)
    return System(token=token, registry=registry, market=market, stablecoin=stablecoin, params=p)


def _set_if_changed(getter, setter, value: int, sender) -> None:
    if getter() != value:
        setter(value, sender=sender)
