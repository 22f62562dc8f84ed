// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Rental.Status (contracts/types/Rental.sol) as the ghost store keeps it (a uint8).
uint8 constant PENDING = 1;
uint8 constant ACTIVE = 2;
uint8 constant ENDED = 3;
uint8 constant CANCELLED = 4;
uint8 constant SETTLED = 5;
uint8 constant DISPUTED = 6;
uint8 constant RESOLVED = 7;

/// @notice Cancelled, Settled and Resolved are terminal and hold no escrow.
function isTerminal(uint8 status) pure returns (bool) {
    return status == CANCELLED || status == SETTLED || status == RESOLVED;
}
