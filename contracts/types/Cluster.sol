// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Offer } from "./Offer.sol";

/// @notice Namespace for the parts of a cluster booking ({IComputeMarket-bookCluster}): one rental
/// each, all for the same renter, for the same hours, paid in the same token.
library Cluster {
    /// @notice `gpus` GPUs of the on-chain offer `offerId`.
    struct Part {
        uint256 offerId;
        uint256 gpus;
    }

    /// @notice `gpus` GPUs of a signed offer, with its provider's signature.
    struct SignedPart {
        Offer.Signed offer;
        bytes signature;
        uint256 gpus;
    }
}
