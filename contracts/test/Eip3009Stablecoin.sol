// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice Test token: the part of Circle's FiatToken v2.2 (USDC) that matters here — EIP-3009
/// transferWithAuthorization whose signature is checked with SignatureChecker (ERC-1271 for contracts).
contract Eip3009Stablecoin is ERC20, EIP712 {
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    mapping(address => mapping(bytes32 => bool)) public authorizationState;

    /// @notice The authorization is outside its validity window.
    error AuthorizationNotValidNow(uint256 validAfter, uint256 validBefore);
    /// @notice The authorization's nonce was used.
    error AuthorizationUsed(address from, bytes32 nonce);
    /// @notice The signature is not `from`'s (ECDSA, or ERC-1271 for a contract).
    error AuthorizationInvalidSignature(address from, bytes32 digest);

    constructor() ERC20("USD Coin", "USDC") EIP712("USD Coin", "2") { }

    function decimals() public pure override returns (uint8) { return 6; }

    function mint(address to, uint256 amount) external { _mint(to, amount); }

    function transferWithAuthorization(
        address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce,
        bytes memory signature
    ) external {
        if (block.timestamp <= validAfter || block.timestamp >= validBefore) {
            revert AuthorizationNotValidNow(validAfter, validBefore);
        }
        if (authorizationState[from][nonce]) revert AuthorizationUsed(from, nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)));
        if (!SignatureChecker.isValidSignatureNow(from, digest, signature)) {
            revert AuthorizationInvalidSignature(from, digest);
        }
        authorizationState[from][nonce] = true;
        _transfer(from, to, value);
    }

    function authorizationDigest(
        address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce
    ) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)));
    }
}
