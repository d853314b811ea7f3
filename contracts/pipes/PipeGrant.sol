// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {OPERATION_FLAGS_ALL, OPERATION_WRITE, operationFlag} from "../types/Operations.sol";

/// @dev A pipe's packed permission word: everything an allowed operation needs, in one storage slot.
type Grant is uint256;

using PipeGrant for Grant global;

/// @title PipeGrant
/// @notice The layout of a {Grant}, and the only code that reads or writes its fields. From the lowest bit:
///
/// | field                       | bits | what                                                        |
/// |-----------------------------|------|-------------------------------------------------------------|
/// | key                         | 160  | the source app's reserved key (the signer of stage 1)       |
/// | operations                  | 2    | operation flags (`OPERATION_FLAG_READ`, `OPERATION_FLAG_WRITE`) |
/// | source, target institution  | 16+16| Membership ids                                              |
/// | source, target service      | 16+16| service registry indices                                   |
/// | key index                   | 18   | the key's bit in the usability bitmap                       |
/// | selector index              | 12   | the selector's bit; zero in the pipe's own copy             |
///
/// The indices are what the usability bitmap ({PipeUsability}) is addressed by, so one word answers for all of them.
library PipeGrant {
    // Literal offsets: a constant written as a sum of constants is re-added, with overflow checks, at every use.
    uint256 internal constant KEY_BITS = 160;
    uint256 internal constant OPERATIONS_SHIFT = 160; // after the key
    uint256 internal constant OPERATIONS_BITS = 2;
    uint256 internal constant PARTY_BITS = 16; // each institution id and service index
    uint256 internal constant SOURCE_INSTITUTION_SHIFT = 162; // OPERATIONS_SHIFT + OPERATIONS_BITS
    uint256 internal constant TARGET_INSTITUTION_SHIFT = 178; // + PARTY_BITS
    uint256 internal constant SOURCE_SERVICE_SHIFT = 194; // + PARTY_BITS
    uint256 internal constant TARGET_SERVICE_SHIFT = 210; // + PARTY_BITS
    uint256 internal constant KEY_INDEX_SHIFT = 226; // + PARTY_BITS
    uint256 internal constant KEY_INDEX_BITS = 18;
    uint256 internal constant SELECTOR_INDEX_SHIFT = 244; // KEY_INDEX_SHIFT + KEY_INDEX_BITS
    uint256 internal constant SELECTOR_INDEX_BITS = 12; // to bit 255

    uint256 private constant _KEY_MASK = type(uint160).max;
    uint256 internal constant KEY_INDEX_MASK = 0x3ffff; // KEY_INDEX_BITS ones

    /// @dev A new grant, without key or selector index; refuses a party number too wide for its field.
    function pack(
        uint8 operations_,
        uint256 sourceInstitution_,
        uint256 targetInstitution_,
        uint256 sourceService_,
        uint256 targetService_
    ) internal pure returns (Grant) {
        return
            Grant.wrap(
                (uint256(operations_ & OPERATION_FLAGS_ALL) << OPERATIONS_SHIFT) |
                    (fits(sourceInstitution_, PARTY_BITS) << SOURCE_INSTITUTION_SHIFT) |
                    (fits(targetInstitution_, PARTY_BITS) << TARGET_INSTITUTION_SHIFT) |
                    (fits(sourceService_, PARTY_BITS) << SOURCE_SERVICE_SHIFT) |
                    (fits(targetService_, PARTY_BITS) << TARGET_SERVICE_SHIFT)
            );
    }

    /// @dev `g` with `key_` and its usability index (replacing both).
    function withKey(Grant g, address key_, uint256 keyIndex_) internal pure returns (Grant) {
        uint256 cleared = Grant.unwrap(g) & ~(_KEY_MASK | (KEY_INDEX_MASK << KEY_INDEX_SHIFT));
        return Grant.wrap(cleared | uint256(uint160(key_)) | (fits(keyIndex_, KEY_INDEX_BITS) << KEY_INDEX_SHIFT));
    }

    /// @dev `g` (the pipe's own copy, selector index zero) as written under one selector.
    function withSelectorIndex(Grant g, uint256 selectorIndex_) internal pure returns (Grant) {
        return Grant.wrap(Grant.unwrap(g) | (fits(selectorIndex_, SELECTOR_INDEX_BITS) << SELECTOR_INDEX_SHIFT));
    }

    /// @dev Whether `signer` holds `g` and `g` allows operation code `operation`. False for no grant (zero). One
    /// expression: it is on the permission check's hot path.
    function allows(Grant g, address signer, uint8 operation) internal pure returns (bool) {
        uint256 w = Grant.unwrap(g);
        return
            address(uint160(w)) == signer &&
            operation <= OPERATION_WRITE &&
            (w >> OPERATIONS_SHIFT) & (1 << operation) != 0;
    }

    /// @dev Whether `g`'s operation flags include operation code `operation` (false for an unknown code).
    function allowsOperation(Grant g, uint8 operation) internal pure returns (bool) {
        return operations(g) & operationFlag(operation) != 0;
    }

    function isZero(Grant g) internal pure returns (bool) {
        return Grant.unwrap(g) == 0;
    }

    function key(Grant g) internal pure returns (address) {
        return address(uint160(Grant.unwrap(g)));
    }

    /// @dev The operation flags.
    function operations(Grant g) internal pure returns (uint8) {
        return uint8((Grant.unwrap(g) >> OPERATIONS_SHIFT) & OPERATION_FLAGS_ALL);
    }

    function sourceInstitution(Grant g) internal pure returns (uint16) {
        return uint16(Grant.unwrap(g) >> SOURCE_INSTITUTION_SHIFT);
    }

    function targetInstitution(Grant g) internal pure returns (uint16) {
        return uint16(Grant.unwrap(g) >> TARGET_INSTITUTION_SHIFT);
    }

    function sourceService(Grant g) internal pure returns (uint16) {
        return uint16(Grant.unwrap(g) >> SOURCE_SERVICE_SHIFT);
    }

    function targetService(Grant g) internal pure returns (uint16) {
        return uint16(Grant.unwrap(g) >> TARGET_SERVICE_SHIFT);
    }

    function keyIndex(Grant g) internal pure returns (uint256) {
        return (Grant.unwrap(g) >> KEY_INDEX_SHIFT) & KEY_INDEX_MASK;
    }

    function selectorIndex(Grant g) internal pure returns (uint256) {
        return Grant.unwrap(g) >> SELECTOR_INDEX_SHIFT;
    }

    /// @dev `n`, refused when it is too wide for a field of `width` bits.
    function fits(uint256 n, uint256 width) internal pure returns (uint256) {
        if (n >> width != 0) revert IPipeRegistry.PipeIdTooLarge(n);
        return n;
    }
}
