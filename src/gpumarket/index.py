"""The event index: the market's, the registry's, the vault factory's and every vault's events, followed
block by block into an embedded SQLite file, and the entities rebuilt from them alone.

    idx = Index.open("gpumarket-index.sqlite", rpc_url, record)   # a deployment record (`gpumarket deploy`)
    idx.refresh()                                                  # catch up with the node (resumable)
    idx.offers(gpu_model="H100-SXM-80GB")                          # read entities

How it follows the chain (README "Event index"):
- **Ranges.** `eth_getLogs` over [next block, head] in ranges of `step` blocks (2,000 by default); a node
  that refuses a range as too large gets it halved, down to one block. The factory's logs of a range are
  read first, so a vault created in it is followed from its first block.
- **Resumable.** Each range is written in one SQLite transaction with the last block it covers; a refresh
  that stops halfway resumes after the last complete range.
- **Reorgs.** The hashes of the last `KEEP_BLOCKS` indexed blocks are kept. Before reading on, the index
  compares its newest block's hash with the node's; on a mismatch it walks back to the newest block both
  agree on, deletes every event above it and rebuilds the entities from the events that remain (a reorg
  deeper than `KEEP_BLOCKS` is refused with a sentence: start a new index file).
- **Entities from events alone.** `events` keeps every decoded log; the entity tables (offers, rentals,
  providers, vaults, signed offers, clusters, protocol fees, credits, parameters, payment tokens) are a
  fold over them (`_Projector`), applied as events arrive and replayed in full after a reorg. Amounts
  are decimal strings (18-decimal amounts outgrow SQLite's 64-bit integers).

No web3 or ape import: JSON-RPC over the CLI's transport and eth_abi, so a CLI command that reads the index starts fast.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from gpumarket.connection import _abi_type
from gpumarket.errors import GpuMarketError, NetworkError
from gpumarket.offer import discount_for
from gpumarket.rpc import _checksum

SCHEMA_VERSION = 1
KEEP_BLOCKS = 256  # recent block hashes kept for reorg detection
DEFAULT_STEP = 2_000  # blocks per eth_getLogs range (halved when the node refuses one)
ZERO = "0x0000000000000000000000000000000000000000"
BPS = 10_000

#: Rental and offer statuses, as the contracts number them (types/Rental.sol, types/Offer.sol).
RENTAL_STATUS = ("none", "pending", "active", "ended", "cancelled", "settled", "disputed", "resolved")
OFFER_STATUS = ("none", "active", "paused", "closed")
PENDING, ACTIVE, ENDED, CANCELLED, SETTLED, DISPUTED, RESOLVED = 1, 2, 3, 4, 5, 6, 7

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, timestamp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL, address TEXT NOT NULL,
    name TEXT NOT NULL, args TEXT NOT NULL, PRIMARY KEY (block, log_index));
CREATE TABLE IF NOT EXISTS params (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payment_tokens (token TEXT PRIMARY KEY, allowed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS offers (
    id INTEGER PRIMARY KEY, provider TEXT NOT NULL, token TEXT NOT NULL, gpu_model TEXT NOT NULL,
    region TEXT NOT NULL, price TEXT NOT NULL, price_sort REAL NOT NULL, gpus_offered INTEGER NOT NULL,
    gpus_in_use INTEGER NOT NULL, min_hours INTEGER NOT NULL, max_hours INTEGER NOT NULL,
    reserved_for TEXT NOT NULL, max_broker_bps INTEGER NOT NULL, tiers TEXT NOT NULL, status INTEGER NOT NULL,
    signed_hash TEXT, expiry INTEGER, nonce TEXT, created_block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS offers_search ON offers (status, gpu_model, region, price_sort);
CREATE TABLE IF NOT EXISTS signed_offers (hash TEXT PRIMARY KEY, offer_id INTEGER NOT NULL, cancelled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rentals (
    id INTEGER PRIMARY KEY, offer_id INTEGER NOT NULL, renter TEXT NOT NULL, payer TEXT NOT NULL,
    provider TEXT NOT NULL, token TEXT NOT NULL, broker TEXT NOT NULL, broker_bps INTEGER NOT NULL,
    gpus INTEGER NOT NULL, hours_paid INTEGER NOT NULL, total TEXT NOT NULL, claimed TEXT NOT NULL,
    collateral TEXT NOT NULL, status INTEGER NOT NULL, started_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
    activation_deadline INTEGER NOT NULL, protocol_fee_bps INTEGER NOT NULL, discount_bps INTEGER NOT NULL,
    disputed_at INTEGER NOT NULL, bond TEXT NOT NULL, cluster_id INTEGER, opened_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rentals_parties ON rentals (renter, payer, provider, broker);
CREATE TABLE IF NOT EXISTS clusters (
    first_rental_id INTEGER PRIMARY KEY, renter TEXT NOT NULL, payer TEXT NOT NULL, token TEXT NOT NULL,
    rentals INTEGER NOT NULL, total_cost TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS providers (
    address TEXT PRIMARY KEY, registered INTEGER NOT NULL, metadata TEXT NOT NULL, staked TEXT NOT NULL,
    locked TEXT NOT NULL, unbonding TEXT NOT NULL, unbonding_ready_at INTEGER NOT NULL,
    gpu_seconds_served TEXT NOT NULL, rentals_completed INTEGER NOT NULL, disputes_lost INTEGER NOT NULL,
    amount_slashed TEXT NOT NULL, nonce_floor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vaults (
    address TEXT PRIMARY KEY, operator TEXT NOT NULL, commission_bps INTEGER NOT NULL, name TEXT NOT NULL,
    symbol TEXT NOT NULL, total_supply TEXT NOT NULL, created_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS protocol_fees (token TEXT PRIMARY KEY, amount TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credits (account TEXT NOT NULL, token TEXT NOT NULL, amount TEXT NOT NULL,
    PRIMARY KEY (account, token));
"""

ENTITY_TABLES = ("params", "payment_tokens", "offers", "signed_offers", "rentals", "clusters", "providers", "vaults",
                 "protocol_fees", "credits")


class IndexError_(GpuMarketError):
    """The index file cannot be used (corrupt, another chain or deployment, a reorg too deep)."""


# ───────────────────────────── JSON-RPC ─────────────────────────────


class Rpc:
    """The few JSON-RPC calls the index makes, over the CLI's transport (`gpumarket.rpc.Transport`)."""

    def __init__(self, url: str, timeout: float = 30):
        from gpumarket.rpc import Transport

        self.url, self.transport = url, Transport(url, timeout)

    def __call__(self, method: str, *params) -> Any:
        from gpumarket.rpc import NodeError

        try:
            return self.transport.request(method, list(params))
        except NodeError as err:
            raise RpcError(err.error.get("message", "error"), err.error.get("code")) from None


class RpcError(Exception):
    def __init__(self, message: str, code: int | None):
        super().__init__(message)
        self.code = code


# ───────────────────────────── ABI: topics to events ─────────────────────────────


@dataclass(frozen=True)
class EventAbi:
    name: str
    inputs: tuple  # the ABI's input entries

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        from eth_abi import decode

        indexed = [i for i in self.inputs if i.get("indexed")]
        plain = [i for i in self.inputs if not i.get("indexed")]
        values: dict[str, Any] = {}
        for item, topic in zip(indexed, topics[1:]):
            raw = bytes.fromhex(topic[2:])
            kind = _abi_type(item)
            values[item["name"]] = ("0x" + raw.hex()) if kind in ("string", "bytes") or "[" in kind \
                else decode([kind], raw)[0]
        decoded = decode([_abi_type(i) for i in plain], bytes.fromhex(data[2:])) if plain else ()
        values.update({i["name"]: v for i, v in zip(plain, decoded)})
        return {k: _jsonable(v) for k, v in values.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return _checksum(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)  # exact in JSON
    return value


def _events_of(abis: dict[str, list[dict]]) -> dict[str, dict[str, EventAbi]]:
    """Per contract kind, topic0 → event."""
    from eth_utils import keccak

    out: dict[str, dict[str, EventAbi]] = {}
    for kind, abi in abis.items():
        table = out.setdefault(kind, {})
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            signature = f"{item['name']}({','.join(_abi_type(i) for i in item.get('inputs', []))})"
            table["0x" + keccak(text=signature).hex()] = EventAbi(item["name"], tuple(item.get("inputs", [])))
    return out


def build_abis(build_file: str | Path = ".build/__local__.json") -> dict[str, list[dict]]:
    """The ABIs the index decodes, from the compiled build."""
    types = json.loads(Path(build_file).read_text())["contractTypes"]
    return {kind: types[kind]["abi"] for kind in ("ComputeMarket", "ProviderRegistry", "VaultFactory", "ProviderVault")
            if kind in types}


def _int(value: Any) -> int:
    return int(value)


# ───────────────────────────── The index ─────────────────────────────


class Index:
    """An index file for one deployment on one chain."""

    def __init__(self, db: sqlite3.Connection, rpc: Rpc, record: dict[str, Any], abis: dict[str, list[dict]],
                 step: int = DEFAULT_STEP):
        self.db, self.rpc, self.record, self.step = db, rpc, record, step
        self.events_by_kind = _events_of(abis)
        c = record["contracts"]
        self.market = _checksum(c["ComputeMarket"]["address"])
        self.registry = _checksum(c["ProviderRegistry"]["address"])
        self.factory = _checksum(c["VaultFactory"]["address"]) if "VaultFactory" in c else None

    # ── opening ──

    @classmethod
    def open(cls, path: str | Path, rpc_url: str, record: dict[str, Any], *, abis: dict | None = None,
             step: int = DEFAULT_STEP) -> Index:
        """Opens (or creates) the index file at `path` for the deployment `record` on the node at `rpc_url`.
        A file for another chain or deployment, or one that is not an index, is refused with a sentence."""
        path = Path(path)
        try:
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(DDL)
        except sqlite3.DatabaseError as err:
            raise IndexError_(f"{path} is not a gpumarket index ({err}); remove it or choose another --index "
                              "file.") from None
        idx = cls(db, Rpc(rpc_url), record, abis or build_abis(), step)
        chain_id = int(idx.rpc("eth_chainId"), 16)
        meta = idx.meta()
        expected = {"schema": str(SCHEMA_VERSION), "chain_id": str(chain_id), "market": idx.market}
        if not meta:
            start = first_block(record)
            with idx._tx():
                for key, value in (expected | {"next_block": str(start)}).items():
                    db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        else:
            for key, value in expected.items():
                if meta.get(key) != value:
                    raise IndexError_(f"{path} indexes {key.replace('_', ' ')} {meta.get(key)}, not {value}: it "
                                      "belongs to another chain or deployment; choose another --index file.")
        return idx

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta"))

    def _tx(self):
        return _Transaction(self.db)

    @property
    def next_block(self) -> int:
        return int(self.meta()["next_block"])

    # ── following the chain ──

    def refresh(self, to_block: int | None = None) -> dict[str, int]:
        """Catches up with the node (to `to_block`, default the head): returns what it did."""
        rolled_back = self._check_reorg()
        head = int(self.rpc("eth_blockNumber"), 16) if to_block is None else to_block
        start, added = self.next_block, 0
        block = start
        while block <= head:
            last = min(head, block + self.step - 1)
            try:
                logs = self._logs(block, last)
            except RpcError as err:
                if last > block and _too_large(err):
                    self.step = max(1, (last - block + 1) // 2)
                    continue
                raise NetworkError(f"The node refused the logs of blocks {block} to {last}: {err}.") from None
            added += self._apply_range(block, last, logs)
            block = last + 1
        return {"from_block": start, "to_block": head, "events": added, "rolled_back": rolled_back}

    def _logs(self, first: int, last: int) -> list[dict]:
        span = {"fromBlock": hex(first), "toBlock": hex(last)}
        found = []
        vaults = [row[0] for row in self.db.execute("SELECT address FROM vaults")]
        if self.factory:
            factory_logs = self.rpc("eth_getLogs", span | {"address": self.factory})
            found += factory_logs
            for log in factory_logs:
                ev = self._decode(log)
                if ev and ev[0] == "VaultCreated":
                    vaults.append(ev[1]["vault"])
        addresses = [self.market, self.registry, *vaults]
        found += self.rpc("eth_getLogs", span | {"address": addresses})
        found.sort(key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))
        return found

    def _kind(self, address: str) -> str | None:
        address = _checksum(address)
        if address == self.market:
            return "ComputeMarket"
        if address == self.registry:
            return "ProviderRegistry"
        if address == self.factory:
            return "VaultFactory"
        return "ProviderVault"

    def _decode(self, log: dict) -> tuple[str, dict] | None:
        kind = self._kind(log["address"])
        event = self.events_by_kind.get(kind, {}).get(log["topics"][0]) if log["topics"] else None
        if event is None:
            return None
        return event.name, event.decode(log["topics"], log["data"])

    def _apply_range(self, first: int, last: int, logs: list[dict]) -> int:
        blocks: dict[int, tuple[str, int]] = {}
        for n in sorted({int(log["blockNumber"], 16) for log in logs} | {last}):
            b = self.rpc("eth_getBlockByNumber", hex(n), False)
            if b is None:
                raise NetworkError(f"The node does not have block {n} any more; refresh again.")
            blocks[n] = (b["hash"], int(b["timestamp"], 16))
        projector = _Projector(self.db)
        count = 0
        with self._tx():
            for log in logs:
                if log.get("removed"):
                    continue
                n = int(log["blockNumber"], 16)
                if log["blockHash"] != blocks[n][0]:
                    raise NetworkError(f"Block {n} changed while it was read (a reorg); refresh again.")
                decoded = self._decode(log)
                if decoded is None:
                    continue
                name, args = decoded
                address = _checksum(log["address"])
                self.db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                                (n, int(log["logIndex"], 16), log["transactionHash"], address, name, json.dumps(args)))
                projector.apply(name, args, address, n, blocks[n][1])
                count += 1
            for n, (h, ts) in blocks.items():
                self.db.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", (n, h, ts))
            self.db.execute("DELETE FROM blocks WHERE number < ?", (last - KEEP_BLOCKS,))
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'next_block'", (str(last + 1),))
        return count

    def _check_reorg(self) -> int:
        """Rolls back what a reorg removed: returns the number of blocks rolled back (0 if none)."""
        known = self.db.execute("SELECT number, hash FROM blocks ORDER BY number DESC").fetchall()
        if not known:
            return 0
        newest = known[0][0]
        for number, stored in known:
            b = self.rpc("eth_getBlockByNumber", hex(number), False)
            if b is not None and b["hash"] == stored:
                if number == newest:
                    return 0
                self._rollback(number)
                return newest - number
        oldest = known[-1][0]
        if oldest > first_block(self.record):
            raise IndexError_(f"The chain was reorganised deeper than the {KEEP_BLOCKS} blocks the index keeps "
                              f"(below block {oldest}); start a new index file.")
        self._rollback(oldest - 1)
        return newest - oldest + 1

    def _rollback(self, keep_through: int) -> None:
        with self._tx():
            self.db.execute("DELETE FROM events WHERE block > ?", (keep_through,))
            self.db.execute("DELETE FROM blocks WHERE number > ?", (keep_through,))
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'next_block'", (str(keep_through + 1),))
            self.rebuild()

    def rebuild(self) -> None:
        """Replays every stored event into empty entity tables (inside the caller's transaction)."""
        for table in ENTITY_TABLES:
            self.db.execute(f"DELETE FROM {table}")
        projector = _Projector(self.db)
        timestamps = dict(self.db.execute("SELECT number, timestamp FROM blocks"))
        rows = self.db.execute("SELECT block, address, name, args FROM events ORDER BY block, log_index").fetchall()
        missing = sorted({b for b, *_ in rows} - set(timestamps))
        for n in missing:  # blocks older than the kept window: their timestamps come from the node
            timestamps[n] = int(self.rpc("eth_getBlockByNumber", hex(n), False)["timestamp"], 16)
        for block, address, name, args in rows:
            projector.apply(name, json.loads(args), address, block, timestamps[block])

    # ── reading ──

    def rows(self, sql: str, args: Iterable = ()) -> list[dict[str, Any]]:
        return rows(self.db, sql, args)

    def offers(self, *, gpu_model: str | None = None, region: str | None = None, include_all: bool = False,
               min_gpus: int | None = None, limit: int | None = None, below_id: int | None = None
               ) -> list[dict[str, Any]]:
        """Offers, cheapest first (open ones only unless `include_all`; ids below `below_id` if given); filters
        case-insensitive."""
        where, args = [], []
        if below_id is not None:
            where.append("id < ?")
            args.append(below_id)
        if not include_all:
            where.append("status = 1")
        if gpu_model:
            where.append("lower(gpu_model) = lower(?)")
            args.append(gpu_model)
        if region:
            where.append("lower(region) = lower(?)")
            args.append(region)
        if min_gpus:
            where.append("gpus_offered - gpus_in_use >= ?")
            args.append(min_gpus)
        sql = "SELECT * FROM offers" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY price_sort, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.rows(sql, args)

    def rental(self, rental_id: int) -> dict[str, Any] | None:
        found = self.rows("SELECT * FROM rentals WHERE id = ?", (rental_id,))
        return found[0] if found else None

    def close(self) -> None:
        self.db.close()


def rows(db: sqlite3.Connection, sql: str, args: Iterable = ()) -> list[dict[str, Any]]:
    """A query's rows as dicts by column name."""
    cur = db.execute(sql, tuple(args))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def first_block(record: dict[str, Any]) -> int:
    """The first block with an event to index: the earliest deployment block the record names (0 for a
    record written before blocks were recorded)."""
    blocks = [c.get("block") for c in record.get("contracts", {}).values()]
    return min((int(b) for b in blocks if b is not None), default=0) if all(b is not None for b in blocks) else 0


def _too_large(err: RpcError) -> bool:
    text = str(err).lower()
    return any(w in text for w in ("range", "too large", "too many", "limit", "exceed", "10000"))


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.nested = db.in_transaction

    def __enter__(self):
        if not self.nested:
            self.db.execute("BEGIN")

    def __exit__(self, kind, value, tb):
        if self.nested:
            return
        self.db.execute("ROLLBACK" if kind else "COMMIT")


# ───────────────────────────── The fold: events → entities ─────────────────────────────


def unpack_tiers(packed: int) -> list[tuple[int, int]]:
    """TierMath.unpack: up to four tiers in 48-bit groups from the low bits, each (uint32 minGpuHours |
    uint16 discountBps << 32); a group whose minGpuHours is 0 ends the list."""
    tiers = []
    for i in range(4):
        group = packed >> (48 * i)
        if group & 0xFFFFFFFF == 0:
            break
        tiers.append((group & 0xFFFFFFFF, (group >> 32) & 0xFFFF))
    return tiers


class _Projector:
    """Applies one decoded event to the entity tables (amounts as decimal strings)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    # small helpers
    def _one(self, sql: str, args: tuple) -> tuple | None:
        return self.db.execute(sql, args).fetchone()

    def _param(self, name: str, default: int = 0) -> int:
        row = self._one("SELECT value FROM params WHERE name = ?", (name,))
        return int(row[0]) if row else default

    def _set_param(self, name: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO params VALUES (?, ?)", (name, str(value)))

    def _add(self, table: str, keys: dict[str, Any], amount: int) -> None:
        where = " AND ".join(f"{k} = ?" for k in keys)
        row = self._one(f"SELECT amount FROM {table} WHERE {where}", tuple(keys.values()))
        value = (int(row[0]) if row else 0) + amount
        cols = ", ".join([*keys, "amount"])
        marks = ", ".join("?" for _ in range(len(keys) + 1))
        self.db.execute(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})", (*keys.values(), str(value)))

    def _provider(self, address: str) -> dict[str, Any]:
        cur = self.db.execute("SELECT * FROM providers WHERE address = ?", (address,))
        row = cur.fetchone()
        if row is None:
            return {"address": address, "registered": 0, "metadata": "", "staked": "0", "locked": "0",
                    "unbonding": "0", "unbonding_ready_at": 0, "gpu_seconds_served": "0", "rentals_completed": 0,
                    "disputes_lost": 0, "amount_slashed": "0", "nonce_floor": "0"}
        return dict(zip([d[0] for d in cur.description], row))

    def _save_provider(self, p: dict[str, Any]) -> None:
        cols = list(p)
        self.db.execute(f"INSERT OR REPLACE INTO providers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        tuple(p[c] for c in cols))

    def _rental(self, rental_id: int) -> dict[str, Any]:
        cur = self.db.execute("SELECT * FROM rentals WHERE id = ?", (rental_id,))
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))

    def _update(self, table: str, key: str, key_value: Any, **values) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE {table} SET {sets} WHERE {key} = ?", (*values.values(), key_value))

    def _free_gpus(self, offer_id: int, gpus: int) -> None:
        self.db.execute("UPDATE offers SET gpus_in_use = gpus_in_use - ? WHERE id = ?", (gpus, offer_id))

    def _served(self, provider: str, gpus: int, seconds: int) -> None:
        p = self._provider(provider)
        p["gpu_seconds_served"] = str(int(p["gpu_seconds_served"]) + gpus * seconds)
        p["rentals_completed"] += 1
        self._save_provider(p)

    def _slashed(self, provider: str, amount: int) -> None:
        p = self._provider(provider)
        p["amount_slashed"] = str(int(p["amount_slashed"]) + amount)
        self._save_provider(p)

    def apply(self, name: str, a: dict[str, Any], address: str, block: int, ts: int) -> None:
        handler = getattr(self, f"on_{name}", None)
        if handler is not None:
            handler(a, address, block, ts)

    # ── market: parameters ──

    def on_ProtocolFeeSet(self, a, *_):
        self._set_param("protocolFeeBps", a["protocolFeeBps"])

    def on_TreasurySet(self, a, *_):
        self._set_param("treasury", a["treasury"])

    def on_ArbiterSet(self, a, *_):
        self._set_param("arbiter", a["arbiter"])

    def on_StakePerGpuSet(self, a, *_):
        self._set_param("stakePerGpu", a["stakePerGpu"])

    def on_ActivationWindowSet(self, a, *_):
        self._set_param("activationWindow", a["activationWindow"])

    def on_DisputeWindowSet(self, a, *_):
        self._set_param("disputeWindow", a["disputeWindow"])

    def on_NoShowPenaltySet(self, a, *_):
        self._set_param("noShowPenaltyBps", a["noShowPenaltyBps"])

    def on_ArbitrationTimeoutSet(self, a, *_):
        self._set_param("arbitrationTimeout", a["arbitrationTimeout"])

    def on_SlashTreasuryShareSet(self, a, *_):
        self._set_param("slashTreasuryBps", a["slashTreasuryBps"])

    def on_PaymentTokenSet(self, a, *_):
        self.db.execute("INSERT OR REPLACE INTO payment_tokens VALUES (?, ?)", (a["token"], int(bool(a["allowed"]))))

    def on_Paused(self, a, address, *_):
        self._set_param(f"paused:{address}", 1)

    def on_Unpaused(self, a, address, *_):
        self._set_param(f"paused:{address}", 0)

    # ── market: offers ──

    def on_OfferCreated(self, a, _address, block, _ts):
        tiers = unpack_tiers(int(a["tiers"]))
        self.db.execute(
            "INSERT INTO offers (id, provider, token, gpu_model, region, price, price_sort, gpus_offered, gpus_in_use, "
            "min_hours, max_hours, reserved_for, max_broker_bps, tiers, status, created_block) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, 1, ?)",
            (a["offerId"], a["provider"], a["paymentToken"], a["gpuModel"], a["region"], str(a["pricePerGpuHour"]),
             float(a["pricePerGpuHour"]), a["gpusOffered"], a["minHours"], a["maxHours"], a["reservedFor"],
             a["maxBrokerBps"], json.dumps(tiers), block))

    def on_OfferUpdated(self, a, *_):
        self._update("offers", "id", a["offerId"], price=str(a["pricePerGpuHour"]),
                     price_sort=float(a["pricePerGpuHour"]), gpus_offered=a["gpusOffered"], min_hours=a["minHours"],
                     max_hours=a["maxHours"], reserved_for=a["reservedFor"], max_broker_bps=a["maxBrokerBps"],
                     tiers=json.dumps(unpack_tiers(int(a["tiers"]))))

    def on_OfferStatusChanged(self, a, *_):
        self._update("offers", "id", a["offerId"], status=a["status"])

    def on_SignedOfferRecorded(self, a, *_):
        self._update("offers", "id", a["offerId"], signed_hash=a["offerHash"], expiry=a["expiry"],
                     nonce=str(a["nonce"]))
        self.db.execute("INSERT OR REPLACE INTO signed_offers VALUES (?, ?, 0)", (a["offerHash"], a["offerId"]))

    def on_SignedOfferCancelled(self, a, *_):
        self.db.execute("INSERT OR REPLACE INTO signed_offers VALUES (?, ?, 1)", (a["offerHash"], a["offerId"]))

    def on_SignedNonceFloorRaised(self, a, *_):
        p = self._provider(a["provider"])
        p["nonce_floor"] = str(a["nonceFloor"])
        self._save_provider(p)

    def on_ClusterBooked(self, a, *_):
        first, n = int(a["firstRentalId"]), int(a["rentals"])
        self.db.execute("INSERT INTO clusters VALUES (?, ?, ?, ?, ?, ?)",
                        (first, a["renter"], a["payer"], a["token"], n, str(a["totalCost"])))
        self.db.execute("UPDATE rentals SET cluster_id = ? WHERE id BETWEEN ? AND ?", (first, first, first + n - 1))

    # ── market: rentals ──

    def on_RentalOpened(self, a, _address, _block, ts):
        offer = self._one("SELECT tiers FROM offers WHERE id = ?", (a["offerId"],))
        tiers = [tuple(t) for t in json.loads(offer[0])] if offer else []
        gpus, hours = int(a["gpus"]), int(a["hoursPaid"])
        self.db.execute(
            "INSERT INTO rentals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '0', ?, ?, 0, 0, ?, ?, ?, 0, '0', NULL, ?)",
            (a["rentalId"], a["offerId"], a["renter"], a["payer"], a["provider"], a["paymentToken"], a["broker"],
             a["brokerBps"], gpus, hours, str(a["deposit"]), str(a["collateral"]), PENDING,
             ts + self._param("activationWindow"), self._param("protocolFeeBps"), discount_for(tiers, gpus * hours), ts))
        self.db.execute("UPDATE offers SET gpus_in_use = gpus_in_use + ? WHERE id = ?", (gpus, a["offerId"]))

    def on_RentalActivated(self, a, *_):
        self._update("rentals", "id", a["rentalId"], status=ACTIVE, started_at=a["startedAt"], ends_at=a["endsAt"])

    def on_RentalClaimed(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], claimed=str(int(r["claimed"]) + int(a["gross"])))
        self._fees(r, int(a["protocolFee"]), int(a["brokerFee"]))

    def _fees(self, r: dict, protocol_fee: int, broker_fee: int) -> None:
        if protocol_fee:
            self._add("protocol_fees", {"token": r["token"]}, protocol_fee)
        if broker_fee:
            self._add("credits", {"account": r["broker"], "token": r["token"]}, broker_fee)

    def on_RentalExtended(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], total=str(int(r["total"]) + int(a["cost"])), ends_at=a["endsAt"],
                     hours_paid=r["hours_paid"] + int(a["hoursAdded"]))

    def on_RentalStopped(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], total=str(int(r["total"]) - int(a["refund"])), ends_at=a["stoppedAt"],
                     status=ENDED)
        self._free_gpus(r["offer_id"], r["gpus"])

    def on_RentalCancelled(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], status=CANCELLED)
        self._free_gpus(r["offer_id"], r["gpus"])
        if int(a["penalty"]):
            self._slashed(r["provider"], int(a["penalty"]))

    def on_RentalEnded(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], status=ENDED)
        self._free_gpus(r["offer_id"], r["gpus"])

    def on_RentalSettled(self, a, *_):
        r = self._rental(a["rentalId"])
        self._update("rentals", "id", r["id"], status=SETTLED)
        self._served(r["provider"], r["gpus"], r["ends_at"] - r["started_at"])

    def on_RentalDisputed(self, a, _address, _block, ts):
        r = self._rental(a["rentalId"])
        values = {"status": DISPUTED, "disputed_at": ts, "bond": str(a["bond"])}
        if r["status"] == ACTIVE:
            self._free_gpus(r["offer_id"], r["gpus"])
            if ts < r["ends_at"]:  # billed as a stop at this second
                values |= {"total": str(int(r["total"]) - int(a["refund"])), "ends_at": ts}
        self._update("rentals", "id", r["id"], **values)

    def on_DisputeResolved(self, a, *_):
        r = self._rental(a["rentalId"])
        total = int(r["claimed"]) + int(a["providerGross"])
        self._update("rentals", "id", r["id"], status=RESOLVED, total=str(total), claimed=str(total), bond="0")
        self._fees(r, int(a["protocolFee"]), int(a["brokerFee"]))
        if a["bondTo"] == r["renter"]:  # the provider lost
            p = self._provider(r["provider"])
            p["disputes_lost"] += 1
            p["amount_slashed"] = str(int(p["amount_slashed"]) + int(a["slashToRenter"]) + int(a["slashToTreasury"]))
            self._save_provider(p)
        else:
            self._served(r["provider"], r["gpus"], r["ends_at"] - r["started_at"])

    # ── market: money owed ──

    def on_ProtocolFeesWithdrawn(self, a, *_):
        self._add("protocol_fees", {"token": a["token"]}, -int(a["amount"]))

    def on_PaymentDeferred(self, a, *_):
        self._add("credits", {"account": a["account"], "token": a["token"]}, int(a["amount"]))

    def on_CreditsWithdrawn(self, a, *_):
        self._add("credits", {"account": a["account"], "token": a["token"]}, -int(a["amount"]))

    # ── registry ──

    def on_StakeTokenSet(self, a, *_):
        self._set_param("stakeToken", a["stakeToken"])

    def on_UnbondingPeriodSet(self, a, *_):
        self._set_param("unbondingPeriod", a["unbondingPeriod"])

    def on_MinStakeSet(self, a, *_):
        self._set_param("minStake", a["minStake"])

    def on_ProviderRegistered(self, a, *_):
        p = self._provider(a["provider"])
        p |= {"registered": 1, "metadata": a["metadata"]}
        self._save_provider(p)

    def on_MetadataUpdated(self, a, *_):
        p = self._provider(a["provider"])
        p["metadata"] = a["metadata"]
        self._save_provider(p)

    def on_Staked(self, a, *_):
        p = self._provider(a["provider"])
        p["staked"] = str(int(p["staked"]) + int(a["amount"]))
        self._save_provider(p)

    def on_UnbondRequested(self, a, *_):
        p = self._provider(a["provider"])
        p |= {"unbonding": str(a["unbonding"]), "unbonding_ready_at": int(a["readyAt"])}
        self._save_provider(p)

    def on_UnbondCancelled(self, a, *_):
        p = self._provider(a["provider"])
        p |= {"unbonding": "0", "unbonding_ready_at": 0}
        self._save_provider(p)

    def on_UnbondedWithdrawn(self, a, *_):
        p = self._provider(a["provider"])
        p |= {"staked": str(int(p["staked"]) - int(a["amount"])), "unbonding": "0", "unbonding_ready_at": 0}
        self._save_provider(p)

    def on_CollateralLocked(self, a, *_):
        p = self._provider(a["provider"])
        p["locked"] = str(a["locked"])
        self._save_provider(p)

    on_CollateralUnlocked = on_CollateralLocked

    def on_StakeSlashed(self, a, *_):
        p = self._provider(a["provider"])
        amount = int(a["amount"])
        p |= {"staked": str(int(p["staked"]) - amount), "locked": str(int(p["locked"]) - amount)}
        self._save_provider(p)

    # ── vaults ──

    def on_VaultCreated(self, a, _address, block, _ts):
        self.db.execute("INSERT INTO vaults VALUES (?, ?, ?, ?, ?, '0', ?)",
                        (a["vault"], a["operator"], a["commissionBps"], a["name"], a["symbol"], block))

    def on_CommissionChanged(self, a, address, *_):
        self._update("vaults", "address", address, commission_bps=a["bps"])

    def on_Transfer(self, a, address, *_):
        """A vault's share transfers: mints and burns move its supply."""
        row = self._one("SELECT total_supply FROM vaults WHERE address = ?", (address,))
        if row is None:
            return
        supply = int(row[0])
        if a["from"] == ZERO:
            supply += int(a["value"])
        if a["to"] == ZERO:
            supply -= int(a["value"])
        self._update("vaults", "address", address, total_supply=str(supply))
