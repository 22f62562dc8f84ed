// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice One offer of a signer's catalog, as the market should know it (signed_model.py's SignedG).
struct SignedG {
    uint8 signer; // 0–2 the providers, 3 the vault (its operator's key signs)
    uint8 j; // its index in the catalog (SignedCatalog.terms)
    bytes32 hash; // its EIP-712 digest in the market's domain
    bytes signature;
    uint256 recordId; // 0 until its first fill
    bool cancelled;
    bool published;
}

/// @title SignedStore
/// @notice The ghost of the signed offers: every catalog entry (published or not), the published ones
/// in order, every signer's nonce floor and the records made so far. Written by SignedHandler, read by
/// SignedInvariants. Rentals and records themselves live in the GhostStore like every other rental and
/// offer (so invariants 1–6 cover them).
contract SignedStore {
    SignedG[] internal _entries; // signer * 12 + j
    uint256[] public published; // entry indices, in order of publication
    mapping(address signer => uint256) public floor;
    uint256 public recorded; // signed offers recorded so far (the next record id is BASE + recorded + 1)
    uint256 public failedCalls; // invalid signed calls checked to leave no trace (inv10)

    function addEntry(uint8 signer, uint8 j, bytes32 hash, bytes memory signature) external {
        _entries.push(SignedG(signer, j, hash, signature, 0, false, false));
    }

    function entry(uint256 i) external view returns (SignedG memory) {
        return _entries[i];
    }

    function publishedCount() external view returns (uint256) {
        return published.length;
    }

    function publish(uint256 i) external {
        require(!_entries[i].published, "signed ghost: published twice");
        _entries[i].published = true;
        published.push(i);
    }

    /// @notice Entry `i`'s first fill recorded it under the next id.
    function record(uint256 i) external returns (uint256 id) {
        require(_entries[i].recordId == 0, "signed ghost: recorded twice");
        id = 1_000_000_000 + ++recorded;
        _entries[i].recordId = id;
    }

    function cancel(uint256 i) external {
        _entries[i].cancelled = true;
    }

    function setFloor(address signer, uint256 nonce) external {
        require(nonce > floor[signer], "signed ghost: a floor only rises");
        floor[signer] = nonce;
    }

    function countFailed() external {
        ++failedCalls;
    }
}
