// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {TxId} from "../types/Ids.sol";

/// @title OutcomeReports
/// @notice The packed reports of {ICreditScore-OutcomesReported}: one event a call instead of one a report, whose
/// topics and base cost (1,875 gas a report) were most of its price. Each report is `REPORT_BYTES` bytes:
/// institution (uint32), outcome (uint8), txId (bytes32), score before and after (uint32 each; scores are bounded
/// by the uint32 `maxScore`). `lib/domain/ledger-types.ts` decodes them.
library OutcomeReports {
    uint256 internal constant REPORT_BYTES = 45;

    /// @notice Room for `count` reports, filled by {put}.
    function alloc(uint256 count) internal pure returns (bytes memory out) {
        // 32 bytes of slack: each report's last word spills 28 bytes past its end.
        out = new bytes(count * REPORT_BYTES + 32);
        assembly ("memory-safe") {
            mstore(out, mul(count, REPORT_BYTES))
        }
    }

    /// @notice Writes report `i` into `out` (made by {alloc}).
    function put(
        bytes memory out,
        uint256 i,
        uint32 institution,
        ICreditScore.Outcome outcome,
        TxId txId,
        uint256 before,
        uint256 score
    ) internal pure {
        // Scores are clamped to maxScore (a uint32) before they get here.
        assembly ("memory-safe") {
            let p := add(add(out, 32), mul(i, REPORT_BYTES))
            mstore(p, shl(224, institution))
            mstore8(add(p, 4), outcome)
            mstore(add(p, 5), txId)
            mstore(add(p, 37), shl(224, before))
            mstore(add(p, 41), shl(224, score))
        }
    }
}
