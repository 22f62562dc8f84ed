// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { MarketStorage } from "./MarketStorage.sol";

/// @title MarketModule
/// @notice The base of the market's modules: code that runs only by DELEGATECALL from
/// {ComputeMarket}, on the market's storage, with the market's `msg.sender`.
/// @dev A module holds no state and no tokens of its own; called directly, every entry point reverts
/// with {MarketModuleCalledDirectly}. Its Ownable owner (the deployer) is never read.
abstract contract MarketModule is MarketStorage {
    address private immutable _self = address(this);

    /// @dev Only when running inside the market (by DELEGATECALL), never called directly.
    modifier viaMarket() {
        if (address(this) == _self) revert MarketModuleCalledDirectly(_self);
        _;
    }

    constructor(IProviderRegistry registry_) MarketStorage(registry_, msg.sender) { }
}
