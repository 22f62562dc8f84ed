"""Shared fixtures: roles, the deployed system, factories that open things with sensible defaults.

Roles are named accounts, never `accounts[i]` in a test. The system is deployed once per session
through `gpumarket.deployment.deploy_system` (the same code the demo uses); ape snapshots the chain
around each test, so every test starts from the same state.
"""

from __future__ import annotations

import ape
import pytest
from ape import chain
from ape_foundry.provider import FoundryProvider

from gpumarket.deployment import DEFAULT_PARAMS, deploy_system

ZERO = "0x0000000000000000000000000000000000000000"
GPUC = 10**18
USD = 10**6
HOUR = 3600
DAY = 86_400
PRICE_USD = 1_950_000  # 1.95 USD per GPU-hour
PRICE_GPUC = 2 * GPUC  # 2 GPUC per GPU-hour
PROVIDER_STAKE = 10_000 * GPUC


# ape-foundry renders a call trace for every revert (≈ 0.3 s each); tests assert the decoded custom
# error instead, so skip the rendering.
_original_handle = FoundryProvider._handle_execution_reverted


def _quiet_handle(self, exception, revert_message=None, **kwargs):
    kwargs.pop("trace", None)
    txn = kwargs.pop("txn", None)  # without it, ape does not fetch a trace to show ...
    if txn is not None and not kwargs.get("contract_address"):
        # ... but it still needs the reverting contract to decode the custom error.
        kwargs["contract_address"] = getattr(txn, "receiver", None)
    error = _original_handle(self, exception, revert_message=revert_message, **kwargs)
    if txn is not None:
        try:
            error.txn = txn
        except Exception:  # pragma: no cover - best effort, the decoded error is what tests use
            pass
    return error


FoundryProvider._handle_execution_reverted = _quiet_handle


# ───────────────────────────── Roles ─────────────────────────────


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def provider(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def provider2(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def renter(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def payer(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def broker(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def arbiter(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[8]


# ───────────────────────────── System ─────────────────────────────


@pytest.fixture(scope="session")
def system(owner, treasury, arbiter):
    return deploy_system(owner, treasury.address, arbiter=arbiter.address)


@pytest.fixture(scope="session")
def params(system):
    return dict(system.params)


@pytest.fixture(scope="session")
def gpuc(system):
    return system.token


@pytest.fixture(scope="session")
def usd(system):
    return system.stablecoin


@pytest.fixture(scope="session")
def registry(system):
    return system.registry


@pytest.fixture(scope="session")
def market(system):
    return system.market


@pytest.fixture(scope="session")
def fund(gpuc, usd, treasury, owner):
    """fund(account, token, amount): gives `account` tokens (mints mUSD, transfers GPUC from the treasury)."""

    def fund(account, token, amount):
        if token.address == usd.address:
            usd.mint(account, amount, sender=owner)
        else:
            gpuc.transfer(account, amount, sender=treasury)

    return fund


@pytest.fixture(scope="session")
def stake_provider(registry, gpuc, fund):
    """stake_provider(account, amount): registers (if needed) and stakes."""

    def stake_provider(account, amount=PROVIDER_STAKE, metadata="ipfs://bafy-h100-spec"):
        if not registry.providerOf(account).registered:
            registry.register(metadata, sender=account)
        fund(account, gpuc, amount)
        gpuc.approve(registry, amount, sender=account)
        return registry.stake(amount, sender=account)

    return stake_provider


@pytest.fixture(scope="session")
def offer_params(usd):
    """offer_params(**overrides) -> the Offer.Params tuple."""

    def offer_params(
        token=None,
        price=PRICE_USD,
        gpus=8,
        min_hours=1,
        max_hours=720,
        reserved_for=ZERO,
        max_broker_bps=500,
        tiers=(),
        gpu_model="H100-SXM-80GB",
        region="AU-QLD",
    ):
        token = token if token is not None else usd
        return (gpu_model, region, str(token.address), price, gpus, min_hours, max_hours, str(reserved_for),
                max_broker_bps, list(tiers))

    return offer_params


@pytest.fixture(scope="session")
def create_offer(market, offer_params):
    """create_offer(sender, **overrides) -> offer id."""

    def create_offer(sender, **overrides):
        tx = market.createOffer(offer_params(**overrides), sender=sender)
        return tx.decode_logs(market.OfferCreated)[0].offerId

    return create_offer


@pytest.fixture(scope="session")
def open_rental(market, fund):
    """open_rental(offer_id, renter, ...) -> rental id. Funds and approves the payer for the exact cost."""

    def open_rental(offer_id, renter, gpus=8, hours=24, payer=None, broker=ZERO, broker_bps=0, max_price=None):
        offer = market.getOffer(offer_id)
        token = ape.Contract(offer.paymentToken)
        cost = market.quote(offer_id, gpus, hours).cost
        funder = payer or renter
        fund(funder, token, cost)
        token.approve(market, cost, sender=funder)
        max_price = offer.pricePerGpuHour if max_price is None else max_price
        if payer is None:
            tx = market.openRental(offer_id, gpus, hours, max_price, broker, broker_bps, sender=renter)
        else:
            tx = market.openRentalFor(renter, offer_id, gpus, hours, max_price, broker, broker_bps, sender=payer)
        return tx.decode_logs(market.RentalOpened)[0].rentalId

    return open_rental


# ───────────────────────────── Vaults ─────────────────────────────

VAULT_COMMISSION_BPS = 1_000  # the operator takes 10 % of the vault's income


@pytest.fixture(scope="session")
def investors(accounts):
    """Three investors (Dubai, the US, Korea): the accounts no other role uses."""
    return accounts[9], accounts[10], accounts[11]


@pytest.fixture(scope="session")
def factory(system):
    return system.contracts["VaultFactory"]


@pytest.fixture
def vault(factory, provider2):
    """A vault run by `provider2` as its operator (a Brisbane operator with no stake of its own)."""
    from ape import project

    tx = factory.create(VAULT_COMMISSION_BPS, "Brisbane H100 backers", "bH100", "ipfs://brisbane-h100x8", sender=provider2)
    return project.ProviderVault.at(tx.decode_logs(factory.VaultCreated)[0].vault)


@pytest.fixture
def deposit(vault, gpuc, treasury):
    """deposit(investor, amount) -> shares: funds `investor` with GPUC and deposits it into the vault."""

    def deposit(who, amount):
        gpuc.transfer(who, amount, sender=treasury)
        gpuc.approve(vault, amount, sender=who)
        return vault.deposit(amount, who, sender=who).decode_logs(vault.Deposit)[0].shares

    return deposit


@pytest.fixture
def vault_offer(vault, market, provider2, offer_params, deposit, investors):
    """deposit_and_list(): the three investors deposit 6,000 / 3,000 / 1,000 GPUC and the operator lists
    16 GPUs in mUSD through the vault. Returns the offer id."""
    for who, amount in zip(investors, (6_000, 3_000, 1_000)):
        deposit(who, amount * GPUC)
    data = market.createOffer.encode_input(offer_params(gpus=16))
    vault.callMarket(data, sender=provider2)
    return market.nextOfferId() - 1


# ───────────────────────────── Signed offers ─────────────────────────────


@pytest.fixture(scope="session")
def more_providers(accounts):
    """Four more provider accounts (a cluster needs six providers), used by no other role."""
    return accounts[12], accounts[13], accounts[14], accounts[15]


@pytest.fixture(scope="session")
def domain(market):
    """The market's EIP-712 domain on this chain."""
    from gpumarket.signed import Domain

    return Domain(chain.chain_id, market.address)


@pytest.fixture(scope="session")
def sign_offer(domain, usd):
    """sign_offer(signer, provider=signer, domain=None, **terms) -> (SignedOffer, signature): the terms
    (defaults: 8 H100s in mUSD at 1.95 an hour, 1 to 720 hours, a day to fill, nonce 1) signed by
    `signer`'s key in `domain` (the market's by default)."""
    from gpumarket.signed import SignedOffer, digest, sign_digest

    def sign_offer(signer, provider=None, *, in_domain=None, **terms):
        fields = dict(provider=str(provider.address if provider is not None else signer.address),
                      gpu_model="H100-SXM-80GB", region="AU-QLD", payment_token=str(usd.address),
                      price_per_gpu_hour=PRICE_USD, gpus=8, min_hours=1, max_hours=720,
                      expiry=chain.pending_timestamp + DAY, nonce=1, max_broker_bps=500)
        fields.update(terms)
        offer = SignedOffer(**fields)
        return offer, sign_digest(bytes.fromhex(signer.private_key.removeprefix("0x")),
                                  digest(offer, in_domain or domain))

    return sign_offer


@pytest.fixture(scope="session")
def fill_signed(market, fund):
    """fill_signed(offer, signature, renter, gpus, hours, payer=None, ...) -> the receipt: funds and
    approves the payer (the renter by default) for the exact cost and fills the signed offer."""

    def fill_signed(offer, signature, renter, gpus=8, hours=24, payer=None, broker=ZERO, broker_bps=0, max_price=None,
                    at=None):
        token = ape.Contract(offer.payment_token)
        funder = payer or renter
        fund(funder, token, offer.price_per_gpu_hour * gpus * hours)
        token.approve(market, offer.price_per_gpu_hour * gpus * hours, sender=funder)
        max_price = offer.price_per_gpu_hour if max_price is None else max_price
        if at is not None:
            chain.pending_timestamp = at  # the fill itself is mined at `at`
        return market.openSignedRental(offer.as_tuple(), signature, renter, gpus, hours, max_price, broker, broker_bps,
                                       sender=funder)

    return fill_signed


# ───────────────────────────── Payment-token parametrization ─────────────────────────────


@pytest.fixture(params=["usd", "gpuc"], ids=["usd6", "gpuc18"])
def pay_token(request, usd, gpuc):
    """Rental tests run with the 6-decimal stablecoin and with the 18-decimal protocol token."""
    return usd if request.param == "usd" else gpuc


@pytest.fixture
def price(pay_token, usd):
    return PRICE_USD if pay_token.address == usd.address else PRICE_GPUC


@pytest.fixture
def staked(provider, stake_provider):
    """The provider, registered and staked with PROVIDER_STAKE."""
    stake_provider(provider)
    return provider


@pytest.fixture
def offer_id(staked, create_offer, pay_token, price):
    """An Active public offer of 8 GPUs in `pay_token` by the staked provider."""
    return create_offer(staked, token=pay_token, price=price)


@pytest.fixture
def rental_id(offer_id, open_rental, renter):
    """A Pending rental of all 8 GPUs for 24 hours, paid by the renter."""
    return open_rental(offer_id, renter)


@pytest.fixture
def active_id(rental_id, market, provider):
    """The rental above, activated."""
    market.activate(rental_id, sender=provider)
    return rental_id


# ───────────────────────────── Time ─────────────────────────────


def now() -> int:
    return chain.pending_timestamp


def set_next_timestamp(ts: int) -> None:
    """The next transaction is mined at exactly `ts`."""
    chain.pending_timestamp = ts


def advance(seconds: int) -> None:
    chain.pending_timestamp += seconds


@pytest.fixture
def time_travel():
    class T:
        now = staticmethod(now)
        at = staticmethod(set_next_timestamp)
        advance = staticmethod(advance)

    return T


__all__ = ["DEFAULT_PARAMS"]
