"""RpcConnection: the fast backend of the seam in `connection.py`, raw JSON-RPC over one HTTP connection.

Every ordinary `gpumarket` command runs on it: no ape and no web3 are imported, so a command pays at start-up
for click, eth_abi (ABI encoding, ≈ 0.2 s) and, only when it signs, eth_account. The ABIs come from the
compiled build (`.build/__local__.json`, read whole: 1.5 MB parses in ≈ 10 ms, less than a cache would save).

- `contract(name, address)` gives a handle whose functions are eth_calls on the latest block, returning values
  with the ABI's names as attributes (`Struct`); a function is also what `send` sends (`encode_input`).
- `send` reads the account's nonce from the *pending* state, the gas estimate and the fees in one batched
  request, signs (eth_account, imported then), sends and polls the receipt. Two processes sending from one
  account at once both land: the one that loses the race for a nonce reads the pending nonce again and resends;
  a nonce the node still refuses after that is a real conflict, stated in one sentence.
- On a live network each transaction is confirmed first (`confirm`), unless the command runs with --yes or
  --unattended.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from gpumarket.connection import RawRevert, _abi_type, _build_types, _decode_raw, decode_plain
from gpumarket.errors import GpuMarketError, NetworkError, NotFoundError, Phrasing, RevertedError

#: Chain id of each live network the CLI knows (`<ecosystem>:<network>`); a node on another chain is refused.
LIVE_CHAIN_IDS = {"ethereum:sepolia": 11155111, "base:sepolia": 84532, "arbitrum:sepolia": 421614,
                  "ethereum:mainnet": 1, "base:mainnet": 8453, "arbitrum:mainnet": 42161}
LOCAL_URL = "http://127.0.0.1:8545"
#: Node messages of a nonce another transaction took first (geth, anvil, erigon, nethermind wordings).
NONCE_TAKEN = ("nonce too low", "already known", "replacement transaction underpriced", "nonce has already been used",
               "known transaction", "oldnonce", "transaction already imported")


class NodeError(Exception):
    """An error answer of the node (not a revert)."""

    def __init__(self, error: dict):
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        super().__init__(str(self.error.get("message", "unknown error")))


class Struct(tuple):
    """ABI values with their names as attributes (`getOffer(1).gpusOffered`); still a tuple (unpacks, indexes)."""

    _fields: tuple[str, ...] = ()

    def __new__(cls, names, values):
        obj = super().__new__(cls, values)
        obj._fields = tuple(names)
        return obj

    def __getattr__(self, name: str):
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return "(" + ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self)) + ")"


# ───────────────────────────── The transport ─────────────────────────────


class Transport:
    """JSON-RPC over one kept-alive HTTP(S) connection (http.client: no requests, no web3)."""

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"'{url}' is not an http(s) URL of a node; the CLI talks JSON-RPC over HTTP.")
        self.url, self.timeout, self._https = url, timeout, parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn = None
        self._id = 0

    def _post(self, payload: Any) -> Any:
        import http.client

        body = json.dumps(payload).encode()
        for attempt in (1, 2):
            reused = self._conn is not None
            if self._conn is None:
                cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._conn = cls(self._host, self._port, timeout=self.timeout)
            try:
                self._conn.request("POST", self._path, body, {"Content-Type": "application/json",
                                                              "User-Agent": "gpumarket"})
                response = self._conn.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException) as err:
                self._conn.close()
                self._conn = None
                if reused and attempt == 1:  # a kept-alive connection the server closed: once more, afresh
                    continue
                reason = (getattr(err, "strerror", None) or str(err) or type(err).__name__).rstrip(".").lower()
                raise NetworkError(f"No node answers at {self.url} ({reason}): start one (`make node`), or choose "
                                   "another with --network.") from None
        try:
            return json.loads(data)
        except ValueError:
            raise NetworkError(f"{self.url} did not answer JSON-RPC (HTTP {response.status}); is it a node's "
                               "URL?") from None

    def request(self, method: str, params: list) -> Any:
        self._id += 1
        answer = self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        if "error" in answer:
            raise NodeError(answer["error"])
        return answer.get("result")

    def batch(self, calls: list[tuple[str, list]]) -> list[dict]:
        """Several requests in one round trip; the answers (each with "result" or "error") in order."""
        first = self._id + 1
        self._id += len(calls)
        answers = self._post([{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                              for i, (m, p) in enumerate(calls)])
        if isinstance(answers, dict):  # a node without batches answers one error
            return [answers_one(self, m, p) for m, p in calls]
        by_id = {a.get("id"): a for a in answers}
        return [by_id.get(first + i, {"error": {"message": "no answer"}}) for i in range(len(calls))]


def answers_one(transport: Transport, method: str, params: list) -> dict:
    try:
        return {"result": transport.request(method, params)}
    except NodeError as err:
        return {"error": err.error}


# ───────────────────────────── ABI values ─────────────────────────────


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def _inner(param: dict) -> dict:
    """The element of an array parameter."""
    return dict(param, type=param["type"][:param["type"].rindex("[")])


def _from_abi(param: dict, value: Any) -> Any:
    """A decoded value as the objects read it: addresses checksummed, tuples as `Struct`s, arrays as lists."""
    kind = param["type"]
    if kind.endswith("]"):
        return [_from_abi(_inner(param), v) for v in value]
    if kind == "tuple":
        comps = param.get("components", [])
        return Struct([c["name"] for c in comps], [_from_abi(c, v) for c, v in zip(comps, value)])
    if kind == "address":
        return _checksum(value)
    return value


def _to_abi(param: dict, value: Any) -> Any:
    """An argument as eth_abi takes it: a contract handle as its address, tuples and arrays element-wise."""
    kind = param["type"]
    if kind.endswith("]"):
        return [_to_abi(_inner(param), v) for v in value]
    if kind == "tuple":
        return tuple(_to_abi(c, v) for c, v in zip(param.get("components", []), value))
    if kind == "address":
        return str(getattr(value, "address", value))
    if kind.startswith(("uint", "int")):
        return int(value)
    if kind.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


def _signature(item: dict) -> str:
    return f"{item['name']}({','.join(_abi_type(i) for i in item.get('inputs', []))})"


def _keccak(text: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=text)


def decode_outputs(outputs: list[dict], data: bytes) -> Any:
    """Return data as ape gives it: one value, or a `Struct` of the named outputs."""
    from eth_abi import decode

    values = [_from_abi(o, v) for o, v in zip(outputs, decode([_abi_type(o) for o in outputs], data))]
    if len(outputs) == 1:
        return values[0]
    return Struct([o.get("name", "") for o in outputs], values)


# ───────────────────────────── Contract handles ─────────────────────────────


class Method:
    """A contract function: called, it is an eth_call on the latest block; `encode_input` is its calldata."""

    def __init__(self, contract: Contract, abis: list[dict]):
        self.contract, self.abis, self.name = contract, abis, abis[0]["name"]

    def _abi(self, args: tuple) -> dict:
        fits = [a for a in self.abis if len(a.get("inputs", [])) == len(args)]
        if len(fits) != 1:
            raise TypeError(f"{self.contract._name}.{self.name} takes no {len(args)} arguments")
        return fits[0]

    def encode_input(self, *args) -> bytes:
        from eth_abi import encode

        abi = self._abi(args)
        inputs = abi.get("inputs", [])
        return _keccak(_signature(abi))[:4] + encode([_abi_type(i) for i in inputs],
                                                      [_to_abi(i, a) for i, a in zip(inputs, args)])

    def decode_output(self, args: tuple, data: bytes) -> Any:
        return decode_outputs(self._abi(args).get("outputs", []), data)

    def __call__(self, *args):
        conn = self.contract._conn
        data = self.encode_input(*args)
        try:
            raw = conn.rpc.request("eth_call", [{"to": self.contract.address, "data": "0x" + data.hex()}, "latest"])
        except NodeError as err:
            raise conn.decode(RawRevert(err.error)) from None
        return self.decode_output(args, bytes.fromhex(raw[2:]))


class Event:
    """A contract event: its ABI and topic, and the decoding of its logs."""

    def __init__(self, contract: Contract, abi: dict):
        self.contract, self.abi, self.name = contract, abi, abi["name"]
        self.topic = "0x" + _keccak(_signature(abi)).hex()

    def decode(self, log: dict) -> Struct:
        from eth_abi import decode

        inputs = self.abi.get("inputs", [])
        topics = [bytes.fromhex(t[2:]) for t in log["topics"][1:]]
        plain = [i for i in inputs if not i.get("indexed")]
        data = iter(decode([_abi_type(i) for i in plain], bytes.fromhex(log["data"][2:])))
        values = []
        for item in inputs:
            if not item.get("indexed"):
                values.append(_from_abi(item, next(data)))
            elif item["type"] in ("string", "bytes") or item["type"].endswith("]") or item["type"] == "tuple":
                values.append(topics.pop(0))  # an indexed dynamic value is only its hash
            else:
                values.append(_from_abi(item, decode([_abi_type(item)], topics.pop(0))[0]))
        return Struct([i["name"] for i in inputs], values)


class Contract:
    """A deployed contract of the build, by name and address."""

    def __init__(self, connection: RpcConnection, name: str, address: str, abi: list[dict]):
        # (underscored: a contract's own functions, `name()` among them, are its attributes)
        self._conn, self._name, self._abi, self.address = connection, name, abi, _checksum(address)

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        functions = [i for i in self._abi if i.get("type") == "function" and i.get("name") == attr]
        events = [i for i in self._abi if i.get("type") == "event" and i.get("name") == attr]
        if functions:
            found: Any = Method(self, functions)
        elif events:
            found = Event(self, events[0])
        else:
            raise AttributeError(f"{self._name} has no function or event named {attr}")
        setattr(self, attr, found)  # built once per session
        return found

    def __str__(self) -> str:
        return self.address


class Receipt:
    """What `send` returns: the transaction's hash, block, gas used, status and raw logs."""

    def __init__(self, raw: dict):
        self.txn_hash = raw["transactionHash"]
        self.block_number = int(raw["blockNumber"], 16)
        self.gas_used = int(raw["gasUsed"], 16)
        self.status = int(raw.get("status", "0x1"), 16)
        self.logs = raw.get("logs", [])


class NonceConflict(GpuMarketError):
    """The node kept refusing the account's next nonce: another transaction holds it."""


# ───────────────────────────── The connection ─────────────────────────────


class RpcConnection:
    """A node reached by URL, for one network choice (`ethereum:local:node`, `ethereum:sepolia:node`, ...)."""

    def __init__(self, choice: str, url: str, ecosystem: str, network: str, *, timeout: float = 30.0):
        self.choice, self.url, self.ecosystem, self.network = choice, url, ecosystem, network
        self.rpc = Transport(url, timeout)
        self.is_local = network == "local"
        #: Asks before each transaction (a live network, without --yes); raises to refuse.
        self.confirm: Callable[[str], None] | None = None
        #: Hashes of the transactions this session sent.
        self.sent: list[str] = []
        self.receipt_timeout = 30.0 if self.is_local else 600.0
        self._chain_id: int | None = None

    # ── the network ──

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.rpc.request("eth_chainId", []), 16)
        return self._chain_id

    def check_chain(self) -> None:
        """A live network's node must be on that network's chain (a local node may have any chain id)."""
        expected = LIVE_CHAIN_IDS.get(f"{self.ecosystem}:{self.network}")
        chain_id = self.chain_id
        if expected is not None and chain_id != expected:
            raise NetworkError(f"The node at {self.url} is on chain {self.chain_id}, not {self.ecosystem}:"
                               f"{self.network} (chain {expected}); check --network and its RPC URL.")

    # ── the seam (see connection.py) ──

    def abi(self, name: str) -> list[dict]:
        types = _build_types()
        if name not in types:
            raise NotFoundError(f"The compiled build has no contract {name}: run `make compile` in the repository.")
        return types[name]["abi"]

    def contract(self, name: str, address: str) -> Contract:
        return Contract(self, name, address, self.abi(name))

    def now(self) -> int:
        """The timestamp the next transaction will see (on anvil: the pending block's)."""
        block = self.rpc.request("eth_getBlockByNumber", ["pending", False]) or \
            self.rpc.request("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    def has_code(self, address: str) -> bool:
        return self.rpc.request("eth_getCode", [str(address), "latest"]) not in (None, "0x", "0x0")

    def calldata(self, fn: Method, args: tuple) -> bytes:
        return fn.encode_input(*args)

    def preview(self, fn: Method, args: tuple, account) -> Any:
        """What sending it would return now (an eth_call on the pending state); a revert raises `RawRevert`."""
        call = {"from": str(getattr(account, "address", account)), "to": fn.contract.address,
                "data": "0x" + fn.encode_input(*args).hex()}
        try:
            raw = self.rpc.request("eth_call", [call, "pending"])
        except NodeError as err:
            raise RawRevert(err.error) from None
        return fn.decode_output(args, bytes.fromhex(raw[2:]))

    def call(self, address: str, data: bytes, sender: str | None = None) -> bytes | None:
        tx = {"to": address, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        try:
            result = self.rpc.request("eth_call", [tx, "pending"])
        except NodeError:
            return None
        return bytes.fromhex(result[2:]) if isinstance(result, str) else None

    def events(self, receipt: Receipt, contract: Contract, name: str) -> list[Struct]:
        event = getattr(contract, name)
        return [event.decode(log) for log in receipt.logs
                if log["address"].lower() == contract.address.lower() and log["topics"][:1] == [event.topic]]

    def logs(self, contract: Contract, name: str) -> list[Struct]:
        event = getattr(contract, name)
        raw = self.rpc.request("eth_getLogs", [{"address": contract.address, "fromBlock": "0x0", "toBlock": "latest",
                                                "topics": [event.topic]}])
        return [event.decode(log) for log in raw]

    def sign_typed_data(self, account, typed_data: dict) -> bytes:
        return account.sign_typed_data(typed_data)

    def sign_permit(self, account, token, spender: str, value: int, deadline: int):
        from gpumarket.permit import sign_permit_with_key

        return sign_permit_with_key(account.key, token, account.address, str(spender), value, deadline)

    def decode(self, err: Exception, phrasing: Phrasing | None = None) -> GpuMarketError:
        plain = decode_plain(err, phrasing)
        if plain is not None:
            return plain
        first = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(".")
        return GpuMarketError(f"The node refused the request: {first}.")

    # ── sending ──

    def send(self, fn: Method, args: tuple, account) -> Receipt:
        """Signs and sends `fn(*args)` from `account` at its pending nonce, and waits for the receipt."""
        data = fn.encode_input(*args)
        call = {"from": account.address, "to": fn.contract.address, "data": "0x" + data.hex()}
        nonce_a, estimate, block, tip = self.rpc.batch([
            ("eth_getTransactionCount", [account.address, "pending"]), ("eth_estimateGas", [call]),
            ("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])])
        if "error" in estimate:
            raise RawRevert(estimate["error"])
        if "error" in nonce_a or "error" in block:
            raise NodeError((nonce_a.get("error") or block.get("error")))
        tx: dict[str, Any] = {"chainId": self.chain_id, "to": fn.contract.address, "data": data, "value": 0,
                              "gas": int(estimate["result"], 16) * 6 // 5}
        base_fee = (block.get("result") or {}).get("baseFeePerGas")
        if base_fee is not None:
            priority = int(tip["result"], 16) if "result" in tip else 10**9
            tx.update(type=2, maxPriorityFeePerGas=priority, maxFeePerGas=2 * int(base_fee, 16) + priority)
        else:
            tx["gasPrice"] = int(self.rpc.request("eth_gasPrice", []), 16)
        if self.confirm is not None:
            shown = ", ".join(str(getattr(a, "address", a)) for a in args)
            self.confirm(f"Send {fn.contract._name}.{fn.name}({shown}) from {account.address} on "
                         f"{self.ecosystem}:{self.network} (chain {self.chain_id})?")
        nonce = int(nonce_a["result"], 16)
        for _ in range(8):
            tx["nonce"] = nonce
            try:
                tx_hash = self.rpc.request("eth_sendRawTransaction", ["0x" + account.sign_transaction(tx).hex()])
                break
            except NodeError as err:
                message = str(err).lower()
                if not any(words in message for words in NONCE_TAKEN):
                    if err.error.get("data"):
                        raise RawRevert(err.error) from None
                    raise
                # Another transaction of this account took the nonce first: take the next one (the node may
                # count it as pending a moment after refusing ours: ask again for a few seconds).
                pending, deadline = nonce, time.monotonic() + 3
                while pending <= nonce and time.monotonic() < deadline:
                    pending = int(self.rpc.request("eth_getTransactionCount", [account.address, "pending"]), 16)
                    if pending <= nonce:
                        time.sleep(0.1)
                if pending <= nonce:
                    raise self._conflict(account, nonce, str(err)) from None
                nonce = pending
        else:
            raise self._conflict(account, nonce, "the nonce kept moving")
        self.sent.append(tx_hash)
        receipt = self._wait(tx_hash)
        if receipt.status != 1:
            self._explain_failure(call, tx_hash)
        return receipt

    def _conflict(self, account, nonce: int, message: str) -> NonceConflict:
        return NonceConflict(f"The node refused nonce {nonce} of {account.address} ({message.rstrip('.')}): another "
                             "transaction of this account holds it; wait for it to be mined (or replace it with a "
                             "higher fee) and run the command again.")

    def _wait(self, tx_hash: str) -> Receipt:
        deadline, delay = time.monotonic() + self.receipt_timeout, 0.0
        while True:
            raw = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
            if raw and raw.get("blockNumber"):
                return Receipt(raw)
            if time.monotonic() > deadline:
                raise NetworkError(f"Transaction {tx_hash} was sent but is not mined after {self.receipt_timeout:.0f} "
                                   "s; look it up before sending it again.")
            time.sleep(delay)
            delay = min(max(delay * 1.5, 0.02), 2.0)

    def _explain_failure(self, call: dict, tx_hash: str):
        """A mined transaction that failed (the state moved between the estimate and the block): its error,
        replayed as an eth_call on the state now, or a plain sentence."""
        try:
            self.rpc.request("eth_call", [call, "latest"])
        except NodeError as err:
            decoded = _decode_raw(RawRevert(err.error).data or "", None)
            if decoded is not None:
                raise decoded from None
        raise RevertedError(f"Transaction {tx_hash} was mined but reverted.")


# ───────────────────────────── Opening a network choice ─────────────────────────────


def open_network(choice: str, rpc_env: dict[str, str], environ: dict[str, str]) -> RpcConnection:
    """The connection of an ape-style network choice `<ecosystem>:<network>[:<provider or URL>]`:

    - a URL as the third part (`ethereum:local:http://127.0.0.1:9545`) is used as is;
    - `<ecosystem>:local:node` is the local node at http://127.0.0.1:8545 (`make node`);
    - a live network takes its URL from its environment variable (`rpc_env`, e.g. SEPOLIA_RPC_URL);
    - `<ecosystem>:local:foundry` is the anvil an ape session already runs (tests); a command alone has none.
    """
    parts = choice.split(":", 2)
    if len(parts) < 2 or not all(parts[:2]):
        raise NetworkError(f"Cannot use network '{choice}': expected <ecosystem>:<network>[:<provider or URL>], "
                           "e.g. ethereum:local:node.")
    ecosystem, network = parts[0].lower(), parts[1].lower()
    provider = parts[2] if len(parts) > 2 else "node"
    key = f"{ecosystem}:{network}"
    if provider.startswith(("http://", "https://", "ws://", "wss://")):
        url = provider
    elif network == "local":
        if ecosystem not in ("ethereum", "base", "arbitrum"):
            raise NetworkError(f"Cannot use network '{choice}': unknown ecosystem '{ecosystem}'.")
        if provider == "node":
            url = LOCAL_URL
        elif provider == "foundry":
            url = _ape_session_url(choice)
        else:
            raise NetworkError(f"Cannot use network '{choice}': unknown provider '{provider}' (use node, or a URL).")
    elif key in rpc_env:
        url = environ.get(rpc_env[key], "")
        if not url:
            raise NetworkError(f"Network {choice} needs its RPC URL in the environment variable {rpc_env[key]}.")
    else:
        known = ", ".join(["ethereum:local:node", *(f"{k}:node" for k in rpc_env)])
        raise NetworkError(f"Cannot use network '{choice}': it is none of {known}, and names no node URL.")
    if url.startswith(("ws://", "wss://")):
        raise NetworkError(f"Cannot use network '{choice}': the CLI talks to nodes over HTTP; give the node's "
                           "http(s) URL.")
    return RpcConnection(choice, url, ecosystem, network)


def _ape_session_url(choice: str) -> str:
    """The URL of the anvil an ape session in this process runs (`ethereum:local:foundry` inside pytest)."""
    import sys

    ape = sys.modules.get("ape")
    provider = getattr(getattr(ape, "networks", None), "active_provider", None) if ape else None
    if provider is None or not provider.is_connected or provider.name != "foundry":
        raise NetworkError(f"Cannot use network '{choice}': ape's foundry provider starts an anvil that lives only "
                           "as long as one command; start one with `make node` and use ethereum:local:node.")
    return provider.uri


def record_name(ecosystem: str, network: str, url: str) -> str:
    """The deployment record's file name: `<ecosystem>-<network>.json` for a live network, and for a local
    one `<ecosystem>-local-<port>.json` (`-<host>-<port>` off this machine), so two local nodes on different
    ports never share a record."""
    if network != "local":
        return f"{ecosystem}-{network}.json"
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "127.0.0.1"
    where = str(port) if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0") else f"{host}-{port}"
    return f"{ecosystem}-local-{where.replace(':', '_')}.json"

