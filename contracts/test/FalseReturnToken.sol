// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Hostile test token: transfers return false and move nothing when either side, or everyone, is flagged.
contract FalseReturnToken is ERC20 {
    /// @notice Every transfer returns false.
    bool public failAll;
    /// @notice Transfers from or to the account return false.
    mapping(address account => bool) public failFor;

    constructor() ERC20("False Return Token", "FALSE") { }

    /// @notice Anyone can mint (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Flags (or clears) every transfer.
    function setFailAll(bool value) external {
        failAll = value;
    }

    /// @notice Flags (or clears) transfers from or to `account`.
    function setFailFor(address account, bool value) external {
        failFor[account] = value;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (_fails(msg.sender, to)) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (_fails(from, to)) return false;
        return super.transferFrom(from, to, value);
    }

    function _fails(address from, address to) private view returns (bool) {
        return failAll || failFor[from] || failFor[to];
    }
}
