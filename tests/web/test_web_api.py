"""`gpumarket web`'s JSON and page, over an index of the session's anvil: the escrow the page shows is the
market's balance less fees and credits, filters and order of the offers, providers' reputation and
backing, rentals' progress, bad input answered 4xx with a sentence, and a page that loads nothing from
another host."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from ape import chain

from web_support import deployment_dir, get, get_json, gm, serve_web, wait_for, web_abis, web_index, web_record  # noqa: F401
from gpumarket.web import escrow_by_token, owed_by_token

USD, GPUC, HOUR, DAY = 10**6, 10**18, 3600, 86_400


def _by_symbol(totals: dict) -> dict:
    return {t["symbol"]: t for t in totals["per_token"]}


def test_escrow_held__is_the_market_balance_less_protocol_fees_and_credits__per_token(
    web_index, serve_web, market, usd, gpuc, provider, provider2, renter, payer, broker, stake_provider,
    create_offer, open_rental
):
    stake_provider(provider)
    stake_provider(provider2)
    musd_offer = create_offer(provider, gpus=32)
    gpuc_offer = create_offer(provider2, gpus=16, token=gpuc, price=2 * GPUC, region="EU-DE")
    pending = open_rental(musd_offer, renter, gpus=2, hours=5)
    streaming = open_rental(musd_offer, renter, gpus=4, hours=96, broker=broker, broker_bps=300)
    stopped = open_rental(musd_offer, renter, gpus=2, hours=10, payer=payer)
    disputed = open_rental(gpuc_offer, renter, gpus=3, hours=24)
    settled = open_rental(gpuc_offer, renter, gpus=1, hours=2)
    cancelled = open_rental(musd_offer, renter, gpus=1, hours=3)
    for rental in (streaming, stopped):
        market.activate(rental, sender=provider)
    for rental in (disputed, settled):
        market.activate(rental, sender=provider2)
    market.cancelPending(cancelled, sender=renter)
    chain.pending_timestamp += 3 * HOUR
    chain.mine()
    market.claim(streaming, sender=provider)  # a protocol fee and a broker credit in mUSD
    market.stopRental(stopped, sender=renter)
    market.dispute(disputed, b"\x11" * 32, sender=renter)  # the bond comes out of the refund
    chain.pending_timestamp += 2 * DAY
    chain.mine()
    market.release(settled, sender=renter)  # pays the provider: a protocol fee in GPUC
    web_index.refresh()

    escrow = escrow_by_token(web_index.db)
    fees = owed_by_token(web_index.db, "protocol_fees")
    credits = owed_by_token(web_index.db, "credits")
    for token in (usd, gpuc):
        balance = token.balanceOf(market)
        assert escrow[token.address] + fees.get(token.address, 0) + credits.get(token.address, 0) == balance, \
            token.symbol()
    assert fees[usd.address] > 0 and fees[gpuc.address] > 0 and credits[usd.address] > 0
    bond = market.disputeOf(disputed).bond
    assert bond > 0 and escrow[gpuc.address] > bond  # the bond is part of what is held, not all of it
    assert escrow[usd.address] == sum(market.getRental(r).total - market.getRental(r).claimed
                                      for r in (pending, streaming, stopped))

    url = serve_web()
    data = get_json(url + "/api/market")
    totals = _by_symbol(data["totals"])
    assert totals["mUSD"]["escrow_held"]["raw"] == str(escrow[usd.address])
    assert totals["GPUC"]["escrow_held"]["raw"] == str(escrow[gpuc.address])
    assert totals["mUSD"]["protocol_fees_held"]["raw"] == str(market.protocolFees(usd))
    assert totals["mUSD"]["protocol_fees_collected"]["raw"] == str(market.protocolFees(usd))
    assert totals["mUSD"]["credits_owed"]["raw"] == str(market.credits(broker, usd))
    assert Decimal(totals["mUSD"]["escrow_held"]["units"].replace(",", "")) == Decimal(escrow[usd.address]) / USD
    rep = market.reputationOf(provider2)
    assert rep.gpuSecondsServed == 2 * HOUR and data["totals"]["gpu_hours_served"] == "2.00"

    rentals = {r["id"]: r for r in data["rentals"]}
    assert {rentals[r]["status"] for r in (pending, streaming, stopped, disputed, settled, cancelled)} == \
        {"pending", "active", "ended", "disputed", "settled", "cancelled"}
    running = market.getRental(streaming)
    expected = (data["now"] - running.startedAt) / (running.endsAt - running.startedAt)
    assert rentals[streaming]["progress"] == pytest.approx(expected)
    assert 0.5 < expected < 0.6  # 51 of 96 hours
    assert all(rentals[r]["progress"] is None for r in (pending, stopped, disputed, settled, cancelled))


def test_offers__open_ones_cheapest_first_in_their_tokens_units__and_every_filter_narrows_them(
    web_index, serve_web, market, gpuc, provider, provider2, renter, stake_provider, create_offer, open_rental
):
    stake_provider(provider)
    stake_provider(provider2)
    h100_qld = create_offer(provider, gpus=8, price=1_950_000)
    a100_de = create_offer(provider, gpus=4, price=1_200_000, gpu_model="A100-80GB", region="EU-DE")
    h100_tx = create_offer(provider2, gpus=16, price=2_400_000, region="US-TX")
    in_gpuc = create_offer(provider2, gpus=8, token=gpuc, price=GPUC * 3 // 2, region="EU-DE")  # 1.5 GPUC
    closed = create_offer(provider2, gpus=8, price=1_000_000)
    market.closeOffer(closed, sender=provider2)
    open_rental(h100_qld, renter, gpus=6, hours=2)  # 2 of 8 free
    web_index.refresh()
    url = serve_web()

    def ids(query: str = "") -> list[int]:
        return [o["id"] for o in get_json(url + "/api/offers" + query)["offers"]]

    assert ids() == [a100_de, in_gpuc, h100_qld, h100_tx]  # 1.20 mUSD, 1.5 GPUC, 1.95, 2.40: units, not base units
    assert ids("?region=eu-de") == [a100_de, in_gpuc]
    assert ids("?gpu_model=H100-SXM-80GB") == [in_gpuc, h100_qld, h100_tx]
    assert ids("?max_price=1.95") == [a100_de, in_gpuc, h100_qld]
    assert ids("?max_price=1.949999") == [a100_de, in_gpuc]
    assert ids("?min_gpus=3") == [a100_de, in_gpuc, h100_tx]  # only 2 of offer h100_qld's 8 are free
    assert ids("?token=GPUC") == [in_gpuc]
    assert ids("?region=EU-DE&token=mUSD&min_gpus=4&max_price=2") == [a100_de]
    assert ids("?region=Mars") == []
    offer = get_json(url + "/api/offers?region=AU-QLD")["offers"][0]
    assert offer["price"] == {"raw": "1950000", "units": "1.950000", "symbol": "mUSD"}
    assert (offer["gpus_free"], offer["gpus_offered"]) == (2, 8)

    chart = get_json(url + "/api/market")["chart"]
    musd = next(c for c in chart if c["symbol"] == "mUSD")
    assert musd["regions"] == ["AU-QLD", "EU-DE", "US-TX"]
    series = {s["gpu_model"]: s["cheapest"] for s in musd["series"]}
    assert series == {"A100-80GB": [None, 1.2, None], "H100-SXM-80GB": [1.95, None, 2.4]}
    gpuc_chart = next(c for c in chart if c["symbol"] == "GPUC")
    assert gpuc_chart["regions"] == ["EU-DE"] and gpuc_chart["series"][0]["cheapest"] == [1.5]


def test_providers__stake_reputation_and_a_vaults_backing(
    web_index, serve_web, market, usd, provider, renter, arbiter, stake_provider, create_offer, open_rental,
    vault, vault_offer, provider2
):
    stake_provider(provider)
    offer = create_offer(provider, gpus=8)
    lost = open_rental(offer, renter, gpus=2, hours=24)
    running = open_rental(offer, renter, gpus=4, hours=24)
    market.activate(lost, sender=provider)
    market.activate(running, sender=provider)
    chain.pending_timestamp += HOUR
    chain.mine()
    market.dispute(lost, b"\x22" * 32, sender=renter)
    market.resolveDispute(lost, 2_500, 50 * GPUC, sender=arbiter)
    web_index.refresh()
    data = get_json(serve_web() + "/api/market")
    providers = {p["address"]: p for p in data["providers"]}

    p = providers[provider.address]
    rep = market.reputationOf(provider)
    assert (p["disputes_lost"], p["rentals_completed"]) == (1, 0)
    assert p["amount_slashed"]["raw"] == str(rep.amountSlashed) == str(50 * GPUC)
    assert p["amount_slashed"]["symbol"] == "GPUC"
    staked, locked, free = (int(p[k]["raw"]) for k in ("staked", "locked", "free"))
    assert staked == 10_000 * GPUC - 50 * GPUC and locked == 4 * 100 * GPUC and free == staked - locked
    assert p["backing"] is None

    v = providers[vault.address]
    assert v["backing"]["operator"] == provider2.address and v["backing"]["commission_pct"] == "10"
    assert v["backing"]["shares"]["raw"] == str(vault.totalSupply()) and vault.totalSupply() > 0
    assert int(v["staked"]["raw"]) == 10_000 * GPUC and v["open_offers"] == 1 and v["gpus_listed"] == 16
    assert next(o for o in data["offers"] if o["id"] == vault_offer)["vault"] is True


def test_the_page_updates_as_the_refresher_follows_the_chain(
    web_index, serve_web, provider, stake_provider, create_offer
):
    stake_provider(provider)
    web_index.refresh()
    url = serve_web(refresh_seconds=0.2)
    assert get_json(url + "/api/market")["totals"]["open_offers"] == 0
    offer = create_offer(provider, gpus=8, region="AU-NSW")
    found = wait_for(lambda: get_json(url + "/api/offers?region=AU-NSW")["offers"], what="the new offer")
    assert [o["id"] for o in found] == [offer]
    health = get_json(url + "/api/health")
    assert health["error"] is None and health["refreshes"] >= 1
    assert health["indexed"]["block"] == chain.blocks.head.number


@pytest.mark.parametrize("path, status, words", [
    ("/nope", 404, "No such page: /nope."),
    ("/api/offers/7", 404, "No such page"),
    ("/static/../index.py", 404, "No such"),
    ("/static/secret.txt", 404, "No such file"),
    ("/api/offers?max_price=abc", 400, "max_price must be a number"),
    ("/api/offers?max_price=-1", 400, "max_price must be a number"),
    ("/api/offers?max_price=NaN", 400, "max_price must be a number"),
    ("/api/offers?max_price=1,5", 400, "max_price must be a number"),
    ("/api/market?min_gpus=-1", 400, "min_gpus must be a whole number"),
    ("/api/market?min_gpus=2.5", 400, "min_gpus must be a whole number"),
    ("/api/market?min_gpus=99999999999999999999", 400, "min_gpus must be a whole number"),
    ("/api/market?maxprice=2", 400, "Unknown query parameter 'maxprice'"),
    ("/api/market?region=" + "x" * 200, 400, "region is longer than 128 characters"),
    ("/api/health?x=1", 400, "takes no query parameters"),
])
def test_bad_routes_and_query_values__answer_4xx_with_a_sentence(web_index, serve_web, path, status, words):
    web_index.refresh()
    code, headers, body = get(serve_web() + path)
    assert code == status, body
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert words in error and "Traceback" not in body and len(error) < 200 and "\n" not in error


def test_writes_are_refused__the_page_is_read_only(web_index, serve_web):
    web_index.refresh()
    url = serve_web()
    for method, path in (("POST", "/api/market"), ("PUT", "/api/offers"), ("DELETE", "/"), ("POST", "/")):
        code, _, body = get(url + path, method=method)
        assert code == 405 and "read-only" in json.loads(body)["error"], (method, path, body)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.refs += [value for name, value in attrs if name in ("src", "href", "action", "srcset", "poster") and value]


def test_the_page_loads_every_asset_from_the_server_itself(web_index, serve_web):
    web_index.refresh()
    url = serve_web()
    code, headers, html = get(url + "/")
    assert code == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    parser = _Refs()
    parser.feed(html)
    assert sorted(parser.refs) == ["/static/app.css", "/static/app.js", "/static/chart.umd.min.js", "/static/favicon.svg"]
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.I), "the page names another host"
    for ref, kind in zip(sorted(parser.refs), ("text/css", "javascript", "javascript", "image/svg+xml")):
        code, headers, body = get(url + ref)
        assert code == 200 and kind in headers["content-type"] and len(body) > 200, ref
    _, _, app_js = get(url + "/static/app.js")
    assert not re.search(r"https?://", app_js) and "fetch(\"/api/market?" in app_js
    _, _, chart_js = get(url + "/static/chart.umd.min.js")
    assert "Chart.js v4" in chart_js[:300]


def test_the_web_command__refuses_a_file_that_is_not_an_index__with_one_sentence(tmp_path, gm):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    result = gm("web", "--index", garbage, "--port", "0", as_json=False)
    assert result.code == 1 and result.out == ""
    assert result.err.strip().splitlines() == [result.err.strip()]
    assert "is not a gpumarket index" in result.err
