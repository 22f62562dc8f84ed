// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Test } from "forge-std/Test.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "gpumarket/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "gpumarket/interfaces/IProviderRegistry.sol";
import { IProviderVault } from "gpumarket/interfaces/IProviderVault.sol";
import { IMintable, IVaultFactory, Sys } from "./System.sol";

/// @title Base_Test
/// @notice Deploys the system from ape's build, as tests/invariants/system.py does: the bytecode of each
/// contract is read from the build (GPUMARKET_BUILD, default .build/__local__.json; ape's manifest keeps
/// it at contractTypes.<Name>.deploymentBytecode.bytecode), its constructor arguments are appended, and
/// it is created by the owner. Nothing of contracts/ is compiled by forge but the interfaces and types.
abstract contract Base_Test is Test {
    uint256 internal constant GPUC = 1e18;
    uint256 internal constant RICH = 1e12 * GPUC;
    uint256 internal constant PROVIDER_STAKE = 30_000 * GPUC;
    uint256 internal constant VAULT_COMMISSION_BPS = 1000;

    Sys internal sys;
    string internal build;

    /// @notice The `i`-th actor of system.py: a plain address 0x10000 + i, or (providers, operator) the
    /// address of the fixed key keccak256("gpumarket.invariants.actor." + i).
    function _plain(uint256 i) internal pure returns (address) {
        return address(uint160(0x10000 + i));
    }

    function _keyOf(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked("gpumarket.invariants.actor.", vm.toString(i))));
    }

    /// @notice Creates `name` from the build with `args` (ABI-encoded constructor arguments), sent by `from`.
    function _deploy(string memory name, bytes memory args, address from) internal returns (address deployed) {
        bytes memory code = vm.parseJsonBytes(build, string.concat(".contractTypes.", name, ".deploymentBytecode.bytecode"));
        bytes memory init = bytes.concat(code, args);
        vm.prank(from);
        assembly ("memory-safe") {
            deployed := create(0, add(init, 0x20), mload(init))
        }
        require(deployed != address(0), string.concat("could not deploy ", name, " from the build"));
        vm.label(deployed, name);
    }

    function setUp() public virtual {
        build = vm.readFile(vm.envOr("GPUMARKET_BUILD", string(".build/__local__.json")));
        vm.warp(1_700_000_000);
        _actors();
        address owner = sys.owner;
        sys.gpuc = IERC20(_deploy("ComputeToken", abi.encode(sys.treasury, 1e15 * GPUC), owner));
        sys.usd = IERC20(_deploy("MockStablecoin", "", owner));
        sys.registry = IProviderRegistry(
            _deploy("ProviderRegistry", abi.encode(address(sys.gpuc), owner, 7 days, 1000 * GPUC), owner)
        );
        address[4] memory modules;
        string[4] memory names = ["OfferModule", "DisputeModule", "AdminModule", "BookingModule"];
        for (uint256 i; i < 4; ++i) {
            modules[i] = _deploy(names[i], abi.encode(address(sys.registry)), owner);
        }
        sys.market = IComputeMarket(
            _deploy("ComputeMarket", abi.encode(address(sys.registry), owner, sys.treasury, sys.arbiter, modules), owner)
        );
        vm.startPrank(owner);
        sys.registry.setMarket(address(sys.market));
        sys.market.setPaymentToken(address(sys.usd), true);
        sys.market.setPaymentToken(address(sys.gpuc), true);
        vm.stopPrank();
        sys.factory = IVaultFactory(_deploy("VaultFactory", abi.encode(address(sys.market), address(sys.registry)), owner));
        _fund();
    }

    function _actors() internal {
        uint256 a;
        (sys.owner, sys.treasury, sys.arbiter, sys.stranger) = (_plain(0), _plain(1), _plain(2), _plain(3));
        a = 4;
        for (uint256 i; i < 3; ++i) {
            uint256 key = _keyOf(a++);
            sys.providerKeys.push(key);
            sys.providers.push(vm.addr(key));
            vm.label(sys.providers[i], string.concat("provider", vm.toString(i)));
        }
        for (uint256 i; i < 3; ++i) sys.renters.push(_plain(a++));
        for (uint256 i; i < 2; ++i) sys.payers.push(_plain(a++));
        for (uint256 i; i < 2; ++i) sys.brokers.push(_plain(a++));
        sys.operatorKey = _keyOf(a++);
        sys.operator = vm.addr(sys.operatorKey);
        for (uint256 i; i < 3; ++i) sys.investors.push(_plain(a++));
    }

    /// @notice RICH GPUC from the treasury to `who`, approved to `spender`.
    function _richInGpuc(address who, address spender) internal {
        vm.prank(sys.treasury);
        sys.gpuc.transfer(who, RICH);
        vm.prank(who);
        sys.gpuc.approve(spender, type(uint256).max);
    }

    function _fund() internal {
        for (uint256 i; i < sys.providers.length; ++i) {
            address p = sys.providers[i];
            _richInGpuc(p, address(sys.registry));
            vm.startPrank(p);
            sys.registry.register("ipfs://spec");
            sys.registry.stake(PROVIDER_STAKE);
            vm.stopPrank();
        }
        for (uint256 i; i < sys.renters.length + sys.payers.length; ++i) {
            address who = i < sys.renters.length ? sys.renters[i] : sys.payers[i - sys.renters.length];
            _richInGpuc(who, address(sys.market));
            IMintable(address(sys.usd)).mint(who, RICH);
            vm.prank(who);
            sys.usd.approve(address(sys.market), type(uint256).max);
        }
        // An investor-backed provider: the operator creates the vault, the investors back it.
        vm.prank(sys.operator);
        sys.vault = IProviderVault(sys.factory.create(VAULT_COMMISSION_BPS, "Vault", "V", "ipfs://vault"));
        uint256[3] memory deposits = [uint256(10_000 * GPUC), 6000 * GPUC, 4000 * GPUC];
        for (uint256 i; i < sys.investors.length; ++i) {
            address who = sys.investors[i];
            _richInGpuc(who, address(sys.vault));
            vm.prank(who);
            sys.vault.deposit(deposits[i], who);
        }
    }
}
