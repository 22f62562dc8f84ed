// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { MarketModule } from "./MarketModule.sol";

/// @title AdminModule
/// @notice Governance: the owner's bounded parameters, the treasury and the arbiter, the payment-token
/// allowlist, and pause. Runs by DELEGATECALL from {ComputeMarket}; the NatSpec of each entry point is
/// in {IComputeMarket}. The owner can never move escrow, stake, fees or credits: nothing here does.
contract AdminModule is MarketModule {
    constructor(IProviderRegistry registry_) MarketModule(registry_) { }

    /// @dev See {IComputeMarket-setProtocolFee}.
    function setProtocolFee(uint256 bps) external viaMarket onlyOwner {
        _setProtocolFee(bps);
    }

    /// @dev See {IComputeMarket-setTreasury}.
    function setTreasury(address treasury_) external viaMarket onlyOwner {
        _setTreasury(treasury_);
    }

    /// @dev See {IComputeMarket-setArbiter}.
    function setArbiter(address arbiter_) external viaMarket onlyOwner {
        _setArbiter(arbiter_);
    }

    /// @dev See {IComputeMarket-setPaymentToken}.
    function setPaymentToken(address token, bool allowed) external viaMarket onlyOwner {
        if (token == address(0)) revert MarketZeroAddress();
        _paymentTokens[token] = allowed;
        emit PaymentTokenSet(token, allowed);
    }

    /// @dev See {IComputeMarket-setStakePerGpu}.
    function setStakePerGpu(uint256 value) external viaMarket onlyOwner {
        _setStakePerGpu(value);
    }

    /// @dev See {IComputeMarket-setActivationWindow}.
    function setActivationWindow(uint256 value) external viaMarket onlyOwner {
        _setActivationWindow(value);
    }

    /// @dev See {IComputeMarket-setDisputeWindow}.
    function setDisputeWindow(uint256 value) external viaMarket onlyOwner {
        _setDisputeWindow(value);
    }

    /// @dev See {IComputeMarket-setNoShowPenalty}.
    function setNoShowPenalty(uint256 bps) external viaMarket onlyOwner {
        _setNoShowPenalty(bps);
    }

    /// @dev See {IComputeMarket-setArbitrationTimeout}.
    function setArbitrationTimeout(uint256 value) external viaMarket onlyOwner {
        _setArbitrationTimeout(value);
    }

    /// @dev See {IComputeMarket-setSlashTreasuryShare}.
    function setSlashTreasuryShare(uint256 bps) external viaMarket onlyOwner {
        _setSlashTreasuryShare(bps);
    }

    /// @dev See {IComputeMarket-pause}.
    function pause() external viaMarket onlyOwner {
        _pause();
    }

    /// @dev See {IComputeMarket-unpause}.
    function unpause() external viaMarket onlyOwner {
        _unpause();
    }
}
