// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "gpumarket/types/Offer.sol";

/// @title SignedCatalog
/// @notice The signers' catalogs of tests/invariants/signed_model.py (`_terms`): offer `j` of a signer is
/// a fixed function of its index (both tokens, prices, 1 to 16 GPUs, hour bounds, tiers, broker caps,
/// some reserved for one renter, expiries from two hours to a year after the start, nonce j), and its
/// EIP-712 digest restated from docs/signed-offers.md (type strings, domain "gpumarket" version "1"):
/// the contracts' Offer.structHash is never called.
library SignedCatalog {
    uint256 internal constant CATALOG = 12; // offers per signer
    uint256 internal constant SIGNED_OFFER_ID_BASE = 1_000_000_000;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant TIER_TYPEHASH = keccak256("Tier(uint32 minGpuHours,uint16 discountBps)");
    bytes32 internal constant SIGNED_OFFER_TYPEHASH = keccak256(
        "SignedOffer(address provider,string gpuModel,string region,address paymentToken,uint96 pricePerGpuHour,"
        "uint16 gpus,uint16 minHours,uint16 maxHours,address reservedFor,uint16 maxBrokerBps,Tier[] tiers,"
        "uint64 expiry,uint256 nonce)Tier(uint32 minGpuHours,uint16 discountBps)"
    );

    /// @notice The market's EIP-712 domain separator on this chain.
    function domainSeparator(address market) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("gpumarket"), keccak256("1"), block.chainid, market));
    }

    /// @notice Offer `j` of `provider`'s catalog; `start` is the run's start time, `usd`/`gpuc` the tokens.
    function terms(address provider, uint256 j, uint256 start, address usd, address gpuc, address[3] memory renters)
        internal
        pure
        returns (Offer.Signed memory s)
    {
        bool inGpuc = j % 3 == 2;
        uint96[4] memory prices = [uint96(1_950_000), 1_000_000, 3_333_333, 777_777];
        uint16[6] memory gpus = [uint16(4), 8, 2, 16, 1, 6];
        uint16[4] memory maxHours = [uint16(200), 72, 500, 24];
        uint64[4] memory expiries = [uint64(2 hours), 36 hours, 10 days, 400 days];
        uint16[3] memory brokerCaps = [uint16(500), 0, 1000];
        s.provider = provider;
        s.gpuModel = "H100-SXM-80GB";
        s.region = j % 2 == 0 ? "AU-QLD" : "EU-FRA";
        s.paymentToken = inGpuc ? gpuc : usd;
        s.pricePerGpuHour = prices[j % 4] * (inGpuc ? 1e12 : 1);
        s.gpus = gpus[j % 6];
        s.minHours = j % 5 == 3 ? 2 : 1;
        s.maxHours = maxHours[j % 4];
        s.reservedFor = j % 4 == 3 ? renters[j / 4 % 3] : address(0);
        s.maxBrokerBps = brokerCaps[j / 4 % 3];
        s.tiers = new Offer.Tier[](j % 3 == 0 ? 2 : 0);
        if (j % 3 == 0) (s.tiers[0], s.tiers[1]) = (Offer.Tier(24, 250), Offer.Tier(96, 500));
        s.expiry = uint64(start) + expiries[j / 3 % 4];
        s.nonce = j;
    }

    /// @notice The struct hash as docs/signed-offers.md defines it: the typehash and the members in order,
    /// each one 32-byte word (strings and the tier array by their hashes), written here as three runs of
    /// words (identity, terms, limits) so that nothing of Offer.structHash is reused.
    function structHash(Offer.Signed memory s) internal pure returns (bytes32) {
        bytes memory identity = abi.encode(
            SIGNED_OFFER_TYPEHASH, s.provider, keccak256(bytes(s.gpuModel)), keccak256(bytes(s.region)), s.paymentToken
        );
        bytes memory rentTerms = abi.encode(s.pricePerGpuHour, s.gpus, s.minHours, s.maxHours, s.reservedFor, s.maxBrokerBps);
        bytes memory limits = abi.encode(tiersHash(s.tiers), s.expiry, s.nonce);
        return keccak256(bytes.concat(identity, rentTerms, limits));
    }

    /// @notice keccak256 of the concatenated EIP-712 hashes of the tiers.
    function tiersHash(Offer.Tier[] memory tiers) internal pure returns (bytes32 h) {
        bytes memory words;
        for (uint256 i; i < tiers.length; ++i) {
            words = bytes.concat(words, keccak256(abi.encode(TIER_TYPEHASH, tiers[i].minGpuHours, tiers[i].discountBps)));
        }
        h = keccak256(words);
    }

    /// @notice The digest a signer signs: "\x19\x01" ‖ domain separator ‖ struct hash.
    function digest(Offer.Signed memory s, bytes32 domain) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domain, structHash(s)));
    }

    /// @notice Whether the offer has volume tiers (the project's [(24 GPU-h, 2.5 %), (96 GPU-h, 5 %)]).
    function tiered(uint256 j) internal pure returns (bool) {
        return j % 3 == 0;
    }
}
