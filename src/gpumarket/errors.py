"""Typed client errors, each one plain sentence, and the decoding of on-chain custom errors into the
same sentences.

The client checks what it can before it sends anything (see `client.py`); the sentences below are the
fallback for what only the chain knows (a race with another transaction, a parameter changed since the
check). Every custom error of ComputeMarket and ProviderRegistry has a sentence; a test checks that the
table covers the ABIs.
"""

from __future__ import annotations

OFFER_STATUS = ("none", "active", "paused", "closed")
RENTAL_STATUS = ("none", "pending", "active", "ended", "cancelled", "settled", "disputed", "resolved")


class GpuMarketError(Exception):
    """A problem the user can fix, stated in one sentence. The CLI prints it and exits 1."""

    exit_code = 1

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


class InputError(GpuMarketError):
    """Malformed or out-of-range input (an amount, an address, an hour count)."""


class NotFoundError(GpuMarketError):
    """An offer, rental, token or deployment that does not exist."""


class WrongStateError(GpuMarketError):
    """The offer or rental is not in a state that allows the action."""


class WrongRoleError(GpuMarketError):
    """The account is not the one allowed to do this."""


class InsufficientError(GpuMarketError):
    """Not enough balance, stake, capacity or allowance."""


class NetworkError(GpuMarketError):
    """Unknown network, unreachable node, or a deployment written for another chain."""


class RevertedError(GpuMarketError):
    """The chain refused the transaction; the sentence is the decoded custom error."""


def _rs(value) -> str:
    return RENTAL_STATUS[int(value)] if int(value) < len(RENTAL_STATUS) else str(value)


def _os(value) -> str:
    return OFFER_STATUS[int(value)] if int(value) < len(OFFER_STATUS) else str(value)


#: Custom error name -> sentence built from its inputs (raw base units; the client's own checks
#: phrase amounts in token units before a transaction is ever sent).
SENTENCES = {
    # ComputeMarket
    "MarketZeroAddress": lambda a: "An address given is the zero address.",
    "MarketParameterOutOfBounds": lambda a: f"{a['value']} is outside the allowed range [{a['min']}, {a['max']}].",
    "MarketTokenNotAllowed": lambda a: f"Token {a['token']} is not an allowed payment token.",
    "MarketTokenDeliveredLess": lambda a: (
        f"Token {a['token']} delivered {a['received']} instead of {a['expected']}; fee-on-transfer tokens are refused."
    ),
    "MarketInvalidLabel": lambda a: f"A label is {a['length']} bytes long; GPU model and region take 1 to 32 bytes.",
    "MarketInvalidPrice": lambda a: "The price per GPU-hour must be above zero.",
    "MarketInvalidGpuCount": lambda a: f"{a['gpus']} is not a valid GPU count.",
    "MarketInvalidHourBounds": lambda a: (
        f"Hour bounds {a['minHours']}..{a['maxHours']} are invalid (1 <= min <= max <= 8760)."
    ),
    "MarketBrokerBpsAboveMax": lambda a: (
        f"The broker fee of {a['brokerBps']} bps is above the offer's maximum of {a['maxBrokerBps']} bps."
    ),
    "MarketInvalidBroker": lambda a: "A broker fee needs a broker address, and a broker address needs a fee.",
    "MarketProviderNotActive": lambda a: f"Provider {a['provider']} is not active (bonded stake below the minimum).",
    "MarketOfferNotFound": lambda a: f"Offer #{a['offerId']} does not exist.",
    "MarketOfferNotActive": lambda a: f"Offer #{a['offerId']} is {_os(a['status'])}, not active.",
    "MarketOfferNotPaused": lambda a: f"Offer #{a['offerId']} is {_os(a['status'])}, not paused.",
    "MarketRenounceDisabled": lambda a: "Renouncing ownership is disabled.",
    "FailedCall": lambda a: "A call in the batch failed without a reason.",
    "AddressEmptyCode": lambda a: f"{a['target']} has no code.",
    "MarketModuleCalledDirectly": lambda a: f"{a['module']} is a market module: call the market, not the module.",
    "MarketInvalidModule": lambda a: f"{a['module']} is not a market module deployed for this registry.",
    "MarketOfferClosed": lambda a: f"Offer #{a['offerId']} is closed.",
    "MarketNotOfferProvider": lambda a: f"{a['caller']} is not the provider of offer #{a['offerId']}.",
    "MarketGpusOfferedBelowInUse": lambda a: (
        f"Offer #{a['offerId']} has {a['gpusInUse']} GPUs in use; it cannot offer only {a['gpusOffered']}."
    ),
    "MarketOfferReserved": lambda a: f"Offer #{a['offerId']} is reserved for {a['reservedFor']}.",
    "MarketSelfRental": lambda a: f"Provider {a['provider']} cannot rent its own offer #{a['offerId']}.",
    "MarketInsufficientCapacity": lambda a: (
        f"Offer #{a['offerId']} has {a['available']} GPUs free; {a['requested']} were asked for."
    ),
    "MarketInvalidHours": lambda a: (
        f"{a['hoursRequested']} hours is outside the offer's range of {a['minHours']} to {a['maxHours']} hours."
    ),
    "MarketPriceAboveMax": lambda a: (
        f"Offer #{a['offerId']} now costs {a['price']} per GPU-hour (base units), above your maximum of {a['maxPrice']}."
    ),
    "MarketRentalNotPending": lambda a: f"Rental #{a['rentalId']} is {_rs(a['status'])}, not pending.",
    "MarketRentalNotActive": lambda a: f"Rental #{a['rentalId']} is {_rs(a['status'])}, not active.",
    "MarketRentalNotClaimable": lambda a: f"Rental #{a['rentalId']} is {_rs(a['status'])}; nothing can be claimed.",
    "MarketRentalEnded": lambda a: f"Rental #{a['rentalId']} already ended (at {a['endsAt']}).",
    "MarketRentalNotReleasable": lambda a: (
        f"Rental #{a['rentalId']} is {_rs(a['status'])} and cannot be released before {a['releasableAt']}."
    ),
    "MarketNotRenter": lambda a: f"{a['caller']} is not the renter of rental #{a['rentalId']}.",
    "MarketNotProvider": lambda a: f"{a['caller']} is not the provider of rental #{a['rentalId']}.",
    "MarketActivationExpired": lambda a: (
        f"Rental #{a['rentalId']} can no longer be activated (deadline {a['activationDeadline']})."
    ),
    "MarketNothingToClaim": lambda a: f"Rental #{a['rentalId']} has nothing to claim yet.",
    "MarketExtensionNotSelfFunded": lambda a: (
        f"Rental #{a['rentalId']} was paid by {a['payer']}; only self-funded rentals can be extended."
    ),
    "MarketNoFees": lambda a: f"{a['account']} has nothing to withdraw in token {a['token']}.",
    "MarketNotArbiter": lambda a: f"{a['caller']} is not the arbiter.",
    "MarketRentalNotDisputable": lambda a: f"Rental #{a['rentalId']} is {_rs(a['status'])} and cannot be disputed.",
    "MarketDisputeWindowClosed": lambda a: f"The dispute window of rental #{a['rentalId']} closed at {a['closedAt']}.",
    "MarketRentalNotDisputed": lambda a: f"Rental #{a['rentalId']} is {_rs(a['status'])}, not disputed.",
    "MarketInvalidShare": lambda a: f"A provider share of {a['providerShareBps']} bps is above 10000 bps.",
    "MarketSlashAboveCollateral": lambda a: (
        f"A slash of {a['slashAmount']} is above rental #{a['rentalId']}'s collateral of {a['collateral']}."
    ),
    "MarketArbitrationTimedOut": lambda a: (
        f"The arbitration of rental #{a['rentalId']} timed out at {a['timeoutAt']}; apply the default ruling."
    ),
    "MarketArbitrationPending": lambda a: (
        f"The arbiter can still rule on rental #{a['rentalId']} until {a['timeoutAt']}."
    ),
    # ProviderRegistry
    "RegistryAlreadyRegistered": lambda a: f"{a['provider']} is already registered.",
    "RegistryNotRegistered": lambda a: f"{a['provider']} is not a registered provider.",
    "RegistryInvalidMetadata": lambda a: f"Metadata of {a['length']} bytes is invalid (1 to 512 bytes).",
    "RegistryZeroAmount": lambda a: "The amount must be above zero.",
    "RegistryInsufficientFreeStake": lambda a: (
        f"Provider {a['provider']} has {a['free']} free stake; {a['needed']} is needed (GPUC base units)."
    ),
    "RegistryNothingUnbonding": lambda a: f"{a['provider']} has nothing unbonding.",
    "RegistryUnbondingNotReady": lambda a: f"The unbonding stake of {a['provider']} is ready at {a['readyAt']}.",
    "RegistryInsufficientLocked": lambda a: f"{a['provider']} has only {a['locked']} locked; {a['needed']} needed.",
    "RegistryProviderNotActive": lambda a: (
        f"Provider {a['provider']} has {a['bonded']} bonded, below the minimum stake of {a['minStake']}."
    ),
    "RegistrySlashMismatch": lambda a: f"Slash amounts add up to {a['sumOfAmounts']}, not {a['amount']}.",
    "RegistryInvalidRecipient": lambda a: f"Slash recipient #{a['index']} is invalid.",
    "RegistrySlashLengthMismatch": lambda a: f"{a['recipients']} slash recipients but {a['amounts']} amounts.",
    "RegistryCallerNotMarket": lambda a: f"{a['caller']} is not the market.",
    "RegistryMarketAlreadySet": lambda a: f"The registry's market is already set to {a['market']}.",
    "RegistryZeroAddress": lambda a: "An address given is the zero address.",
    "RegistryRenounceDisabled": lambda a: "Renouncing ownership is disabled.",
    "RegistryParameterOutOfBounds": lambda a: f"{a['value']} is outside the allowed range [{a['min']}, {a['max']}].",
    # OpenZeppelin errors a user can hit through the CLI
    "OwnableUnauthorizedAccount": lambda a: f"{a['account']} is not the owner.",
    "EnforcedPause": lambda a: "The market is paused.",
    "ExpectedPause": lambda a: "The market is not paused.",
    "ERC20InsufficientBalance": lambda a: f"{a['sender']} holds {a['balance']} of the token; {a['needed']} is needed.",
    "ERC20InsufficientAllowance": lambda a: f"The allowance is {a['allowance']}; {a['needed']} is needed.",
    "SafeERC20FailedOperation": lambda a: f"Token {a['token']} refused the transfer.",
    "OwnableInvalidOwner": lambda a: f"{a['owner']} cannot be the owner.",
    "ReentrancyGuardReentrantCall": lambda a: "A contract tried to re-enter the market during a call; refused.",
    "SafeCastOverflowedUintDowncast": lambda a: f"{a['value']} does not fit in {a['bits']} bits.",
    "MarketInvalidTiers": lambda a: (
        f"Discount tier #{a['index']} is invalid: tiers grow in GPU-hours and discount, at most 4, at most 50 %."
    ),
}


def sentence_for(name: str, inputs: dict) -> str:
    """The sentence for a decoded custom error (or a generic one naming it)."""
    make = SENTENCES.get(name)
    if make is None:
        args = ", ".join(f"{k}={v}" for k, v in inputs.items())
        return f"The transaction reverted with {name}({args})."
    return make(inputs)


def from_exception(err: Exception) -> GpuMarketError:
    """Turns an ape revert (custom error, revert string or out-of-gas) into a one-sentence error."""
    from ape.exceptions import ContractLogicError, CustomError, OutOfGasError

    if isinstance(err, CustomError):
        return RevertedError(sentence_for(err.abi.name, dict(err.inputs)))
    if isinstance(err, OutOfGasError):
        return RevertedError("The transaction ran out of gas.")
    if isinstance(err, ContractLogicError):
        msg = (err.revert_message or "").strip() or "no reason given"
        return RevertedError(f"The transaction reverted: {msg.splitlines()[0]}.")
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return GpuMarketError(f"The node refused the request: {first}")
