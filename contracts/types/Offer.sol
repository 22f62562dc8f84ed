// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Namespace for the offer types of the {ComputeMarket}.
library Offer {
    /// @notice Where an offer is in its life. `Closed` is terminal.
    enum Status {
        None, // 0: no offer has this id
        Active, // 1: open for new rentals
        Paused, // 2: no new rentals or extensions; running rentals are unaffected
        Closed // 3: terminal; running rentals are unaffected
    }

    /// @notice One listing of GPUs by a provider. Packed into four storage slots; opening a rental
    /// reads slots 0, 1 and 3, and slot 2 (the reserved renter) only for a private offer.
    /// @dev The payment token and the provider never change after creation.
    struct Record {
        // slot 0 (read by every rental operation)
        address provider; // 20 bytes
        uint16 gpusOffered; // GPUs listed
        uint16 gpusInUse; // GPUs held by Pending/Active/Stopped rentals not yet released
        uint16 minHours; // shortest rental, in hours
        uint16 maxHours; // longest rental (extensions included), in hours
        uint16 maxBrokerBps; // the most the provider lets a broker take from its gross
        Status status; // 1 byte
        bool reserved; // reservedFor != 0, so that a public offer's rentals never read slot 2
        // slot 1
        address paymentToken; // 20 bytes
        uint96 pricePerGpuHour; // listed price, in base units of `paymentToken`
        // slot 2
        address reservedFor; // 0 = public; else the only renter who may rent it
        // slot 3
        uint256 tiers; // volume-discount tiers, packed by {RentalMath.packTiers}
    }

    /// @notice What a provider sets when creating or updating an offer.
    /// @dev `gpuModel` and `region` are only read at creation.
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
        Tier[] tiers; // at most 4, strictly increasing in both fields
    }

    /// @notice A volume-discount tier: rentals of at least `minGpuHours` GPU-hours get `discountBps` off.
    struct Tier {
        uint32 minGpuHours;
        uint16 discountBps;
    }
}
