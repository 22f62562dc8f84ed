// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Namespace for the offer types of the {ComputeMarket}.
library Offer {
    /// @notice Where an offer is in its life. `Closed` is terminal.
    enum Status {
        None, // 0: no offer has this id
        Active, // 1: open for new rentals and for extensions of its running rentals
        Paused, // 2: no new rentals or extensions; running rentals otherwise go on (claim, stop, dispute, ...)
        Closed // 3: terminal; no new rentals or extensions; running rentals otherwise go on
    }

    /// @notice One listing of GPUs by a provider. Packed into four storage slots; opening a rental
    /// reads slots 0, 1 and 3, and slot 2 (the reserved renter) only for a private offer.
    /// @dev The payment token and the provider never change after creation.
    struct Record {
        // slot 0: provider, capacity, bounds and status (read when a rental is opened, activated,
        // claimed, extended, stopped, cancelled, released or ruled on, and when a running one is disputed)
        address provider; // 20 bytes
        uint16 gpusOffered; // GPUs listed; never below `gpusInUse`
        uint16 gpusInUse; // GPUs held by this offer's Pending and Active rentals (Ended, Disputed: none)
        uint16 minHours; // shortest rental that can be opened, in hours (a stop may still end it sooner)
        uint16 maxHours; // longest rental (extensions included), in hours
        uint16 maxBrokerBps; // the most the provider lets a broker take from its gross
        Status status; // 1 byte
        bool reserved; // reservedFor != 0, so that opening a rental on a public offer never reads slot 2
        // slot 1
        address paymentToken; // 20 bytes
        uint96 pricePerGpuHour; // listed price per GPU-hour, before any volume discount, in `paymentToken` base units
        // slot 2
        address reservedFor; // 0 = public; else the only renter who may rent it
        // slot 3
        uint256 tiers; // volume-discount tiers, packed by {RentalMath.packTiers}
    }

    /// @notice What a provider sets when creating an offer ({IComputeMarket-createOffer}).
    /// @dev The labels and the payment token are fixed at creation; {IComputeMarket-updateOffer} takes
    /// the other terms as separate arguments, with the same bounds.
    struct Params {
        string gpuModel; // e.g. "H100-SXM-80GB", 1 to 32 bytes
        string region; // e.g. "AU-QLD", 1 to 32 bytes
        address paymentToken; // must be on the allowlist
        uint96 pricePerGpuHour; // > 0, in base units of `paymentToken`
        uint16 gpusOffered; // > 0
        uint16 minHours; // >= 1
        uint16 maxHours; // >= minHours, <= MAX_RENTAL_HOURS
        address reservedFor; // 0 = public
        uint16 maxBrokerBps; // <= MAX_BROKER_FEE_BPS
        Tier[] tiers; // ≤ 4, strictly increasing in both fields, minGpuHours > 0, discount ≤ MAX_DISCOUNT_BPS
    }

    /// @notice An offer a provider signs off-chain (EIP-712, type `SignedOffer`, in the market's domain)
    /// instead of storing it: the terms of {Params} with its GPUs, plus an expiry and a nonce. Anyone
    /// can fill it for a renter ({IComputeMarket-openSignedRental}, {IComputeMarket-bookCluster}); its
    /// first fill records it as an ordinary offer (an id from {SIGNED_OFFER_ID_BASE} up), which its
    /// rentals then use exactly as they use an on-chain offer. docs/signed-offers.md has the JSON form.
    struct Signed {
        address provider; // the signer: an EOA, or a contract (a vault) that signs through ERC-1271
        string gpuModel;
        string region;
        address paymentToken;
        uint96 pricePerGpuHour;
        uint16 gpus; // capacity: fills never hold more at once
        uint16 minHours;
        uint16 maxHours;
        address reservedFor; // 0 = anyone may rent it
        uint16 maxBrokerBps;
        Tier[] tiers;
        uint64 expiry; // last second at which it can be filled
        uint256 nonce; // any value ≥ the provider's nonce floor; {IComputeMarket-cancelSignedOffersBelow} raises the floor
    }

    /// @notice What the market knows of a signed offer, by its EIP-712 digest: the id it was recorded
    /// under at its first fill (0 before), and whether its provider cancelled it.
    struct SignedState {
        uint32 offerId;
        bool cancelled;
    }

    /// @notice Ids of signed offers' records start above this; on-chain offers stay below it.
    uint256 internal constant SIGNED_OFFER_ID_BASE = 1_000_000_000;

    bytes32 internal constant TIER_TYPEHASH = keccak256("Tier(uint32 minGpuHours,uint16 discountBps)");
    bytes32 internal constant SIGNED_OFFER_TYPEHASH = keccak256(
        "SignedOffer(address provider,string gpuModel,string region,address paymentToken,uint96 pricePerGpuHour,"
        "uint16 gpus,uint16 minHours,uint16 maxHours,address reservedFor,uint16 maxBrokerBps,Tier[] tiers,"
        "uint64 expiry,uint256 nonce)Tier(uint32 minGpuHours,uint16 discountBps)"
    );

    /// @notice The EIP-712 struct hash of a signed offer (the digest adds the market's domain).
    function structHash(Signed calldata s) internal pure returns (bytes32) {
        bytes32[] memory tierHashes = new bytes32[](s.tiers.length);
        for (uint256 i; i < tierHashes.length; ++i) {
            tierHashes[i] = keccak256(abi.encode(TIER_TYPEHASH, s.tiers[i].minGpuHours, s.tiers[i].discountBps));
        }
        return keccak256(
            abi.encode(
                SIGNED_OFFER_TYPEHASH,
                s.provider,
                keccak256(bytes(s.gpuModel)),
                keccak256(bytes(s.region)),
                s.paymentToken,
                s.pricePerGpuHour,
                s.gpus,
                s.minHours,
                s.maxHours,
                s.reservedFor,
                s.maxBrokerBps,
                keccak256(abi.encodePacked(tierHashes)),
                s.expiry,
                s.nonce
            )
        );
    }

    /// @notice A volume-discount tier: rentals of at least `minGpuHours` GPU-hours (GPUs × hours at open)
    /// get `discountBps` off; the highest tier reached applies.
    struct Tier {
        uint32 minGpuHours;
        uint16 discountBps;
    }
}
