// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "gpumarket/interfaces/IComputeMarket.sol";
import { IProviderVault } from "gpumarket/interfaces/IProviderVault.sol";
import { Offer } from "gpumarket/types/Offer.sol";
import { PENDING, ACTIVE, ENDED } from "../lib/Status.sol";
import { RentalModel as M } from "../lib/RentalModel.sol";
import { GhostStore, RentalG, OfferG } from "../stores/GhostStore.sol";
import { VaultStore, BatchG, RequestG } from "../stores/VaultStore.sol";
import { Sys } from "../System.sol";
import { GhostBridge } from "./GhostBridge.sol";

/// @title VaultHandler
/// @notice The investor-backed provider (tests/invariants/vault_model.py's rules): investors deposit,
/// transfer shares, harvest, withdraw income; the operator lists the vault's GPUs (two offers through
/// `callMarket`, which MarketHandler rents like any other), activates its rentals through the vault and
/// changes the commission; redemptions go request → batch start → finish → claim. Every amount is
/// predicted by VaultStore's model before the call's result is compared with it.
///
/// Income arrivals: whatever the market pays the vault (MarketHandler's claims, the vault's own harvest
/// claims modelled here) is recorded in the GhostStore as the vault's balance change (`store.move`), so
/// the model's view of the vault's balance in a token is its balance at the start plus `store.moved`;
/// a distribution shares whatever that holds beyond what is accounted.
contract VaultHandler is GhostBridge {
    uint256 internal constant WEEK = 7 days;
    uint256 internal constant GPUC_UNIT = 1e18;

    VaultStore public immutable vstore;
    IProviderVault internal immutable vault;
    mapping(address token => uint256) public baseBalance; // the vault's balance at the start

    constructor(GhostStore store_, VaultStore vstore_, Sys memory sys_, uint256[3] memory deposits)
        GhostBridge(store_, sys_)
    {
        vstore = vstore_;
        vault = sys.vault;
        (baseBalance[address(sys.usd)], baseBalance[address(sys.gpuc)]) =
            (sys.usd.balanceOf(address(vault)), sys.gpuc.balanceOf(address(vault)));
        // The investors' deposits of the setup, modelled one after the other (V3 from the first call).
        uint256 assets;
        for (uint256 i; i < 3; ++i) {
            uint256 minted = vstore.sharesFor(deposits[i], assets);
            vstore.moveShares(address(0), sys.investors[i], minted);
            assets += deposits[i];
        }
        // The vault's own offers (through its operator), rented by MarketHandler like any other.
        _list(address(sys.usd), 2_500_000);
        _list(address(sys.gpuc), 2_500_000 * 1e12);
    }

    function _list(address token, uint256 price) internal {
        Offer.Tier[] memory tiers = new Offer.Tier[](2);
        (tiers[0], tiers[1]) = (Offer.Tier(24, 250), Offer.Tier(96, 500));
        Offer.Params memory p = Offer.Params("H100-SXM-80GB", "AU-QLD", token, uint96(price), 8, 1, 200, address(0), 500, tiers);
        vm.prank(sys.operator);
        uint256 id = abi.decode(vault.callMarket(abi.encodeCall(IComputeMarket.createOffer, (p))), (uint256));
        store.saveOffer(OfferG(id, address(vault), token, price, 8, 0, 1, 200, 500, true), true);
    }

    // ───────────────────────────── the model's side of the vault's calls ─────────────────────────────

    function _totalAssets() internal view returns (uint256) {
        return store.staked(address(vault));
    }

    /// @notice What the model says the vault holds of `token`.
    function _held(address token) internal view returns (uint256) {
        return uint256(int256(baseBalance[token]) + store.moved(address(vault), token));
    }

    /// @notice The vault's `_harvest`: claim every running stream of the vault (the market's claim, as
    /// MarketHandler models it; claimMany skips the rest), distribute in every income token, then apply
    /// a commission change that came due.
    function _harvest() internal {
        for (uint256 i; i < store.liveRentals(); ++i) {
            RentalG memory r = store.rental(store.liveIds(i));
            if (r.provider != address(vault) || (r.status != ACTIVE && r.status != ENDED)) continue;
            uint256 accrued = M.accruedDown(r.total, r.started, r.ends, _now());
            if (accrued == r.claimed) continue;
            _claimModel(r, accrued);
            _saveRental(r, false);
        }
        for (uint256 i; i < vstore.tokenCount(); ++i) {
            address t = vstore.tokens(i);
            vstore.distribute(t, _held(t));
        }
        vstore.applyCommission(_now());
    }

    /// @notice The vault's `_update`: harvest, settle both sides, move the shares.
    function _moveShares(address from, address to, uint256 amount) internal {
        _harvest();
        vstore.moveShares(from, to, amount);
    }

    function _stake(int256 dStaked, int256 dUnbonding) internal {
        address v = address(vault);
        store.setStake(
            v,
            uint256(int256(store.staked(v)) + dStaked),
            store.locked(v),
            uint256(int256(store.unbonding(v)) + dUnbonding)
        );
    }

    // ───────────────────────────── investors ─────────────────────────────

    /// @notice An investor deposits GPUC; it is staked at once.
    function deposit(uint256 seed) external synced {
        _draw = _mix(seed);
        address who = sys.investors[_d(3)];
        uint256 amount = (_d(3000) + 1) * GPUC_UNIT / (1 + _d(3));
        uint256 shares = vstore.sharesFor(amount, _totalAssets());
        if (shares == 0) return store.count("vault.deposit", false);
        vm.prank(who);
        assertEq(vault.deposit(amount, who), shares, "vault deposit: shares minted = model");
        store.move(who, address(sys.gpuc), -int256(amount));
        _stake(int256(amount), 0);
        _moveShares(address(0), who, shares);
        store.count("vault.deposit", true);
    }

    /// @notice Shares change hands between investors; income follows the share that earned it.
    function transferShares(uint256 seed) external synced {
        _draw = _mix(seed);
        uint256 i = _d(3);
        (address from, address to) = (sys.investors[i], sys.investors[(i + 1 + _d(2)) % 3]);
        uint256 amount = vstore.shares(from) * (_d(100) + 1) / 100;
        if (amount == 0) return store.count("vault.transfer", false);
        vm.prank(from);
        assertTrue(vault.transfer(to, amount), "vault transfer");
        _moveShares(from, to, amount);
        store.count("vault.transfer", true);
    }

    /// @notice Anyone claims the vault's streams and distributes what arrived.
    function harvest(uint256 seed) external synced {
        _mix(seed);
        vm.prank(sys.stranger);
        vault.harvest();
        _harvest();
        store.count("vault.harvest", true);
    }

    /// @notice An investor or the operator withdraws its income in one token (all of it); with nothing
    /// owed the call must revert VaultNoIncome (its own harvest rolls back with it, so the vault is
    /// harvested first, as the model does).
    function withdrawIncome(uint256 seed) external synced {
        _draw = _mix(seed);
        // No income token yet (no rental of the vault was ever activated): one is activated first.
        if (vstore.tokenCount() == 0 && !_activateOne(_draw)) return store.count("vault.withdrawIncome", false);
        uint256 k = vstore.tokenCount();
        address who = _d(4) == 3 ? sys.operator : sys.investors[_d(3)];
        address token = vstore.tokens(_d(k));
        _harvest();
        // Nothing owed: the call reverts, its settlement with it, so the model does not settle `who` (a
        // settlement moves the account's paid-per-share mark and drops the remainder below a unit).
        if (vstore.income(who, token) == 0) {
            vm.prank(sys.stranger);
            vault.harvest();
            vm.expectRevert(abi.encodeWithSelector(IProviderVault.VaultNoIncome.selector, who, token));
            vm.prank(who);
            vault.withdrawIncome(token);
            return store.count("vault.withdrawIncome: nothing owed", true);
        }
        vstore.settle(who);
        uint256 owed = vstore.withdraw(who, token);
        vm.prank(who);
        assertEq(vault.withdrawIncome(token), owed, "vault withdrawIncome: paid = model");
        store.move(address(vault), token, -int256(owed));
        store.move(who, token, int256(owed));
        store.count("vault.withdrawIncome", true);
    }

    // ───────────────────────────── the operator ─────────────────────────────

    /// @notice The operator proposes a commission: a cut at once, a rise after twice the unbonding period.
    function proposeCommission(uint256 seed) external synced {
        uint256 bps = _mix(seed) % 5001;
        _harvest();
        vm.prank(sys.operator);
        vault.proposeCommission(bps);
        vstore.propose(bps, _now(), 2 * store.unbondingPeriod());
        store.count(bps > vstore.bps() ? "vault.proposeCommission: a rise" : "vault.proposeCommission", true);
    }

    /// @notice The operator activates one of the vault's Pending rentals through the vault (a renter
    /// rents one of the vault's offers first when none is Pending).
    function activate(uint256 seed) external synced {
        store.count("vault.activate", _activateOne(_mix(seed)));
    }

    function _activateOne(uint256 n) internal returns (bool) {
        RentalG memory r = _pendingOfVault(n);
        if (r.id == 0) return false;
        vm.prank(sys.operator);
        vault.activate(r.id);
        (r.status, r.started, r.ends) = (ACTIVE, _now(), _now() + r.hoursPaid * HOUR);
        _saveRental(r, false);
        vstore.addToken(r.token);
        return true;
    }

    function _pendingOfVault(uint256 n) internal returns (RentalG memory r) {
        uint256 k = store.liveRentals();
        for (uint256 i; i < k; ++i) {
            RentalG memory c = store.rental(store.liveIds((n + i) % k));
            if (c.provider == address(vault) && c.status == PENDING && _now() <= c.deadline) return c;
        }
        // None: a renter rents one of the vault's two offers (after the pause, if any, is lifted, a rental
        // closed if MAX_LIVE are live, and a no-show of the vault's released if its offers are full).
        if (!_readyToOpen(n)) return r;
        _draw = n / 8;
        for (uint256 t; t < 2; ++t) {
            for (uint256 i; i < store.offerCount(); ++i) {
                OfferG memory o = store.offerAt(n + i);
                if (o.provider == address(vault) && o.status == 1 && _gpusFit(o) != 0) return _openOn(o, false);
            }
            if (t == 0 && !_releaseNoShow()) return r;
        }
    }

    /// @notice Anyone releases a Pending rental of the vault past its activation deadline (a no-show: its
    /// GPUs come back). Returns whether there was one.
    function _releaseNoShow() internal returns (bool) {
        for (uint256 i; i < store.liveRentals(); ++i) {
            RentalG memory c = store.rental(store.liveIds(i));
            if (c.provider == address(vault) && c.status == PENDING && _now() > c.deadline) {
                vm.prank(sys.stranger);
                sys.market.release(c.id);
                _cancelModel(c);
                return true;
            }
        }
        return false;
    }

    // ───────────────────────────── redemption ─────────────────────────────

    /// @notice The redemption flow, one step at a time: request; start the queued batch; finish the
    /// unbonding one (time moves to its ready second); claim a finished request. As in vault_model.py, a
    /// finish is likely as soon as a batch unbonds (income that arrived since must not be shared with its
    /// escrowed shares), a start as soon as one is queued.
    function redeem(uint256 seed) external synced {
        _draw = _mix(seed);
        uint8[5] memory steps;
        uint256 k = 1; // steps[0] = 0: a request
        if (vstore.unbondingBatch() != 0) (steps[k++], steps[k++]) = (2, 2);
        else if (vstore.batch(vstore.queued()).shares != 0) (steps[k++], steps[k++]) = (1, 1);
        if (_claimable(0) != 0) steps[k++] = 3;
        uint8 stepKind = steps[_d(k)];
        if (stepKind == 0) _request();
        else if (stepKind == 1) _startBatch();
        else if (stepKind == 2) _finishBatch();
        else _claimRedemption();
    }

    /// @notice The first request from `from` on (cyclically) that is claimable, or 0.
    function _claimable(uint256 from) internal view returns (uint256) {
        uint256 n = vstore.nextRequest();
        for (uint256 i; i < n; ++i) {
            uint256 id = (from + i) % n;
            RequestG memory q = vstore.request(id);
            if (id != 0 && !q.claimed && vstore.batch(q.batch).finished) return id;
        }
        return 0;
    }

    function _request() internal {
        address who = sys.investors[_d(3)];
        uint256 shares = vstore.shares(who) * (_d(100) + 1) / 100;
        if (shares == 0) return store.count("vault.requestRedeem", false);
        vm.prank(who);
        uint256 id = vault.requestRedeem(shares, who);
        assertEq(id, vstore.nextRequest(), "vault requestRedeem: request id = model");
        _moveShares(who, address(vault), shares);
        vstore.addRequest(who, who, shares);
        store.count("vault.requestRedeem", true);
    }

    function _startBatch() internal {
        BatchG memory b = vstore.batch(vstore.queued());
        if (b.shares == 0) return store.count("vault.startBatch", false);
        uint256 assets = vstore.assetsFor(b.shares, _totalAssets());
        uint256 free = store.freeStake(address(vault));
        if (assets > free) {
            vm.expectRevert(abi.encodeWithSelector(IProviderVault.VaultRedemptionWaitsForCollateral.selector, assets, free));
            vault.startBatch();
            return store.count("vault.startBatch: waits for collateral", true);
        }
        vault.startBatch();
        uint256 readyAt = _now() + (assets != 0 ? store.unbondingPeriod() : 0);
        if (assets != 0) {
            _stake(0, int256(assets));
            store.setReadyAt(address(vault), readyAt);
        }
        vstore.startBatch(readyAt);
        store.count("vault.startBatch", true);
    }

    function _finishBatch() internal {
        BatchG memory b = vstore.batch(vstore.unbondingBatch());
        _warpTo(b.readyAt);
        uint256 payout = vstore.assetsFor(b.shares, _totalAssets());
        uint256 idle = store.unbonding(address(vault));
        if (idle != 0) {
            _stake(-int256(idle), -int256(idle));
            store.move(address(vault), address(sys.gpuc), int256(idle));
        }
        if (payout > idle) payout = idle;
        vault.finishBatch();
        // The burn distributes first, while the batch's shares are still escrowed (they earn nothing) and
        // the withdrawn GPUC counts as principal; then the batch is paid and the rest is staked again.
        vstore.reserve(idle);
        _moveShares(address(vault), address(0), b.shares);
        vstore.finishBatch(idle, payout);
        if (idle > payout) {
            _stake(int256(idle - payout), 0);
            store.move(address(vault), address(sys.gpuc), -int256(idle - payout));
        }
        store.count("vault.finishBatch", true);
    }

    function _claimRedemption() internal {
        uint256 id = _claimable(_d(vstore.nextRequest()));
        RequestG memory q = vstore.request(id);
        uint256 assets = vstore.claim(id);
        assertEq(vault.claimRedemption(id), assets, "vault claimRedemption: paid = model");
        store.move(address(vault), address(sys.gpuc), -int256(assets));
        store.move(q.receiver, address(sys.gpuc), int256(assets));
        store.count("vault.claimRedemption", true);
    }
}
