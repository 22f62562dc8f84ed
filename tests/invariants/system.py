"""The deployed system on the in-process EVM, with named actors, shared by every example.

`System.fresh()` deploys once per process and snapshots; `reset()` goes back to that snapshot in
microseconds, so every hypothesis example starts from the same state.

The providers and the vault's operator have known private keys (`actor_key`, from fixed seeds), so
they can sign offers off-chain (`keys`: address -> key; `domain`: the market's EIP-712 domain); every
other actor is a plain address. All addresses are the same on every driver and in every process.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address

from evm import Chain, Contract
from gpumarket.signed import Domain

GPUC = 10**18
USD = 10**6
DAY = 86_400
MAX = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"

N_PROVIDERS, N_RENTERS, N_PAYERS, N_BROKERS, N_INVESTORS = 3, 3, 2, 2, 3
#: What the investors put into the vault at the start: (GPUC) each; the vault starts active.
INVESTOR_DEPOSITS = (10_000 * 10**18, 6_000 * 10**18, 4_000 * 10**18)
VAULT_COMMISSION_BPS = 1_000
#: ComputeMarket's constructor: registry, owner, treasury, arbiter, [offer, dispute, admin] modules.
MARKET_ARGS = ["address", "address", "address", "address", "address[4]"]
PROVIDER_STAKE = 30_000 * GPUC
RICH = 10**12 * GPUC  # enough of both tokens for any example


def actor_key(i: int) -> bytes:
    """The private key of the `i`-th actor of `System.fresh` (a fixed seed: the same on every run)."""
    return keccak(b"gpumarket.invariants.actor." + str(i).encode())


@dataclass
class System:
    chain: Chain
    gpuc: Contract
    usd: Contract
    registry: Contract
    market: Contract
    owner: str
    treasury: str
    arbiter: str
    stranger: str
    providers: list[str]
    renters: list[str]
    payers: list[str]
    brokers: list[str]
    base: tuple = ()
    base_balances: dict = None  # (account, token) -> balance at the snapshot
    factory: Contract | None = None  # VaultFactory
    vault: Contract | None = None  # a ProviderVault run by `operator`, backed by `investors`
    operator: str = ""
    investors: list[str] = None
    keys: dict = None  # address -> private key: the providers and the vault's operator
    domain: Domain | None = None  # the market's EIP-712 domain (signed offers)
    start_time: int = 0  # the chain's time at the snapshot: every example starts there
    #: Stable names for values that differ between drivers (digests and signatures depend on the chain
    #: id and on CREATE-made addresses): filled by whoever makes such values, read by the anvil replay.
    names: dict = None

    @property
    def tokens(self) -> list[Contract]:
        return [self.usd, self.gpuc]

    @property
    def everyone(self) -> list[str]:
        return [self.owner, self.treasury, self.arbiter, self.stranger, *self.providers, *self.renters,
                *self.payers, *self.brokers, self.operator, *self.investors, self.vault.address]

    def reset(self) -> None:
        self.chain.restore(self.base)
        self.base = self.chain.snapshot()

    @classmethod
    def fresh(cls, chain=None) -> "System":
        """Deploys and funds everything on `chain` (default: a new pyrevm Chain; the ape driver passes
        its anvil chain, which has the same `deploy`/`address`/`fund_eth`/`snapshot` interface)."""
        c = chain if chain is not None else Chain()
        a = iter(range(100))
        keys: dict[str, bytes] = {}

        def keyed(i: int) -> str:
            key = actor_key(i)
            address = eth_keys.PrivateKey(key).public_key.to_checksum_address()
            keys[address] = key
            return address

        owner, treasury, arbiter, stranger = (c.address(next(a)) for _ in range(4))
        providers = [keyed(next(a)) for _ in range(N_PROVIDERS)]
        renters = [c.address(next(a)) for _ in range(N_RENTERS)]
        payers = [c.address(next(a)) for _ in range(N_PAYERS)]
        brokers = [c.address(next(a)) for _ in range(N_BROKERS)]
        operator = keyed(next(a))
        investors = [c.address(next(a)) for _ in range(N_INVESTORS)]
        for acct in (owner, treasury, arbiter, stranger, *providers, *renters, *payers, *brokers, operator, *investors):
            c.fund_eth(acct)
        gpuc = c.deploy(owner, "ComputeToken", ["address", "uint256"], [treasury, 10**15 * GPUC])
        usd = c.deploy(owner, "MockStablecoin")
        registry = c.deploy(owner, "ProviderRegistry", ["address", "address", "uint256", "uint256"],
                            [gpuc.address, owner, 7 * DAY, 1_000 * GPUC])
        modules = [c.deploy(owner, m, ["address"], [registry.address]).address
                   for m in ("OfferModule", "DisputeModule", "AdminModule", "BookingModule")]
        market = c.deploy(owner, "ComputeMarket", MARKET_ARGS, [registry.address, owner, treasury, arbiter, modules])
        registry.call(owner, "setMarket", market.address)
        factory = c.deploy(owner, "VaultFactory", ["address", "address"], [market.address, registry.address])
        market.call(owner, "setPaymentToken", usd.address, True)
        market.call(owner, "setPaymentToken", gpuc.address, True)
        for p in providers:
            gpuc.call(treasury, "transfer", p, RICH)
            gpuc.call(p, "approve", registry.address, MAX)
            registry.call(p, "register", "ipfs://spec")
            registry.call(p, "stake", PROVIDER_STAKE)
        for who in (*renters, *payers):
            gpuc.call(treasury, "transfer", who, RICH)
            usd.call(who, "mint", who, RICH)
            gpuc.call(who, "approve", market.address, MAX)
            usd.call(who, "approve", market.address, MAX)
        # An investor-backed provider: the operator creates the vault, the investors back it.
        (vault_address,) = factory.call(operator, "create", VAULT_COMMISSION_BPS, "Vault", "V", "ipfs://vault")
        vault = c.at("ProviderVault", to_checksum_address(vault_address if isinstance(vault_address, str)
                                                          else "0x%040x" % vault_address))
        for who, amount in zip(investors, INVESTOR_DEPOSITS):
            gpuc.call(treasury, "transfer", who, RICH)
            gpuc.call(who, "approve", vault.address, MAX)
            vault.call(who, "deposit", amount, who)
        _, _, _, chain_id, _, _, _ = market.view("eip712Domain")
        s = cls(c, gpuc, usd, registry, market, owner, treasury, arbiter, stranger, providers, renters, payers,
                brokers, factory=factory, vault=vault, operator=operator, investors=investors, keys=keys,
                domain=Domain(chain_id, market.address), start_time=c.time, names={})
        s.base_balances = {(a, t.address): t.one("balanceOf", a) for a in s.everyone for t in (usd, gpuc)}
        s.base = c.snapshot()
        return s
