// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {PipeId} from "../types/Ids.sol";

/**
 * @title IEvidenceDeposit
 * @notice Wide-area evidence deposit (white paper 5.3): evidence hashes deposited on one chain, locally or through a
 * cross-chain write, and verified from another chain through a cross-chain read of `verify`. A cross-chain deposit
 * can be compensated (removed) by the request that made it.
 */
interface IEvidenceDeposit {
    /// @notice A deposited evidence; `version` moves on every change, including removal by compensation.
    struct Evidence {
        address depositor;
        uint64 timestamp;
        uint32 version;
        bytes32 metaHash;
    }

    /// @notice The zero evidence hash.
    error EvidenceDepositInvalidHash(bytes32 evidenceHash);
    /// @notice The zero address as depositor.
    error EvidenceDepositInvalidDepositor(address depositor);
    /// @notice The evidence was already deposited by `depositor`.
    error EvidenceDepositAlreadyDeposited(bytes32 evidenceHash, address depositor);

    /// @notice `depositor` deposited the evidence (`requestId` zero: a local deposit).
    event EvidenceDeposited(
        bytes32 indexed evidenceHash,
        address indexed depositor,
        bytes32 indexed requestId,
        bytes32 metaHash
    );
    /// @notice The deposit made by `requestId` was removed by compensation.
    event EvidenceDepositCompensated(bytes32 indexed evidenceHash, bytes32 indexed requestId);
    /// @notice `requester` asked, through `pipeId`, for the evidence to be verified on another chain.
    event RemoteVerificationRequested(
        bytes32 indexed evidenceHash,
        bytes32 indexed requestId,
        address indexed requester,
        PipeId pipeId
    );

    /**
     * @notice Deposits evidence as the caller. DEPOSITOR_ROLE only.
     * @param evidenceHash Hash of the evidence.
     * @param metaHash Hash of its metadata.
     */
    function deposit(bytes32 evidenceHash, bytes32 metaHash) external;

    /**
     * @notice Cross-chain entry point: deposits evidence for `depositor` (an account on the requesting chain),
     * tagged with the request id the gateway appended. Gateway only.
     * @param evidenceHash Hash of the evidence.
     * @param depositor The depositor on the requesting chain.
     * @param metaHash Hash of its metadata.
     */
    function depositCrossChain(bytes32 evidenceHash, address depositor, bytes32 metaHash) external;

    /**
     * @notice Asks the gateway for a cross-chain read of `verify(evidenceHash)` on the chain behind `pipeId`.
     * @param pipeId The pipe to the other chain.
     * @param remoteContractName keccak256 of the evidence contract's name on the other chain.
     * @param evidenceHash Hash of the evidence.
     * @return requestId The gateway's request id.
     */
    function requestRemoteVerification(
        PipeId pipeId,
        bytes32 remoteContractName,
        bytes32 evidenceHash
    ) external returns (bytes32 requestId);

    /**
     * @notice Whether the evidence is deposited here, by whom and when (the cross-chain read).
     * @param evidenceHash Hash of the evidence.
     * @return exists Whether it is deposited.
     * @return depositor The depositor (zero when it is not).
     * @return timestamp The deposit time (zero when it is not).
     */
    function verify(bytes32 evidenceHash) external view returns (bool exists, address depositor, uint64 timestamp);

    /// @notice The full record of the evidence.
    function evidence(bytes32 evidenceHash) external view returns (Evidence memory);
}
