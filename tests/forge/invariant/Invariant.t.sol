// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "gpumarket/interfaces/IProviderRegistry.sol";
import { Offer } from "gpumarket/types/Offer.sol";
import { Rental } from "gpumarket/types/Rental.sol";
import { Base_Test } from "./Base.t.sol";
import { BadCallHandler } from "./handlers/BadCallHandler.sol";
import { MarketHandler } from "./handlers/MarketHandler.sol";
import { PENDING, ACTIVE, CANCELLED, DISPUTED, RESOLVED, isTerminal } from "./lib/Status.sol";
import { RentalModel as M } from "./lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "./stores/GhostStore.sol";
import { IMarketConfig } from "./System.sol";
import { SignedInvariants } from "./SignedInvariants.sol";
import { VaultInvariants } from "./VaultInvariants.sol";

/// @title Invariant_Test
/// @notice The settlement invariants of tests/invariants/README.md (1–8 market, V1–V5 vault, 9–10 signed
/// offers and clusters), one `invariant_*` function each. forge 1.7.1 runs one campaign per invariant
/// function and asserts only that function after each call, so `make invariants-forge` runs
/// `invariant_all`, which asserts every one of them after every call in one campaign (README.md).
/// Per call the checks read the rental, offer and provider the call touched (as the Python machine does);
/// `afterInvariant` sweeps every rental, offer, provider and balance at the end of each run.
/// A handler is added by one line in setUp: `_handler(address(new XHandler(store, sys)))`.
contract Invariant_Test is Base_Test, SignedInvariants, VaultInvariants {
    GhostStore internal store;
    address[] internal handlers;
    mapping(address account => mapping(address token => uint256)) internal baseBalance;

    function setUp() public override {
        super.setUp();
        store = new GhostStore(block.timestamp);
        _followEveryone();
        // ── the handlers: one line each ──
        _handler(address(new MarketHandler(store, sys)));
        _handler(address(new BadCallHandler(store, sys)));
        _handler(_newSignedHandler(store));
        _handler(_newVaultHandler(store));
    }

    function _handler(address h) internal {
        handlers.push(h);
        targetContract(h);
        excludeSender(h);
    }

    function _followEveryone() internal {
        address[4] memory roles = [sys.owner, sys.treasury, sys.arbiter, sys.stranger];
        for (uint256 i; i < 4; ++i) _follow(roles[i]);
        for (uint256 i; i < sys.providers.length; ++i) _follow(sys.providers[i]);
        for (uint256 i; i < sys.renters.length; ++i) _follow(sys.renters[i]);
        for (uint256 i; i < sys.payers.length; ++i) _follow(sys.payers[i]);
        for (uint256 i; i < sys.brokers.length; ++i) _follow(sys.brokers[i]);
        for (uint256 i; i < sys.investors.length; ++i) _follow(sys.investors[i]);
        _follow(sys.operator);
        _follow(address(sys.vault));
        _followStake(address(sys.vault));
        for (uint256 i; i < sys.providers.length; ++i) _followStake(sys.providers[i]);
    }

    function _follow(address a) internal {
        store.follow(a);
        baseBalance[a][address(sys.usd)] = sys.usd.balanceOf(a);
        baseBalance[a][address(sys.gpuc)] = sys.gpuc.balanceOf(a);
    }

    /// @notice The stake the setup left (30,000 GPUC per provider, the investors' deposits in the vault).
    function _followStake(address p) internal {
        IProviderRegistry.Provider memory s = sys.registry.providerOf(p);
        store.setStake(p, s.staked, s.locked, s.unbonding);
    }

    function _tokens() internal view returns (address[2] memory) {
        return [address(sys.usd), address(sys.gpuc)];
    }

    /// @notice The chain's clock at the store's time (the last handler call's).
    modifier atStoreTime() {
        vm.warp(store.currentTime());
        _;
    }

    // ───────────────────────────── all in one campaign ─────────────────────────────

    function invariant_all() external {
        invariant_inv1_solvency();
        invariant_inv2_conservation();
        invariant_inv3_accrual();
        invariant_inv4_status();
        invariant_inv5_stake();
        invariant_inv6_capacity();
        invariant_inv7_pause();
        invariant_inv8_access();
        invariant_signed_all();
        invariant_vault_all();
    }

    // ───────────────────────────── 1. solvency ─────────────────────────────

    /// @notice 1. Per token the market holds exactly Σ(total − claimed) over open rentals + the bonds of
    /// Disputed rentals + protocol fees + credits; the fees and the brokers' credits it books are the model's.
    function invariant_inv1_solvency() public atStoreTime {
        address[2] memory tokens = _tokens();
        for (uint256 k; k < 2; ++k) {
            address t = tokens[k];
            uint256 owed = store.escrow(t) + store.protocolFees(t) + store.creditTotal(t);
            assertEq(IERC20(t).balanceOf(address(sys.market)), owed, "inv1 solvency: market balance = escrow + bonds + fees + credits");
            assertEq(sys.market.protocolFees(t), store.protocolFees(t), "inv1 solvency: protocol fees booked = model");
            for (uint256 b; b < sys.brokers.length; ++b) {
                assertEq(sys.market.credits(sys.brokers[b], t), store.credits(sys.brokers[b], t), "inv1 solvency: credits = model");
            }
        }
    }

    // ───────────────────────────── 2–4. the rental a call touched ─────────────────────────────

    /// @notice 2. Per-rental conservation: provider net + fees + refund ≤ deposit, = once closed; the chain
    /// bills what the model bills (a dispute is never a cheaper exit than a stop).
    function invariant_inv2_conservation() public atStoreTime {
        uint256 id = store.touchedRental();
        if (id != 0) _conservation(store.rental(id));
    }

    /// @notice 3. Accrual: claimed ≤ accrued ≤ total ≤ deposit, accruedOf = the model (0 before activation),
    /// refundableOf = what a stop or cancel refunds now, a dispute's frozen escrow and bond = the model's.
    function invariant_inv3_accrual() public atStoreTime {
        uint256 id = store.touchedRental();
        if (id != 0) _accrual(store.rental(id));
    }

    /// @notice 4. Statuses: the chain's status is the model's (the model moves only along the allowed
    /// transitions, and terminal statuses absorb: BadCallHandler's calls on them revert).
    function invariant_inv4_status() public atStoreTime {
        uint256 id = store.touchedRental();
        if (id != 0) _status(store.rental(id));
    }

    function _conservation(RentalG memory r) internal view {
        Rental.Record memory c = sys.market.getRental(r.id);
        assertEq(c.total, r.total, "inv2 conservation: the rental's billed total = model");
        uint256 paidOut = r.providerNet + r.protocolFee + r.brokerFee + r.refunded;
        assertLe(paidOut, r.deposit, "inv2 conservation: paid out <= deposit");
        if (isTerminal(r.status)) assertEq(paidOut, r.deposit, "inv2 conservation: a closed rental paid out its deposit");
    }

    function _accrual(RentalG memory r) internal view {
        Rental.Record memory c = sys.market.getRental(r.id);
        assertEq(c.claimed, r.claimed, "inv3 accrual: claimed = model");
        assertLe(c.claimed, c.total, "inv3 accrual: claimed <= total");
        uint256 accrued = sys.market.accruedOf(r.id);
        if (r.status == PENDING || r.status == CANCELLED) {
            assertEq(accrued, 0, "inv3 accrual: nothing accrues before activation");
        } else {
            assertLe(c.claimed, accrued, "inv3 accrual: claimed <= accrued");
            assertLe(accrued, c.total, "inv3 accrual: accrued <= total");
            assertLe(c.total, r.deposit, "inv3 accrual: total <= deposit");
            assertEq(accrued, M.accruedDown(r.total, r.started, r.ends, block.timestamp), "inv3 accrual: accruedOf = model");
        }
        uint256 expect;
        if (r.status == PENDING) expect = r.total;
        else if (r.status == ACTIVE && block.timestamp < r.ends) {
            expect = r.total - M.stopChargeUp(r.total, r.started, block.timestamp, r.hoursPaid, r.discountBps);
        }
        assertEq(sys.market.refundableOf(r.id), expect, "inv3 refundableOf: what a stop/cancel refunds now");
        if (r.status == DISPUTED) {
            (uint256 frozen, uint256 bond,,, uint256 timeoutAt) = sys.market.disputeOf(r.id);
            assertEq(frozen, r.total - r.claimed, "inv3 dispute: frozen = billed - claimed");
            assertEq(bond, r.bond, "inv3 dispute: bond = model");
            assertEq(timeoutAt, r.timeoutAt, "inv3 dispute: timeout = model");
        }
    }

    function _status(RentalG memory r) internal view {
        assertEq(uint8(sys.market.getRental(r.id).status), r.status, "inv4 status: chain = model");
    }

    // ───────────────────────────── 5. stake ─────────────────────────────

    /// @notice 5. Registry balance = Σ staked; for the provider a call touched: staked, locked, unbonding =
    /// model, locked + unbonding ≤ staked, locked = collateral of its rentals that hold it.
    function invariant_inv5_stake() public view {
        assertEq(sys.gpuc.balanceOf(address(sys.registry)), store.stakedTotal(), "inv5 stake: registry balance = sum staked");
        address p = store.touchedProvider();
        if (p != address(0)) _stake(p);
    }

    function _stake(address p) internal view {
        IProviderRegistry.Provider memory s = sys.registry.providerOf(p);
        assertEq(s.staked, store.staked(p), "inv5 stake: staked = model");
        assertEq(s.locked, store.locked(p), "inv5 stake: locked = model");
        assertEq(s.unbonding, store.unbonding(p), "inv5 stake: unbonding = model");
        assertLe(uint256(s.locked) + s.unbonding, s.staked, "inv5 stake: locked + unbonding <= staked");
        uint256 held;
        for (uint256 i; i < store.liveRentals(); ++i) { // the terminal ones hold no collateral
            RentalG memory r = store.rental(store.liveIds(i));
            if (r.provider == p && !isTerminal(r.status)) held += r.collateral;
        }
        assertEq(s.locked, held, "inv5 stake: locked = collateral of the rentals holding it");
    }

    // ───────────────────────────── 6. capacity ─────────────────────────────

    /// @notice 6. For the offer a call touched: GPUs in use = Σ GPUs of its Pending/Active rentals ≤ GPUs
    /// offered; its terms and status = model.
    function invariant_inv6_capacity() public view {
        uint256 id = store.touchedOffer();
        if (id != 0) _capacity(store.offer(id));
    }

    function _capacity(OfferG memory o) internal view {
        Offer.Record memory c = sys.market.getOffer(o.id);
        uint256 holding;
        for (uint256 i; i < store.liveRentals(); ++i) { // the terminal ones hold no GPUs
            RentalG memory r = store.rental(store.liveIds(i));
            if (r.offerId == o.id && (r.status == PENDING || r.status == ACTIVE)) holding += r.gpus;
        }
        assertEq(c.gpusInUse, holding, "inv6 capacity: in use = GPUs of its Pending/Active rentals");
        assertEq(c.gpusInUse, o.inUse, "inv6 capacity: in use = model");
        assertLe(c.gpusInUse, c.gpusOffered, "inv6 capacity: in use <= offered");
        assertEq(c.gpusOffered, o.offered, "inv6 offer: GPUs offered = model");
        assertEq(c.pricePerGpuHour, o.price, "inv6 offer: price = model");
        assertEq(uint8(c.status), o.status, "inv6 offer: status = model");
    }

    // ───────────────────────────── 7–8 ─────────────────────────────

    /// @notice 7. Pause never traps funds. The exits themselves are run under pause by
    /// MarketHandler.exitUnderPause (fail_on_revert: a revert there fails the run); here: the market's
    /// pause flag is the model's (no handler left it paused by accident).
    function invariant_inv7_pause() public view {
        assertEq(IMarketConfig(address(sys.market)).paused(), store.paused(), "inv7 pause: paused = model");
    }

    /// @notice 8. Access control. The bad calls (BadCallHandler) revert with the expected error and
    /// arguments; here: no call changed the owner, the treasury or the arbiter.
    function invariant_inv8_access() public view {
        IMarketConfig m = IMarketConfig(address(sys.market));
        assertEq(m.owner(), sys.owner, "inv8 access: owner unchanged");
        assertEq(m.treasury(), sys.treasury, "inv8 access: treasury unchanged");
        assertEq(m.arbiter(), sys.arbiter, "inv8 access: arbiter unchanged");
    }

    // ───────────────────────────── end of each run ─────────────────────────────

    /// @notice The full sweep (the Python machine's teardown): every rental (2–4), offer (6), provider (5)
    /// and every followed account's balance in both tokens (what the model moved, to the unit); then the
    /// calls and effective calls of every handler function, appended to $GPUMARKET_FORGE_COUNTS.
    function afterInvariant() external atStoreTime {
        for (uint256 i; i < store.rentalCount(); ++i) {
            RentalG memory r = store.rental(store.rentalIds(i));
            _conservation(r);
            _accrual(r);
            _status(r);
        }
        for (uint256 i; i < store.offerCount(); ++i) {
            _capacity(store.offer(store.offerIds(i)));
        }
        for (uint256 i; i < store.stakerCount(); ++i) {
            _stake(store.stakers(i));
        }
        address[2] memory tokens = _tokens();
        for (uint256 i; i < store.accountCount(); ++i) {
            address a = store.accounts(i);
            for (uint256 k; k < 2; ++k) {
                int256 got = int256(IERC20(tokens[k]).balanceOf(a)) - int256(baseBalance[a][tokens[k]]);
                assertEq(got, store.moved(a, tokens[k]), string.concat("inv2/5 payouts: balance change = model for ", vm.toString(a)));
            }
        }
        _writeCounts();
    }

    function _writeCounts() internal {
        string memory path = vm.envOr("GPUMARKET_FORGE_COUNTS", string(""));
        if (bytes(path).length == 0) return;
        for (uint256 i; i < store.handlerCount(); ++i) {
            string memory name = store.handlerNames(i);
            bytes32 key = keccak256(bytes(name));
            vm.writeLine(
                path,
                string.concat(name, " ", vm.toString(store.calls(key)), " ", vm.toString(store.effective(key)))
            );
        }
        for (uint256 i; i < store.eventCount(); ++i) {
            string memory name = store.eventNames(i);
            vm.writeLine(path, string.concat("event ", name, " ", vm.toString(store.events(keccak256(bytes(name))))));
        }
    }
}
