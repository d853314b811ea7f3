// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {PipeId} from "../types/Ids.sol";

/// @dev Test-only: measures what {IPipeAuthority.checkOperation} costs a calling contract. The figure is the gas
/// between two `gasleft()` reads around the call: the call itself (cold account and cold slots when it is the
/// first touch of the transaction), argument encoding and result decoding, as a ledger contract would pay.
contract PipeCheckProbe {
    event Measured(IPipeAuthority.Refusal reason, uint256 cold, uint256 warm);

    /// @notice Calls the check twice: once cold, once warm, and reports both.
    function measure(
        IPipeAuthority authority,
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external returns (IPipeAuthority.Refusal reason, uint256 cold, uint256 warm) {
        uint256 start = gasleft();
        reason = authority.checkOperation(pipeId, signer, operation, selector);
        cold = start - gasleft();
        start = gasleft();
        authority.checkOperation(pipeId, signer, operation, selector);
        warm = start - gasleft();
        emit Measured(reason, cold, warm);
    }

    /// @notice The probe's own overhead: the same two reads around nothing.
    function baseline() external view returns (uint256 overhead) {
        uint256 start = gasleft();
        overhead = start - gasleft();
    }
}
