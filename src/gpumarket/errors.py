"""Every error is one plain sentence. A condition the contracts name with a custom error is a
`ContractError`, whose sentence comes from the table `SENTENCES` (the error's name and arguments): the
objects raise it from their pre-checks, before anything is sent, and the connection raises it when it
decodes the same custom error from a revert (a race with another transaction), so both read the same.
Conditions no contract has an error for (malformed input, an unknown token, a balance short before a
transfer, ...) use the other classes below with their own sentence.

Adding a custom error to a contract takes one line in `SENTENCES`; a test checks that the table covers
the ABIs.
"""

from __future__ import annotations

from typing import Any, Callable

from gpumarket.status import OfferStatus, RentalStatus


class GpuMarketError(Exception):
    """A problem the user can fix, stated in one sentence. The CLI prints it and exits 1."""

    exit_code = 1

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


class InputError(GpuMarketError):
    """Malformed input (an amount, an address, a count that is not a whole number)."""


class NotFoundError(GpuMarketError):
    """A rental, token, account or deployment that does not exist."""


class WrongStateError(GpuMarketError):
    """A state the client refuses to act on although no contract would revert (see each use)."""


class InsufficientError(GpuMarketError):
    """Not enough of a token for a transfer the market or a token would make."""


class NetworkError(GpuMarketError):
    """Unknown network, unreachable node, or a deployment written for another chain."""


class RevertedError(GpuMarketError):
    """The chain refused the transaction without a custom error (a revert string, out of gas)."""


class Phrasing:
    """How a sentence shows the values in an error's arguments. This plain phrasing shows them as the
    chain has them (base units, unix times, a limit by its constant's name); a market session's phrasing
    (`market.SessionPhrasing`) shows token units, UTC times and the limits it read from the contracts."""

    def amount(self, raw: int, *, offer: int | None = None, token: str | None = None) -> str:
        """An amount of an offer's payment token, or of `token`."""
        return f"{raw} base units"

    def gpuc(self, raw: int) -> str:
        return f"{raw} GPUC base units"

    def token(self, address: str) -> str:
        return f"Token {address}"

    def symbol(self, address: str) -> str:
        return f"token {address}"

    def shares(self, raw: int) -> str:
        """An amount of a vault's shares."""
        return f"{raw} share base units"

    def time(self, timestamp: int) -> str:
        return f"{timestamp} (unix time)"

    def until(self, timestamp: int) -> str:
        """A time in the future, with how far off it is where the phrasing knows the time."""
        return self.time(timestamp)

    def limit(self, name: str) -> int | str:
        """A bound of the contracts (`Limits`), by its constant's name."""
        return name

    def bounds(self, contract: str, value: int, low: int, high: int) -> str:
        """A parameter setter's bound, [low, high] in the setter's units."""
        return f"{value} is outside the allowed range [{low}, {high}] (the setter's units)."


PLAIN = Phrasing()


def pct(bps) -> str:
    """250 -> '2.5 %'; a limit shown by name stays as it is."""
    return f"{int(bps) / 100:g} %" if isinstance(bps, int) else str(bps)


def _hash(value) -> str:
    """An offer hash, shortened for a sentence: 0x1234abcd…"""
    h = value.hex() if isinstance(value, (bytes, bytearray)) else str(value).removeprefix("0x")
    return "0x" + h.removeprefix("0x")[:8] + "…"


def _rs(value) -> str:
    return RentalStatus.label_of(value)


def _os(value) -> str:
    return OfferStatus.label_of(value)


def _hours(a: dict, f: Phrasing) -> str:
    low, high, asked = a["minHours"], a["maxHours"], a["hoursRequested"]
    if int(high) < int(low):  # an extension of a rental that already has its offer's maximum
        return f"No more hours can be added: the rental already has the most its offer allows ({asked} asked for)."
    return f"The number of hours must be between {low} and {high}, not {asked}."


def _tiers(a: dict, f: Phrasing) -> str:
    most = f.limit("MAX_TIERS")
    if isinstance(most, int) and int(a["index"]) >= most:
        return f"An offer takes at most {most} discount tiers."
    return (f"Discount tier {int(a['index']) + 1} (in order of GPU-hours) is invalid: each tier needs more GPU-hours "
            f"and a larger discount than the one before, and at most {pct(f.limit('MAX_DISCOUNT_BPS'))} off.")


def _release(a: dict, f: Phrasing) -> str:
    if not int(a["releasableAt"]):
        return f"Rental #{a['rentalId']} is {_rs(a['status'])}; there is nothing to release."
    return f"Rental #{a['rentalId']} is {_rs(a['status'])} and can be released from {f.until(a['releasableAt'])}."


def _selector(value) -> str:
    """A bytes4 selector as 0x and eight hex digits, however the decoder handed it over."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int):
        return f"0x{value:08x}"
    return str(value)


def _invalid_redeem(a: dict, f: Phrasing) -> str:
    if not int(a["balance"]):
        return "There are no shares to redeem: the account holds none of the vault's shares."
    if not int(a["shares"]):
        return "The number of shares to redeem must be above zero."
    return f"Redeeming {f.shares(a['shares'])} is more than the {f.shares(a['balance'])} held."


def _batch_not_ready(a: dict, f: Phrasing) -> str:
    if not int(a["batch"]):
        return "No redemption batch is unbonding; start the queued one with `gpumarket vault start-batch`."
    return f"Redemption batch #{a['batch']} finishes unbonding at {f.until(a['readyAt'])}."


def _not_claimable(a: dict, f: Phrasing) -> str:
    if not int(a["batch"]):
        return f"Redemption request #{a['requestId']} does not exist."
    return (f"Redemption request #{a['requestId']} cannot be claimed: its batch #{a['batch']} has not finished, or "
            "it was already paid.")


Sentence = Callable[[dict, Phrasing], str]

#: Custom error name -> its sentence, from the error's arguments (`a`) and a phrasing (`f`).
SENTENCES: dict[str, Sentence] = {
    # ComputeMarket
    "MarketZeroAddress": lambda a, f: "An address given is the zero address.",
    "MarketParameterOutOfBounds": lambda a, f: f.bounds("market", a["value"], a["min"], a["max"]),
    "MarketTokenNotAllowed": lambda a, f: f"{f.token(a['token'])} is not an allowed payment token.",
    "MarketTokenDeliveredLess": lambda a, f: (
        f"{f.token(a['token'])} delivered {f.amount(a['received'], token=a['token'])} instead of "
        f"{f.amount(a['expected'], token=a['token'])}; fee-on-transfer tokens are refused."
    ),
    "MarketInvalidLabel": lambda a, f: (
        f"A GPU model or region of {a['length']} bytes is invalid: it must be 1 to {f.limit('MAX_LABEL_LENGTH')} bytes."
    ),
    "MarketInvalidPrice": lambda a, f: "The price per GPU-hour must be above zero.",
    "MarketInvalidGpuCount": lambda a, f: (
        f"The GPU count must be at least 1 and at most {f.limit('MAX_GPUS')}, not {a['gpus']}."
    ),
    "MarketInvalidHourBounds": lambda a, f: (
        f"Hour bounds {a['minHours']} to {a['maxHours']} are invalid: an offer needs 1 <= minimum <= maximum <= "
        f"{f.limit('MAX_RENTAL_HOURS')} hours."
    ),
    "MarketBrokerBpsAboveMax": lambda a, f: (
        f"The broker fee may be at most {pct(a['maxBrokerBps'])}, not {pct(a['brokerBps'])}."
    ),
    "MarketInvalidBroker": lambda a, f: "A broker fee needs --broker (the broker's address).",
    "MarketProviderNotActive": lambda a, f: (
        f"Provider {a['provider']} is not active: it is not registered, or its bonded stake is below the minimum "
        "stake (see `gpumarket provider status`)."
    ),
    "MarketOfferNotFound": lambda a, f: f"Offer #{a['offerId']} does not exist.",
    "MarketOfferNotActive": lambda a, f: (
        f"Offer #{a['offerId']} is {_os(a['status'])}, not active: it takes no new rentals or extensions."
    ),
    "MarketOfferNotPaused": lambda a, f: f"Offer #{a['offerId']} is {_os(a['status'])}, not paused.",
    "MarketRenounceDisabled": lambda a, f: "Renouncing ownership is disabled.",
    "MarketModuleCalledDirectly": lambda a, f: f"{a['module']} is a market module: call the market, not the module.",
    "MarketInvalidModule": lambda a, f: f"{a['module']} is not a market module deployed for this registry.",
    "FailedCall": lambda a, f: "A call in the batch, or one a vault forwarded to the market, failed without a reason.",
    "AddressEmptyCode": lambda a, f: f"{a['target']} has no code.",
    "InvalidShortString": lambda a, f: "The EIP-712 domain name is not a valid short string.",
    "StringTooLong": lambda a, f: f"The string {a['str']!r} is too long for a short string.",
    "MarketOfferClosed": lambda a, f: f"Offer #{a['offerId']} is closed for good; create a new offer instead.",
    "MarketOfferIdsExhausted": lambda a, f: f"No offer id is left for offer #{a['offerId']}; the market cannot list more.",
    "MarketSignedOfferTermsFixed": lambda a, f: (
        f"Offer #{a['offerId']} is a signed offer: its terms are fixed by the signature; sign a new offer instead."
    ),
    "MarketSignedOfferNeedsSignature": lambda a, f: (
        f"Offer #{a['offerId']} is a signed offer's record: rent it with its file (rental rent --signed FILE), so "
        "that its expiry and its provider's cancellations are checked."
    ),
    "MarketSignedOfferExpired": lambda a, f: (
        f"The signed offer {_hash(a['offerHash'])} expired at {f.time(a['expiry'])}; ask its provider for a new one."
    ),
    "MarketSignedOfferCancelled": lambda a, f: f"The provider cancelled the signed offer {_hash(a['offerHash'])}.",
    "MarketSignedOfferNonceCancelled": lambda a, f: (
        f"The provider cancelled every signed offer with a nonce below {a['nonceFloor']}, and the offer "
        f"{_hash(a['offerHash'])} has nonce {a['nonce']}."
    ),
    "MarketInvalidSignature": lambda a, f: (
        f"The signature on offer {_hash(a['offerHash'])} is not {a['provider']}'s for these terms in this market "
        f"(wrong signer, changed terms, or signed for another chain or deployment)."
    ),
    "MarketNotSignedOfferProvider": lambda a, f: (
        f"{a['caller']} is not the provider of the signed offer {_hash(a['offerHash'])}; only its provider may cancel it."
    ),
    "MarketNonceFloorNotRaised": lambda a, f: (
        f"The nonce floor is already {a['nonceFloor']}; give a higher nonce than that (not {a['nonce']})."
    ),
    "MarketClusterEmpty": lambda a, f: "A cluster needs at least one offer.",
    "MarketClusterTokenMismatch": lambda a, f: (
        f"Part {a['part']} of the cluster is paid in {f.symbol(a['token'])}, the first in {f.symbol(a['expected'])}; "
        f"a cluster is paid in one token."
    ),
    "MarketClusterCostAboveMax": lambda a, f: (
        f"The cluster costs {f.amount(a['cost'])}, above your maximum of {f.amount(a['maxCost'])}."
    ),
    "MarketNotOfferProvider": lambda a, f: f"{a['caller']} is not the provider of offer #{a['offerId']}.",
    "MarketGpusOfferedBelowInUse": lambda a, f: (
        f"Offer #{a['offerId']} has {a['gpusInUse']} GPUs in use; it cannot offer only {a['gpusOffered']}."
    ),
    "MarketOfferReserved": lambda a, f: f"Offer #{a['offerId']} is reserved for {a['reservedFor']}, not {a['renter']}.",
    "MarketSelfRental": lambda a, f: f"{a['provider']} is the provider of offer #{a['offerId']} and cannot rent it.",
    "MarketInsufficientCapacity": lambda a, f: (
        f"Offer #{a['offerId']} has {a['available']} GPUs free; {a['requested']} were asked for."
    ),
    "MarketInvalidHours": _hours,
    "MarketPriceAboveMax": lambda a, f: (
        f"Offer #{a['offerId']} costs {f.amount(a['price'], offer=a['offerId'])} per GPU-hour, above your maximum "
        f"of {f.amount(a['maxPrice'], offer=a['offerId'])}."
    ),
    "MarketRentalNotPending": lambda a, f: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])}; only pending rentals can be activated or cancelled."
    ),
    "MarketRentalNotActive": lambda a, f: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])}; only active rentals can be stopped or extended."
    ),
    "MarketRentalNotClaimable": lambda a, f: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])}; only active or ended rentals can be claimed."
    ),
    "MarketRentalEnded": lambda a, f: (
        f"Rental #{a['rentalId']} already ended at {f.time(a['endsAt'])}; release it instead."
    ),
    "MarketRentalNotReleasable": _release,
    "MarketNotRenter": lambda a, f: f"{a['caller']} is not the renter of rental #{a['rentalId']}.",
    "MarketNotProvider": lambda a, f: f"{a['caller']} is not the provider of rental #{a['rentalId']}.",
    "MarketActivationExpired": lambda a, f: (
        f"Rental #{a['rentalId']} can no longer be activated: its deadline was {f.time(a['activationDeadline'])}."
    ),
    "MarketNothingToClaim": lambda a, f: f"Rental #{a['rentalId']} has nothing to claim yet.",
    "MarketExtensionNotSelfFunded": lambda a, f: (
        f"Rental #{a['rentalId']} was paid by {a['payer']}; only self-funded rentals can be extended."
    ),
    "MarketNoFees": lambda a, f: f"Nothing in {f.symbol(a['token'])} is waiting for {a['account']} to withdraw.",
    "MarketNotArbiter": lambda a, f: f"{a['caller']} is not the arbiter.",
    "MarketRentalNotDisputable": lambda a, f: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])}; only active or ended rentals can be disputed."
    ),
    "MarketDisputeWindowClosed": lambda a, f: (
        f"The dispute window of rental #{a['rentalId']} closed at {f.time(a['closedAt'])}."
    ),
    "MarketRentalNotDisputed": lambda a, f: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])}; only disputed rentals can be ruled on."
    ),
    "MarketInvalidShare": lambda a, f: f"A provider share of {pct(a['providerShareBps'])} is above 100 %.",
    "MarketSlashAboveCollateral": lambda a, f: (
        f"A slash of {f.gpuc(a['slashAmount'])} is above rental #{a['rentalId']}'s collateral of "
        f"{f.gpuc(a['collateral'])}."
    ),
    "MarketArbitrationTimedOut": lambda a, f: (
        f"The arbitration of rental #{a['rentalId']} timed out at {f.time(a['timeoutAt'])}; anyone can apply the "
        "default ruling with `gpumarket rental timeout`."
    ),
    "MarketArbitrationPending": lambda a, f: (
        f"The arbiter can still rule on rental #{a['rentalId']} until {f.until(a['timeoutAt'])}."
    ),
    # ProviderRegistry
    "RegistryAlreadyRegistered": lambda a, f: f"{a['provider']} is already registered as a provider.",
    "RegistryNotRegistered": lambda a, f: (
        f"{a['provider']} is not a registered provider; run `gpumarket provider register` first."
    ),
    "RegistryInvalidMetadata": lambda a, f: (
        f"Metadata of {a['length']} bytes is invalid: it must be 1 to {f.limit('MAX_METADATA_LENGTH')} bytes "
        "(e.g. a hash or URL of the hardware spec)."
    ),
    "RegistryZeroAmount": lambda a, f: "The amount must be above zero.",
    "RegistryInsufficientFreeStake": lambda a, f: (
        f"Provider {a['provider']} has {f.gpuc(a['free'])} of free stake (neither locked as collateral nor "
        f"unbonding); {f.gpuc(a['needed'])} is needed."
    ),
    "RegistryNothingUnbonding": lambda a, f: f"{a['provider']} has nothing unbonding.",
    "RegistryUnbondingNotReady": lambda a, f: (
        f"The unbonding stake of {a['provider']} is ready at {f.until(a['readyAt'])}."
    ),
    "RegistryInsufficientLocked": lambda a, f: (
        f"{a['provider']} has only {f.gpuc(a['locked'])} locked; {f.gpuc(a['needed'])} needed."
    ),
    "RegistryProviderNotActive": lambda a, f: (
        f"Provider {a['provider']} has {f.gpuc(a['bonded'])} bonded, below the minimum stake of "
        f"{f.gpuc(a['minStake'])}."
    ),
    "RegistrySlashMismatch": lambda a, f: (
        f"Slash amounts add up to {f.gpuc(a['sumOfAmounts'])}, not {f.gpuc(a['amount'])}."
    ),
    "RegistryInvalidRecipient": lambda a, f: f"Slash recipient #{a['index']} is invalid.",
    "RegistrySlashLengthMismatch": lambda a, f: f"{a['recipients']} slash recipients but {a['amounts']} amounts.",
    "RegistryCallerNotMarket": lambda a, f: f"{a['caller']} is not the market.",
    "RegistryMarketAlreadySet": lambda a, f: f"The registry's market is already set to {a['market']}.",
    "RegistryZeroAddress": lambda a, f: "An address given is the zero address.",
    "RegistryRenounceDisabled": lambda a, f: "Renouncing ownership is disabled.",
    "RegistryParameterOutOfBounds": lambda a, f: f.bounds("registry", a["value"], a["min"], a["max"]),
    # ProviderVault and VaultFactory
    "VaultNotOperator": lambda a, f: f"{a['caller']} is not the vault's operator.",
    "VaultCallNotAllowed": lambda a, f: (
        f"A vault forwards only the market's offer functions (create, update, pause, resume, close an offer, cancel "
        f"signed offers), not the function {_selector(a['selector'])}."
    ),
    "VaultZeroAddress": lambda a, f: "An address given is the zero address.",
    "VaultCommissionAboveMax": lambda a, f: (
        f"The commission may be at most {pct(a['maxBps'])} of the income, not {pct(a['bps'])}."
    ),
    "VaultRedeemIsAsync": lambda a, f: (
        "A vault redeems asynchronously: request it with `gpumarket vault redeem`, and collect it once its batch "
        "has finished unbonding."
    ),
    "VaultInvalidRedeem": _invalid_redeem,
    "VaultBatchInFlight": lambda a, f: (
        f"Redemption batch #{a['batch']} is still unbonding (until {f.time(a['readyAt'])}); the next batch starts "
        "after it is finished."
    ),
    "VaultNothingQueued": lambda a, f: "No redemption request is queued: there is no batch to start.",
    "VaultRedemptionWaitsForCollateral": lambda a, f: (
        f"The queued redemptions need {f.gpuc(a['needed'])} of the vault's free stake, which is "
        f"{f.gpuc(a['free'])}: the rest backs rentals, and the batch waits until their collateral is released."
    ),
    "VaultBatchNotReady": _batch_not_ready,
    "VaultRequestNotClaimable": _not_claimable,
    "VaultSharesToTheVault": lambda a, f: "Vault shares cannot be sent to the vault itself; to redeem, use `gpumarket vault redeem`.",
    "VaultNoIncome": lambda a, f: f"{a['account']} has no income in {f.symbol(a['token'])} to withdraw from the vault.",
    "VaultFactoryOperatorHasVault": lambda a, f: (
        f"{a['operator']} already operates vault {a['vault']} (one vault per operator)."
    ),
    "VaultFactoryRegistryMismatch": lambda a, f: (
        f"Registry {a['registry']} serves the market at {a['itsMarket']}, not the factory's market."
    ),
    # OpenZeppelin errors a user can hit through the CLI
    "OwnableUnauthorizedAccount": lambda a, f: f"{a['account']} is not the owner.",
    "EnforcedPause": lambda a, f: (
        "The market is paused by its owner: new offers, rentals and extensions wait for the unpause."
    ),
    "ExpectedPause": lambda a, f: "The market is not paused.",
    "ERC20InsufficientBalance": lambda a, f: (
        f"{a['sender']} holds {a['balance']} of the token; {a['needed']} is needed (base units)."
    ),
    "ERC20InsufficientAllowance": lambda a, f: (
        f"The allowance is {a['allowance']}; {a['needed']} is needed (base units)."
    ),
    "SafeERC20FailedOperation": lambda a, f: f"{f.token(a['token'])} refused the transfer.",
    "OwnableInvalidOwner": lambda a, f: f"{a['owner']} cannot be the owner.",
    "ReentrancyGuardReentrantCall": lambda a, f: "A contract tried to re-enter the market or a vault during a call; refused.",
    "SafeCastOverflowedUintDowncast": lambda a, f: f"{a['value']} does not fit in {a['bits']} bits.",
    "MarketInvalidTiers": _tiers,
    "ERC20InvalidApprover": lambda a, f: f"{a['approver']} cannot approve (the zero address).",
    "ERC20InvalidReceiver": lambda a, f: f"{a['receiver']} cannot receive tokens (the zero address).",
    "ERC20InvalidSender": lambda a, f: f"{a['sender']} cannot send tokens (the zero address).",
    "ERC20InvalidSpender": lambda a, f: f"{a['spender']} cannot be approved (the zero address).",
    "ERC4626ExceededMaxDeposit": lambda a, f: (
        f"A deposit of {f.gpuc(a['assets'])} for {a['receiver']} is above the vault's maximum of {f.gpuc(a['max'])}."
    ),
    "ERC4626ExceededMaxMint": lambda a, f: (
        f"Minting {f.shares(a['shares'])} for {a['receiver']} is above the vault's maximum of {f.shares(a['max'])}."
    ),
    "ERC4626ExceededMaxRedeem": lambda a, f: (
        f"{a['owner']} can redeem at most {f.shares(a['max'])} at once, not {f.shares(a['shares'])}; a vault redeems "
        "through `gpumarket vault redeem`."
    ),
    "ERC4626ExceededMaxWithdraw": lambda a, f: (
        f"{a['owner']} can withdraw at most {f.gpuc(a['max'])} at once, not {f.gpuc(a['assets'])}; a vault redeems "
        "through `gpumarket vault redeem`."
    ),
    "InsufficientBalance": lambda a, f: f"The contract holds {a['balance']} wei; {a['needed']} wei is needed.",
}


def sentence_for(name: str, inputs: dict[str, Any], phrasing: Phrasing | None = None) -> str:
    """The sentence of a custom error (a generic one naming it if the table has none). A phrasing that
    cannot read what it needs (the chain refused the call) falls back to the plain one."""
    make = SENTENCES.get(name)
    if make is None:
        args = ", ".join(f"{k}={v}" for k, v in inputs.items())
        return f"The transaction reverted with {name}({args})."
    if phrasing is not None and phrasing is not PLAIN:
        try:
            return make(inputs, phrasing)
        except Exception:  # a read behind the phrasing failed: say it in base units rather than not at all
            pass
    return make(inputs, PLAIN)


class ContractError(GpuMarketError):
    """A condition a contract names with a custom error, in the sentence `SENTENCES` builds from the error's
    name and arguments. Raised by a pre-check before anything is sent (`sent` is False) and by the decoded
    revert of the same error (`sent` is True), so the two read the same."""

    def __init__(self, name: str, inputs: dict[str, Any] | None = None, phrasing: Phrasing | None = None, *,
                 sent: bool = False):
        self.name, self.inputs, self.sent = name, dict(inputs or {}), sent
        super().__init__(sentence_for(name, self.inputs, phrasing))
