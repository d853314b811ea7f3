// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SubchainId} from "../types/Ids.sol";

/// @title InstitutionIds
/// @notice Sub-chain, app and service ids are namespaced by institution: an id's first four bytes are the number of
/// the institution that registers it, the other 28 the start of keccak256 of a label the institution chooses
/// (`lib/domain/ids.ts` makes them). An operator can only register ids of its own institution, so nobody can take,
/// front-run or hold an id that belongs to another institution, and an id says whose it is.
library InstitutionIds {
    /// @notice The institution whose namespace `id` is in (its first four bytes).
    function institutionOf(bytes32 id) internal pure returns (uint32) {
        return uint32(bytes4(id));
    }

    /// @notice The institution that registered sub-chain `id`.
    function institutionOf(SubchainId id) internal pure returns (uint32) {
        return uint32(bytes4(SubchainId.unwrap(id)));
    }
}
