// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title PipeUsability
/// @notice The usability bitmap: one bit per (entity, kind of trouble), so that one storage word answers for every
/// entity a grant depends on. A word holds, from the lowest bit:
///
/// | bits    | kind                     | entities per word |
/// |---------|--------------------------|-------------------|
/// | 0-31    | institution not active   | 32                |
/// | 32-63   | institution restricted   | 32                |
/// | 64-95   | service disabled         | 32                |
/// | 96-127  | service signer inactive  | 32                |
/// | 128-191 | key revoked              | 64                |
/// | 192-255 | selector blocked         | 64                |
///
/// Entity `n` of a kind lives in word `n / perWord`, at bit `kind + n % perWord`. So institutions and services
/// below 32 and keys and selectors below 64 all share word 0, and a grant of small numbers costs one slot.
library PipeUsability {
    struct Bitmap {
        mapping(uint256 word => uint256 bits) words;
    }

    uint256 internal constant INSTITUTION_INACTIVE = 0;
    uint256 internal constant INSTITUTION_RESTRICTED = 32;
    uint256 internal constant SERVICE_DISABLED = 64;
    uint256 internal constant SERVICE_SIGNER_INACTIVE = 96;
    uint256 internal constant KEY_REVOKED = 128;
    uint256 internal constant SELECTOR_BLOCKED = 192;

    /// @dev log2 of the entities of a kind per word.
    uint256 internal constant PARTIES_PER_WORD_LOG2 = 5; // institutions and services
    uint256 internal constant INDICES_PER_WORD_LOG2 = 6; // keys and selectors
    /// @dev An institution's or a service's position in its word (`n & PARTIES_PER_WORD_MASK`).
    uint256 internal constant PARTIES_PER_WORD_MASK = 31;

    /// @dev Sets or clears the `kind` bit of entity `n`; returns whether it changed.
    function set(Bitmap storage b, uint256 n, uint256 log2, uint256 kind, bool value) internal returns (bool) {
        uint256 word = n >> log2;
        uint256 bit = kind + (n & ((1 << log2) - 1));
        uint256 before = b.words[word];
        uint256 next = value ? before | (1 << bit) : before & ~(1 << bit);
        if (next == before) return false;
        b.words[word] = next;
        return true;
    }

    /// @dev Whether the `kind` bit of entity `n` is set.
    function get(Bitmap storage b, uint256 n, uint256 log2, uint256 kind) internal view returns (bool) {
        return has(shifted(b, type(uint256).max, 0, n, log2), kind);
    }

    /// @dev Entity `n`'s word, shifted so that its bit of each kind sits at the kind's offset (test with {has}).
    /// `bits` is word `known`, already read: an entity in it costs no storage read.
    function shifted(
        Bitmap storage b,
        uint256 known,
        uint256 bits,
        uint256 n,
        uint256 log2
    ) internal view returns (uint256) {
        uint256 word = n >> log2;
        return (word == known ? bits : b.words[word]) >> (n & ((1 << log2) - 1));
    }

    /// @dev Whether a word from {shifted} has its `kind` bit set.
    function has(uint256 shiftedBits, uint256 kind) internal pure returns (bool) {
        return (shiftedBits >> kind) & 1 != 0;
    }
}
