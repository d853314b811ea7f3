// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Ids that are all bytes32 on the wire but must never stand in for one another. They are user-defined value types,
// so the ABI still says bytes32 (clients and the generated bindings see no change) while the compiler refuses a
// sub-chain id where a pipe id belongs.

/// @dev A pipe: keccak256(chain id, the pipe registry, the pipe's number).
type PipeId is bytes32;

/// @dev A sub-chain, as registered in the chain registry.
type SubchainId is bytes32;

/// @dev A cross-chain transaction: the governance ledger's id, which its gateways, attesters and the credit score
/// also key on.
type TxId is bytes32;

using {txIdEquals as ==, txIdDiffers as !=} for TxId global;

/// @dev Compares two transaction ids (the `==` operator on {TxId}).
function txIdEquals(TxId a, TxId b) pure returns (bool) {
    return TxId.unwrap(a) == TxId.unwrap(b);
}

/// @dev The `!=` operator on {TxId}.
function txIdDiffers(TxId a, TxId b) pure returns (bool) {
    return TxId.unwrap(a) != TxId.unwrap(b);
}

/// @dev The zero id, which no transaction has.
TxId constant NO_TX = TxId.wrap(0);

using {pipeIdEquals as ==, pipeIdDiffers as !=} for PipeId global;

/// @dev Compares two pipe ids (the `==` operator on {PipeId}).
function pipeIdEquals(PipeId a, PipeId b) pure returns (bool) {
    return PipeId.unwrap(a) == PipeId.unwrap(b);
}

/// @dev The `!=` operator on {PipeId}.
function pipeIdDiffers(PipeId a, PipeId b) pure returns (bool) {
    return PipeId.unwrap(a) != PipeId.unwrap(b);
}

using {subchainIdEquals as ==, subchainIdDiffers as !=} for SubchainId global;

/// @dev Compares two sub-chain ids (the `==` operator on {SubchainId}).
function subchainIdEquals(SubchainId a, SubchainId b) pure returns (bool) {
    return SubchainId.unwrap(a) == SubchainId.unwrap(b);
}

/// @dev The `!=` operator on {SubchainId}.
function subchainIdDiffers(SubchainId a, SubchainId b) pure returns (bool) {
    return SubchainId.unwrap(a) != SubchainId.unwrap(b);
}

/// @dev The zero sub-chain id, which no registered sub-chain has.
SubchainId constant NO_SUBCHAIN = SubchainId.wrap(0);

/// @dev The zero pipe id, which no pipe has.
PipeId constant NO_PIPE = PipeId.wrap(0);
