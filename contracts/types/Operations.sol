// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Two different things are called "read" and "write", and they must not share names:
//  - an operation CODE says what one packet or step does (AMDP packets, ledger steps, the sub-chain gateway);
//  - operation FLAGS are the set of operations a pipe allows, one bit per code (`operationFlag(code)`).

/// @dev Operation code of a cross-chain read: the gateway forwards it with STATICCALL.
uint8 constant OPERATION_READ = 0;
/// @dev Operation code of a cross-chain write: the gateway forwards it with CALL.
uint8 constant OPERATION_WRITE = 1;
/// @dev Operation code of a ledger step that writes in two phases (prepare, then commit or roll back); its packet
/// carries OPERATION_WRITE.
uint8 constant OPERATION_TWO_PHASE_WRITE = 2;

/// @dev A pipe's operation flag that allows reads (`1 << OPERATION_READ`).
uint8 constant OPERATION_FLAG_READ = 1;
/// @dev A pipe's operation flag that allows writes (`1 << OPERATION_WRITE`).
uint8 constant OPERATION_FLAG_WRITE = 2;
/// @dev Every flag a pipe may hold.
uint8 constant OPERATION_FLAGS_ALL = 3; // OPERATION_FLAG_READ | OPERATION_FLAG_WRITE

/// @dev The flag a pipe needs for operation `code`; 0 for a code that is not an operation.
function operationFlag(uint8 code) pure returns (uint8) {
    return code > OPERATION_WRITE ? 0 : uint8(1) << code;
}
