// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @dev `operation` value of a cross-chain read: the gateway forwards it with STATICCALL.
uint8 constant OPERATION_READ = 0;
/// @dev `operation` value of a cross-chain write: the gateway forwards it with CALL.
uint8 constant OPERATION_WRITE = 1;

/**
 * @title ISubchainGateway
 * @notice The gateway deployed on every EVM sub-chain. Business contracts call {request} to start a cross-chain
 * read or write (the relayer listens for `CrossChainRequested`); the registered relayer calls {execute} to run an
 * inbound read or write on a business contract registered here by name, {compensate} to undo a write, and
 * {prepare} / {commit} / {rollback} for business contracts that opt in to two-phase transactions.
 *
 * Rules the gateway enforces:
 * - only accounts holding the relayer role call the inbound functions;
 * - it only ever calls contracts the admin registered by name (never itself, never an address given by the
 *   relayer), and never with a blocklisted selector: the compensation and two-phase hooks, which only its own
 *   paths may call, and the usual access-control, ownership and upgrade functions;
 * - each request id executes at most once, and on each pipe the sequence strictly increases (gaps are allowed,
 *   so the relayer must deliver a pipe's packets in order);
 * - a business call that reverts is recorded (`success = false`, the request id consumed), not reverted, so the
 *   relayer can report it and the governance ledger can compensate; a write or compensation that ran out of the
 *   gas the relayer gave is refused instead (`SubchainGatewayInsufficientGas`), so an under-funded transaction
 *   can never turn into a recorded write failure. (A failed read is always recorded: it changed nothing.)
 */
interface ISubchainGateway {
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
    error SubchainGatewayInvalidPipe(bytes32 pipeId);
    /// @notice The zero contract name.
    error SubchainGatewayInvalidContractName(bytes32 contractName);
    /// @notice The zero request id.
    error SubchainGatewayInvalidRequestId(bytes32 requestId);
    /// @notice No business contract is registered under `contractName`.
    error SubchainGatewayContractNotRegistered(bytes32 contractName);
    /// @notice `target` may never be a business contract: zero, the gateway itself, or a holder of a gateway role.
    error SubchainGatewayForbiddenTarget(address target);
    /// @notice `target` does not report `ICrossChainBusiness` through ERC-165.
    error SubchainGatewayNotBusinessContract(address target);
    /// @notice A gateway role cannot be granted to `account`, a registered business contract.
    error SubchainGatewayRoleForBusinessContract(address account);
    /// @notice `selector` is a hook or privileged function a cross-chain call may never reach.
    error SubchainGatewaySelectorBlocked(bytes32 contractName, bytes4 selector);
    /// @notice `requestId` was already executed.
    error SubchainGatewayRequestAlreadyExecuted(bytes32 requestId);
    /// @notice `sequence` is not above the last sequence executed on `pipeId`.
    error SubchainGatewaySequenceNotIncreasing(bytes32 pipeId, uint64 sequence, uint64 lastSequence);
    /// @notice A business write or compensation ran out of the gas the relayer supplied; nothing is recorded.
    error SubchainGatewayInsufficientGas(bytes32 id);
    /// @notice The state under `key` changed since the read a dependent write relies on.
    error SubchainGatewayStaleRead(bytes32 contractName, bytes32 key, uint256 readVersion, uint256 currentVersion);
    /// @notice No inbound request `requestId` was executed here.
    error SubchainGatewayUnknownRequest(bytes32 requestId);
    /// @notice `requestId` was a read: there is nothing to compensate.
    error SubchainGatewayRequestNotWrite(bytes32 requestId);
    /// @notice The write `requestId` failed: it changed nothing, there is nothing to compensate.
    error SubchainGatewayRequestFailed(bytes32 requestId);
    /// @notice The write `requestId` was already compensated.
    error SubchainGatewayAlreadyCompensated(bytes32 requestId);
    /// @notice The business contract `target` registered as `contractName` does not implement `ITwoPhaseBusiness`.
    error SubchainGatewayTwoPhaseUnsupported(bytes32 contractName, address target);
    /// @notice The zero two-phase transaction id.
    error SubchainGatewayInvalidTxId(bytes32 txId);
    /// @notice A two-phase transaction `txId` was already prepared here.
    error SubchainGatewayTxExists(bytes32 txId);
    /// @notice No two-phase transaction `txId` was prepared here.
    error SubchainGatewayTxUnknown(bytes32 txId);
    /// @notice The two-phase transaction `txId` is finished (`status`), it can be neither committed nor rolled back.
    error SubchainGatewayTxNotPrepared(bytes32 txId, TwoPhaseStatus status);
    /// @notice `key` of `target` is locked by the prepared two-phase transaction `holderTxId`.
    error SubchainGatewayKeyLocked(address target, bytes32 key, bytes32 holderTxId);
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
        bytes32 indexed pipeId,
        address indexed sender,
        bytes32 contractName,
        uint8 operation,
        bytes payload,
        uint64 nonce
    );

    /**
     * @notice The inbound request `requestId` ran on `target`. `resultHash` is keccak256 of the return data (of the
     * revert data when `success` is false); `stateVersion` is the target's contract-wide state version after it.
     */
    event InboundExecuted(
        bytes32 indexed requestId,
        bytes32 indexed pipeId,
        uint64 sequence,
        address indexed target,
        uint8 operation,
        bool success,
        bytes32 resultHash,
        uint256 stateVersion
    );

    /// @notice The bytes behind `resultHash`, for every read and every failed write (a relayer reports them).
    event ReturnDataRecorded(bytes32 indexed requestId, bytes returnData);

    /// @notice A compensation of the write `requestId` on `target` ran; on failure `returnData` is the revert data.
    event Compensated(bytes32 indexed requestId, address indexed target, bool success, bytes returnData);

    /// @notice The two-phase transaction `txId` staged a write on `target`, locking `keys`.
    event TwoPhasePrepared(
        bytes32 indexed txId,
        bytes32 indexed pipeId,
        address indexed target,
        bytes32 contractName,
        bytes32[] keys
    );

    /// @notice The two-phase transaction `txId` applied its write; `stateVersion` is the target's version after it.
    event TwoPhaseCommitted(bytes32 indexed txId, address indexed target, uint256 stateVersion);

    /// @notice The two-phase transaction `txId` discarded its staged write.
    event TwoPhaseRolledBack(bytes32 indexed txId, address indexed target);

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
        bytes32 pipeId,
        bytes32 contractName,
        uint8 operation,
        bytes calldata payload
    ) external returns (bytes32 requestId);

    // ---------------------------------------------------------------- inbound

    /**
     * @notice Runs an inbound read (STATICCALL) or write (CALL) on the business contract registered as
     * `contractName`, with `data` followed by the 32-byte `requestId`. Relayer only. A reverting business call is
     * recorded with `success = false`; the request id and the sequence are consumed either way.
     * @param requestId The cross-chain transaction's step id; executes at most once.
     * @param pipeId The pipe the packet came through.
     * @param sequence The packet's sequence on the pipe; must be above `lastSequence(pipeId)`.
     * @param contractName keccak256 of the business contract's name.
     * @param operation OPERATION_READ or OPERATION_WRITE.
     * @param data The business calldata (selector first).
     * @return success Whether the business call succeeded.
     * @return result The business call's return data (revert data on failure).
     */
    function execute(
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        bytes32 contractName,
        uint8 operation,
        bytes calldata data
    ) external returns (bool success, bytes memory result);

    /**
     * @notice As {execute} for a write that depends on an earlier read: refuses it with
     * `SubchainGatewayStaleRead` (consuming nothing) when the target's `stateVersion(versionKey)` is no longer
     * `readVersion`, the version the read saw.
     * @param requestId The cross-chain transaction's step id; executes at most once.
     * @param pipeId The pipe the packet came through.
     * @param sequence The packet's sequence on the pipe; must be above `lastSequence(pipeId)`.
     * @param contractName keccak256 of the business contract's name.
     * @param data The business calldata (selector first).
     * @param versionKey The business key the read depended on (zero: the whole contract).
     * @param readVersion The state version the read saw.
     * @return success Whether the business call succeeded.
     * @return result The business call's return data (revert data on failure).
     */
    function executeDependentWrite(
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        bytes32 contractName,
        bytes calldata data,
        bytes32 versionKey,
        uint256 readVersion
    ) external returns (bool success, bytes memory result);

    /**
     * @notice Undoes the successful write `requestId` by calling `compensate(requestId)` on the contract it wrote
     * to. Relayer only. A reverting compensation is recorded (`success = false`) and may be retried; a successful
     * one happens at most once.
     * @param requestId The inbound write to undo.
     * @return success Whether the business contract undid the write.
     */
    function compensate(bytes32 requestId) external returns (bool success);

    // ---------------------------------------------------------------- two-phase

    /**
     * @notice Stages the write `data` on the two-phase business contract `contractName` for transaction `txId`
     * and locks the keys it reports. Relayer only. A business refusal reverts the whole prepare.
     * @param txId The two-phase transaction id (at most once).
     * @param pipeId The pipe the packet came through (recorded in the event).
     * @param contractName keccak256 of the business contract's name.
     * @param data The calldata of the business write to stage.
     * @return keys The keys locked for `txId`.
     */
    function prepare(
        bytes32 txId,
        bytes32 pipeId,
        bytes32 contractName,
        bytes calldata data
    ) external returns (bytes32[] memory keys);

    /**
     * @notice Applies the write staged for `txId` and releases its locks. Relayer only.
     * @param txId A prepared two-phase transaction.
     */
    function commit(bytes32 txId) external;

    /**
     * @notice Discards the write staged for `txId` and releases its locks. Relayer only.
     * @param txId A prepared two-phase transaction.
     */
    function rollback(bytes32 txId) external;

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

    /// @notice What was recorded for the inbound request `requestId` (a zero target: never executed).
    function inboundRecord(bytes32 requestId) external view returns (InboundRecord memory);

    /// @notice The last sequence executed on `pipeId` (zero before the first).
    function lastSequence(bytes32 pipeId) external view returns (uint64);

    /**
     * @notice The two-phase transaction `txId`.
     * @return target The business contract it runs on.
     * @return status Its stage.
     * @return keys The keys it locked (held while Prepared).
     */
    function twoPhaseTx(
        bytes32 txId
    ) external view returns (address target, TwoPhaseStatus status, bytes32[] memory keys);

    /// @notice The prepared two-phase transaction holding `key` of `target`, zero when the key is free.
    function lockHolder(address target, bytes32 key) external view returns (bytes32 txId);

    /// @notice Whether a cross-chain call may never use `selector` (hooks and privileged functions).
    function isSelectorBlocked(bytes4 selector) external pure returns (bool);
}
