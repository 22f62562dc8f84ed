"""Deploys and wires the whole gpumarket system with ape, idempotently.

One code path for every deployment: the tests' fixtures and the demo call `deploy_system`, the
`gpumarket deploy` command drives the same `Deployer` step by step (printing each step, asking before a
live network, re-using whatever the deployment record already has on chain) and writes
`deployments/<ecosystem>-<network>.json` (a local node's: `<ecosystem>-local-<port>.json`, `rpc.record_name`).

Per-network parameters live in `deployments/parameters.toml` ([default] plus one table per
`<ecosystem>-<network>`); every value is bounded on chain (see README "Parameters").
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

GPUC = 10**18
DAY = 86_400
ZERO = "0x0000000000000000000000000000000000000000"

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

#: (parameter, contract attribute, getter, setter), in the order the deployer applies them.
SETTINGS: tuple[tuple[str, str, str, str], ...] = (
    ("unbonding_period", "registry", "unbondingPeriod", "setUnbondingPeriod"),
    ("min_stake", "registry", "minStake", "setMinStake"),
    ("protocol_fee_bps", "market", "protocolFeeBps", "setProtocolFee"),
    ("stake_per_gpu", "market", "stakePerGpu", "setStakePerGpu"),
    ("activation_window", "market", "activationWindow", "setActivationWindow"),
    ("dispute_window", "market", "disputeWindow", "setDisputeWindow"),
    ("no_show_penalty_bps", "market", "noShowPenaltyBps", "setNoShowPenalty"),
    ("arbitration_timeout", "market", "arbitrationTimeout", "setArbitrationTimeout"),
    ("slash_treasury_bps", "market", "slashTreasuryBps", "setSlashTreasuryShare"),
)

PARAMETERS_FILE = Path("deployments") / "parameters.toml"


@dataclass
class System:
    token: Any  # ComputeToken
    registry: Any  # ProviderRegistry
    market: Any  # ComputeMarket
    stablecoin: Any | None = None  # MockStablecoin on local chains and testnets
    params: dict[str, int] = field(default_factory=dict)
    #: Every deployed contract by name (the market's modules included).
    contracts: dict[str, Any] = field(default_factory=dict)


#: The roles a deployment names: each an address of the parameters (or "env:NAME"), or the deployer when unset.
ROLES = ("treasury", "arbiter", "owner")


def load_parameters(network_key: str, path: Path | None = None) -> dict[str, Any]:
    """The deployment parameters for `<ecosystem>-<network>`: DEFAULT_PARAMS, then the file's
    [default] table, then the network's own table. Addresses may be given as "env:NAME".

    Every address is checked as the CLI checks a typed one (`parse.parse_address`: 0x and 40 hex digits,
    a correct EIP-55 checksum if it mixes case, not the zero address), with a sentence naming where it came
    from; `role_sources` names where each role's address is read (the variable or the file; None: not a
    parameter). An unset role is the deployer (`Deployer`)."""
    from gpumarket.parse import parse_address

    path = path or PARAMETERS_FILE
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    merged: dict[str, Any] = {"mock_stablecoin": True, "payment_tokens": {}, **DEFAULT_PARAMS}
    for table in (data.get("default", {}), data.get(network_key, {})):
        for key, value in table.items():
            if key == "payment_tokens":
                merged["payment_tokens"] = {**merged["payment_tokens"], **value}
            else:
                merged[key] = value
    merged["role_sources"] = {}
    for key in ROLES:
        value = merged.get(key)
        source = str(path) if value else None
        if isinstance(value, str) and value.startswith("env:"):
            source = value[4:]
            value = os.environ.get(source, "").strip() or None
        merged[key] = parse_address(value, f"{key} address in {source}") if value else None
        merged["role_sources"][key] = source
    merged["payment_tokens"] = {symbol: parse_address(address, f"{symbol} payment token address in {path}")
                                for symbol, address in merged["payment_tokens"].items()}
    return merged


def deployment_path(directory: Path, ecosystem: str, network: str) -> Path:
    return Path(directory) / f"{ecosystem}-{network}.json"


def read_record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_record(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


@dataclass
class Step:
    """One action of a deployment: `needed()` reads the chain, `run()` sends the transaction(s)."""

    label: str
    needed: Callable[[], bool]
    run: Callable[[], None]
    #: Contracts whose absence makes the step necessary without reading (they are deployed first).
    after: tuple[str, ...] = ()


class Deployer:
    """Builds the list of steps that bring a chain to the wanted deployment, re-using every contract
    the record names that still has code, and applies them in order.

    `record` is the deployment record (the JSON file's content, or {} for a fresh chain); it is
    updated in place after every deployment so an interrupted run resumes where it stopped."""

    #: The market runs offers, disputes, governance and bookings in four modules (DELEGATECALL targets deployed
    #: with the registry's address, docs/architecture.md); they are deployed before it.
    MODULES = ("OfferModule", "DisputeModule", "AdminModule", "BookingModule")
    CONTRACTS = ("ComputeToken", "ProviderRegistry", *MODULES, "ComputeMarket", "VaultFactory", "MockStablecoin")

    def __init__(self, deployer, params: dict[str, Any], record: dict[str, Any] | None = None, *,
                 project=None, on_record: Callable[[dict], None] | None = None):
        if project is None:
            from ape import project
        self.project = project
        self.deployer = deployer
        self.p = params
        self.record = record if record is not None else {}
        self.record.setdefault("contracts", {})
        self.on_record = on_record or (lambda record: None)
        self.treasury = params.get("treasury") or deployer.address
        self.arbiter = params.get("arbiter") or deployer.address  # never unset: a dispute needs someone to rule
        self.owner = params.get("owner") or deployer.address
        self.contracts: dict[str, Any] = {}
        for name in self.CONTRACTS:
            entry = self.record["contracts"].get(name)
            if entry and self._has_code(entry["address"]):
                self.contracts[name] = getattr(project, name).at(entry["address"])

    @staticmethod
    def _has_code(address: str) -> bool:
        from ape import chain

        return len(chain.provider.get_code(address)) > 0

    def wanted(self) -> tuple[str, ...]:
        return tuple(n for n in self.CONTRACTS if n != "MockStablecoin" or self.p.get("mock_stablecoin", True))

    def missing(self) -> list[str]:
        return [name for name in self.wanted() if name not in self.contracts]

    def steps(self) -> list[Step]:
        p, c = self.p, self.contracts
        steps = [
            Step("deploy ComputeToken", lambda: "ComputeToken" not in c,
                 lambda: self._deploy("ComputeToken", self.treasury, p["gpuc_supply"])),
            Step("deploy ProviderRegistry", lambda: "ProviderRegistry" not in c,
                 lambda: self._deploy("ProviderRegistry", c["ComputeToken"], self.deployer,
                                      p["unbonding_period"], p["min_stake"])),
        ]
        for module in self.MODULES:
            steps.append(Step(f"deploy {module}", lambda m=module: m not in c and "ComputeMarket" not in c,
                              lambda m=module: self._deploy(m, c["ProviderRegistry"])))
        steps.append(Step("deploy ComputeMarket", lambda: "ComputeMarket" not in c,
                          lambda: self._deploy("ComputeMarket", c["ProviderRegistry"], self.deployer, self.treasury,
                                               self.arbiter, [c[m] for m in self.MODULES])))
        if "MockStablecoin" in self.wanted():
            steps.append(Step("deploy MockStablecoin (mUSD, 6 decimals, public mint: test networks only)",
                              lambda: "MockStablecoin" not in c, lambda: self._deploy("MockStablecoin")))
        steps.append(Step("wire the registry to the market",
                          lambda: c["ProviderRegistry"].market() != c["ComputeMarket"].address,
                          lambda: c["ProviderRegistry"].setMarket(c["ComputeMarket"], sender=self.deployer),
                          after=("ProviderRegistry", "ComputeMarket")))
        # The factory checks that the registry answers this market: it comes after the wiring.
        steps.append(Step("deploy VaultFactory (investor-backed providers)", lambda: "VaultFactory" not in c,
                          lambda: self._deploy("VaultFactory", c["ComputeMarket"], c["ProviderRegistry"])))
        for symbol, getter, source in self._payment_tokens():
            steps.append(Step(f"allow {symbol} as a payment token",
                              lambda g=getter: not c["ComputeMarket"].isPaymentToken(g()),
                              lambda g=getter: c["ComputeMarket"].setPaymentToken(g(), True, sender=self.deployer),
                              after=("ComputeMarket",) + source))
        steps.append(Step(f"set the arbiter to {self.arbiter}",  # a re-deploy whose arbiter changed
                          lambda: c["ComputeMarket"].arbiter() != self.arbiter,
                          lambda: c["ComputeMarket"].setArbiter(self.arbiter, sender=self.deployer),
                          after=("ComputeMarket",)))
        steps.append(Step(f"set the treasury to {self.treasury}",  # a re-deploy whose treasury changed
                          lambda: c["ComputeMarket"].treasury() != self.treasury,
                          lambda: c["ComputeMarket"].setTreasury(self.treasury, sender=self.deployer),
                          after=("ComputeMarket",)))
        for key, which, getter, setter in SETTINGS:
            name = "ProviderRegistry" if which == "registry" else "ComputeMarket"
            steps.append(Step(f"set {key} = {p[key]}",
                              lambda n=name, g=getter, k=key: getattr(c[n], g)() != p[k],
                              lambda n=name, s=setter, k=key: getattr(c[n], s)(p[k], sender=self.deployer),
                              after=(name,)))
        if self.owner != self.deployer.address:
            for name in ("ProviderRegistry", "ComputeMarket"):
                steps.append(Step(f"offer ownership of {name} to {self.owner} (it must call acceptOwnership)",
                                  lambda n=name: c[n].owner() != self.owner and c[n].pendingOwner() != self.owner,
                                  lambda n=name: c[n].transferOwnership(self.owner, sender=self.deployer),
                                  after=(name,)))
        return steps

    def roles(self) -> list[dict[str, Any]]:
        """The treasury, the arbiter and the owner this deployment gives the contracts: each one's address, where
        it comes from, and whether it looks unused on this chain (not the deployer, no code, no transaction
        sent, no ether: an address nobody may control, such as a mistyped all-lowercase one)."""
        from ape import chain

        def unused(address: str) -> bool:
            return address != self.deployer.address and not self._has_code(address) and \
                not chain.provider.get_nonce(address) and not chain.provider.get_balance(address)

        sources, out = self.p.get("role_sources", {}), []
        for role in ROLES:
            address, source = getattr(self, role), sources.get(role)
            if self.p.get(role):
                where = f"from {source}" if source else "given"
            else:
                where = f"the deployer, as {source} is unset" if source else "the deployer"
            out.append({"role": role, "address": address, "from": where, "unused": unused(address)})
        return out

    def _payment_tokens(self):
        c = self.contracts
        tokens = [("GPUC", lambda: c["ComputeToken"].address, ("ComputeToken",))]
        if "MockStablecoin" in self.wanted():
            tokens.append(("mUSD", lambda: c["MockStablecoin"].address, ("MockStablecoin",)))
        for symbol, address in sorted(self.p.get("payment_tokens", {}).items()):
            tokens.append((symbol, lambda a=address: a, ()))
        return tokens

    def plan(self) -> list[str]:
        """Labels of the steps that would send a transaction now (reads only)."""
        missing = set(self.missing())
        return [s.label + (" (if it differs from the default)" if set(s.after) & missing and "set " in s.label else "")
                for s in self.steps() if (set(s.after) & missing) or s.needed()]

    def run(self, say: Callable[[str], None] = lambda line: None) -> list[str]:
        """Applies every needed step in order; returns the labels of the steps that sent transactions."""
        done = []
        for step in self.steps():
            if step.needed():
                say(f"  → {step.label}")
                step.run()
                done.append(step.label)
            else:
                say(f"  ✓ {step.label} (already done)")
        self.record["payment_tokens"] = {symbol: getter() for symbol, getter, _ in self._payment_tokens()}
        self.record["parameters"] = {k: self.p[k] for k in DEFAULT_PARAMS}
        self.record["treasury"], self.record["arbiter"] = self.treasury, self.arbiter
        self.on_record(self.record)
        return done

    def _deploy(self, name: str, *args) -> None:
        from ape import chain

        contract = self.deployer.deploy(getattr(self.project, name), *args)
        self.contracts[name] = contract
        self.record["contracts"][name] = {
            "address": contract.address,
            "tx": contract.txn_hash,
            "block": chain.get_receipt(contract.txn_hash).block_number,  # where the event index starts
            "deployed_at": int(time.time()),
        }
        self.on_record(self.record)

    def system(self) -> System:
        c = self.contracts
        return System(token=c["ComputeToken"], registry=c["ProviderRegistry"], market=c["ComputeMarket"],
                      stablecoin=c.get("MockStablecoin"), params={k: self.p[k] for k in DEFAULT_PARAMS},
                      contracts=dict(c))


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
    """Deploys ComputeToken, ProviderRegistry and ComputeMarket on a fresh chain, wires the registry to
    the market, allowlists the payment tokens and applies `params` (defaults: DEFAULT_PARAMS).

    The deployer stays owner until the end so it can configure; if `owner` differs, ownership is then
    offered to it (Ownable2Step: the new owner must call acceptOwnership)."""
    p = {**DEFAULT_PARAMS, **(params or {}), "mock_stablecoin": with_mock_stablecoin,
         "treasury": treasury, "arbiter": arbiter, "owner": owner}
    d = Deployer(deployer, p, {}, project=project)
    d.run()
    return d.system()
