"""docs/market-page.png: the market page (`gpumarket web`) over a small demo market, in headless Chromium.

    make screenshot      (= ape run screenshot --network ethereum:local:foundry)

Deploys on a fresh local anvil; five providers (one of them a vault of three investors) list H100s,
A100s and L40Ss in six regions; renters rent: some rentals stream, one awaits activation, one was
stopped, one settled, one went to a dispute the provider lost. Then it indexes the chain, serves the
page from the index (the same app as `gpumarket web`) and saves a full-page screenshot.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ape import accounts, chain, project
from ape.logging import logger

from gpumarket.deployment import GPUC, deploy_system
from gpumarket.index import Index
from gpumarket.web import ServerThread, create_app

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "market-page.png"
USD, HOUR, ZERO = 10**6, 3600, "0x0000000000000000000000000000000000000000"


def main():
    logger.set_level("WARNING")
    a = accounts.test_accounts
    owner, treasury, arbiter = a[0], a[1], a[7]
    system = deploy_system(owner, treasury.address, arbiter=arbiter.address)
    token, registry, market, usd = system.token, system.registry, system.market, system.stablecoin
    factory = system.contracts["VaultFactory"]

    def stake(who, amount, metadata):
        registry.register(metadata, sender=who)
        token.transfer(who, amount * GPUC, sender=treasury)
        token.approve(registry, amount * GPUC, sender=who)
        registry.stake(amount * GPUC, sender=who)

    def params(model, region, price, gpus, tiers=()):
        return (model, region, usd.address, round(price * USD), gpus, 1, 720, ZERO, 500, list(tiers))

    def offer(who, *args, **kw):
        tx = market.createOffer(params(*args, **kw), sender=who)
        return tx.decode_logs(market.OfferCreated)[0].offerId

    def rent(offer_id, renter, gpus, hours):
        cost = market.quote(offer_id, gpus, hours).cost
        usd.mint(renter, cost, sender=owner)
        usd.approve(market, cost, sender=renter)
        price = market.getOffer(offer_id).pricePerGpuHour
        tx = market.openRental(offer_id, gpus, hours, price, ZERO, 0, sender=renter)
        return tx.decode_logs(market.RentalOpened)[0].rentalId

    brisbane, frankfurt, dallas, singapore, operator = a[2], a[3], a[12], a[13], a[14]
    stake(brisbane, 12_000, "ipfs://bafy-brisbane-h100x32")
    stake(frankfurt, 8_000, "ipfs://bafy-frankfurt-a100x16")
    stake(dallas, 15_000, "https://dallas-gpu.example/spec.json")
    stake(singapore, 6_000, "ipfs://bafy-sg-l40s")
    tx = factory.create(1_000, "Tokyo H100 backers", "tH100", "ipfs://bafy-tokyo-h100x64", sender=operator)
    vault = project.ProviderVault.at(tx.decode_logs(factory.VaultCreated)[0].vault)
    for investor, amount in zip((a[9], a[10], a[11]), (9_000, 5_000, 2_000)):
        token.transfer(investor, amount * GPUC, sender=treasury)
        token.approve(vault, amount * GPUC, sender=investor)
        vault.deposit(amount * GPUC, investor, sender=investor)

    qld = offer(brisbane, "H100-SXM-80GB", "AU-QLD", 1.95, 32, tiers=[(96, 250)])
    offer(brisbane, "H100-SXM-80GB", "AU-NSW", 2.05, 16)
    de = offer(frankfurt, "A100-80GB", "EU-DE", 1.20, 16)
    offer(frankfurt, "H100-SXM-80GB", "EU-DE", 2.10, 8)
    tx_offer = offer(dallas, "H100-SXM-80GB", "US-TX", 2.40, 48, tiers=[(500, 300), (2_000, 600)])
    offer(dallas, "L40S-48GB", "US-TX", 0.85, 24)
    sg = offer(singapore, "L40S-48GB", "SG", 0.95, 16)
    offer(singapore, "A100-80GB", "SG", 1.45, 8)
    vault.callMarket(market.createOffer.encode_input(params("H100-SXM-80GB", "JP-TYO", 1.99, 64)), sender=operator)
    tokyo = market.nextOfferId() - 1

    r1, r2, r3 = a[4], a[5], a[6]
    settled = rent(de, r1, 4, 2)
    market.activate(settled, sender=frankfurt)
    lost = rent(sg, r2, 2, 24)
    market.activate(lost, sender=singapore)
    chain.pending_timestamp += 3 * HOUR
    chain.mine()
    market.dispute(lost, b"\x01" * 32, sender=r2)
    market.resolveDispute(lost, 2_000, 100 * GPUC, sender=arbiter)
    chain.pending_timestamp += 2 * 86_400
    chain.mine()
    market.release(settled, sender=r1)

    long_run = rent(tx_offer, r3, 16, 48)
    market.activate(long_run, sender=dallas)
    stopped = rent(qld, r1, 8, 12)
    market.activate(stopped, sender=brisbane)
    chain.pending_timestamp += 6 * HOUR
    chain.mine()
    market.stopRental(stopped, sender=r1)
    vaulted = rent(tokyo, r2, 32, 24)
    vault.activate(vaulted, sender=operator)
    short = rent(qld, r3, 8, 10)
    market.activate(short, sender=brisbane)
    chain.pending_timestamp += 7 * HOUR
    chain.mine()
    market.claim(long_run, sender=dallas)
    rent(de, r2, 8, 24)  # awaiting activation

    record = {"chain_id": chain.chain_id,
              "contracts": {name: {"address": c.address, "block": 0} for name, c in system.contracts.items()},
              "payment_tokens": {"GPUC": token.address, "mUSD": usd.address}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.sqlite"
        idx = Index.open(path, chain.provider.uri, record)
        idx.refresh()
        idx.close()
        with ServerThread(create_app(path, chain.provider.uri, record)) as url:
            shoot(url)
    print(f"wrote {OUT.relative_to(ROOT)}")


def shoot(url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    from gpumarket.browser import chromium

    driver = chromium(1440, 1000)
    try:
        driver.get(url + "/")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "const c = window.Chart && Chart.getChart('price-chart');"
            "return c && c.data.labels.length && document.querySelectorAll('#rentals tr[data-rental-id]').length"))
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # the whole page in one viewport
                               {"width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": False})
        driver.execute_script("Chart.getChart('price-chart').resize()")
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(
            "return window.innerHeight >= document.documentElement.scrollHeight"))
        OUT.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(OUT))
    finally:
        driver.quit()
