// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "gpumarket/interfaces/IProviderRegistry.sol";
import { Base_Test } from "./Base.t.sol";
import { MarketHandler } from "./handlers/MarketHandler.sol";
import { SignedInvariants } from "./SignedInvariants.sol";
import { VaultInvariants } from "./VaultInvariants.sol";
import { GhostStore, RentalG } from "./stores/GhostStore.sol";
import { isTerminal } from "./lib/Status.sol";

/// @title Invariant_Test
/// @notice The settlement invariants of tests/invariants/README.md (1–8 market, V1–V5 vault, 9–10 signed
/// offers and clusters), checked by forge after every handler call. A handler is added by one line in
/// setUp (`_handler(address(new XHandler(store, sys)))`).
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

    // ───────────────────────────── 1. solvency ─────────────────────────────

    /// @notice 1. Per token the market holds exactly Σ(total − claimed) over open rentals + the bonds of
    /// Disputed rentals + protocol fees + credits; the fees it books are the model's.
    function invariant_inv1_solvency() external view {
        address[2] memory tokens = _tokens();
        for (uint256 k; k < 2; ++k) {
            address t = tokens[k];
            uint256 owed = store.protocolFees(t);
            for (uint256 i; i < store.rentalCount(); ++i) {
                RentalG memory r = store.rental(store.rentalIds(i));
                if (r.token == t && !isTerminal(r.status)) owed += r.total - r.claimed + r.bond;
            }
            for (uint256 i; i < store.accountCount(); ++i) {
                owed += store.credits(store.accounts(i), t);
            }
            assertEq(IERC20(t).balanceOf(address(sys.market)), owed, "inv1 solvency: market balance = escrow + bonds + fees + credits");
            assertEq(sys.market.protocolFees(t), store.protocolFees(t), "inv1 solvency: protocol fees booked = model");
        }
    }

    // ───────────────────────────── effective calls ─────────────────────────────

    /// @notice After each run: the calls and effective calls of every handler function, appended to
    /// $GPUMARKET_FORGE_COUNTS (one line per function and run) for tools/forge_invariants.py.
    function afterInvariant() external {
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
    }
}
