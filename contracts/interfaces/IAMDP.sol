// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IAMDP
 * @notice Errors of the AMDP (Authorized Multi-stage Distributed Protocol) packet checks in {AMDP}.
 * A refused packet is never executed; the ledger records the refusal with the error it got here.
 */
interface IAMDP {
    /// @notice The packet's declared `signer` is not the key the application reserved on the pipe.
    error AmdpSignerMismatch(address declared, address expected);

    /// @notice The stage-1 (application) signature does not recover to the reserved application key.
    error AmdpInvalidAppSignature(address recovered, address expected);

    /// @notice The stage-2 (cross-chain proxy) countersignature does not recover to the expected proxy key.
    error AmdpInvalidProxySignature(address recovered, address expected);

    /// @notice The signature of `stage` (1 = application, 2 = proxy) is not a 65-byte, low-s, recoverable signature.
    error AmdpMalformedSignature(uint8 stage);

    /// @notice The packet's deadline is before the current block time.
    error AmdpDeadlinePassed(uint64 deadline, uint256 now);

    /// @notice The packet's operation is neither 0 (read) nor 1 (write).
    error AmdpInvalidOperation(uint8 operation);

    /// @notice keccak256 of the carried payload is not the packet's declared `payloadHash`.
    error AmdpPayloadMismatch(bytes32 declared, bytes32 actual);
}
