// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title LedgerSteps
 * @notice The packed step list of a ledger transaction and the bit masks over its steps.
 * @dev Step i takes bits [5i, 5i + 5): bit 0 the side (1 = target), bit 1 write, bits 2-4 the index of the read it
 * depends on plus one (0 = none). Eight steps fit in 40 bits. Step indexes are below MAX_STEPS, so the bit
 * arithmetic is unchecked. Bit 39 (`TWO_PHASE`) marks a two-phase transaction, which has at most seven steps (so
 * bit 39 is free).
 */
library LedgerSteps {
    uint256 internal constant MAX_STEPS = 8;
    /// @dev Marks a two-phase transaction: the top bit of step 7, so a two-phase transaction has at most 7 steps
    /// (with 8 steps the bit is step 7's dependency).
    uint256 internal constant TWO_PHASE = 1 << 39;
    /// @dev `dependsOn` of a step without dependency.
    uint256 internal constant NONE = type(uint256).max;

    uint256 private constant BITS = 5;

    function withStep(
        uint256 encoded,
        uint256 i,
        bool target,
        bool write,
        uint256 dependsOn_
    ) internal pure returns (uint256) {
        uint256 code = (target ? 1 : 0) | (write ? 2 : 0) | (dependsOn_ == NONE ? 0 : (dependsOn_ + 1) << 2);
        unchecked {
            return encoded | (code << (BITS * i));
        }
    }

    function isTarget(uint256 encoded, uint256 i) internal pure returns (bool) {
        unchecked {
            return (encoded >> (BITS * i)) & 1 == 1;
        }
    }

    function isWrite(uint256 encoded, uint256 i) internal pure returns (bool) {
        unchecked {
            return (encoded >> (BITS * i + 1)) & 1 == 1;
        }
    }

    /// @dev The index of the read step `i` depends on, or NONE.
    function dependsOn(uint256 encoded, uint256 i) internal pure returns (uint256) {
        unchecked {
            uint256 dep = (encoded >> (BITS * i + 2)) & 7;
            return dep == 0 ? NONE : dep - 1;
        }
    }

    /// @dev Bit i set for every write step among the first `count`.
    function writeMask(uint256 encoded, uint256 count) internal pure returns (uint256 mask) {
        unchecked {
            for (uint256 i = 0; i < count; ++i) {
                if (isWrite(encoded, i)) mask |= 1 << i;
            }
        }
    }

    /// @dev Whether a step among the first `count` depends on read `step`.
    function isDepended(uint256 encoded, uint256 count, uint256 step) internal pure returns (bool) {
        unchecked {
            for (uint256 i = step + 1; i < count; ++i) {
                if ((encoded >> (BITS * i + 2)) & 7 == step + 1) return true;
            }
        }
        return false;
    }

    /// @dev The lowest step some later step depends on, or NONE.
    function firstDepended(uint256 encoded, uint256 count) internal pure returns (uint256) {
        uint256 first = 8;
        unchecked {
            for (uint256 i = 0; i < count; ++i) {
                uint256 dep = (encoded >> (BITS * i + 2)) & 7;
                if (dep != 0 && dep - 1 < first) first = dep - 1;
            }
        }
        return first == 8 ? NONE : first;
    }

    /// @dev Bits 0 to count - 1.
    function isTwoPhase(uint256 encoded, uint256 count) internal pure returns (bool) {
        return count < MAX_STEPS && encoded & TWO_PHASE != 0;
    }

    function allSteps(uint256 count) internal pure returns (uint256) {
        return (1 << count) - 1;
    }

    /// @dev The lowest index below `n` whose bit is clear in `mask`, or `n` when there is none.
    function lowestUnset(uint256 mask, uint256 n) internal pure returns (uint256 i) {
        while (i < n && (mask >> i) & 1 == 1) ++i;
    }

    function popcount(uint256 mask) internal pure returns (uint8 n) {
        while (mask != 0) {
            mask &= mask - 1;
            ++n;
        }
    }
}
