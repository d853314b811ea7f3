// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {PipeId, TxId} from "../types/Ids.sol";

/**
 * @title IDrugTraceability
 * @notice Joint traceability of drug batches across sub-chains (white paper 5.2): a manufacturer records a batch on
 * its chain, and custody continues on other chains through cross-chain writes made by the gateway. Custody written
 * by an inbound request can be compensated (undone) while it is the batch's last step; custody can also be
 * continued through a two-phase transaction (prepare / commit / rollback), which locks the batch meanwhile.
 */
interface IDrugTraceability {
    /// @notice A batch recorded on this chain.
    struct Batch {
        address manufacturer;
        uint64 recordedAt;
        bytes32 dataHash;
    }

    /// @notice One custody step; `requestId` is the inbound request (or two-phase transaction) that wrote it, zero
    /// for a local step.
    struct CustodyStep {
        address custodian;
        uint64 timestamp;
        bytes32 dataHash;
        bytes32 requestId;
    }

    /// @notice The zero batch id.
    error DrugTraceabilityInvalidBatch(bytes32 batchId);
    /// @notice The zero address as manufacturer or custodian.
    error DrugTraceabilityInvalidParty(address party);
    /// @notice The batch was already recorded here.
    error DrugTraceabilityBatchExists(bytes32 batchId);
    /// @notice Nothing is known here about the batch (neither recorded nor in custody).
    error DrugTraceabilityUnknownBatch(bytes32 batchId);
    /// @notice The batch is locked by the prepared two-phase transaction `txId`.
    error DrugTraceabilityBatchLocked(bytes32 batchId, TxId txId);
    /// @notice The step written by `requestId` is no longer the batch's last one: undoing it needs a person.
    error DrugTraceabilityStepNotLast(bytes32 batchId, bytes32 requestId);
    /// @notice No custody step `index` for the batch.
    error DrugTraceabilityStepOutOfRange(bytes32 batchId, uint256 index);

    /// @notice `manufacturer` produced the batch described by `dataHash`.
    event BatchRecorded(bytes32 indexed batchId, address indexed manufacturer, bytes32 dataHash);
    /// @notice Custody step `index` of the batch went to `custodian` (`requestId` zero: a local step).
    event CustodyContinued(
        bytes32 indexed batchId,
        address indexed custodian,
        bytes32 indexed requestId,
        bytes32 dataHash,
        uint256 index
    );
    /// @notice The custody step `index` written by `requestId` was undone.
    event CustodyCompensated(bytes32 indexed batchId, bytes32 indexed requestId, uint256 index);
    /// @notice The two-phase transaction `txId` staged a custody step of the batch for `custodian`.
    event CustodyStaged(TxId indexed txId, bytes32 indexed batchId, address indexed custodian, bytes32 dataHash);
    /// @notice The custody step staged by `txId` was discarded.
    event CustodyStageDiscarded(TxId indexed txId, bytes32 indexed batchId);
    /// @notice A custodian here asked, through `pipeId`, for the batch's custody to continue on another chain.
    event CustodyTransferRequested(
        bytes32 indexed batchId,
        bytes32 indexed requestId,
        address indexed nextCustodian,
        PipeId pipeId
    );

    /**
     * @notice Records a batch produced by `manufacturer`. MANUFACTURER_ROLE only.
     * @param batchId The batch id.
     * @param manufacturer The manufacturer's account.
     * @param dataHash Hash of the batch's off-chain data.
     */
    function recordBatch(bytes32 batchId, address manufacturer, bytes32 dataHash) external;

    /**
     * @notice Records a local custody step. CUSTODIAN_ROLE only.
     * @param batchId The batch id.
     * @param custodian The new custodian.
     * @param dataHash Hash of the step's data (location, conditions ...).
     */
    function recordCustody(bytes32 batchId, address custodian, bytes32 dataHash) external;

    /**
     * @notice Cross-chain entry point: records a custody step written by the inbound request the gateway appended.
     * Gateway only.
     * @param batchId The batch id.
     * @param custodian The new custodian.
     * @param dataHash Hash of the step's data (location, conditions ...).
     */
    function continueCustody(bytes32 batchId, address custodian, bytes32 dataHash) external;

    /**
     * @notice Asks the gateway for a cross-chain write that continues the batch's custody on the chain behind
     * `pipeId`. CUSTODIAN_ROLE only; the batch must be known here.
     * @param pipeId The pipe to the other chain.
     * @param remoteContractName keccak256 of the traceability contract's name on the other chain.
     * @param batchId The batch id.
     * @param nextCustodian The custodian on the other chain.
     * @param dataHash Hash of the step's data.
     * @return requestId The gateway's request id.
     */
    function requestCustodyTransfer(
        PipeId pipeId,
        bytes32 remoteContractName,
        bytes32 batchId,
        address nextCustodian,
        bytes32 dataHash
    ) external returns (bytes32 requestId);

    /// @notice The batch as recorded here (zero fields when it was recorded on another chain).
    function batch(bytes32 batchId) external view returns (Batch memory);

    /// @notice The number of custody steps of the batch here.
    function custodyLength(bytes32 batchId) external view returns (uint256);

    /// @notice Custody step `index` of the batch.
    function custodyStep(bytes32 batchId, uint256 index) external view returns (CustodyStep memory);

    /// @notice The batch's custody as a versioned read: a write that depends on it names the batch id as its
    /// version key, and is refused as stale when `version` moved since (any change of the batch or its custody).
    /// @return length the number of custody steps here
    /// @return lastCustodian the custodian of the last step (zero when none)
    /// @return version `stateVersion(batchId)`
    function custodyState(
        bytes32 batchId
    ) external view returns (uint256 length, address lastCustodian, uint256 version);
}
