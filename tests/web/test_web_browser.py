"""The market page in a real headless Chromium (Debian's, driven by selenium): `gpumarket web` runs as
its own process on the session's anvil; the page lists the offers cheapest first and its filters work;
a renter rents through the CLI and the rental appears on the page by itself, then streams with its
progress once the provider activates it and time passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from ape import chain

from web_support import deployment_dir, get, gm, wait_for  # noqa: F401 (fixtures)
from gpumarket.browser import chromium

ROOT = Path(__file__).resolve().parents[2]
GPUMARKET = Path(sys.executable).parent / "gpumarket"
HOUR = 3600


@pytest.fixture
def web_process(tmp_path, deployment_dir):
    """`gpumarket web` on the session's anvil, in its own process: yields its base URL."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "web.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPUMARKET_")}
    proc = subprocess.Popen(
        [str(GPUMARKET), "web", "--network", f"ethereum:local:{chain.provider.uri}", "--deployments",
         str(deployment_dir), "--index", str(tmp_path / "market.sqlite"), "--port", str(port),
         "--refresh-seconds", "0.3"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            pytest.fail(f"gpumarket web exited {proc.returncode}: {(tmp_path / 'web.log').read_text()}")
        try:
            return get(url + "/api/health")[0] == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=90, interval=0.2, what="gpumarket web to answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def _rows(driver, table: str, attr: str) -> list[str]:
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{table} tbody tr[data-{attr}]'))"
        f".map(r => r.getAttribute('data-{attr}'))")


def test_the_page__filters_offers_and_shows_a_rental_rented_through_the_cli_streaming(
    web_process, browser, gm, market, usd, provider, provider2, renter, stake_provider, create_offer, fund
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    stake_provider(provider)
    stake_provider(provider2)
    h100_qld = create_offer(provider, gpus=8, price=1_950_000)
    a100_de = create_offer(provider2, gpus=4, price=1_200_000, gpu_model="A100-80GB", region="EU-DE")
    h100_tx = create_offer(provider2, gpus=16, price=2_400_000, region="US-TX")

    browser.get(web_process + "/")
    wait_for(lambda: _rows(browser, "offers", "offer-id") == [str(a100_de), str(h100_qld), str(h100_tx)],
             what="the three offers, cheapest first")
    assert "1.2000 mUSD" in browser.find_element(By.CSS_SELECTOR, f'tr[data-offer-id="{a100_de}"] .price').text
    labels = wait_for(lambda: browser.execute_script(
        "const c = window.Chart && Chart.getChart('price-chart'); return c && c.data.labels.length ? c.data.labels : null"),
        what="the price chart")
    assert labels == ["AU-QLD", "EU-DE", "US-TX"]
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe  # no asset blocked or missing, no script error

    # The filters: a region, then a price cap, then a minimum of free GPUs; a bad value is explained.
    Select(browser.find_element(By.ID, "f-region")).select_by_value("EU-DE")
    wait_for(lambda: _rows(browser, "offers", "offer-id") == [str(a100_de)], what="the EU-DE filter")
    assert "region=EU-DE" in browser.current_url
    browser.find_element(By.ID, "f-reset").click()
    max_price = browser.find_element(By.ID, "f-max-price")
    max_price.send_keys("2")
    wait_for(lambda: _rows(browser, "offers", "offer-id") == [str(a100_de), str(h100_qld)], what="max price 2")
    browser.find_element(By.ID, "f-min-gpus").send_keys("5")
    wait_for(lambda: _rows(browser, "offers", "offer-id") == [str(h100_qld)], what="max price 2 and 5 GPUs")
    max_price.send_keys("x")
    wait_for(lambda: "max_price must be a number" in browser.find_element(By.ID, "filter-error").text,
             what="the bad value's sentence")
    browser.find_element(By.ID, "f-reset").click()
    wait_for(lambda: len(_rows(browser, "offers", "offer-id")) == 3 and
             browser.find_element(By.ID, "filter-error").text == "", what="the filters cleared")

    # A renter rents 2 GPUs for 10 hours through the CLI: the page shows it without a reload.
    assert _rows(browser, "rentals", "rental-id") == []
    fund(renter, usd, 100 * 10**6)
    rented = gm("rental", "rent", h100_qld, "--gpus", "2", "--hours", "10", "--max-price", "1.95", account=renter)
    assert rented.code == 0, rented.err
    rental = market.nextRentalId() - 1
    row = f'#rentals tr[data-rental-id="{rental}"]'
    wait_for(lambda: browser.execute_script(f"const r = document.querySelector('{row}'); return r && r.dataset.status")
             == "pending", what="the new rental, pending")
    wait_for(lambda: "6 / 8" in browser.find_element(By.CSS_SELECTOR, f'tr[data-offer-id="{h100_qld}"]').text,
             what="the offer's free GPUs going down")

    # The provider activates it; three hours pass on the chain: the stream is 30 % done.
    assert gm("rental", "activate", rental, account=provider).code == 0
    chain.pending_timestamp += 3 * HOUR
    chain.mine()
    progress = wait_for(lambda: browser.execute_script(
        f"const r = document.querySelector('{row}'); return r && r.dataset.status === 'active' "
        f"&& r.dataset.progress > 0.29 ? r.dataset.progress : null"), what="the rental streaming")
    assert 0.29 < float(progress) < 0.32
    bar = browser.find_element(By.CSS_SELECTOR, f"{row} .bar")
    fill = browser.find_element(By.CSS_SELECTOR, f"{row} .fill")
    assert 0.25 < fill.size["width"] / bar.size["width"] < 0.35
    assert "%" in browser.find_element(By.CSS_SELECTOR, f"{row} .pct").text
    cards = browser.find_element(By.ID, "totals").text
    total = market.getRental(rental).total
    assert f"{total / 10**6:,.2f} mUSD" in cards  # the escrow held: this rental's whole payment
    health = json.loads(urllib.request.urlopen(web_process + "/api/health", timeout=10).read())
    assert health["error"] is None
