// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAMDP} from "../interfaces/IAMDP.sol";
import {OPERATION_WRITE} from "../types/Operations.sol";
import {PipeId, TxId} from "../types/Ids.sol";

/**
 * @title AMDP
 * @notice EIP-712 hashing and the full-sequence signature check of AMDP packets (white paper 2.4).
 *
 * Domain: name "CCGP-AMDP", version "1", the governance chain's id and its transaction ledger's address.
 * Stage 1: the application signs a {Packet} with the key it reserved on the pipe.
 * Stage 2: the initiator's cross-chain proxy signs a `Countersignature` over the packet's struct hash and the
 * keccak256 of the exact stage-1 signature bytes, so a countersignature cannot be moved to another stage-1
 * signature and a wrong stage order is detected.
 *
 * Replay (sequence, duplicates) is the ledger's job: {verifySequence} returns the packet's struct hash, which
 * identifies the packet, and the packet carries `pipeId`, `txId` and `sequence`.
 */
library AMDP {
    /// @dev Every field is a static value type, so `abi.encode(PACKET_TYPEHASH, p)` is exactly EIP-712 `encodeData`.
    struct Packet {
        PipeId pipeId;
        uint32 sourceInstitution;
        uint32 targetInstitution;
        bytes32 targetService;
        bytes32 contractName;
        uint8 operation;
        bytes4 selector;
        bytes32 payloadHash;
        TxId txId;
        uint64 sequence;
        uint64 deadline;
        address signer;
    }

    bytes32 internal constant PACKET_TYPEHASH = keccak256(
        "Packet(bytes32 pipeId,uint32 sourceInstitution,uint32 targetInstitution,bytes32 targetService,"
        "bytes32 contractName,uint8 operation,bytes4 selector,bytes32 payloadHash,bytes32 txId,uint64 sequence,"
        "uint64 deadline,address signer)"
    );

    bytes32 internal constant COUNTERSIGNATURE_TYPEHASH = keccak256(
        "Countersignature(bytes32 packetHash,bytes32 appSignatureHash,address signer)"
    );

    uint8 internal constant STAGE_APP = 1;
    uint8 internal constant STAGE_PROXY = 2;

    /// @notice EIP-712 struct hash of a packet held in memory.
    function hash(Packet memory p) internal pure returns (bytes32) {
        return keccak256(abi.encode(PACKET_TYPEHASH, p));
    }

    /// @notice EIP-712 struct hash of a packet held in calldata (copied once, no per-field reads).
    function hashCalldata(Packet calldata p) internal pure returns (bytes32) {
        return keccak256(abi.encode(PACKET_TYPEHASH, p));
    }

    /// @notice EIP-712 struct hash of the stage-2 countersignature.
    function countersignatureHash(
        bytes32 packetHash,
        bytes32 appSignatureHash,
        address signer
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(COUNTERSIGNATURE_TYPEHASH, packetHash, appSignatureHash, signer));
    }

    /**
     * @notice Checks the whole signature sequence of a packet: the declared signer is `expectedApp`, the
     * operation is known, the deadline has not passed, the stage-1 signature is `expectedApp`'s over the packet,
     * and the stage-2 signature is `expectedProxy`'s over (packet, exact stage-1 signature bytes).
     * @dev Reverts with the {IAMDP} errors. Signatures must be 65 bytes r||s||v with low s (OpenZeppelin ECDSA).
     * @return packetHash The packet's EIP-712 struct hash, for the ledger's replay and duplicate checks.
     */
    function verifySequence(
        bytes32 domainSeparator,
        Packet calldata p,
        bytes calldata appSig,
        bytes calldata proxySig,
        address expectedApp,
        address expectedProxy
    ) internal view returns (bytes32 packetHash) {
        if (p.operation > OPERATION_WRITE) revert IAMDP.AmdpInvalidOperation(p.operation);
        if (p.signer != expectedApp) revert IAMDP.AmdpSignerMismatch(p.signer, expectedApp);
        if (block.timestamp > p.deadline) revert IAMDP.AmdpDeadlinePassed(p.deadline, block.timestamp);

        packetHash = hashCalldata(p);
        address app = _recover(MessageHashUtils.toTypedDataHash(domainSeparator, packetHash), appSig, STAGE_APP);
        if (app != expectedApp) revert IAMDP.AmdpInvalidAppSignature(app, expectedApp);

        bytes32 counterHash = countersignatureHash(packetHash, keccak256(appSig), expectedProxy);
        address proxy = _recover(MessageHashUtils.toTypedDataHash(domainSeparator, counterHash), proxySig, STAGE_PROXY);
        if (proxy != expectedProxy) revert IAMDP.AmdpInvalidProxySignature(proxy, expectedProxy);
    }

    /// @notice Checks that `payload` is the data the packet declares (keccak256(payload) == p.payloadHash).
    function verifyPayload(Packet calldata p, bytes calldata payload) internal pure {
        bytes32 actual = keccak256(payload);
        if (actual != p.payloadHash) revert IAMDP.AmdpPayloadMismatch(p.payloadHash, actual);
    }

    /// @dev Any ECDSA error (length, high s, unrecoverable) is a malformed signature of that stage.
    function _recover(bytes32 digest, bytes calldata signature, uint8 stage) private pure returns (address) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError) revert IAMDP.AmdpMalformedSignature(stage);
        return recovered;
    }
}
