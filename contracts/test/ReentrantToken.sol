// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Hostile test token: when armed, every transfer first calls `target` with `data` (an ERC-777-style hook).
/// @dev Never silent: a failed re-entry either reverts the transfer with its revert data (bubble) or is recorded.
contract ReentrantToken is ERC20 {
    /// @notice Where the hook calls (zero: disarmed).
    address public target;
    /// @notice The calldata the hook sends.
    bytes public data;
    /// @notice True: a failed re-entry reverts the transfer with its data; false: it is recorded.
    bool public bubble;
    /// @notice Re-entries attempted (that were not rolled back).
    uint256 public reentries;
    /// @notice Re-entries that succeeded.
    uint256 public reentrySuccesses;
    /// @notice The revert data of the last failed re-entry.
    bytes public lastRevert;
    bool private _inHook;

    /// @notice One re-entry attempt and its outcome.
    event Reentered(address indexed target, bool success, bytes result);

    constructor() ERC20("Reentrant Token", "REENT") { }

    /// @notice Anyone can mint (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: every transfer calls `target_` with `data_`.
    function arm(address target_, bytes calldata data_, bool bubble_) external {
        (target, data, bubble) = (target_, data_, bubble_);
    }

    /// @notice Disarms the hook.
    function disarm() external {
        target = address(0);
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transferFrom(from, to, value);
    }

    function _reenter() private {
        address t = target;
        if (t == address(0) || _inHook) return; // one level: the hook never re-enters itself
        _inHook = true;
        (bool ok, bytes memory ret) = t.call(data);
        _inHook = false;
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        reentries += 1;
        if (ok) reentrySuccesses += 1;
        else lastRevert = ret;
        emit Reentered(t, ok, ret);
    }
}
