// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A redemption batch and a request, as the model sees them.
struct BatchG {
    uint256 shares;
    uint256 payout;
    uint256 readyAt;
    bool finished;
}

struct RequestG {
    address owner;
    address receiver;
    uint256 shares;
    uint256 batch;
    bool claimed;
}

/// @title VaultStore
/// @notice An independent integer model of ProviderVault (tests/invariants/vault_model.py's VaultG and
/// its arithmetic, restated; the contract's VaultMath is never called): ERC-4626 shares with 10^6
/// virtual shares per unit, per-token income accumulators scaled by 10^36, the commission with its
/// notice, escrow and redemption batches. VaultHandler drives it (the GhostStore keeps the vault's stake
/// and every token the vault receives or pays: its income arrivals are the vault's modelled balance
/// changes); VaultInvariants read it.
contract VaultStore {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SCALE = 1e36;
    uint256 internal constant OFFSET = 1e6;

    address public immutable vault;
    address public immutable operator;
    address public immutable gpuc;

    // ── shares ──
    mapping(address account => uint256) public shares; // the vault itself: escrow
    uint256 public supply;
    uint256 public escrowed;

    // ── income ──
    address[] public tokens; // income tokens, in the order the vault met them
    mapping(address token => bool) public isToken;
    mapping(address token => uint256) public ips; // income per earning share × SCALE
    mapping(address account => mapping(address token => uint256)) public paid;
    mapping(address account => mapping(address token => uint256)) public owed;
    mapping(address token => uint256) public accounted; // distributed and not paid out (incl. dust)
    mapping(address token => uint256) public commission; // the operator's, not withdrawn
    mapping(address token => uint256) public received; // income received in all
    mapping(address token => uint256) public withdrawn; // income paid out in all
    uint256 public distributions;

    // ── commission ──
    uint256 public bps;
    uint256 public pendingBps;
    uint256 public pendingAt;
    bool public hasPending;

    // ── redemption ──
    uint256 public reserved; // GPUC owed to finished batches
    uint256 public queued = 1;
    uint256 public unbondingBatch;
    uint256 public nextRequest = 1;
    mapping(uint256 => BatchG) internal _batches;
    mapping(uint256 => RequestG) internal _requests;

    // ── V4 ──
    mapping(address account => mapping(address token => uint256)) public lastIncome;
    mapping(address account => mapping(address token => bool)) public withdrew;

    constructor(address vault_, address operator_, address gpuc_, uint256 bps_) {
        (vault, operator, gpuc, bps) = (vault_, operator_, gpuc_, bps_);
    }

    // ───────────── ERC-4626 with virtual shares ─────────────

    function sharesFor(uint256 assets, uint256 totalAssets) public view returns (uint256) {
        return assets * (supply + OFFSET) / (totalAssets + 1);
    }

    function assetsFor(uint256 shares_, uint256 totalAssets) public view returns (uint256) {
        return shares_ * (totalAssets + 1) / (supply + OFFSET);
    }

    // ───────────── income ─────────────

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    /// @notice The vault activated a rental paid in `token`: an income token from now on.
    function addToken(address token) external {
        if (!isToken[token]) {
            isToken[token] = true;
            tokens.push(token);
        }
    }

    /// @notice Shares what arrived in `token` since the last distribution; `balance` is what the vault
    /// holds of it (the model's: the GhostStore's record of what it received and paid).
    function distribute(address token, uint256 balance) public {
        uint256 held = balance - (token == gpuc ? reserved : 0);
        require(held >= accounted[token], "V2 vault: its income went down outside a withdrawal");
        uint256 got = held - accounted[token];
        if (got == 0) return;
        accounted[token] = held;
        received[token] += got;
        uint256 earning = supply - escrowed;
        uint256 toOperator = earning == 0 ? got : got * bps / BPS;
        commission[token] += toOperator;
        if (earning != 0) ips[token] += (got - toOperator) * SCALE / earning;
        ++distributions;
    }

    /// @notice A commission change that has come due applies (after the distribution of a harvest).
    function applyCommission(uint256 time) public {
        if (hasPending && time >= pendingAt) (bps, hasPending) = (pendingBps, false);
    }

    /// @notice The operator proposes `newBps` at `time`: a cut at once, a rise after `notice`.
    function propose(uint256 newBps, uint256 time, uint256 notice) external {
        (pendingBps, pendingAt, hasPending) = (newBps, newBps <= bps ? time : time + notice, true);
        applyCommission(time);
    }

    function settle(address account) public {
        for (uint256 i; i < tokens.length; ++i) {
            address t = tokens[i];
            uint256 p = paid[account][t];
            if (ips[t] == p) continue;
            paid[account][t] = ips[t];
            owed[account][t] += shares[account] * (ips[t] - p) / SCALE;
        }
    }

    /// @notice The vault's `_update` after its harvest: settle both sides (never the vault), move.
    function moveShares(address from, address to, uint256 amount) external {
        if (from != address(0) && from != vault) settle(from);
        if (to != address(0) && to != vault) settle(to);
        if (from == address(0)) supply += amount;
        else shares[from] -= amount;
        if (to == address(0)) supply -= amount;
        else shares[to] += amount;
    }

    /// @notice What `account` may withdraw of `token` now (the chain's incomeOf).
    function income(address account, address token) public view returns (uint256) {
        uint256 pending = shares[account] * (ips[token] - paid[account][token]) / SCALE;
        return owed[account][token] + (account == operator ? commission[token] : 0) + pending;
    }

    /// @notice `account` withdrew all its settled income in `token` (the commission too, for the operator).
    function withdraw(address account, address token) external returns (uint256 amount) {
        amount = owed[account][token] + (account == operator ? commission[token] : 0);
        owed[account][token] = 0;
        if (account == operator) commission[token] = 0;
        accounted[token] -= amount;
        withdrawn[token] += amount;
        withdrew[account][token] = true;
    }

    function seen(address account, address token, uint256 value) external {
        lastIncome[account][token] = value;
        withdrew[account][token] = false;
    }

    // ───────────── redemption ─────────────

    function batch(uint256 id) external view returns (BatchG memory) {
        return _batches[id];
    }

    function request(uint256 id) external view returns (RequestG memory) {
        return _requests[id];
    }

    function addRequest(address owner, address receiver, uint256 shares_) external returns (uint256 id) {
        id = nextRequest++;
        _requests[id] = RequestG(owner, receiver, shares_, queued, false);
        _batches[queued].shares += shares_;
        escrowed += shares_;
    }

    function startBatch(uint256 readyAt) external {
        _batches[queued].readyAt = readyAt;
        (unbondingBatch, queued) = (queued, queued + 1);
    }

    /// @notice Before the burn distributes: the withdrawn GPUC is principal, not income.
    function reserve(uint256 idle) external {
        reserved += idle;
    }

    /// @notice After the burn: the batch is paid `payout` out of `idle`, the rest goes back to the stake.
    function finishBatch(uint256 idle, uint256 payout) external {
        BatchG storage b = _batches[unbondingBatch];
        escrowed -= b.shares;
        reserved -= idle - payout;
        (b.payout, b.finished, unbondingBatch) = (payout, true, 0);
    }

    function claim(uint256 id) external returns (uint256 assets) {
        RequestG storage q = _requests[id];
        BatchG storage b = _batches[q.batch];
        assets = b.payout * q.shares / b.shares;
        q.claimed = true;
        reserved -= assets;
    }
}
