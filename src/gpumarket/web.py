"""`gpumarket web`: a read-only live market page served from the event index.

    app = create_app(index_path, rpc_url, record)     # a Starlette app; `serve(app, host, port)` runs it

What it serves (README "Market page"):
- `/` the page, `/static/…` its script, style sheet and Chart.js (from the package, copied from
  node_modules by `make setup`): nothing is fetched from another host, and the page's
  Content-Security-Policy says so to the browser.
- `/api/market` everything the page shows, as JSON (open offers after the filters `gpu_model`, `region`,
  `token`, `max_price`, `min_gpus`; the price chart; providers; rentals; totals; the index's state);
  `/api/offers` the filtered offers alone; `/api/health` the index's state.
- Unknown routes, other methods and bad query values answer 4xx with `{"error": "<one sentence>"}`;
  an unexpected failure answers 500 with a sentence, never a traceback.

Threads: `Index.open` connects to SQLite with the default `check_same_thread=True`, so a connection
belongs to the thread that opened it. The refresher thread opens its own `Index` and calls `refresh()`
every `refresh_seconds`; each request reads through a connection of its own (`PRAGMA query_only`; the
index is in WAL mode, so reads never wait for the refresher's write and see whole ranges only).

Amounts are computed from base units with integers and shown in the token's units with its symbol;
symbols come from the deployment record (and `symbol()` over JSON-RPC for a token it does not name),
decimals from `decimals()` over JSON-RPC, each read once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from gpumarket.index import ACTIVE, DISPUTED, ENDED, PENDING, RENTAL_STATUS, ZERO, Index, Rpc
from gpumarket.index import rows as index_rows
from gpumarket.units import fmt

STATIC = Path(__file__).parent / "web_static"
#: Where `make setup` copies Chart.js from node_modules (see the Makefile); the repository's node_modules
#: is the fallback for a checkout that has not run that step.
CHART_JS = "chart.umd.min.js"
CHART_JS_FALLBACK = Path(__file__).resolve().parents[2] / "node_modules" / "chart.js" / "dist" / CHART_JS

#: Rentals that still hold escrow: every status that is not terminal (Cancelled, Settled, Resolved).
HOLDING = (PENDING, ACTIVE, ENDED, DISPUTED)
SHARE_DECIMALS = 24  # vault shares: GPUC's 18 + the vault's 6 of virtual shares
MAX_ROWS = 200  # offers and rentals per answer (the totals count them all)
FILTERS = ("gpu_model", "region", "token", "max_price", "min_gpus")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class BadRequest(ValueError):
    """A query value the server cannot use: answered 400 with the sentence."""


# ───────────────────────────── Tokens ─────────────────────────────


class Tokens:
    """Symbol and decimals of each token the market names, read once (thread-safe)."""

    def __init__(self, rpc: Rpc, record: dict[str, Any]):
        self.rpc = rpc
        self.symbols = {addr.lower(): sym for sym, addr in (record.get("payment_tokens") or {}).items()}
        gpuc = record.get("contracts", {}).get("ComputeToken", {}).get("address")
        if gpuc:
            self.symbols.setdefault(gpuc.lower(), "GPUC")
        self._known: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> tuple[str, int]:
        """(symbol, decimals) of `token`."""
        key = token.lower()
        with self._lock:
            if key not in self._known:
                self._known[key] = (self.symbols.get(key) or self._symbol(token), self._decimals(token))
            return self._known[key]

    def _call(self, token: str, selector: str) -> bytes:
        return bytes.fromhex(self.rpc("eth_call", {"to": token, "data": selector}, "latest")[2:])

    def _decimals(self, token: str) -> int:
        try:
            return int.from_bytes(self._call(token, "0x313ce567")[:32], "big")  # decimals()
        except Exception:
            return 18

    def _symbol(self, token: str) -> str:
        try:
            from eth_abi import decode

            return str(decode(["string"], self._call(token, "0x95d89b41"))[0])[:16]  # symbol()
        except Exception:
            return token[:6] + "…" + token[-4:]

    def amount(self, token: str, raw: int) -> dict[str, str]:
        symbol, decimals = self(token)
        return {"raw": str(int(raw)), "units": fmt(int(raw), decimals), "symbol": symbol}


# ───────────────────────────── Reading the index ─────────────────────────────


@dataclass(frozen=True)
class Filters:
    gpu_model: str | None = None
    region: str | None = None
    token: str | None = None
    max_price: Decimal | None = None
    min_gpus: int | None = None

    @classmethod
    def parse(cls, query: Any) -> Filters:
        """From a request's query parameters; a bad value raises BadRequest with a sentence."""
        unknown = sorted(set(query.keys()) - set(FILTERS))
        if unknown:
            raise BadRequest(f"Unknown query parameter '{unknown[0][:40]}'; the filters are {', '.join(FILTERS)}.")
        values: dict[str, Any] = {}
        for name in ("gpu_model", "region", "token"):
            text = (query.get(name) or "").strip()
            if len(text) > 128:
                raise BadRequest(f"{name} is longer than 128 characters.")
            values[name] = text or None
        price = (query.get("max_price") or "").strip()
        if price:
            try:
                value = Decimal(price) if len(price) <= 40 else None
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or value < 0:
                raise BadRequest("max_price must be a number of the token's units, 0 or more (e.g. 2.10).")
            values["max_price"] = value
        gpus = (query.get("min_gpus") or "").strip()
        if gpus:
            if not gpus.isdigit() or len(gpus) > 9:
                raise BadRequest("min_gpus must be a whole number of GPUs, 0 or more (e.g. 8).")
            values["min_gpus"] = int(gpus)
        return cls(**values)


def _status_name(status: int) -> str:
    return RENTAL_STATUS[status] if 0 <= status < len(RENTAL_STATUS) else str(status)


def escrow_by_token(db: sqlite3.Connection) -> dict[str, int]:
    """The escrow the market holds per payment token, from the index: Σ (total − claimed) of the rentals
    that are not terminal, plus the bonds of disputed rentals. With the protocol fees and the credits it
    is the market's whole balance of the token (ComputeMarket's solvency note; a test checks it)."""
    held: dict[str, int] = {}
    rows = db.execute(f"SELECT token, total, claimed, status, bond FROM rentals WHERE status IN "
                      f"({', '.join('?' * len(HOLDING))})", HOLDING)
    for token, total, claimed, status, bond in rows:
        held[token] = held.get(token, 0) + int(total) - int(claimed) + (int(bond) if status == DISPUTED else 0)
    return held


def owed_by_token(db: sqlite3.Connection, table: str) -> dict[str, int]:
    """Σ amount per token of `protocol_fees` or `credits`."""
    out: dict[str, int] = {}
    for token, amount in db.execute(f"SELECT token, amount FROM {table}"):
        out[token] = out.get(token, 0) + int(amount)
    return out


def fees_collected_by_token(db: sqlite3.Connection) -> dict[str, int]:
    """Every protocol fee the market ever took (claims and rulings), withdrawn or not, per token."""
    tokens = dict(db.execute("SELECT id, token FROM rentals"))
    out: dict[str, int] = {}
    for name, args in db.execute("SELECT name, args FROM events WHERE name IN ('RentalClaimed', 'DisputeResolved')"):
        a = json.loads(args)
        token = tokens.get(int(a["rentalId"]))
        if token is not None and int(a.get("protocolFee", 0)):
            out[token] = out.get(token, 0) + int(a["protocolFee"])
    return out


class Reader:
    """What the page shows, read from one SQLite connection (one per request)."""

    def __init__(self, db: sqlite3.Connection, tokens: Tokens, stake_token: str | None):
        self.db, self.tokens = db, tokens
        self.stake_token = stake_token or self._param("stakeToken")

    def rows(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        return index_rows(self.db, sql, args)

    def _param(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM params WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def now(self) -> int:
        """The chain's time as indexed: the newest indexed block's timestamp (anvil's clock can run ahead
        of the wall clock, and progress must agree with the chain)."""
        row = self.db.execute("SELECT number, timestamp FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
        return int(row[1]) if row else 0

    def head(self) -> dict[str, int]:
        row = self.db.execute("SELECT number, timestamp FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
        return {"block": int(row[0]), "timestamp": int(row[1])} if row else {"block": 0, "timestamp": 0}

    def _vaults(self) -> dict[str, dict[str, Any]]:
        return {r["address"]: r for r in self.rows("SELECT * FROM vaults")}

    def _units(self, token: str, raw: int) -> Decimal:
        return Decimal(int(raw)).scaleb(-self.tokens(token)[1])

    # ── offers ──

    def offers(self, f: Filters, now: int) -> tuple[list[dict[str, Any]], int]:
        """Open offers after the filters, cheapest first (in each token's units): (first MAX_ROWS, count)."""
        where, args = ["status = 1", "(expiry IS NULL OR expiry > ?)"], [now]
        if f.gpu_model:
            where.append("lower(gpu_model) = lower(?)")
            args.append(f.gpu_model)
        if f.region:
            where.append("lower(region) = lower(?)")
            args.append(f.region)
        if f.min_gpus:
            where.append("gpus_offered - gpus_in_use >= ?")
            args.append(f.min_gpus)
        found = self.rows("SELECT * FROM offers WHERE " + " AND ".join(where), tuple(args))
        vaults = self._vaults()
        out = []
        for o in found:
            symbol, decimals = self.tokens(o["token"])
            if f.token and f.token.lower() not in (symbol.lower(), o["token"].lower()):
                continue
            price = Decimal(int(o["price"])).scaleb(-decimals)
            if f.max_price is not None and price > f.max_price:
                continue
            out.append({
                "id": o["id"], "provider": o["provider"], "vault": o["provider"] in vaults,
                "gpu_model": o["gpu_model"], "region": o["region"],
                "price": self.tokens.amount(o["token"], int(o["price"])), "price_sort": price,
                "gpus_offered": o["gpus_offered"], "gpus_free": o["gpus_offered"] - o["gpus_in_use"],
                "min_hours": o["min_hours"], "max_hours": o["max_hours"],
                "reserved_for": None if o["reserved_for"] == ZERO else o["reserved_for"],
                "tiers": [{"min_gpu_hours": t[0], "discount_pct": f"{Decimal(t[1]) / 100:f}"}
                          for t in json.loads(o["tiers"])],
                "signed": o["signed_hash"] is not None,
            })
        out.sort(key=lambda o: (o["price_sort"], o["id"]))
        for o in out:
            o.pop("price_sort")
        return out[:MAX_ROWS], len(out)

    def chart(self, now: int) -> list[dict[str, Any]]:
        """Per payment token: the cheapest open price per GPU-hour for each region and GPU model, in the
        token's units (all open offers, whatever the filters), and how many offers each value comes from."""
        per: dict[str, dict[tuple[str, str], list[Decimal]]] = {}
        for o in self.rows("SELECT token, gpu_model, region, price FROM offers WHERE status = 1 "
                           "AND (expiry IS NULL OR expiry > ?) AND gpus_offered > gpus_in_use", (now,)):
            per.setdefault(o["token"], {}).setdefault((o["region"], o["gpu_model"]), []).append(
                self._units(o["token"], int(o["price"])))
        out = []
        for token, cells in per.items():
            regions = sorted({r for r, _ in cells})
            models = sorted({m for _, m in cells})
            out.append({
                "token": token, "symbol": self.tokens(token)[0], "regions": regions,
                "offers": sum(len(v) for v in cells.values()),
                "series": [{"gpu_model": m,
                            "cheapest": [float(min(cells[(r, m)])) if (r, m) in cells else None for r in regions],
                            "offers": [len(cells.get((r, m), [])) for r in regions]} for m in models],
            })
        out.sort(key=lambda c: -c["offers"])
        return out

    # ── providers ──

    def providers(self) -> list[dict[str, Any]]:
        vaults = self._vaults()
        listed = {r["provider"]: r for r in self.rows(
            "SELECT provider, count(*) AS offers, sum(gpus_offered) AS gpus FROM offers WHERE status = 1 "
            "GROUP BY provider")}
        stake = self.stake_token
        out = []
        for p in self.rows("SELECT * FROM providers WHERE registered = 1 OR staked != '0'"):
            staked, locked, unbonding = int(p["staked"]), int(p["locked"]), int(p["unbonding"])
            backing = None
            if p["address"] in vaults:
                v = vaults[p["address"]]
                backing = {"vault": v["name"], "symbol": v["symbol"], "operator": v["operator"],
                           "commission_pct": f"{Decimal(v['commission_bps']) / 100:f}",
                           "shares": {"raw": v["total_supply"], "units": fmt(int(v["total_supply"]), SHARE_DECIMALS),
                                      "symbol": v["symbol"]}}
            amount = (lambda raw: self.tokens.amount(stake, raw)) if stake else \
                (lambda raw: {"raw": str(raw), "units": fmt(raw, 18), "symbol": "GPUC"})
            gpu_seconds = int(p["gpu_seconds_served"])
            out.append({
                "address": p["address"], "metadata": p["metadata"], "registered": bool(p["registered"]),
                "staked": amount(staked), "locked": amount(locked), "unbonding": amount(unbonding),
                "free": amount(max(staked - unbonding - locked, 0)),
                "gpu_hours_served": _hours(gpu_seconds), "rentals_completed": p["rentals_completed"],
                "disputes_lost": p["disputes_lost"], "amount_slashed": amount(int(p["amount_slashed"])),
                "backing": backing, "open_offers": (listed.get(p["address"]) or {}).get("offers", 0),
                "gpus_listed": (listed.get(p["address"]) or {}).get("gpus", 0) or 0,
                "_sort": staked,
            })
        out.sort(key=lambda p: (-p["_sort"], p["address"]))
        for p in out:
            p.pop("_sort")
        return out

    # ── rentals ──

    def rentals(self, now: int) -> tuple[list[dict[str, Any]], int]:
        """The newest rentals first, running ones before the rest: (first MAX_ROWS, count)."""
        count = self.db.execute("SELECT count(*) FROM rentals").fetchone()[0]
        rows = self.rows(
            "SELECT r.*, o.gpu_model, o.region FROM rentals r LEFT JOIN offers o ON o.id = r.offer_id "
            "ORDER BY CASE WHEN r.status IN (?, ?) THEN 0 ELSE 1 END, r.id DESC LIMIT ?", (PENDING, ACTIVE, MAX_ROWS))
        out = []
        for r in rows:
            progress = None
            if r["status"] == ACTIVE and r["ends_at"] > r["started_at"]:
                progress = min(max((now - r["started_at"]) / (r["ends_at"] - r["started_at"]), 0.0), 1.0)
            out.append({
                "id": r["id"], "offer_id": r["offer_id"], "gpu_model": r["gpu_model"], "region": r["region"],
                "gpus": r["gpus"], "hours_paid": r["hours_paid"], "renter": r["renter"], "provider": r["provider"],
                "status": _status_name(r["status"]), "total": self.tokens.amount(r["token"], int(r["total"])),
                "claimed": self.tokens.amount(r["token"], int(r["claimed"])),
                "started_at": r["started_at"] or None, "ends_at": r["ends_at"] or None,
                "activation_deadline": r["activation_deadline"] if r["status"] == PENDING else None,
                "progress": progress, "cluster_id": r["cluster_id"],
            })
        return out, count

    # ── totals ──

    def totals(self, now: int) -> dict[str, Any]:
        escrow = escrow_by_token(self.db)
        fees = owed_by_token(self.db, "protocol_fees")
        collected = fees_collected_by_token(self.db)
        credits = owed_by_token(self.db, "credits")
        tokens = sorted({*escrow, *fees, *collected, *credits, *(t for (t,) in self.db.execute(
            "SELECT token FROM payment_tokens WHERE allowed = 1"))}, key=lambda t: self.tokens(t)[0])
        gpu_seconds = sum(int(s) for (s,) in self.db.execute("SELECT gpu_seconds_served FROM providers"))
        counts = dict(self.db.execute("SELECT status, count(*) FROM rentals GROUP BY status"))
        open_offers = self.db.execute("SELECT count(*), coalesce(sum(gpus_offered), 0), "
                                      "coalesce(sum(gpus_offered - gpus_in_use), 0) FROM offers WHERE status = 1 "
                                      "AND (expiry IS NULL OR expiry > ?)", (now,)).fetchone()
        return {
            "gpu_hours_served": _hours(gpu_seconds),
            "per_token": [{"token": t, "symbol": self.tokens(t)[0],
                           "escrow_held": self.tokens.amount(t, escrow.get(t, 0)),
                           "protocol_fees_held": self.tokens.amount(t, fees.get(t, 0)),
                           "protocol_fees_collected": self.tokens.amount(t, collected.get(t, 0)),
                           "credits_owed": self.tokens.amount(t, credits.get(t, 0))} for t in tokens],
            "open_offers": open_offers[0], "gpus_listed": open_offers[1], "gpus_free": open_offers[2],
            "rentals": sum(counts.values()), "rentals_running": counts.get(ACTIVE, 0),
            "rentals_pending": counts.get(PENDING, 0),
            "providers": self.db.execute("SELECT count(*) FROM providers WHERE registered = 1").fetchone()[0],
            "vaults": self.db.execute("SELECT count(*) FROM vaults").fetchone()[0],
        }


def _hours(gpu_seconds: int) -> str:
    """GPU-seconds as GPU-hours with two decimals (rounded down)."""
    return fmt(gpu_seconds * 100 // 3600, 2)


# ───────────────────────────── Following the chain ─────────────────────────────


class Refresher:
    """A thread that owns its own Index (SQLite connections are per thread) and refreshes it every
    `seconds`; its state (last block, last error) is what `/api/health` shows."""

    def __init__(self, open_index: Callable[[], Index], seconds: float):
        self.open_index, self.seconds = open_index, seconds
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"refreshes": 0, "error": None, "refreshed_at": None}
        self.thread = threading.Thread(target=self._run, name="gpumarket-index-refresher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.state)

    def _run(self) -> None:
        idx = None
        try:
            while not self.stop_event.is_set():
                try:
                    if idx is None:
                        idx = self.open_index()
                    idx.refresh()
                    with self.lock:
                        self.state.update(refreshes=self.state["refreshes"] + 1, error=None,
                                          refreshed_at=time.time())
                except Exception as err:  # a node that is down, a reorg too deep: shown, retried
                    sentence = getattr(err, "sentence", None) or f"{type(err).__name__}: {err}"
                    with self.lock:
                        self.state["error"] = str(sentence).splitlines()[0][:300]
                self.stop_event.wait(self.seconds)
        finally:
            if idx is not None:
                idx.close()


# ───────────────────────────── The web app ─────────────────────────────


def create_app(index_path: str | Path, rpc_url: str, record: dict[str, Any], *, refresh_seconds: float = 2.0,
               abis: dict | None = None, refresh: bool = True):
    """The Starlette app. The index file must exist (open it once with `Index.open` first: that checks it
    belongs to this chain and deployment). `refresh=False` serves the file as it is (no refresher)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    index_path = Path(index_path)
    tokens = Tokens(Rpc(rpc_url), record)
    refresher = Refresher(lambda: Index.open(index_path, rpc_url, record, abis=abis), refresh_seconds) \
        if refresh else None
    stake_token = record.get("contracts", {}).get("ComputeToken", {}).get("address")

    def reader() -> tuple[sqlite3.Connection, Reader]:
        db = sqlite3.connect(f"file:{index_path}?mode=rw", uri=True, timeout=10)
        db.execute("PRAGMA query_only = 1")
        return db, Reader(db, tokens, stake_token)

    def health(r: Reader) -> dict[str, Any]:
        state = refresher.snapshot() if refresher else {"refreshes": 0, "error": None, "refreshed_at": None}
        return {"indexed": r.head(), "refresh_seconds": refresh_seconds, "refreshes": state["refreshes"],
                "error": state["error"], "refreshed_at": state["refreshed_at"]}

    def json_response(data: Any, status: int = 200) -> Response:
        return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store", **SECURITY_HEADERS})

    def market(request: Request) -> Response:
        f = Filters.parse(request.query_params)
        db, r = reader()
        try:
            now = r.now()
            offers, count = r.offers(f, now)
            rentals, rental_count = r.rentals(now)
            models = [m for (m,) in db.execute("SELECT DISTINCT gpu_model FROM offers WHERE status = 1 ORDER BY 1")]
            regions = [m for (m,) in db.execute("SELECT DISTINCT region FROM offers WHERE status = 1 ORDER BY 1")]
            return json_response({
                "now": now, "status": health(r), "filters": {k: (str(v) if v is not None else None)
                                                             for k, v in f.__dict__.items()},
                "choices": {"gpu_model": models, "region": regions},
                "offers": offers, "offers_matching": count, "chart": r.chart(now), "providers": r.providers(),
                "rentals": rentals, "rentals_total": rental_count, "totals": r.totals(now),
            })
        finally:
            db.close()

    def offers(request: Request) -> Response:
        f = Filters.parse(request.query_params)
        db, r = reader()
        try:
            found, count = r.offers(f, r.now())
            return json_response({"offers": found, "offers_matching": count})
        finally:
            db.close()

    def health_route(request: Request) -> Response:
        if request.query_params:
            raise BadRequest("/api/health takes no query parameters.")
        db, r = reader()
        try:
            return json_response(health(r))
        finally:
            db.close()

    def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store", **SECURITY_HEADERS})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == CHART_JS:
            path = STATIC / "vendor" / CHART_JS
            path = path if path.is_file() else CHART_JS_FALLBACK
        elif name in ("app.js", "app.css", "favicon.svg"):
            path = STATIC / name
        else:
            path = None
        if path is None or not path.is_file():
            return json_response({"error": f"No such file: /static/{name[:60]}."}, 404)
        return FileResponse(path, headers=SECURITY_HEADERS)

    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return json_response({"error": str(exc)}, 400)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        sentence = {404: f"No such page: {request.url.path[:80]}.",
                    405: f"{request.method[:10]} is not allowed here: the market page is read-only."}
        return json_response({"error": sentence.get(exc.status_code, str(exc.detail))}, exc.status_code)

    async def server_error(request: Request, exc: Exception) -> Response:
        return json_response({"error": "The server could not read the index; see its log."}, 500)

    @asynccontextmanager
    async def lifespan(app):
        if refresher:
            refresher.start()
        try:
            yield
        finally:
            if refresher:
                refresher.stop()

    def favicon(request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", headers=SECURITY_HEADERS)

    routes = [Route("/", page), Route("/favicon.ico", favicon), Route("/api/market", market), Route("/api/offers", offers),
              Route("/api/health", health_route), Route("/static/{name}", static)]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        BadRequest: bad_request, HTTPException: http_error, Exception: server_error})
    app.state.refresher = refresher
    return app


def serve(app, host: str, port: int, *, say: Callable[[str], None] = print) -> None:
    """Runs the app with uvicorn until interrupted."""
    import uvicorn

    say(f"gpumarket web: http://{host}:{port}/ (read-only; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


class ServerThread:
    """The app served by uvicorn in a background thread (tests, `make screenshot`):

        with ServerThread(app) as url: ...      # url = http://127.0.0.1:<free port>
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        import socket

        import uvicorn

        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="gpumarket-web", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.time() > deadline:
                raise RuntimeError(f"the web server did not start on {self.url}")
            time.sleep(0.05)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
