// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import { ERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title ComputeToken
/// @notice The gpumarket protocol token (GPUC): providers stake it as collateral, and it is one of the
/// payment tokens. ERC-20 with EIP-2612 permit; the whole supply is minted once, to the treasury, at
/// deployment. There is no mint or burn function afterwards.
contract ComputeToken is ERC20, ERC20Permit {
    /// @param treasury Receives the fixed supply.
    /// @param supply The fixed total supply, in 18-decimal base units.
    constructor(address treasury, uint256 supply) ERC20("gpumarket Compute", "GPUC") ERC20Permit("gpumarket Compute") {
        _mint(treasury, supply);
    }
}
