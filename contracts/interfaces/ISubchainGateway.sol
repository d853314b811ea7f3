// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGatewayAttesters} from "./IGatewayAttesters.sol";
import {PipeId, TxId} from "../types/Ids.sol";

/**
 * @title ISubchainGateway
 * @notice The gateway deployed on every EVM sub-chain. Business contracts call {request} to start a cross-chain
 * read or write (the relayer listens for `CrossChainRequested`); the registered relayer calls {execute} to run an
 * inbound read or write on a business contract registered here by name, {compensate} to undo a write, and
 * {prepare} / {commit} / {rollback} for business contracts that opt in to two-phase transactions.
 *
 * Rules the gateway enforces:
 * - only accounts holding the relayer role call the inbound functions, and a business contract never holds a role;
 * - an inbound packet (execute, dependent write, two-phase prepare) also needs the attestations of `threshold`
 *   distinct current attesters over exactly its fields ({IGatewayAttesters}): the relayer role alone runs nothing;
 * - it only ever calls contracts the admin registered by name (never itself, never an address given by the
 *   relayer), and never with a blocklisted selector: the compensation and two-phase hooks, which only its own
 *   paths may call, and the usual access-control, ownership and upgrade functions;
 * - an inbound request is the packet `(pipeId, sequence)`: each executes at most once, in any order (gaps and
 *   late packets are accepted, so the relayer delivers a pipe's packets in the order the business needs). Its
 *   request id is derived, never chosen: {inboundRequestId}, so a request id also executes at most once;
 * - an inbound packet runs no later than its AMDP deadline (block timestamp <= deadline), so a late relayer cannot
 *   change the sub-chain after the ledger expired the transaction; compensation has no deadline;
 * - a business call that reverts is recorded (`success = false`, the packet consumed), not reverted, so the
 *   relayer can report it and the governance ledger can compensate; a write or compensation that ran out of the
 *   gas the relayer gave is refused instead (`SubchainGatewayInsufficientGas`), so an under-funded transaction
 *   can never turn into a recorded write failure. (A failed read is always recorded: it changed nothing.)
 * - a successful write is compensated at most once, on the contract it wrote to;
 * - a two-phase transaction holds its keys until it is committed or rolled back, and no later than its deadline:
 *   after it, the transaction cannot commit and anyone may roll it back ({rollbackExpired}).
 */
interface ISubchainGateway is IGatewayAttesters {
    /// @notice The fields of an inbound packet the ledger opened (with the call data, what attesters sign).
    struct InboundPacket {
        TxId txId; // the governance ledger's transaction id
        PipeId pipeId;
        uint64 sequence; // the packet's sequence on the pipe (from 1)
        uint64 deadline; // the packet's AMDP deadline (unix seconds)
        bytes32 contractName; // keccak256 of the business contract's name
        uint8 operation; // OPERATION_READ or OPERATION_WRITE
    }

    /// @notice What the gateway keeps about one executed inbound request.
    struct InboundRecord {
        address target; // the business contract called (zero: never executed)
        uint8 operation; // OPERATION_READ or OPERATION_WRITE
        bool success; // the business call returned without reverting
        bool compensated; // a compensation of this write succeeded
    }

    /// @notice The stages of a two-phase transaction on this sub-chain.
    enum TwoPhaseStatus {
        None,
        Prepared,
        Committed,
        RolledBack
    }

    // ---------------------------------------------------------------- errors

    /// @notice `caller` does not hold the relayer role.
    error SubchainGatewayUnauthorizedRelayer(address caller);
    /// @notice The constructor was given the zero address as admin.
    error SubchainGatewayInvalidAdmin(address admin);
    /// @notice The constructor was given a payload limit of zero or above `MAX_PAYLOAD_SIZE_CAP`.
    error SubchainGatewayInvalidPayloadLimit(uint256 limit);
    /// @notice A payload or calldata of `size` bytes is above the gateway's limit.
    error SubchainGatewayPayloadTooLarge(uint256 size, uint256 maxSize);
    /// @notice Calldata shorter than a function selector.
    error SubchainGatewayCallDataTooShort(uint256 length);
    /// @notice `operation` is neither OPERATION_READ nor OPERATION_WRITE.
    error SubchainGatewayInvalidOperation(uint8 operation);
    /// @notice The zero pipe id.
    error SubchainGatewayInvalidPipe(PipeId pipeId);
    /// @notice The sequence zero: a pipe's packets are numbered from 1.
    error SubchainGatewayInvalidSequence(PipeId pipeId, uint64 sequence);
    /// @notice The zero contract name.
    error SubchainGatewayInvalidContractName(bytes32 contractName);
    /// @notice No business contract is registered under `contractName`.
    error SubchainGatewayContractNotRegistered(bytes32 contractName);
    /// @notice `target` may never be a business contract: zero, the gateway itself, or a holder of a gateway role.
    error SubchainGatewayForbiddenTarget(address target);
    /// @notice `target` does not report `ICrossChainBusiness` through ERC-165.
    error SubchainGatewayNotBusinessContract(address target);
    /// @notice The gateway has made `maxRegistrations` registrations, the most its inbound records can name.
    error SubchainGatewayRegistryFull(uint256 maxRegistrations);
    /// @notice A gateway role cannot be granted to `account`, a registered business contract.
    error SubchainGatewayRoleForBusinessContract(address account);
    /// @notice `selector` is a hook or privileged function a cross-chain call may never reach.
    error SubchainGatewaySelectorBlocked(bytes32 contractName, bytes4 selector);
    /// @notice The packet `sequence` of `pipeId` was already executed (a replay).
    error SubchainGatewayRequestAlreadyExecuted(PipeId pipeId, uint64 sequence);
    /**
     * @notice The packet `sequence` of `pipeId` passed its `deadline` (unix seconds): the block time `nowTimestamp`
     * is after it, and the governance ledger expires (or has expired) its transaction. Nothing is consumed.
     */
    error SubchainGatewayPacketExpired(PipeId pipeId, uint64 sequence, uint64 deadline, uint256 nowTimestamp);
    /// @notice A reservation of `words` record words: it must be 1 to `maxWords`.
    error SubchainGatewayInvalidReservation(uint256 words, uint256 maxWords);
    /// @notice A business write or compensation ran out of the gas the relayer supplied; nothing is recorded.
    error SubchainGatewayInsufficientGas(bytes32 requestId);
    /// @notice The state under `key` changed since the read a dependent write relies on.
    error SubchainGatewayStaleRead(bytes32 contractName, bytes32 key, uint256 readVersion, uint256 currentVersion);
    /// @notice The packet `sequence` of `pipeId` was never executed here.
    error SubchainGatewayUnknownRequest(PipeId pipeId, uint64 sequence);
    /// @notice The packet `sequence` of `pipeId` was a read: there is nothing to compensate.
    error SubchainGatewayRequestNotWrite(PipeId pipeId, uint64 sequence);
    /// @notice The write `sequence` of `pipeId` failed (or is still running): there is nothing to compensate.
    error SubchainGatewayRequestFailed(PipeId pipeId, uint64 sequence);
    /// @notice The write `sequence` of `pipeId` was already compensated.
    error SubchainGatewayAlreadyCompensated(PipeId pipeId, uint64 sequence);
    /// @notice The business contract `target` registered as `contractName` does not implement `ITwoPhaseBusiness`.
    error SubchainGatewayTwoPhaseUnsupported(bytes32 contractName, address target);
    /// @notice The zero two-phase transaction id.
    error SubchainGatewayInvalidTxId(TxId txId);
    /// @notice A two-phase `deadline` must be after `currentTime` and at most `maxDeadline` (currentTime plus
    /// MAX_TWO_PHASE_DURATION).
    error SubchainGatewayInvalidTxDeadline(uint64 deadline, uint256 currentTime, uint256 maxDeadline);
    /// @notice A two-phase transaction `txId` was already prepared here.
    error SubchainGatewayTxExists(TxId txId);
    /// @notice No two-phase transaction `txId` was prepared here.
    error SubchainGatewayTxUnknown(TxId txId);
    /// @notice The two-phase transaction `txId` is finished (`status`), it can be neither committed nor rolled back.
    error SubchainGatewayTxNotPrepared(TxId txId, TwoPhaseStatus status);
    /// @notice The two-phase transaction `txId` passed its `deadline` plus the grace: it can only be rolled back.
    error SubchainGatewayTxExpired(TxId txId, uint64 deadline);
    /// @notice The two-phase transaction `txId` has not passed its `deadline` plus the grace: only a relayer may roll
    /// it back.
    error SubchainGatewayTxNotExpired(TxId txId, uint64 deadline);
    /// @notice `key` of `target` is locked by the prepared two-phase transaction `holderTxId`.
    error SubchainGatewayKeyLocked(address target, bytes32 key, TxId holderTxId);
    /// @notice A prepare reported `count` keys, above the limit `maxKeys`.
    error SubchainGatewayTooManyKeys(uint256 count, uint256 maxKeys);

    // ---------------------------------------------------------------- events

    /// @notice `admin` registered `target` as version `version` of `contractName`.
    event BusinessContractRegistered(
        bytes32 indexed contractName,
        address indexed target,
        uint64 version,
        address indexed admin
    );

    /// @notice `contractName` (last pointing at `target`) is no longer reachable cross-chain.
    event BusinessContractUnregistered(bytes32 indexed contractName, address indexed target, address indexed admin);

    /// @notice `sender` asked for a cross-chain `operation` on the remote `contractName` through `pipeId`.
    event CrossChainRequested(
        bytes32 indexed requestId,
        PipeId indexed pipeId,
        address indexed sender,
        bytes32 contractName,
        uint8 operation,
        bytes payload,
        uint64 nonce
    );

    /**
     * @notice The inbound packet `sequence` of `pipeId`, request id `requestId` ({inboundRequestId}), ran on
     * `target`. `resultHash` is keccak256 of the return data (of the revert data when `success` is false);
     * `stateVersion` is the target's contract-wide state version after it.
     */
    event InboundExecuted(
        bytes32 indexed requestId,
        PipeId indexed pipeId,
        uint64 sequence,
        address indexed target,
        uint8 operation,
        bool success,
        bytes32 resultHash,
        uint256 stateVersion
    );

    /// @notice The bytes behind `resultHash`, for every read and every failed write (a relayer reports them).
    event ReturnDataRecorded(bytes32 indexed requestId, bytes returnData);

    /**
     * @notice The dependent write `requestId` passed its stale-read check: the target's `stateVersion(versionKey)`
     * was `readVersion`, the version its read saw. A verifier ties the recorded versions to this.
     */
    event DependentWriteChecked(bytes32 indexed requestId, bytes32 indexed versionKey, uint256 readVersion);

    /**
     * @notice `relayer` paid ahead for `words` record words of `pipeId` from `firstWord` on: the records of sequences
     * `firstWord * RECORDS_PER_WORD` to `(firstWord + words) * RECORDS_PER_WORD - 1`.
     */
    event InboundRecordsReserved(PipeId indexed pipeId, uint256 firstWord, uint256 words, address indexed relayer);

    /**
     * @notice A compensation of the write `requestId` (packet `sequence` of `pipeId`) on `target` ran; on failure
     * `returnData` is the revert data.
     */
    event Compensated(
        bytes32 indexed requestId,
        PipeId indexed pipeId,
        uint64 sequence,
        address indexed target,
        bool success,
        bytes returnData
    );

    /// @notice The two-phase transaction `txId` staged a write on `target`, locking `keys` until `deadline`.
    event TwoPhasePrepared(
        TxId indexed txId,
        PipeId indexed pipeId,
        address indexed target,
        bytes32 contractName,
        bytes32[] keys,
        uint64 deadline
    );

    /// @notice The two-phase transaction `txId` applied its write; `stateVersion` is the target's version after it.
    event TwoPhaseCommitted(TxId indexed txId, address indexed target, uint256 stateVersion);

    /// @notice `caller` (a relayer, or anyone after the deadline) discarded the staged write of `txId`.
    event TwoPhaseRolledBack(TxId indexed txId, address indexed target, address indexed caller);

    // ---------------------------------------------------------------- admin

    /**
     * @notice Registers `target` as the next version of `contractName` (the previous version, if any, is no longer
     * called). Admin only. `target` must report `ICrossChainBusiness` through ERC-165 and hold no gateway role.
     * @param contractName keccak256 of the business contract's name.
     * @param target The business contract.
     * @return version The version number of this registration (1 for the first).
     */
    function registerContract(bytes32 contractName, address target) external returns (uint64 version);

    /**
     * @notice Makes `contractName` unreachable cross-chain. Admin only. Earlier writes can still be compensated
     * and prepared two-phase transactions still finish on the contract they were run on.
     * @param contractName keccak256 of the business contract's name.
     */
    function unregisterContract(bytes32 contractName) external;

    // ---------------------------------------------------------------- outbound

    /**
     * @notice Starts a cross-chain `operation` on the remote business contract `contractName` through `pipeId`.
     * Anyone may call; the caller is recorded as the requesting contract. The relayer picks the event up.
     * @param pipeId The governance-chain pipe the request travels on.
     * @param contractName keccak256 of the remote business contract's name.
     * @param operation OPERATION_READ or OPERATION_WRITE.
     * @param payload The calldata for the remote business contract (selector first), at most `maxPayloadSize()`.
     * @return requestId keccak256(abi.encode(chainid, gateway, nonce)).
     */
    function request(
        PipeId pipeId,
        bytes32 contractName,
        uint8 operation,
        bytes calldata payload
    ) external returns (bytes32 requestId);

    // ---------------------------------------------------------------- inbound

    /**
     * @notice Runs the inbound packet `packet.sequence` of `packet.pipeId`: a read (STATICCALL) or write (CALL) on
     * the business contract registered as `packet.contractName`, with `data` followed by the 32-byte request id
     * `inboundRequestId(pipeId, sequence)`. Relayer only, with `threshold` attestations of current attesters over
     * the packet and `data` ({attestationDigest}). A reverting business call is recorded with `success = false`; the
     * packet is consumed either way and can never run again. A packet past its `deadline` is refused
     * (`SubchainGatewayPacketExpired`, nothing consumed): the gateway is the last guard against a late relayer
     * changing the sub-chain after the ledger expired the transaction. A replay is refused as such
     * (`SubchainGatewayRequestAlreadyExecuted`) also after the deadline.
     * @param packet The packet's fields: txId, pipe, sequence (from 1; each executes at most once, in any order),
     * AMDP deadline (the last block timestamp it may run at), contract name, operation.
     * @param data The business calldata (selector first); its keccak256 is the packet's payload hash.
     * @param attestations Concatenated 65-byte attester signatures over the packet.
     * @return success Whether the business call succeeded.
     * @return result The business call's return data (revert data on failure).
     */
    function execute(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) external returns (bool success, bytes memory result);

    /**
     * @notice As {execute} for a write (`packet.operation` must be OPERATION_WRITE) that depends on an earlier
     * read: refuses it with `SubchainGatewayStaleRead` (consuming nothing) when the target's
     * `stateVersion(versionKey)` is no longer `readVersion`, the version the read saw. Refused past the deadline and
     * without attestations as {execute}.
     * @param packet The packet's fields, as {execute}.
     * @param data The business calldata (selector first).
     * @param versionKey The business key the read depended on (zero: the whole contract).
     * @param readVersion The state version the read saw.
     * @param attestations Concatenated 65-byte attester signatures over the packet.
     * @return success Whether the business call succeeded.
     * @return result The business call's return data (revert data on failure).
     */
    function executeDependentWrite(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes32 versionKey,
        uint256 readVersion,
        bytes calldata attestations
    ) external returns (bool success, bytes memory result);

    /**
     * @notice Undoes the successful write of packet `sequence` of `pipeId` by calling `compensate(requestId)` on
     * the contract it wrote to. Relayer only. A reverting compensation is recorded (`success = false`) and may be
     * retried; a successful one happens at most once. No deadline applies: undoing a write after the transaction
     * expired is what compensation is for.
     * @param pipeId The pipe of the write to undo.
     * @param sequence The sequence of the write to undo.
     * @return success Whether the business contract undid the write.
     */
    function compensate(PipeId pipeId, uint64 sequence) external returns (bool success);

    /**
     * @notice Pays ahead, outside the delivery path, for the storage words that will hold the records of `pipeId`
     * from `fromSequence` on (`RECORDS_PER_WORD` sequences per word), so that executing those packets only updates
     * existing storage. Relayer only. Changes no record; reserving a word twice is harmless.
     * @param pipeId The pipe.
     * @param fromSequence A sequence held by the first word to reserve.
     * @param words How many consecutive words to reserve (1 to `MAX_RESERVED_WORDS`).
     */
    function reserveInboundRecords(PipeId pipeId, uint64 fromSequence, uint256 words) external;

    // ---------------------------------------------------------------- two-phase

    /**
     * @notice Stages the write `data` on the two-phase business contract `packet.contractName` for the ledger's
     * transaction `packet.txId` and locks the keys it reports until the transaction ends, at the latest at
     * `packet.deadline`. Relayer only, with `threshold` attestations of current attesters over the packet (its
     * operation must be OPERATION_WRITE). A business refusal reverts the whole prepare.
     * @param packet The packet's fields; its txId is the two-phase transaction id (at most once) and its deadline
     * the last second (block timestamp) it may be prepared: after now, at most `MAX_TWO_PHASE_DURATION` ahead. It
     * may commit until the deadline plus `TWO_PHASE_GRACE`; after that anyone may roll it back.
     * @param data The calldata of the business write to stage.
     * @param attestations Concatenated 65-byte attester signatures over the packet.
     * @return keys The keys locked for `packet.txId`.
     */
    function prepare(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) external returns (bytes32[] memory keys);

    /**
     * @notice Applies the write staged for `txId` and releases its locks. Relayer only, until the deadline plus
     * `TWO_PHASE_GRACE` (the ledger decides to commit before the deadline; the grace lets each side carry it out).
     * @param txId A prepared two-phase transaction.
     */
    function commit(TxId txId) external;

    /**
     * @notice Discards the write staged for `txId` and releases its locks. Relayer only (at any time).
     * @param txId A prepared two-phase transaction.
     */
    function rollback(TxId txId) external;

    /**
     * @notice As {rollback}, by anyone, once `txId` passed its deadline plus `TWO_PHASE_GRACE`: releases the locks
     * of a transaction its relayer left unfinished, so no lock outlives deadline + grace.
     * @param txId A prepared two-phase transaction past its deadline plus the grace.
     */
    function rollbackExpired(TxId txId) external;

    // ---------------------------------------------------------------- views

    /// @notice The largest payload `request`, `execute` and `prepare` accept, in bytes.
    function maxPayloadSize() external view returns (uint256);

    /// @notice The number of outbound requests made so far (the nonce of the last one).
    function outboundNonce() external view returns (uint64);

    /**
     * @notice The business contract currently registered as `contractName` and its version.
     * @return target The contract (zero when unregistered).
     * @return version The number of registrations of `contractName` so far.
     */
    function businessContract(bytes32 contractName) external view returns (address target, uint64 version);

    /// @notice The contract registered as `version` of `contractName` (zero when there is no such version).
    function businessContractAt(bytes32 contractName, uint64 version) external view returns (address);

    /**
     * @notice The request id of the inbound packet `sequence` of `pipeId`: what the business contract receives
     * and `InboundExecuted` carries. keccak256(abi.encode(chainid, gateway, pipeId, sequence)).
     */
    function inboundRequestId(PipeId pipeId, uint64 sequence) external view returns (bytes32);

    /// @notice What was recorded for the inbound packet `sequence` of `pipeId` (a zero target: never executed).
    function inboundRecord(PipeId pipeId, uint64 sequence) external view returns (InboundRecord memory);

    /**
     * @notice The two-phase transaction `txId`.
     * @return target The business contract it runs on.
     * @return status Its stage.
     * @return deadline Its packet's deadline; it may commit until deadline + grace, after which anyone rolls it back.
     * @return keys The keys it locked (held while Prepared).
     */
    function twoPhaseTx(
        TxId txId
    ) external view returns (address target, TwoPhaseStatus status, uint64 deadline, bytes32[] memory keys);

    /// @notice The prepared two-phase transaction holding `key` of `target`, zero when the key is free.
    function lockHolder(address target, bytes32 key) external view returns (TxId txId);

    /// @notice Whether a cross-chain call may never use `selector` (hooks and privileged functions).
    function isSelectorBlocked(bytes4 selector) external pure returns (bool);
}
