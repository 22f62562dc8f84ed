"""`gpumarket`: every role of the market from a terminal.

    gpumarket deploy --network ethereum:local:node --account TEST::0
    gpumarket offer list --gpu-model H100-SXM-80GB --max-price 2.10
    gpumarket rental rent 1 --gpus 8 --hours 24 --max-price 1.95 --account renter

Every command that talks to a chain takes --network (an ape network choice, default
$GPUMARKET_NETWORK or ethereum:local:node = the anvil of `make node`), --account (an ape account alias,
or TEST::N on a local chain; default $GPUMARKET_ACCOUNT), --json, --deployments, --yes and --unattended.
Every command but `deploy` runs on the fast path (`gpumarket.rpc`: JSON-RPC, no ape, no web3); `deploy`
imports ape inside the command, so `gpumarket --help` answers at once.

Errors are one sentence on stderr and a non-zero exit (1: the request cannot be done; 2: bad usage),
and the client checks everything it can before sending, so a refused request sends nothing.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import click

DEFAULT_NETWORK = "ethereum:local:node"
#: RPC URL environment variable of each testnet (ape-config.yaml reads the same variables).
RPC_ENV = {
    "ethereum:sepolia": "SEPOLIA_RPC_URL",
    "base:sepolia": "BASE_SEPOLIA_RPC_URL",
    "arbitrum:sepolia": "ARBITRUM_SEPOLIA_RPC_URL",
}


# ───────────────────────────── Plumbing ─────────────────────────────


class NumberArgsParser(click.parser.OptionParser):
    """Reads a negative number (-5, -1.5) as an argument, not as an unknown option ("No such option: -5"),
    so that the argument's own parsing refuses it with a sentence (no option of the CLI is a digit)."""

    def _process_opts(self, arg: str, state) -> None:
        if arg[1:2].isdigit() or (arg[1:2] == "." and arg[2:3].isdigit()):
            state.largs.append(arg)
        else:
            super()._process_opts(arg, state)


class NumberArgsCommand(click.Command):
    def make_parser(self, ctx: click.Context) -> click.parser.OptionParser:
        parser = super().make_parser(ctx)
        parser.__class__ = NumberArgsParser
        return parser


class OneLineGroup(click.Group):
    """Prints every error as one line on stderr (click's usage errors included) and exits non-zero. Its
    commands read negative numbers as arguments (`NumberArgsParser`); its groups are of its class."""

    command_class = NumberArgsCommand
    group_class = type

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name or "gpumarket", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.Abort:
            _fail("Cancelled; nothing was sent.", 1)
        except click.UsageError as err:
            _fail(err.format_message().replace("\n", " "), 2)
        except click.ClickException as err:
            _fail(err.format_message().replace("\n", " "), err.exit_code or 1)
        except Exception as err:
            from gpumarket.errors import GpuMarketError  # here, not at start-up: `--help` imports nothing more

            if isinstance(err, GpuMarketError):
                _fail(err.sentence, err.exit_code)
            if os.environ.get("GPUMARKET_DEBUG"):  # an unexpected failure: still one line, unless debugging
                raise
            first = (str(err).strip().splitlines() or [""])[0]
            _fail(f"Unexpected {type(err).__name__}: {first} (set GPUMARKET_DEBUG=1 for the traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(sentence: str, code: int):
    click.echo(f"error: {sentence}", err=True)
    sys.exit(code)


class Options:
    """The options every chain command takes (a plain class: dataclasses would slow `--help`)."""

    __slots__ = ("network", "account", "deployments", "as_json", "yes", "unattended")

    def __init__(self, network: str, account: str | None, deployments: Path, as_json: bool, yes: bool,
                 unattended: bool = False):
        self.network, self.account, self.deployments, self.as_json, self.yes, self.unattended = (
            network, account, deployments, as_json, yes or unattended, unattended)


def common(fn):
    """The options every chain command takes."""
    fn = click.option("--unattended", is_flag=True, envvar="GPUMARKET_UNATTENDED",
                      help="Never ask (scripts, cron): no confirmation, and an account's passphrase from "
                           "GPUMARKET_PASSPHRASE_<ALIAS> or GPUMARKET_PASSPHRASE [env GPUMARKET_UNATTENDED=1].")(fn)
    fn = click.option("--yes", is_flag=True, help="Do not ask before sending on a live network.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Machine-readable output (stable keys).")(fn)
    fn = click.option("--deployments", type=click.Path(file_okay=False, path_type=Path),
                      envvar="GPUMARKET_DEPLOYMENTS", default=Path("deployments"), show_default=True,
                      help="Directory of deployment records (<ecosystem>-<network>.json; a local node's: "
                           "<ecosystem>-local-<port>.json).")(fn)
    fn = click.option("--account", envvar="GPUMARKET_ACCOUNT",
                      help="ape account alias, or TEST::N on a local chain [env GPUMARKET_ACCOUNT].")(fn)
    fn = click.option("--network", envvar="GPUMARKET_NETWORK", default=DEFAULT_NETWORK, show_default=True,
                      help="ape network choice, e.g. ethereum:sepolia:node, or ethereum:local:<node URL> "
                           "[env GPUMARKET_NETWORK].")(fn)

    def wrapper(network, account, deployments, as_json, yes, unattended, **kwargs):
        return fn(Options(network, account, deployments, as_json, yes, unattended), **kwargs)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__click_params__ = fn.__click_params__  # type: ignore[attr-defined]
    return wrapper


def _say(line: str) -> None:
    click.echo(line, err=True)


def open_chain(choice: str):
    """The fast connection (`gpumarket.rpc.RpcConnection`) of a network choice, checked: the node answers, and a
    live network's node is on that network's chain."""
    from gpumarket.rpc import open_network

    conn = open_network(choice, RPC_ENV, dict(os.environ))
    conn.check_chain()  # (reads the chain id: a dead node says so here, before anything else)
    return conn


@contextmanager
def connect(choice: str):
    """Connects ape to a network choice (for `deploy`, which deploys with ape), re-using the connection if it
    is already active (by name, or a URL choice naming the active node's URL)."""
    from gpumarket.errors import NetworkError

    open_chain(choice)  # a dead node or one on another chain: the fast path's sentence, before ape loads
    from ape import networks
    from ape.logging import logger

    if not os.environ.get("GPUMARKET_DEBUG"):
        # ape logs to stdout, which is the command's output (--json): only its errors, the CLI says the rest
        logger.set_level("ERROR")
    active = networks.active_provider
    # (compared by name: ape's `network_choice` property re-reads the configuration, ≈ 0.1 s)
    if active is not None and active.is_connected and (
            f"{active.network.ecosystem.name}:{active.network.name}:{active.name}" == choice or
            choice.split(":", 2)[-1].rstrip("/") == str(getattr(active, "uri", "")).rstrip("/")):
        yield active
        return
    try:
        ctx = networks.parse_network_choice(choice)
        provider = ctx.__enter__()
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(".")
        raise NetworkError(f"Cannot use network '{choice}': {first}.") from None
    try:
        yield provider
    finally:
        ctx.__exit__(None, None, None)


def _names(provider) -> tuple[str, str]:
    return provider.network.ecosystem.name, provider.network.name


def _chain_id(provider) -> int:
    return int(provider.web3.eth.chain_id)


def _is_local(provider) -> bool:
    return provider.network.name == "local"


def record_path(directory: Path, ecosystem: str, network: str, url: str) -> Path:
    """The deployment record of a network (`rpc.record_name`: a local node's is keyed by its port)."""
    from gpumarket.rpc import record_name

    return Path(directory) / record_name(ecosystem, network, url)


def default_index_path(opts: Options, conn) -> Path:
    """The event index of a deployment, beside its record: `<record>.index.sqlite`."""
    return record_path(opts.deployments, conn.ecosystem, conn.network, conn.url).with_suffix(".index.sqlite")


def load_deployment(conn, directory: Path) -> dict[str, Any]:
    """The deployment record of the connected network, checked against the node: its chain, the market's code."""
    from gpumarket.deployment import read_record
    from gpumarket.errors import NetworkError, NotFoundError

    path = record_path(directory, conn.ecosystem, conn.network, conn.url)
    where = f"{conn.ecosystem}:{conn.network}" + (f" at {conn.url}" if conn.is_local else "")
    if not path.exists():
        raise NotFoundError(f"No deployment for {where}: {path} does not exist; run `gpumarket deploy` first.")
    record = read_record(path)
    chain_id = conn.chain_id
    if record.get("chain_id") != chain_id:
        raise NetworkError(f"{path} was written for chain {record.get('chain_id')}, but the node is chain "
                           f"{chain_id}; check --network.")
    network = f"{conn.ecosystem}-{conn.network}"
    if record.get("network") not in (None, network):
        raise NetworkError(f"{path} is the deployment record of {record.get('network')}, not {network}; check "
                           "--deployments.")
    market = record.get("contracts", {}).get("ComputeMarket", {}).get("address")
    if not market or not conn.has_code(market):
        raise NetworkError(f"{path} names a market at {market} that has no code on this chain (was the node "
                           "restarted?); run `gpumarket deploy` again.")
    return record


def _no_account(required: bool):
    from gpumarket.errors import InputError

    if required:
        raise InputError("This command sends a transaction: choose an account with --account "
                         "(an ape account alias, or TEST::N on a local chain).")


def resolve_account(ref: str | None, conn, *, required: bool = True, unattended: bool = False):
    """The --account of the fast path (`accounts.Signer`): TEST::N on a local chain, or an ape keyfile alias."""
    from gpumarket.errors import InputError

    if not ref:
        return _no_account(required)
    from gpumarket.accounts import from_test_mnemonic, keyfile_account

    if ref.upper().startswith("TEST::"):
        if not conn.is_local:
            raise InputError("Test accounts (TEST::N) exist only on local chains; use an ape account alias.")
        return from_test_mnemonic(ref)
    return keyfile_account(ref, unattended=unattended,
                           ask=lambda prompt: click.prompt(prompt, hide_input=True, err=True))


def resolve_ape_account(ref: str | None, provider, *, unattended: bool = False):
    """The --account as an ape account (for `deploy`); in unattended mode a keyfile account signs without asking."""
    from gpumarket.errors import InputError, NotFoundError

    if not ref:
        return _no_account(True)
    from ape import accounts

    if ref.upper().startswith("TEST::"):
        if not _is_local(provider):
            raise InputError("Test accounts (TEST::N) exist only on local chains; use an ape account alias.")
        from gpumarket.accounts import from_test_mnemonic

        address = from_test_mnemonic(ref).address  # checks N against the configured number of test accounts
        return next(a for a in accounts.test_accounts if a.address == address)
    try:
        account = accounts.load(ref)
    except Exception:
        raise NotFoundError(f"There is no ape account named '{ref}'; see `ape accounts list`, or add one "
                            f"with `ape accounts import {ref}`.") from None
    if unattended and hasattr(account, "set_autosign"):
        from gpumarket.accounts import passphrase_variables

        own, shared = passphrase_variables(ref)
        passphrase = os.environ.get(own) or os.environ.get(shared) or None  # (empty: unset)
        if passphrase is None:
            raise InputError(f"Unattended mode needs the passphrase of account '{ref}' in {own} or {shared}; "
                             "nothing was sent.")
        try:
            account.set_autosign(True, passphrase=passphrase)
        except Exception:
            raise InputError(f"Wrong passphrase for account '{ref}'; nothing was sent.") from None
        _say(f"unattended: account '{ref}' signs every transaction of this command without asking")
    return account


def _ask_each(conn) -> None:
    """On a live network, unless --yes/--unattended: each transaction is confirmed before it is signed."""
    from gpumarket.errors import GpuMarketError

    def confirm(question: str) -> None:
        if not click.confirm(question, default=False, err=True):
            earlier = len(conn.sent)
            raise GpuMarketError("Cancelled; this transaction was not sent" +
                                 (f" ({earlier} earlier one(s) of this command were)." if earlier else
                                  ", nor anything else."))

    conn.confirm = confirm


def run(opts: Options, action: Callable[[Any], Any], *, sends: bool = True,
        render: Callable[[Any], None] | None = None) -> None:
    """Connects (the fast path: JSON-RPC, no ape), loads the deployment and the account, runs `action(market)`
    (a `gpumarket.market.Market`) and prints the result."""
    from gpumarket.market import Market

    conn = open_chain(opts.network)
    record = load_deployment(conn, opts.deployments)
    account = resolve_account(opts.account, conn, required=sends, unattended=opts.unattended)
    if not conn.is_local and not opts.yes:
        _ask_each(conn)
    market = Market(record, account, say=_say, connection=conn)
    chosen = os.environ.get("GPUMARKET_INDEX")
    market.index_path = Path(chosen) if chosen else default_index_path(opts, conn)
    market.index_chosen = bool(chosen)
    result = action(market)
    emit(result, opts.as_json, render)


def emit(result: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    if as_json:
        import json

        click.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    elif render is not None:
        render(result)
    else:
        render_kv(result)


def _plain(value: Any) -> str:
    if isinstance(value, dict) and {"raw", "units", "symbol"} <= set(value):
        return f"{value['units']} {value['symbol']}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) or "-"
    return str(value)


def render_kv(data: dict, prefix: str = "") -> None:
    """A two-column table; nested records are flattened as parent.child."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not ({"raw", "units", "symbol"} <= set(value)) and prefix.count(".") < 1 \
                and key not in ("tiers",):
            render_kv(value, f"{name}.")
        else:
            click.echo(f"{name:<28} {_plain(value)}")


def render_rows(rows: list[dict], columns: list[tuple[str, Callable[[dict], Any]]], *, err: bool = False) -> None:
    if not rows:
        click.echo("(none)", err=err)
        return
    cells = [[h for h, _ in columns]] + [[_plain(fn(r)) for _, fn in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), err=err)


# ───────────────────────────── Commands ─────────────────────────────


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="gpumarket")
def cli():
    """gpumarket: rent GPU servers by the hour, on chain, with no middleman.

    Providers stake GPUC and list GPUs; renters prepay into an escrow that streams to the provider
    second by second and refunds unused time. Run `gpumarket COMMAND --help` for each command."""


@cli.command()
@common
@click.option("--params", "params_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parameters file [default: deployments/parameters.toml].")
def deploy(opts: Options, params_file: Path | None):
    """Deploy and configure the whole system (idempotent: re-running re-uses what exists)."""
    from gpumarket.deployment import Deployer, load_parameters, read_record, write_record
    from gpumarket.errors import NetworkError

    with connect(opts.network) as provider:
        eco, net = _names(provider)
        key, chain_id = f"{eco}-{net}", _chain_id(provider)
        path = record_path(opts.deployments, eco, net, str(getattr(provider, "uri", "")))
        record = read_record(path)
        if record and record.get("chain_id") != chain_id:
            raise NetworkError(f"{path} was written for chain {record.get('chain_id')}, but the node is chain "
                               f"{chain_id}; check --network, or move the old record away.")
        account = resolve_ape_account(opts.account, provider, unattended=opts.unattended)
        params = load_parameters(key, params_file)
        record.update(network=key, chain_id=chain_id)
        deployer = Deployer(account, params, record, on_record=lambda r: write_record(path, r))
        plan = deployer.plan()
        _say(f"deploying gpumarket on {eco}:{net} (chain {chain_id}) from {account.address}")
        roles = deployer.roles()
        for r in roles:
            _say(f"  {r['role']:<9} {r['address']} ({r['from']})")
            if r["unused"]:
                _say(f"  note: the {r['role']} {r['address']} has no code, has sent no transaction and holds no ether "
                     f"on this chain: check that someone controls it (an all-lowercase address carries no checksum).")
        if plan:
            _say(f"{len(plan)} step(s) to send:")
            for label in plan:
                _say(f"  - {label}")
            if not _is_local(provider) and not opts.yes:
                click.confirm(f"Send these transactions on {eco}:{net}?", abort=True, err=True)
            sent = deployer.run(_say)
        else:
            _say(f"nothing to do: {path} matches the chain")
            sent = deployer.run(lambda line: None)
        record["deployer"] = account.address
        write_record(path, record)
    result = {"network": key, "chain_id": chain_id, "file": str(path), "steps_sent": sent,
              "contracts": {k: v["address"] for k, v in record["contracts"].items()},
              "payment_tokens": record.get("payment_tokens", {}),
              "roles": {r["role"]: {"address": r["address"], "from": r["from"]} for r in roles}}
    emit(result, opts.as_json)


@cli.command()
@common
def info(opts: Options):
    """Show the deployment: contracts, owner, treasury, arbiter, parameters, counts."""
    run(opts, lambda m: m.info(), sends=False)


@cli.command("index")
@common
@click.option("--index", "index_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="GPUMARKET_INDEX",
              help="The index file [default: beside the deployment record, <record>.index.sqlite; env GPUMARKET_INDEX].")
def index_command(opts: Options, index_path):
    """Follow the market's events into the local index (SQLite) and print what it holds (README, Event index)."""
    from gpumarket.index import Index

    conn = open_chain(opts.network)
    record = load_deployment(conn, opts.deployments)
    path = index_path or default_index_path(opts, conn)
    idx = Index.open(path, conn.url, record)
    try:
        done = idx.refresh()
        counts = {table: idx.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("events", "offers", "rentals", "providers", "vaults")}
    finally:
        idx.close()
    emit({"file": str(path), "blocks": f"{done['from_block']}..{done['to_block']}", "new_events": done["events"],
          "rolled_back_blocks": done["rolled_back"]} | counts, opts.as_json)


# ── provider ──


@cli.group()
def provider():
    """Provider: register, stake, unbond, withdraw, status."""


@provider.command("register")
@common
@click.argument("metadata")
def provider_register(opts: Options, metadata: str):
    """Register as a provider; METADATA is a hash or URL of the hardware spec (1 to 512 bytes)."""
    run(opts, lambda m: m.provider().register(metadata))


@provider.command("stake")
@common
@click.argument("amount")
@click.option("--permit", is_flag=True, help="Sign an EIP-2612 permit instead of sending an approval.")
def provider_stake(opts: Options, amount: str, permit: bool):
    """Stake AMOUNT GPUC (e.g. 5000 or 1234.5); approves the registry first if needed."""
    run(opts, lambda m: m.provider().stake(amount, permit=permit))


@provider.command("unbond")
@common
@click.argument("amount")
def provider_unbond(opts: Options, amount: str):
    """Start unbonding AMOUNT GPUC of free stake (withdrawable after the unbonding period)."""
    run(opts, lambda m: m.provider().unbond(amount))


@provider.command("cancel-unbond")
@common
def provider_cancel_unbond(opts: Options):
    """Put the unbonding stake back to work."""
    run(opts, lambda m: m.provider().cancel_unbond())


@provider.command("withdraw")
@common
def provider_withdraw(opts: Options):
    """Withdraw stake whose unbonding period has passed."""
    run(opts, lambda m: m.provider().withdraw_unbonded())


@provider.command("status")
@common
@click.argument("address", required=False)
def provider_status(opts: Options, address: str | None):
    """Stake, locked collateral, unbonding (and when), reputation, claimable earnings and credits."""
    run(opts, lambda m: m.provider(m.address_or_me(address, "provider address")).status(), sends=False)


# ── offers ──


@cli.group()
def offer():
    """Offers: create, update, pause, resume, close, list, show; sign and cancel-signed (signed off-chain)."""


def _offer_columns():
    return [("id", lambda r: r["id"]), ("status", lambda r: r["status"]), ("gpu", lambda r: r["gpu_model"]),
            ("region", lambda r: r["region"]), ("free", lambda r: f"{r['gpus_free']}/{r['gpus_offered']}"),
            ("price/GPU-h", lambda r: r["price_per_gpu_hour"]), ("hours", lambda r: f"{r['min_hours']}-{r['max_hours']}"),
            ("tiers", lambda r: " ".join(f"{t['min_gpu_hours']}h:-{t['discount_bps'] / 100:g}%" for t in r["tiers"])),
            ("provider", lambda r: r["provider"])]


def offer_create_options(fn):
    """The terms of a new offer (`offer create`, `vault offer create`)."""
    for option in reversed([
        click.option("--gpu-model", required=True, help="e.g. H100-SXM-80GB (1 to 32 bytes)."),
        click.option("--region", required=True, help="e.g. AU-QLD (1 to 32 bytes)."),
        click.option("--gpus", required=True, help="GPUs offered."),
        click.option("--price", required=True, help="Price per GPU-hour in token units, e.g. 1.95."),
        click.option("--token", default="mUSD", show_default=True, help="Payment token symbol or address."),
        click.option("--min-hours", default="1", show_default=True),
        click.option("--max-hours", default="720", show_default=True),
        click.option("--reserved-for", default=None, help="Only this renter may rent it."),
        click.option("--max-broker-pct", default="5", show_default=True, help="Most a broker may take, in percent."),
        click.option("--tier", "tiers", multiple=True, help="Volume discount GPU_HOURS:PERCENT, e.g. 96:2.5 (up to 4)."),
    ]):
        fn = option(fn)
    return fn


def offer_update_options(fn):
    """New terms of an offer (`offer update`, `vault offer update`); an option left out keeps its value."""
    for option in reversed([
        click.argument("offer_id"),
        click.option("--price", default=None),
        click.option("--gpus", default=None),
        click.option("--min-hours", default=None),
        click.option("--max-hours", default=None),
        click.option("--reserved-for", default=None, help="An address, or 'public'."),
        click.option("--max-broker-pct", default=None),
        click.option("--tier", "tiers", multiple=True, help="Replaces all tiers; GPU_HOURS:PERCENT."),
        click.option("--no-tiers", is_flag=True, help="Remove all discount tiers."),
    ]):
        fn = option(fn)
    return fn


def offer_sign_options(fn):
    """The terms of an offer signed off-chain (`offer sign`, `vault offer sign`): those of `offer create`, an
    expiry and a nonce."""
    fn = offer_create_options(fn)
    for option in reversed([
        click.option("--expires-in", default=None, help="How long it can be filled: seconds, or e.g. 90m, 24h, 7d "
                                                        "[default: 24h]."),
        click.option("--expiry", default=None, help="Or the last second it can be filled: unix time or ISO 8601."),
        click.option("--nonce", default=None, help="Any whole number at or above your nonce floor [default: the unix "
                                                   "time in ms]; `cancel-signed --below` cancels lower ones."),
    ]):
        fn = option(fn)
    return fn


def offer_cancel_signed_options(fn):
    """`offer cancel-signed`, `vault offer cancel-signed`: one signed offer's FILE, or --below a nonce."""
    fn = click.option("--below", "below", default=None, metavar="NONCE",
                      help="Cancel every signed offer with a nonce below NONCE ('now': the unix time in ms).")(fn)
    return click.argument("path", metavar="[FILE]", required=False,
                          type=click.Path(dir_okay=False, path_type=Path))(fn)


def _sign_offer(m, seat, terms: dict):
    from gpumarket.signed_offer import sign

    return sign(m, **dict(terms, tiers=list(terms["tiers"])), seat=seat)


def _cancel_signed(m, seat, path, below):
    from gpumarket.signed_offer import cancel, cancel_below

    if (path is None) == (below is None):
        raise click.UsageError("Name one signed offer's FILE, or --below NONCE.")
    return cancel(m, path, seat=seat) if path is not None else cancel_below(m, below, seat=seat)


def _show_document(doc: dict) -> None:
    import json

    click.echo(json.dumps(doc, indent=2))


def _create_offer(m, seat, terms: dict):
    from gpumarket.offer import Offer

    terms = dict(terms, tiers=list(terms["tiers"]))
    return Offer.create(m, **terms, seat=seat)


def _update_offer(m, seat, offer_id, terms: dict):
    terms = dict(terms)
    tiers, no_tiers = terms.pop("tiers"), terms.pop("no_tiers")
    return m.offer(offer_id).update(**terms, tiers=[] if no_tiers else (list(tiers) if tiers else None), seat=seat)


def _show_offer(result: dict) -> None:
    render_kv(result["offer"] | {"tx": result["tx"]})


@offer.command("create")
@common
@offer_create_options
def offer_create(opts: Options, **terms):
    """List GPUs for rent."""
    run(opts, lambda m: _create_offer(m, None, terms), render=_show_offer)


@offer.command("update")
@common
@offer_update_options
def offer_update(opts: Options, offer_id, **terms):
    """Change an offer's terms for future rentals (running rentals keep theirs)."""
    run(opts, lambda m: _update_offer(m, None, offer_id, terms), render=_show_offer)


def _offer_status_command(group, action_name: str, doc: str, seat=lambda m, opts: None, extra=lambda fn: fn):
    @group.command(action_name, help=doc)
    @common
    @extra
    @click.argument("offer_id")
    def command(opts: Options, offer_id, **kwargs):
        def action(m):
            acting = seat(m, kwargs)  # first: a vault checks its operator before the market sees the call
            return getattr(m.offer(offer_id), action_name)(seat=acting)

        run(opts, action,
            render=lambda r: render_kv({"offer": r["offer"]["id"], "status": r["offer"]["status"], "tx": r["tx"]}))

    return command


OFFER_STATUS_ACTIONS = (
    ("pause", "Stop new rentals and extensions on an offer (running rentals go on)."),
    ("resume", "Re-open a paused offer."),
    ("close", "Close an offer for good (running rentals go on)."),
)
for _action, _doc in OFFER_STATUS_ACTIONS:
    _offer_status_command(offer, _action, _doc)


@offer.command("sign")
@common
@offer_sign_options
def offer_sign(opts: Options, **terms):
    """Sign an offer off-chain (EIP-712) and print it as JSON; nothing is sent: anyone can fill it, until it
    expires or you cancel it (docs/signed-offers.md)."""
    run(opts, lambda m: _sign_offer(m, None, terms), render=_show_document)


@offer.command("cancel-signed")
@common
@offer_cancel_signed_options
def offer_cancel_signed(opts: Options, path, below):
    """Cancel the signed offer in FILE (its record, if filled, closes), or every one with a nonce below --below."""
    run(opts, lambda m: _cancel_signed(m, None, path, below))


@offer.command("list")
@common
@click.option("--gpu-model", default=None)
@click.option("--region", default=None)
@click.option("--max-price", default=None, help="Highest price per GPU-hour, in each offer's token units.")
@click.option("--min-gpus", default=None, help="At least this many GPUs free.")
@click.option("--all", "include_all", is_flag=True, help="Include paused and closed offers.")
@click.option("--sort", type=click.Choice(["price", "id", "gpus"]), default="price", show_default=True)
def offer_list(opts: Options, gpu_model, region, max_price, min_gpus, include_all, sort):
    """Offers open for rent, cheapest first."""
    from gpumarket.parse import positive_int

    def action(m):
        return m.offers(gpu_model=gpu_model, region=region, max_price=max_price,
                        min_gpus=positive_int(min_gpus, "minimum GPU count") if min_gpus else None,
                        include_all=include_all, sort=sort)

    run(opts, action, sends=False, render=lambda rows: render_rows(rows, _offer_columns()))


@offer.command("show")
@common
@click.argument("offer_id")
def offer_show(opts: Options, offer_id):
    """One offer in full."""
    run(opts, lambda m: m.offer(offer_id).info(), sends=False)


# ── rentals ──


@cli.group()
def rental():
    """Rentals: quote, rent, cluster, activate, claim, extend, stop, cancel, show, list, dispute, resolve, timeout,
    release."""


def _rental_columns():
    return [("id", lambda r: r["id"]), ("offer", lambda r: r["offer_id"]), ("status", lambda r: r["status"]),
            ("gpus", lambda r: r["gpus"]), ("hours", lambda r: r["hours_paid"]), ("total", lambda r: r["total"]),
            ("claimable", lambda r: r["claimable"]), ("refundable", lambda r: r["refundable"]),
            ("ends", lambda r: r["ends_at_utc"]), ("renter", lambda r: r["renter"]),
            ("cluster", lambda r: r.get("cluster_id"))]


def _show_rental(result: dict) -> None:
    row = result.get("rental", result)
    extra = {k: v for k, v in result.items() if k != "rental"} if "rental" in result else {}
    render_kv({**row, **extra})


@rental.command("quote")
@common
@click.argument("offer_id")
@click.option("--gpus", required=True)
@click.option("--hours", required=True)
def rental_quote(opts: Options, offer_id, gpus, hours):
    """What renting would cost now: total, discount, effective price per GPU-hour."""
    run(opts, lambda m: m.offer(offer_id).quote(gpus, hours), sends=False)


@rental.command("rent")
@common
@click.argument("offer_id", metavar="[OFFER]", required=False)
@click.option("--signed", "signed_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fill this signed offer's FILE instead of an on-chain OFFER.")
@click.option("--gpus", required=True, help="GPUs to rent.")
@click.option("--hours", required=True, help="Whole hours to prepay.")
@click.option("--max-price", required=True, help="Highest effective price per GPU-hour you accept (token units).")
@click.option("--broker", default=None, help="Broker address (optional).")
@click.option("--broker-pct", default="0", show_default=True, help="Broker's cut of the provider's gross, percent.")
@click.option("--for", "renter", default=None, help="Pay for another renter (refunds come back to you).")
def rental_rent(opts: Options, offer_id, signed_file, gpus, hours, max_price, broker, broker_pct, renter):
    """Rent GPUs of an offer, or of a signed offer (--signed FILE, checked before anything is sent): prepays
    GPUs × hours into escrow (approves the market first if needed)."""
    if (offer_id is None) == (signed_file is None):
        raise click.UsageError("Name an OFFER id, or a signed offer with --signed FILE.")

    def action(m):
        from gpumarket.rental import Rental
        from gpumarket.signed_offer import SignedOfferFile

        offer = m.offer(offer_id) if offer_id is not None else SignedOfferFile(m, signed_file)
        return Rental.open(offer, gpus=gpus, hours=hours, max_price=max_price, broker=broker, broker_pct=broker_pct,
                           renter=renter)

    run(opts, action, render=_show_rental)


def _cluster_columns():
    return [("offer", lambda r: r["offer"]), ("provider", lambda r: r["provider"]), ("gpus", lambda r: r["gpus"]),
            ("discount", lambda r: f"{r['discount_bps'] / 100:g} %"), ("cost", lambda r: r["cost"]),
            ("price/GPU-h", lambda r: r["effective_price_per_gpu_hour"]), ("rental", lambda r: r.get("rental_id"))]


def _show_cluster(result: dict, err: bool = False) -> None:
    render_rows(result["parts"], _cluster_columns(), err=err)
    for key in ("cluster_id", "renter", "gpus", "hours", "total", "average_price_per_gpu_hour", "tx"):
        if key in result:
            click.echo(f"{key:<28} {_plain(result[key])}", err=err)
    for row in result["skipped"] if not err else []:
        click.echo(f"skipped {row['offer']}: {row['reason']}")


@rental.command("cluster")
@common
@click.option("--gpus", required=True, help="GPUs to book in all.")
@click.option("--gpu-model", required=True, help="e.g. H100-SXM-80GB.")
@click.option("--region", required=True, help="e.g. AU-QLD.")
@click.option("--hours", required=True, help="Whole hours to prepay, the same for every rental.")
@click.option("--max-price", required=True, help="Highest average price per GPU-hour you accept (token units).")
@click.option("--signed", "signed_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A directory of signed offers (*.json) to consider beside the on-chain offers.")
@click.option("--token", default=None, help="The payment token, when the offers are priced in several.")
@click.option("--broker", default=None, help="Broker address (optional), for every rental.")
@click.option("--broker-pct", default="0", show_default=True, help="Broker's cut of the provider's gross, percent.")
@click.option("--for", "renter", default=None, help="Book for another renter (refunds come back to you).")
@click.option("--dry-run", is_flag=True, help="Show the cheapest plan and send nothing.")
def rental_cluster(opts: Options, dry_run, **request):
    """Book GPUS GPUs of a model in a region at once, the cheapest mix of on-chain and signed offers (volume
    discounts included), in one transaction that opens every rental or none; shows the plan first."""
    def action(m):
        from gpumarket.cluster import Cluster
        from gpumarket.units import count

        plan = Cluster.plan(m, **request)
        if dry_run:
            return plan.as_dict() | {"dry_run": True}
        _say(f"plan: {count(plan.gpus, 'GPU')} for {plan.hours} h in {count(len(plan.parts), 'rental')}")
        _show_cluster(plan.as_dict(), err=True)
        _confirm_on_live(m, opts, "Book this cluster?")
        return plan.book()

    run(opts, action, render=_show_cluster)


def _confirm_on_live(m, opts: Options, question: str) -> None:
    """Asks before sending on a live network, unless --yes."""
    if not m.chain.is_local and not opts.yes:
        click.confirm(question, abort=True, err=True)


@rental.command("activate")
@common
@click.argument("rental_id")
def rental_activate(opts: Options, rental_id):
    """Provider: confirm access was handed over; streaming starts now."""
    run(opts, lambda m: m.rental(rental_id).activate(), render=_show_rental)


@rental.command("claim")
@common
@click.argument("rental_ids", nargs=-1)
@click.option("--all", "all_mine", is_flag=True, help="Every rental of the account (as provider) with something to claim.")
def rental_claim(opts: Options, rental_ids, all_mine):
    """Pay the provider what has accrued (one rental, several, or --all of the account's)."""
    def action(m):
        from gpumarket.rental import Rental

        return Rental.claim_many(m, list(rental_ids), all_mine=all_mine)

    run(opts, action,
        render=lambda r: render_rows(r["claims"], [(k, lambda x, k=k: x[k]) for k in
                                                   ("rental_id", "gross", "provider_net", "protocol_fee", "broker_fee")]))


@rental.command("extend")
@common
@click.argument("rental_id")
@click.option("--hours", required=True)
def rental_extend(opts: Options, rental_id, hours):
    """Renter: add hours at the rental's own rate (self-funded rentals only)."""
    run(opts, lambda m: m.rental(rental_id).extend(hours), render=_show_rental)


@rental.command("stop")
@common
@click.argument("rental_id")
def rental_stop(opts: Options, rental_id):
    """Renter: stop early; unused time goes back to the payer at once."""
    run(opts, lambda m: m.rental(rental_id).stop(), render=_show_rental)


@rental.command("cancel")
@common
@click.argument("rental_id")
def rental_cancel(opts: Options, rental_id):
    """Renter: cancel a rental the provider has not activated (full refund; a no-show penalty after the deadline)."""
    run(opts, lambda m: m.rental(rental_id).cancel(), render=_show_rental)


@rental.command("show")
@common
@click.argument("rental_id")
def rental_show(opts: Options, rental_id):
    """State, time left, accrued, claimable, refundable, when it can be released."""
    run(opts, lambda m: m.rental(rental_id).info(), sends=False)


@rental.command("list")
@common
@click.option("--as", "role", type=click.Choice(["any", "renter", "payer", "provider", "broker"]), default="any",
              show_default=True)
@click.option("--address", default=None, help="Whose rentals (default: --account).")
def rental_list(opts: Options, role, address):
    """Rentals of an address, as renter, payer, provider or broker."""
    run(opts, lambda m: m.rentals(m.address_or_me(address), role), sends=False,
        render=lambda rows: render_rows(rows, _rental_columns()))


@rental.command("dispute")
@common
@click.argument("rental_id")
@click.option("--evidence", required=True, help="Text (hashed) or a 0x 32-byte hash of off-chain evidence.")
def rental_dispute(opts: Options, rental_id, evidence):
    """Renter: dispute a rental that was not served; freezes the unclaimed escrow until a ruling."""
    run(opts, lambda m: m.rental(rental_id).dispute(evidence), render=_show_rental)


@rental.command("resolve")
@common
@click.argument("rental_id")
@click.option("--provider-share", required=True, help="Percent of the frozen escrow paid to the provider.")
@click.option("--slash", default="0", show_default=True, help="GPUC of the rental's collateral to slash.")
def rental_resolve(opts: Options, rental_id, provider_share, slash):
    """Arbiter: rule on a dispute."""
    run(opts, lambda m: m.rental(rental_id).resolve(provider_share, slash), render=_show_rental)


@rental.command("timeout")
@common
@click.argument("rental_id")
def rental_timeout(opts: Options, rental_id):
    """Anyone: apply the default ruling to a dispute the arbiter left past its timeout."""
    run(opts, lambda m: m.rental(rental_id).timeout(), render=_show_rental)


@rental.command("release")
@common
@click.argument("rental_id")
def rental_release(opts: Options, rental_id):
    """Anyone: move a rental on (no-show cancel, end, settle after the dispute window)."""
    run(opts, lambda m: m.rental(rental_id).release(), render=_show_rental)


# ── vaults ──


@cli.group()
def vault():
    """Vaults: investors back a provider. create, list, status, deposit, redeem, withdraw, income, harvest,
    commission, start-batch, finish-batch, claim, activate, metadata, offer."""


def vault_option(fn):
    """--vault: the vault acted on, by its address or its operator's."""
    return click.option("--vault", "vault_ref", envvar="GPUMARKET_VAULT", default=None,
                        help="The vault's address, or its operator's [default: the vault --account operates; "
                             "env GPUMARKET_VAULT].")(fn)


def _vault_columns():
    return [("vault", lambda r: r["address"]), ("symbol", lambda r: r["symbol"]), ("name", lambda r: r["name"]),
            ("commission", lambda r: f"{r['commission_bps'] / 100:g} %"), ("assets", lambda r: r["total_assets"]),
            ("share price", lambda r: r["share_price"]), ("active", lambda r: r["active"]),
            ("operator", lambda r: r["operator"])]


def _show_vault(result: dict) -> None:
    render_kv(result["vault"] | {"tx": result["tx"]})


@vault.command("create")
@common
@click.argument("name")
@click.argument("symbol")
@click.argument("metadata")
@click.option("--commission-pct", required=True, help="The operator's cut of the vault's income, in percent (≤ 50).")
def vault_create(opts: Options, name, symbol, metadata, commission_pct):
    """Operator: create your vault (one per operator): NAME and SYMBOL of its shares, METADATA (hash or URL of
    the hardware spec) for the registry, where the vault is the provider."""
    def action(m):
        from gpumarket.vault import Vault

        return Vault.create(m, name=name, symbol=symbol, metadata=metadata, commission_pct=commission_pct)

    run(opts, action, render=_show_vault)


@vault.command("list")
@common
def vault_list(opts: Options):
    """Every vault of the deployment's factory: operator, commission, assets, share price."""
    run(opts, lambda m: m.vaults(), sends=False, render=lambda rows: render_rows(rows, _vault_columns()))


@vault.command("status")
@common
@click.argument("vault_ref", metavar="[VAULT]", required=False)
def vault_status(opts: Options, vault_ref):
    """A vault (address or operator's address; default: the one --account operates): operator, commission and a
    pending change, assets, share price, stake, rentals, redemption batches, and --account's shares and income."""
    run(opts, lambda m: m.vault(vault_ref).info(m.account.address if m.account else None), sends=False)


@vault.command("deposit")
@common
@vault_option
@click.argument("amount")
def vault_deposit(opts: Options, vault_ref, amount):
    """Deposit AMOUNT GPUC for shares (approves the vault first if needed); the vault stakes it at once."""
    run(opts, lambda m: m.vault(vault_ref).deposit(amount))


@vault.command("redeem")
@common
@vault_option
@click.argument("shares")
@click.option("--to", "receiver", default=None, help="Who is paid (default: --account).")
def vault_redeem(opts: Options, vault_ref, shares, receiver):
    """Ask to redeem SHARES (or 'all'): they go into escrow (no more income, still bear a slash) and queue for the
    next batch, paid after it unbonds; says when that can be."""
    run(opts, lambda m: m.vault(vault_ref).request_redeem(shares, receiver))


@vault.command("withdraw")
@common
@vault_option
@click.option("--only", type=click.Choice(["income", "redemptions"]), default=None,
              help="Only income, or only finished redemption requests [default: both].")
@click.option("--token", default=None, help="Income in this token only.")
def vault_withdraw(opts: Options, vault_ref, only, token):
    """Collect what the vault owes --account: its finished redemption requests and its income in every token."""
    run(opts, lambda m: m.vault(vault_ref).withdraw(only=only, token=token))


@vault.command("income")
@common
@vault_option
@click.argument("address", required=False)
def vault_income(opts: Options, vault_ref, address):
    """Income of ADDRESS (default: --account) per payment token: withdrawable now, and as of the last harvest."""
    run(opts, lambda m: m.vault(vault_ref).income(m.address_or_me(address)), sends=False)


def _vault_anyone_command(name: str, method: str, doc: str):
    """A vault action anyone may send, which takes nothing but the vault."""
    @vault.command(name, help=doc)
    @common
    @vault_option
    def command(opts: Options, vault_ref):
        run(opts, lambda m: getattr(m.vault(vault_ref), method)())

    return command


for _name, _method, _doc in (
    ("harvest", "harvest", "Anyone: claim the vault's rentals and share what arrived (commission, then pro rata "
                           "to shares)."),
    ("start-batch", "start_batch", "Anyone: start unbonding the queued redemption batch (once no batch unbonds and "
                                   "the free stake covers it)."),
    ("finish-batch", "finish_batch", "Anyone: finish the unbonding batch after the unbonding period; its requests "
                                     "can then be claimed."),
):
    _vault_anyone_command(_name, _method, _doc)


@vault.command("commission")
@common
@vault_option
@click.argument("percent")
def vault_commission(opts: Options, vault_ref, percent):
    """Operator: propose a new commission PERCENT: a cut applies at once, a rise after twice the unbonding period."""
    run(opts, lambda m: m.vault(vault_ref).propose_commission(percent))


@vault.command("claim")
@common
@vault_option
@click.argument("request_id", metavar="REQUEST")
def vault_claim(opts: Options, vault_ref, request_id):
    """Anyone: pay redemption REQUEST of a finished batch to its receiver."""
    run(opts, lambda m: m.vault(vault_ref).claim(request_id))


@vault.command("activate")
@common
@vault_option
@click.argument("rental_id", metavar="RENTAL")
def vault_activate(opts: Options, vault_ref, rental_id):
    """Operator: activate RENTAL of the vault's offers (access handed over); the vault tracks its income."""
    def action(m):
        seat = m.vault(vault_ref).as_provider()  # first: the vault checks its operator before the market's checks
        return m.rental(rental_id).activate(seat=seat)

    run(opts, action, render=_show_rental)


@vault.command("metadata")
@common
@vault_option
@click.argument("metadata")
def vault_metadata(opts: Options, vault_ref, metadata):
    """Operator: replace the vault's METADATA in the registry (hash or URL of the hardware spec)."""
    run(opts, lambda m: m.vault(vault_ref).update_metadata(metadata))


@vault.group("offer")
def vault_offer():
    """Operator: the vault's offers (the vault is the provider): create, update, pause, resume, close, sign,
    cancel-signed."""


@vault_offer.command("create")
@common
@vault_option
@offer_create_options
def vault_offer_create(opts: Options, vault_ref, **terms):
    """List GPUs for rent as the vault (same options as `offer create`)."""
    run(opts, lambda m: _create_offer(m, m.vault(vault_ref).as_provider(), terms), render=_show_offer)


@vault_offer.command("update")
@common
@vault_option
@offer_update_options
def vault_offer_update(opts: Options, vault_ref, offer_id, **terms):
    """Change a vault offer's terms for future rentals (same options as `offer update`)."""
    run(opts, lambda m: _update_offer(m, m.vault(vault_ref).as_provider(), offer_id, terms), render=_show_offer)


for _action, _doc in OFFER_STATUS_ACTIONS:
    _offer_status_command(vault_offer, _action, _doc, seat=lambda m, kw: m.vault(kw["vault_ref"]).as_provider(),
                          extra=vault_option)


@vault_offer.command("sign")
@common
@vault_option
@offer_sign_options
def vault_offer_sign(opts: Options, vault_ref, **terms):
    """Sign an offer off-chain for the vault (the vault is the provider; your key signs, and the vault accepts
    its operator's signature through ERC-1271); same options as `offer sign`."""
    run(opts, lambda m: _sign_offer(m, m.vault(vault_ref).as_provider(), terms), render=_show_document)


@vault_offer.command("cancel-signed")
@common
@vault_option
@offer_cancel_signed_options
def vault_offer_cancel_signed(opts: Options, vault_ref, path, below):
    """Cancel a signed offer of the vault (FILE), or every one with a nonce below --below, through callMarket."""
    run(opts, lambda m: _cancel_signed(m, m.vault(vault_ref).as_provider(), path, below))


# ── fees ──


@cli.group()
def fees():
    """Fees: show, withdraw (broker and deferred credits; protocol fees to the treasury)."""


@fees.command("show")
@common
@click.argument("address", required=False)
def fees_show(opts: Options, address):
    """Credits of an address and the protocol fees waiting for the treasury, per payment token."""
    run(opts, lambda m: m.balances(m.address_or_me(address)), sends=False)


@fees.command("withdraw")
@common
@click.argument("token")
@click.option("--protocol", is_flag=True, help="Send the protocol fees to the treasury (anyone may).")
def fees_withdraw(opts: Options, token, protocol):
    """Withdraw the account's credits in TOKEN (broker fees, deferred payouts), or --protocol fees."""
    run(opts, lambda m: m.withdraw_fees(token, protocol=protocol))


# ── tokens ──


@cli.group()
def token():
    """Tokens: balances, transfer, mint (the test stablecoin only)."""


@token.command("balance")
@common
@click.argument("address", required=False)
def token_balance(opts: Options, address):
    """GPUC and payment-token balances of an address (default: --account)."""
    run(opts, lambda m: m.token_balances(m.address_or_me(address)), sends=False)


@token.command("transfer")
@common
@click.argument("token_ref", metavar="TOKEN")
@click.argument("to")
@click.argument("amount")
def token_transfer(opts: Options, token_ref, to, amount):
    """Send AMOUNT of TOKEN (symbol or address) to TO."""
    run(opts, lambda m: m.token(token_ref).transfer(to, amount))


@token.command("mint")
@common
@click.argument("arguments", nargs=-1, metavar="[TOKEN] TO AMOUNT")
def token_mint(opts: Options, arguments):
    """Mint AMOUNT of test TOKEN to TO, in the order of `token transfer`; TOKEN is mUSD, the deployment's test
    stablecoin (local chains and testnets; it has a public mint), and may be left out: `token mint TO AMOUNT`."""
    if len(arguments) not in (2, 3):
        raise click.UsageError("`token mint` takes [TOKEN] TO AMOUNT, e.g. "
                               "`gpumarket token mint mUSD 0x15d3…6A65 500`.")
    token_ref, to, amount = arguments if len(arguments) == 3 else ("mUSD", *arguments)
    run(opts, lambda m: m.token(token_ref).mint(to, amount))


# ── admin ──


@cli.group()
def admin():
    """Owner: bounded parameters, treasury, arbiter, payment tokens, pause."""


@admin.command("set")
@common
@click.argument("parameter", type=click.Choice([
    "protocol-fee", "stake-per-gpu", "activation-window", "dispute-window", "no-show-penalty",
    "arbitration-timeout", "slash-treasury-share", "min-stake", "unbonding-period"]))
@click.argument("value")
def admin_set(opts: Options, parameter, value):
    """Set PARAMETER to VALUE (percent for fees and shares, GPUC for stakes, seconds for times)."""
    run(opts, lambda m: m.admin_set(parameter, value))


@admin.command("set-address")
@common
@click.argument("role", type=click.Choice(["treasury", "arbiter"]))
@click.argument("address")
def admin_set_address(opts: Options, role, address):
    """Set the treasury or the arbiter."""
    run(opts, lambda m: m.admin_address(role, address))


@admin.command("token")
@common
@click.argument("token")
@click.option("--allow/--disallow", default=True)
def admin_token(opts: Options, token, allow):
    """Allow or disallow a payment token (running rentals are unaffected)."""
    run(opts, lambda m: m.admin_token(token, allow))


@admin.command("pause")
@common
def admin_pause(opts: Options):
    """Pause new offers, rentals and extensions (claims, stops, refunds and rulings go on)."""
    run(opts, lambda m: m.admin_pause(True))


@admin.command("unpause")
@common
def admin_unpause(opts: Options):
    """Lift the pause."""
    run(opts, lambda m: m.admin_pause(False))


# ── web ──


@cli.command("web")
@common
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 0xFFFF), default=8000, show_default=True, help="Port to listen on.")
@click.option("--index", "index_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="GPUMARKET_INDEX",
              help="The index file [default: beside the deployment record, <record>.index.sqlite; env GPUMARKET_INDEX].")
@click.option("--refresh-seconds", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
              help="How often the index follows the chain while the page is served.")
def web_command(opts: Options, host, port, index_path, refresh_seconds):
    """Serve the read-only live market page from the index (README, Market page)."""
    from gpumarket.index import Index
    from gpumarket.web import create_app, serve

    conn = open_chain(opts.network)
    record = load_deployment(conn, opts.deployments)
    path = index_path or default_index_path(opts, conn)
    rpc_url = conn.url
    idx = Index.open(path, rpc_url, record)  # checks the file is this deployment's, then catches up once
    try:
        idx.refresh()
    finally:
        idx.close()
    serve(create_app(path, rpc_url, record, refresh_seconds=refresh_seconds), host, port, say=_say)


def main() -> None:  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
