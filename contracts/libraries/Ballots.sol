// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Ballots
/// @notice The votes on one proposal packed into one word, so a vote costs one warm SSTORE whatever the number
/// of institutions or proposals. Bits [0,127) hold the seats voting for, bits [128,255) the seats voting
/// against; bit 127 is set when the proposal is created so the first vote is not a zero-to-nonzero write.
library Ballots {
    uint8 internal constant MAX_SEATS = 127;
    uint256 internal constant CREATED = 1 << 127;
    uint256 internal constant SEAT_MASK = (1 << 127) - 1;

    /// @dev Whether `seat` has voted, either way.
    function hasVoted(uint256 ballots, uint8 seat) internal pure returns (bool) {
        return (ballots >> seat) & 1 == 1 || (ballots >> (uint256(seat) + 128)) & 1 == 1;
    }

    /// @dev Records `seat`'s vote.
    function cast(uint256 ballots, uint8 seat, bool support) internal pure returns (uint256) {
        return ballots | (1 << (support ? uint256(seat) : uint256(seat) + 128));
    }

    /// @dev The seats that voted for.
    function forSeats(uint256 ballots) internal pure returns (uint256) {
        return ballots & SEAT_MASK;
    }

    /// @dev The seats that voted against.
    function againstSeats(uint256 ballots) internal pure returns (uint256) {
        return (ballots >> 128) & SEAT_MASK;
    }

    /// @dev The number of set bits (SWAR population count, constant gas).
    function count(uint256 x) internal pure returns (uint256 c) {
        unchecked {
            x = x - ((x >> 1) & 0x5555555555555555555555555555555555555555555555555555555555555555);
            x =
                (x & 0x3333333333333333333333333333333333333333333333333333333333333333) +
                ((x >> 2) & 0x3333333333333333333333333333333333333333333333333333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
            c = (x * 0x0101010101010101010101010101010101010101010101010101010101010101) >> 248;
        }
    }
}
