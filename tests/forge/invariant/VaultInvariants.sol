// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { Base_Test } from "./Base.t.sol";
import { VaultHandler } from "./handlers/VaultHandler.sol";
import { GhostStore } from "./stores/GhostStore.sol";
import { VaultStore } from "./stores/VaultStore.sol";

/// @title VaultInvariants
/// @notice V1–V5 of tests/invariants/README.md over VaultStore's model of the vault. Invariant_Test
/// inherits it and registers the handler with `_handler(_newVaultHandler(store))`.
abstract contract VaultInvariants is Base_Test {
    VaultStore internal vaultStore;
    VaultHandler internal vaultHandler;
    GhostStore internal vaultGhost; // the market's GhostStore (the vault's stake and balance changes)

    function _newVaultHandler(GhostStore ghost) internal returns (address) {
        vaultGhost = ghost;
        vaultStore = new VaultStore(address(sys.vault), sys.operator, address(sys.gpuc), VAULT_COMMISSION_BPS);
        vaultHandler = new VaultHandler(ghost, vaultStore, sys, [uint256(10_000 * GPUC), 6000 * GPUC, 4000 * GPUC]);
        return address(vaultHandler);
    }

    function _vaultAccounts() internal view returns (address[4] memory) {
        return [sys.investors[0], sys.investors[1], sys.investors[2], sys.operator];
    }

    /// @notice V1–V5 in one campaign (forge runs a campaign per invariant function and checks only that
    /// function in it): `make invariants-forge`'s invariant_all calls this too.
    function invariant_vault_all() public {
        invariant_V1_V4_income();
        invariant_V2_conservation();
        invariant_V3_shares();
        invariant_V5_price();
    }

    /// @notice V1. Every investor's and the operator's income, in every income token, = the model, to the
    /// unit. V4. No income goes down but by its owner's withdrawal (last values seen are kept in the store).
    function invariant_V1_V4_income() public {
        address[4] memory accounts = _vaultAccounts();
        for (uint256 k; k < vaultStore.tokenCount(); ++k) {
            address t = vaultStore.tokens(k);
            for (uint256 i; i < 4; ++i) {
                uint256 chain = sys.vault.incomeOf(accounts[i], t);
                assertEq(chain, vaultStore.income(accounts[i], t), "V1 vault income = model, to the unit");
                if (!vaultStore.withdrew(accounts[i], t)) {
                    assertGe(chain, vaultStore.lastIncome(accounts[i], t), "V4 vault income went down without a withdrawal");
                }
                vaultStore.seen(accounts[i], t, chain);
            }
        }
    }

    /// @notice V2. Income is conserved: per token received = paid out + kept; what the vault kept = what it
    /// owes its accounts + rounding dust, 0 ≤ dust ≤ a unit per account and distribution; the vault holds
    /// exactly the model's balance (its start balance + every modelled arrival − every payment).
    function invariant_V2_conservation() public view {
        address[4] memory accounts = _vaultAccounts();
        address[2] memory tokens = [address(sys.usd), address(sys.gpuc)];
        for (uint256 k; k < 2; ++k) {
            address t = tokens[k];
            int256 model = int256(vaultHandler.baseBalance(t)) + vaultGhost.moved(address(sys.vault), t);
            assertEq(int256(IERC20(t).balanceOf(address(sys.vault))), model, "V2 vault balance = model");
            if (!vaultStore.isToken(t)) continue;
            uint256 kept = vaultStore.accounted(t);
            assertEq(vaultStore.received(t), vaultStore.withdrawn(t) + kept, "V2 vault income conserved");
            uint256 owed;
            for (uint256 i; i < 4; ++i) {
                owed += sys.vault.incomeOf(accounts[i], t);
            }
            assertLe(owed, kept, "V2 vault owes more than it kept");
            uint256 d = vaultStore.distributions();
            assertLe(kept - owed, 5 * (d == 0 ? 1 : d), "V2 vault dust above a unit per account and distribution");
        }
    }

    /// @notice V3. Shares and assets: supply, every balance (the escrow is the vault's own), total assets =
    /// the vault's stake in the registry = the model's.
    function invariant_V3_shares() public view {
        assertEq(sys.vault.totalSupply(), vaultStore.supply(), "V3 vault supply = model");
        address[4] memory accounts = _vaultAccounts();
        for (uint256 i; i < 4; ++i) {
            assertEq(sys.vault.balanceOf(accounts[i]), vaultStore.shares(accounts[i]), "V3 vault shares = model");
        }
        assertEq(sys.vault.balanceOf(address(sys.vault)), vaultStore.escrowed(), "V3 vault escrow = model");
        assertEq(vaultStore.shares(address(sys.vault)), vaultStore.escrowed(), "V3 vault escrow = requests not burned");
        uint256 staked = vaultGhost.staked(address(sys.vault));
        assertEq(sys.registry.providerOf(address(sys.vault)).staked, staked, "V3 vault stake = model");
        assertEq(sys.vault.totalAssets(), staked, "V3 vault total assets = its stake");
    }

    /// @notice V5. Every share is worth the same, whatever slashes did: the price per share follows total
    /// assets (convertToAssets = shares × (assets + 1) / (supply + 10^6)).
    function invariant_V5_price() public view {
        uint256 unit = 1e24;
        assertEq(
            sys.vault.convertToAssets(unit),
            unit * (vaultGhost.staked(address(sys.vault)) + 1) / (vaultStore.supply() + 1e6),
            "V5 vault price per share follows total assets"
        );
    }
}
