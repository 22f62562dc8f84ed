// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { isTerminal, CANCELLED, SETTLED, RESOLVED } from "../lib/Status.sol";

/// @notice A rental as the model sees it (tests/invariants/machine.py's RentalG).
struct RentalG {
    uint256 id;
    uint256 offerId;
    address provider; // the offer's provider (an EOA, or the vault)
    address token;
    address renter;
    address payer;
    address broker;
    uint256 brokerBps;
    uint256 gpus;
    uint256 hoursPaid;
    uint256 total; // what the stream pays in total
    uint256 deposit; // everything paid in (open + extensions)
    uint256 collateral;
    uint256 protocolBps;
    uint256 discountBps;
    uint256 deadline; // activation deadline
    uint8 status;
    uint256 claimed;
    uint256 started;
    uint256 ends;
    uint256 refunded;
    uint256 providerNet;
    uint256 protocolFee;
    uint256 brokerFee;
    uint256 lastAccrued;
    uint256 bond; // held by the market while Disputed
    uint256 timeoutAt; // the ruling's deadline, fixed at the dispute
}

/// @notice An offer as the model sees it (on-chain offers and signed offers' records alike).
struct OfferG {
    uint256 id;
    address provider;
    address token;
    uint256 price;
    uint256 offered;
    uint256 inUse;
    uint8 status; // 1 Active, 2 Paused, 3 Closed
    uint256 maxHours;
    uint256 maxBrokerBps;
    bool tiered;
}

/// @title GhostStore
/// @notice What the chain should hold, written by the handlers and read by the invariants (the Python
/// machine's `Ghost`): offers, rentals, fees, credits, stake, every account's balance change, the
/// market's configuration as set by the handlers, the time, and the calls and effective calls of every
/// handler function (an effective call is one that found a target and did something).
contract GhostStore {
    uint256 internal constant TERMINAL_MASK = (1 << CANCELLED) | (1 << SETTLED) | (1 << RESOLVED);

    // ── rentals and offers ──
    mapping(uint256 id => RentalG) internal _rentals;
    uint256[] public rentalIds;
    uint256[] public liveIds; // the rentals not in a terminal status (in no particular order)
    mapping(uint256 id => uint256) internal _liveAt; // 1 + its index in liveIds, 0 when terminal
    mapping(uint256 id => OfferG) internal _offers;
    uint256[] public offerIds;

    // ── what the last handler call touched (the invariants check these after every call; afterInvariant all) ──
    uint256 public touchedRental;
    uint256 public touchedOffer;
    address public touchedProvider;

    // ── money ──
    mapping(address token => uint256) public escrow; // Σ (total − claimed + bond) over rentals not terminal
    mapping(address token => uint256) public creditTotal; // Σ credits
    uint256 public stakedTotal; // Σ staked over every provider
    mapping(address token => uint256) public protocolFees;
    mapping(address account => mapping(address token => uint256)) public credits;
    mapping(address account => mapping(address token => int256)) public moved; // balance change since setUp
    address[] public accounts; // every account whose balances the ghost follows
    mapping(address => bool) public followed;

    // ── stake (ProviderRegistry) ──
    mapping(address provider => uint256) public staked;
    mapping(address provider => uint256) public locked;
    mapping(address provider => uint256) public unbonding;
    mapping(address provider => uint256) public readyAt;
    mapping(address provider => uint256) public slashed;
    address[] public stakers; // every provider whose stake the ghost follows

    // ── configuration and time ──
    bool public paused;
    uint256 public protocolBps = 100;
    uint256 public stakePerGpu = 100 ether;
    uint256 public activationWindow = 1 hours;
    uint256 public disputeWindow = 1 days;
    uint256 public noShowBps = 1000;
    uint256 public arbitrationTimeout = 7 days;
    uint256 public slashTreasuryBps = 2000;
    uint256 public minStake = 1000 ether;
    uint256 public unbondingPeriod = 7 days;
    uint256 public currentTime;

    // ── counters ──
    string[] public handlerNames;
    mapping(bytes32 => uint256) public calls;
    mapping(bytes32 => uint256) public effective;
    mapping(bytes32 => bool) internal _named;
    mapping(address => bool) internal _isStaker;

    constructor(uint256 startTime) {
        currentTime = startTime;
    }

    // ───────────── rentals ─────────────

    function rentalCount() external view returns (uint256) {
        return rentalIds.length;
    }

    /// @notice The rentals not in a terminal status: all that hold escrow, GPUs or collateral, and all a
    /// handler can act on but for the invalid calls on terminal ones (the per-call checks and the
    /// handlers' searches read these; afterInvariant reads every rental).
    function liveRentals() external view returns (uint256) {
        return liveIds.length;
    }

    function rental(uint256 id) external view returns (RentalG memory) {
        return _rentals[id];
    }

    /// @notice The `n`-th rental (mod the count) among those in one of `statuses` (a bit per status), or
    /// one with id 0 when none is.
    function pickRental(uint256 n, uint256 statusMask) external view returns (RentalG memory r) {
        uint256[] storage ids = statusMask & TERMINAL_MASK == 0 ? liveIds : rentalIds;
        uint256 k = ids.length;
        uint256 matching;
        for (uint256 i; i < k; ++i) {
            if (statusMask & (1 << _rentals[ids[i]].status) != 0) ++matching;
        }
        if (matching == 0) return r;
        uint256 want = n % matching;
        for (uint256 i; i < k; ++i) {
            RentalG storage s = _rentals[ids[i]];
            if (statusMask & (1 << s.status) != 0) {
                if (want == 0) return s;
                --want;
            }
        }
    }

    /// @notice Records a new rental (`isNew`) or a rental's new state; keeps the escrow per token and the
    /// touched rental, offer and provider.
    function saveRental(RentalG memory r, bool isNew) external {
        require(r.id != 0 && (_rentals[r.id].id == r.id) != isNew, "ghost: rental id taken or unknown");
        if (isNew) rentalIds.push(r.id);
        else escrow[r.token] -= _escrowOf(_rentals[r.id]);
        escrow[r.token] += _escrowOf(r);
        bool wasLive = !isNew && !isTerminal(_rentals[r.id].status);
        if (wasLive && isTerminal(r.status)) {
            uint256 at = _liveAt[r.id] - 1;
            uint256 last = liveIds[liveIds.length - 1];
            (liveIds[at], _liveAt[last]) = (last, at + 1);
            liveIds.pop();
            delete _liveAt[r.id];
        } else if (!wasLive && !isTerminal(r.status)) {
            liveIds.push(r.id);
            _liveAt[r.id] = liveIds.length;
        }
        _rentals[r.id] = r;
        (touchedRental, touchedOffer, touchedProvider) = (r.id, r.offerId, r.provider);
    }

    function _escrowOf(RentalG memory r) internal pure returns (uint256) {
        return isTerminal(r.status) ? 0 : r.total - r.claimed + r.bond;
    }

    /// @notice A new handler call: nothing touched yet.
    function beginCall() external {
        (touchedRental, touchedOffer, touchedProvider) = (0, 0, address(0));
    }

    // ───────────── offers ─────────────

    function offerCount() external view returns (uint256) {
        return offerIds.length;
    }

    function offer(uint256 id) external view returns (OfferG memory) {
        return _offers[id];
    }

    function offerAt(uint256 n) external view returns (OfferG memory) {
        return _offers[offerIds[n % offerIds.length]];
    }

    /// @notice Records a new offer (`isNew`) or an offer's new terms.
    function saveOffer(OfferG memory o, bool isNew) external {
        require(o.id != 0 && (_offers[o.id].id == o.id) != isNew, "ghost: offer id taken or unknown");
        if (isNew) offerIds.push(o.id);
        _offers[o.id] = o;
        (touchedOffer, touchedProvider) = (o.id, o.provider);
    }

    function addInUse(uint256 offerId, int256 gpus) external {
        _offers[offerId].inUse = uint256(int256(_offers[offerId].inUse) + gpus);
        touchedOffer = offerId;
    }

    // ───────────── money ─────────────

    function follow(address account) public {
        if (!followed[account]) {
            followed[account] = true;
            accounts.push(account);
        }
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    /// @notice `amount` of `token` arrived at (> 0) or left (< 0) `account`.
    function move(address account, address token, int256 amount) external {
        follow(account);
        moved[account][token] += amount;
    }

    function addProtocolFee(address token, uint256 amount) external {
        protocolFees[token] += amount;
    }

    function clearProtocolFees(address token) external {
        protocolFees[token] = 0;
    }

    function addCredit(address account, address token, uint256 amount) external {
        follow(account);
        credits[account][token] += amount;
        creditTotal[token] += amount;
    }

    function clearCredits(address account, address token) external {
        creditTotal[token] -= credits[account][token];
        credits[account][token] = 0;
    }

    // ───────────── stake ─────────────

    function setStake(address p, uint256 staked_, uint256 locked_, uint256 unbonding_) external {
        if (!_isStaker[p]) {
            _isStaker[p] = true;
            stakers.push(p);
        }
        stakedTotal = stakedTotal - staked[p] + staked_;
        touchedProvider = p;
        staked[p] = staked_;
        locked[p] = locked_;
        unbonding[p] = unbonding_;
    }

    function stakerCount() external view returns (uint256) {
        return stakers.length;
    }

    function setReadyAt(address p, uint256 t) external {
        readyAt[p] = t;
    }

    function addSlashed(address p, uint256 amount) external {
        slashed[p] += amount;
    }

    /// @notice Stake not locked and not unbonding.
    function freeStake(address p) external view returns (uint256) {
        return staked[p] - locked[p] - unbonding[p];
    }

    /// @notice Bonded (staked, less unbonding) ≥ the registry's minimum.
    function activeProvider(address p) external view returns (bool) {
        return staked[p] - unbonding[p] >= minStake;
    }

    // ───────────── configuration and time ─────────────

    function setPaused(bool p) external {
        paused = p;
    }

    function setConfig(bytes32 key, uint256 value) external {
        if (key == "protocolBps") protocolBps = value;
        else if (key == "stakePerGpu") stakePerGpu = value;
        else if (key == "disputeWindow") disputeWindow = value;
        else if (key == "noShowBps") noShowBps = value;
        else if (key == "arbitrationTimeout") arbitrationTimeout = value;
        else revert("ghost: unknown config key");
    }

    function setTime(uint256 t) external {
        require(t >= currentTime, "ghost: time goes forward");
        currentTime = t;
    }

    // ───────────── counters ─────────────

    /// @notice One call of handler function `name`; `didSomething` when it found a target and acted.
    function count(string memory name, bool didSomething) external {
        bytes32 key = keccak256(bytes(name));
        if (!_named[key]) {
            _named[key] = true;
            handlerNames.push(name);
        }
        ++calls[key];
        if (didSomething) ++effective[key];
    }

    function handlerCount() external view returns (uint256) {
        return handlerNames.length;
    }

    // ── events: what a call did besides its own label (a fill at the floor, a slash of the vault…) ──
    string[] public eventNames;
    mapping(bytes32 => uint256) public events;

    /// @notice Something worth counting happened within a call (not a call: the calls and effective
    /// calls stay one per handler call).
    function note(string memory name) external {
        bytes32 key = keccak256(bytes(name));
        if (events[key]++ == 0) eventNames.push(name);
    }

    function eventCount() external view returns (uint256) {
        return eventNames.length;
    }
}
