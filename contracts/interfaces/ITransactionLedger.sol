// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AMDP} from "../libraries/AMDP.sol";
import {ICreditScore} from "./ICreditScore.sol";
import {PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title ITransactionLedgerTypes
 * @notice The types, errors and events of the cross-chain transaction ledger ({ITransactionLedger}), apart from its
 * functions so that the ledger's recovery module shares them without implementing the whole interface.
 */
interface ITransactionLedgerTypes {
    // ---------------------------------------------------------------- types

    /// @notice The states of a transaction. Allowed transitions (anything else is refused):
    /// None -> Open; Open -> Executing | Failed | Expired | Manual; Executing -> Executed | Failed | Expired | Manual;
    /// Executed -> Confirmed | Manual; Failed -> Compensating | Manual; Expired -> Compensating | Manual;
    /// Compensating -> Compensated | Manual; Manual -> Resolved; and, in a two-phase transaction, Executing ->
    /// Committing (every step prepared or read) and Committing -> Executed (every side committed) | Manual.
    /// Confirmed, Compensated, Resolved are final.
    enum TxState {
        None,
        Open, // opened by the initiator's proxy, no result yet
        Executing, // at least one step recorded
        Executed, // every step recorded with success; waiting for the verifiers
        Confirmed, // more than half of the verifier weight endorsed the recorded result set
        Failed, // a step failed or read stale data
        Compensating, // completed writes are being undone
        Compensated, // every completed write was undone
        Manual, // abnormal: waits for a governor
        Resolved, // a governor resolved it
        Expired, // the deadline passed before every step was recorded
        Committing // two-phase: every write prepared, the decision is commit; waiting for each side's commit
    }

    /// @notice Why a transaction left the normal path.
    enum Reason {
        None,
        StepFailed, // a step's result was recorded with success = false
        StaleRead, // a dependent write saw another state version than its read recorded
        Expired, // expired after its deadline
        Conflict, // at least half of the weight endorsed another result set, or a conflict left no non-party to confirm
        Escalated, // a proxy or a governor asked for manual intervention
        CompensationFailed, // a compensation failed more often than the retry bound allows
        CommitFailed // two-phase: a side could not commit a prepared write (its lock passed deadline + grace)
    }

    /// @notice Which side of the pipe a step runs on: the source's sub-chain (its own proxy records it) or the
    /// target's sub-chain (the target's proxy records it, authorised by one of the transaction's packets).
    enum Side {
        Source,
        Target
    }

    /// @notice A verifier is an auditor account of an audit institution or the signing account of a registered
    /// service (a business account); its account must be active whenever it is set and whenever it endorses.
    enum VerifierKind {
        None,
        Auditor,
        Service
    }

    /// @notice What {reportRefusal} proved against the source institution.
    enum RefusalKind {
        BadSignature, // the source proxy countersigned a fresh packet whose stage-1 signature is not its signer's
        Replay // never reported any more: a used sequence proves nothing (kept so that older records decode)
    }

    /// @notice The packet field that does not match the route or the transaction's first packet.
    enum PacketField {
        PipeId,
        TxId,
        SourceInstitution,
        TargetInstitution,
        TargetService,
        ContractName
    }

    /// @notice What is wrong with a step given to {open}.
    enum StepProblem {
        InvalidOperation, // neither 0 (read) nor 1 (write)
        SubchainMismatch, // not the route's sub-chain of the step's side
        NoPacket, // a target step beyond the packets given: each target step needs its own packet
        OperationMismatch, // a target step's operation differs from its packet's
        InvalidDependency, // not an earlier read, or the dependent step is not a write
        TwoPhaseWrites // two-phase and plain writes mixed, or a second two-phase write on the same side
    }

    /// @notice What the reconciliation view reports about a transaction.
    enum Issue {
        None,
        Overdue, // open, executing or executed after its deadline
        Uncompensated, // failed or expired, completed writes not yet undone
        Abnormal, // waiting for manual resolution
        Disputed // confirmed, but some verifier endorsed another result set
    }

    /// @notice One AMDP packet with its stage-1 (application) and stage-2 (proxy) signatures.
    struct SignedPacket {
        AMDP.Packet packet;
        bytes appSignature;
        bytes proxySignature;
    }

    /// @notice An atomic operation of a transaction, as declared by {open}. The k-th `Target` step is authorised by
    /// the k-th packet (its contract name, operation and selector); `Source` steps run on the initiator's own chain.
    struct Step {
        Side side;
        SubchainId subchain; // the route's sub-chain of `side`
        uint8 operation; // 0 read, 1 write, 2 two-phase write (prepared, then committed or rolled back)
        uint8 dependsOn; // index of an earlier read this write relies on (stale-read check), or NO_DEPENDENCY
    }

    /// @notice A step as {ITransactionLedgerViews.stepOf} gives it.
    struct OpenedStep {
        Side side;
        uint8 operation; // as opened: a two-phase write is 2
        uint8 dependsOn; // or NO_DEPENDENCY
    }

    /// @notice What a receiving proxy checks of a transaction before it accepts a packet, by
    /// {ITransactionLedgerViews.openedOf}.
    struct OpenedTx {
        TxState state;
        uint64 deadline;
        uint64 lastSequence; // of the pipe asked for
        OpenedStep[] steps; // none while the transaction is unknown
    }

    /// @notice One transaction of {ITransactionLedger.openMany}: the arguments of {ITransactionLedger.open}.
    struct OpenRequest {
        SignedPacket[] packets;
        Step[] steps;
        uint64 deadline;
    }

    /// @notice One endorsement of {ITransactionLedgerEndorsement.endorseMany}: the arguments of `endorse`.
    struct EndorseRequest {
        TxId txId;
        bytes32 resultSetHash;
    }

    /// @notice The result of an atomic step, recorded by the proxy of the step's side.
    struct Result {
        TxId txId;
        uint8 step;
        SubchainId subchain;
        bytes32 subchainTx; // the sub-chain transaction's hash
        uint64 blockNumber;
        bytes32 resultHash; // the gateway's result hash (return data or revert data)
        uint8 operation; // 0 read, 1 write; must be the step's
        bool success;
        uint64 stateVersion; // read: the state version read; dependent write: the read version it relied on
    }

    /// @notice The result of one compensation (undo) of a completed write, recorded by the write's proxy.
    struct Compensation {
        TxId txId;
        uint8 step;
        SubchainId subchain;
        bytes32 subchainTx;
        uint64 blockNumber;
        bytes32 resultHash;
        bool success;
    }

    struct Verifier {
        VerifierKind kind;
        uint8 index; // bit in the endorsement mask of every transaction
        uint8 weight;
    }

    /// @notice Everything the ledger keeps about a transaction.
    struct TxView {
        TxState state;
        Reason reason;
        uint8 stepCount;
        uint8 doneMask; // steps recorded with success (bit i = step i)
        uint8 writeMask; // write steps
        uint8 undoneMask; // writes compensated
        uint64 deadline;
        PipeId pipeId;
        uint16 endorsedMask; // verifier indexes whose current holder endorsed
        uint16 weightFor; // weight that endorsed `resultSetHash` and counts now (verifier with an active account)
        uint16 weightAgainst; // weight that endorsed another hash and counts now
        bytes32 resultSetHash; // hash chain over the recorded results, in recording order
    }

    /// @notice A transaction listed by {unresolvedAmong}.
    struct Unresolved {
        TxId txId;
        TxState state;
        Reason reason;
        Issue issue;
        uint64 deadline;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No transaction `txId` was opened.
    error LedgerUnknownTx(TxId txId);
    /// @notice A transaction `txId` was already opened.
    error LedgerTxExists(TxId txId);
    /// @notice The zero transaction id.
    error LedgerZeroTxId();
    /// @notice The call would move `txId` from `from` to `to`, which the state machine does not allow.
    error LedgerInvalidTransition(TxId txId, TxState from, TxState to);
    /// @notice The pipe authority does not know `pipeId`.
    error LedgerUnknownPipe(PipeId pipeId);
    /// @notice Only the pipe's source service signer opens its transactions.
    error LedgerUnauthorizedOpener(PipeId pipeId, address caller, address expected);
    /// @notice {open} takes 1 to `max` packets.
    error LedgerInvalidPacketCount(uint256 count, uint256 max);
    /// @notice {open} takes 1 to `max` steps.
    error LedgerInvalidStepCount(uint256 count, uint256 max);
    /// @notice Packet `index` does not match the route or the first packet in `field`.
    error LedgerPacketMismatch(uint256 index, PacketField field);
    /// @notice `sequence` is not above `lastSequence`, the last one used on the pipe (or by the previous packet).
    error LedgerSequenceReused(PipeId pipeId, uint64 sequence, uint64 lastSequence);
    /// @notice The deadline is not after `now`, or after `latest` (now + the pipe's timeout).
    error LedgerInvalidDeadline(uint64 deadline, uint256 now, uint256 latest);
    /// @notice Step `index` given to {open} is invalid.
    error LedgerInvalidStep(uint256 index, StepProblem problem);
    /// @notice Only `used` of the `given` packets authorise a target step: each packet must authorise exactly one.
    error LedgerPacketsUnused(uint256 used, uint256 given);
    /// @notice `txId` has no step `step`.
    error LedgerUnknownStep(TxId txId, uint8 step);
    /// @notice Only `expected`, the current signing key of the step's side's service, records or retries this step
    /// (a key rotated out is refused from the rotation's own transaction).
    error LedgerUnauthorizedRecorder(TxId txId, uint8 step, address caller, address expected);
    /// @notice The caller is the current signing key of a pipe side's service, but the service is disabled or the
    /// key's account inactive (as the pipe authority says now): it records, retries, compensates and escalates nothing.
    error LedgerSignerNotServing(address signer);
    /// @notice The result names another sub-chain than the step's.
    error LedgerSubchainMismatch(TxId txId, uint8 step, SubchainId expected, SubchainId actual);
    /// @notice The result names another operation than the step's.
    error LedgerOperationMismatch(TxId txId, uint8 step, uint8 expected, uint8 actual);
    /// @notice The step already has a successful result.
    error LedgerStepAlreadyRecorded(TxId txId, uint8 step);
    /// @notice The read `dependsOn` this write relies on has no result yet.
    error LedgerDependencyPending(TxId txId, uint8 step, uint8 dependsOn);
    /// @notice A batch holds 1 to `max` results.
    error LedgerInvalidBatchSize(uint256 size, uint256 max);
    /// @notice The step was retried (or its compensation attempted) as often as the bound allows.
    error LedgerRetryLimitReached(TxId txId, uint8 step, uint8 maxRetries);
    /// @notice The step is not a completed write still to undo.
    error LedgerNotCompensable(TxId txId, uint8 step);
    /// @notice {expire} before the deadline.
    error LedgerDeadlineNotReached(TxId txId, uint64 deadline, uint256 now);
    /// @notice The transaction's deadline passed: it can only expire (then compensate).
    error LedgerDeadlinePassed(TxId txId, uint64 deadline, uint256 now);
    /// @notice `account` is not a verifier.
    error LedgerUnknownVerifier(address account);
    /// @notice `verifier` already endorsed `txId`.
    error LedgerAlreadyEndorsed(TxId txId, address verifier);
    /// @notice A verifier needs the kind Auditor or Service.
    error LedgerInvalidVerifierKind(address verifier, VerifierKind kind);
    /// @notice Every one of the `max` verifier indexes is taken.
    error LedgerTooManyVerifiers(uint256 max);
    /// @notice `institution` already holds a verifier seat (`verifier`): one per institution.
    error LedgerInstitutionHasVerifier(uint32 institution, address verifier);
    /// @notice The retry bound is at most `max`.
    error LedgerInvalidMaxRetries(uint8 value, uint8 max);
    /// @notice `account` is zero or has no code where a contract is needed.
    error LedgerInvalidAddress(address account);
    /// @notice The refusal of this packet was already reported.
    error LedgerRefusalAlreadyReported(bytes32 packetHash);
    /// @notice The packet proves no misbehaviour: it would be accepted, or refused for a reason that is nobody's
    /// fault (pipe paused, deadline passed, an exact replay of an opened packet...).
    error LedgerNotRefusable(bytes32 packetHash);
    /// @notice The credit report ran out of gas: send the transaction with more gas.
    error LedgerInsufficientGas();
    /// @notice A reconciliation page holds 1 to `max` transactions.
    error LedgerInvalidPage(uint256 count, uint256 max);
    /// @notice The recovery module runs only inside the ledger (by delegatecall), never called directly.
    error LedgerDirectCall();

    // ---------------------------------------------------------------- events

    /// @notice `opener` opened `txId` on `pipeId` (the transition None -> Open). `steps` packs 5 bits per step:
    /// bit 0 side (1 = target), bit 1 write, bits 2-4 dependsOn + 1 (0 = none). `packets`: the packets that passed
    /// every check (their sequences are now used on the pipe), in order, 45 bytes each: sequence (uint64), EIP-712
    /// hash, operation (uint8), selector (bytes4); `lib/domain/ledger-types.ts` reads them as `PacketAccepted` records.
    event TxOpened(
        TxId indexed txId,
        PipeId indexed pipeId,
        address indexed opener,
        uint64 number,
        uint64 deadline,
        uint8 stepCount,
        uint40 steps,
        bytes packets
    );
    /// @notice `txId` moved from `from` to `to`; `actor` made the call. The moves of the normal path are told by the
    /// event that made them instead, one event less each: to Executing, Committing or Executed by {ResultRecorded}'s
    /// `to`, to Confirmed by {Endorsed}'s `to`.
    event TxTransitioned(TxId indexed txId, address indexed actor, TxState indexed to, TxState from, Reason reason);
    /// @notice `recorder` recorded a step's result; `resultSetHash` is the hash chain including it. `to`: the state
    /// the result moved the transaction to on the normal path (Executing, Committing or Executed; Executed when one
    /// call went through Executing too), None when it moved none (a failure's moves are {TxTransitioned}).
    event ResultRecorded(
        TxId indexed txId,
        uint8 indexed step,
        TxState indexed to,
        address recorder,
        SubchainId subchain,
        bytes32 subchainTx,
        uint64 blockNumber,
        bytes32 resultHash,
        uint8 operation,
        bool success,
        uint64 stateVersion,
        bytes32 resultSetHash
    );
    /// @notice The write `step` saw `seenVersion`, its read `readStep` recorded `readVersion`: the transaction fails.
    event StaleReadRejected(
        TxId indexed txId,
        uint8 indexed step,
        uint8 readStep,
        uint64 readVersion,
        uint64 seenVersion
    );
    /// @notice `by` retries `step` (attempt `attempt` of the bound) because of `reason`.
    event StepRetried(TxId indexed txId, uint8 indexed step, address indexed by, uint8 attempt, string reason);
    /// @notice `recorder` recorded a compensation of the write `step`.
    event CompensationRecorded(
        TxId indexed txId,
        uint8 indexed step,
        address indexed recorder,
        SubchainId subchain,
        bytes32 subchainTx,
        uint64 blockNumber,
        bytes32 resultHash,
        bool success,
        uint8 attempt
    );
    /// @notice `verifier` endorsed the recorded result set of `txId`. `to`: Confirmed when this endorsement confirmed
    /// it, else None (a move to Manual is a {TxTransitioned}).
    event Endorsed(
        TxId indexed txId,
        address indexed verifier,
        TxState indexed to,
        bytes32 resultSetHash,
        uint8 weight,
        uint16 weightFor,
        uint16 totalWeight
    );
    /// @notice `verifier` endorsed `endorsedHash`, not the recorded `recordedHash`: flagged for the auditors.
    event EndorsementConflicted(
        TxId indexed txId,
        address indexed verifier,
        bytes32 endorsedHash,
        bytes32 recordedHash,
        uint8 weight,
        uint16 weightAgainst,
        uint16 totalWeight
    );
    /// @notice `by` asked for manual intervention on `txId`.
    event TxEscalated(TxId indexed txId, address indexed by, string reason);
    /// @notice `governor` resolved `txId`.
    event TxResolved(TxId indexed txId, address indexed governor, string reason);
    /// @notice A refused packet proved misbehaviour of `institution` (reported to credit as `kind`).
    event RefusalRecorded(
        PipeId indexed pipeId,
        bytes32 indexed packetHash,
        address indexed reporter,
        uint32 institution,
        RefusalKind kind,
        TxId txId,
        uint64 sequence
    );
    /// @notice The credit contract refused a report; the ledger went on (see {ICreditScore}).
    event CreditReportFailed(TxId indexed txId, uint32 indexed institution, ICreditScore.Outcome outcome, bytes reason);
    /// @notice The ledger's copy of a pipe's services, institutions and sub-chains changed (the signers: those then).
    event PipeSynced(
        PipeId indexed pipeId,
        uint32 indexed pipeIndex,
        address sourceSigner,
        address targetSigner,
        uint32 sourceInstitution,
        uint32 targetInstitution,
        SubchainId sourceSubchain,
        SubchainId targetSubchain
    );
    /// @notice Governed: a verifier was set (weight 0: removed).
    event VerifierSet(address indexed verifier, VerifierKind kind, uint8 weight, uint8 index, uint16 totalWeight);
    /// @notice Governed: the retry bound changed.
    event MaxRetriesSet(uint8 maxRetries);
    /// @notice Governed: the pipe authority changed.
    event PipeAuthoritySet(address indexed pipes);
    /// @notice Governed: the credit contract changed.
    event CreditScoreSet(address indexed credit);
}

/**
 * @title ITransactionLedgerRecovery
 * @notice The ledger's failure paths (retry, expiry, compensation, manual resolution, refusals), the refresh of its
 * copy of a pipe and its governed setters. The ledger serves them through its recovery module ({LedgerRecovery}, by
 * delegatecall): same address, same storage, same events.
 */
interface ITransactionLedgerRecovery is ITransactionLedgerTypes {
    // ---------------------------------------------------------------- compensation

    /// @notice Records a retry of a step not yet recorded (transient fault), at most `maxRetries` per step. Only the
    /// proxy of the step's side, while Open or Executing.
    function retryStep(TxId txId, uint8 step, string calldata reason) external;

    /// @notice After the deadline, anyone expires an Open or Executing transaction; completed writes go to
    /// compensation and the institution that failed to act is reported as timed out: the side of the step due next,
    /// or the source when that step is the target's and the target never acknowledged the transaction (no result or
    /// retry of any of its steps), since nothing shows the source delivered its packets.
    function expire(TxId txId) external;

    /// @notice Records a compensation (undo) of a completed write while Compensating. Only the write's proxy. When
    /// every completed write is undone the transaction is Compensated; a compensation that failed `maxRetries + 1`
    /// times sends it to Manual.
    function recordCompensation(Compensation calldata compensation) external;

    /// @notice Sends an unfinished transaction to manual intervention. Either proxy of the pipe or an active governor.
    function escalate(TxId txId, string calldata reason) external;

    /// @notice An active governor resolves a transaction in Manual; the reason is recorded.
    function resolve(TxId txId, string calldata reason) external;

    // ---------------------------------------------------------------- pipes

    /// @notice Anyone refreshes the ledger's copy of a pipe's service indexes, institutions and sub-chains from the
    /// pipe authority (done by every {open} too). Never needed for a key: the ledger asks for the services' keys now.
    function syncPipe(PipeId pipeId) external;

    // ---------------------------------------------------------------- refusals

    /**
     * @notice Records a refused packet that proves misbehaviour and reports it to credit. Anyone may call it; the
     * proof is the stage-2 countersignature of the pipe's source service signer, so no institution can be framed.
     * Only one proof counts: BadSignature, the proxy countersigned a packet whose stage-1 signature is not the
     * declared signer's. A packet whose transaction id or sequence the ledger already used is never refusable (it
     * was signed with the keys in force then, whatever they are now), nor is a valid signature by a key the pipe
     * does not allow now (it may predate a rotation). Each packet is reported at most once.
     */
    function reportRefusal(
        AMDP.Packet calldata packet,
        bytes calldata appSignature,
        bytes calldata proxySignature
    ) external returns (RefusalKind kind);

    // ---------------------------------------------------------------- governed

    /// @notice Governed: sets a verifier's kind and weight; weight 0 removes it.
    function setVerifier(address verifier, VerifierKind kind, uint8 weight) external;

    /// @notice Governed: sets the retry bound (per step, for retries and for compensation attempts beyond the first).
    function setMaxRetries(uint8 maxRetries) external;

    /// @notice Governed: sets the pipe authority.
    function setPipeAuthority(address pipes) external;

    /// @notice Governed: sets the credit contract.
    function setCreditScore(address credit) external;
}

/**
 * @title ITransactionLedgerEndorsement
 * @notice The ledger's weighted verification. The ledger serves it from its endorsement module ({LedgerEndorsement},
 * by delegatecall): same address, same storage, same events.
 */
interface ITransactionLedgerEndorsement is ITransactionLedgerTypes {
    /**
     * @notice A verifier endorses the result set it checked against the sub-chains. Only endorsements of verifiers
     * that are verifiers now, with accounts active now, count, against the weight of those valid now (the valid
     * weight). Once more than half of the valid weight endorsed the recorded `resultSetHash`, and at least one of
     * those endorsers belongs to neither institution of the pipe, the transaction is Confirmed and both institutions
     * are credited. An endorsement of another hash is a conflict: recorded and flagged; once the counting conflicting
     * weight reaches half of the valid weight, confirmation is impossible and the transaction goes to Manual. It goes
     * there too (reason Conflict) as soon as a counting conflict stands and no valid non-party endorsed the recorded
     * set or is left to: the parties' majority could never confirm. One endorsement per verifier; a verifier that took
     * a freed index starts with none.
     */
    function endorse(TxId txId, bytes32 resultSetHash) external;

    /**
     * @notice 1 to MAX_BATCH endorsements in one call, across transactions, each as {endorse} would do it, in order;
     * the caller's standing is checked once. All or nothing: the first refusal reverts the whole call with that
     * endorsement's own error (a duplicate inside the batch is {LedgerAlreadyEndorsed}). Credit reports are sent at
     * the end.
     */
    function endorseMany(EndorseRequest[] calldata requests) external;
}

/**
 * @title ITransactionLedgerViews
 * @notice The ledger's detailed views. The ledger serves them from its view module ({LedgerViews}, by delegatecall
 * inside a static call): same address, same storage, read only.
 */
interface ITransactionLedgerViews is ITransactionLedgerTypes {
    /// @notice Everything kept about a transaction.
    function transaction(TxId txId) external view returns (TxView memory);

    /// @notice A step of a transaction: its side, operation as opened (a two-phase write: 2) and the read it depends
    /// on (NO_DEPENDENCY if none).
    function stepOf(TxId txId, uint8 step) external view returns (Side side, uint8 operation, uint8 dependsOn);

    /// @notice In one call, what a receiving proxy checks before it accepts a packet: the transaction's state,
    /// deadline and steps (as {stepOf} gives each), and the last sequence used on `pipeId` ({pipeOf}).
    function openedOf(TxId txId, PipeId pipeId) external view returns (OpenedTx memory);

    /// @notice The state version recorded by a read step (0 unless a later write depends on it).
    function readVersionOf(TxId txId, uint8 step) external view returns (uint64);

    /// @notice How often a step was retried and how often its compensation was attempted.
    function attemptsOf(TxId txId, uint8 step) external view returns (uint8 retries, uint8 compensations);

    /// @notice Whether `verifier` (its current holding of its index) endorsed the transaction.
    function hasEndorsed(TxId txId, address verifier) external view returns (bool);

    /// @notice Of 1 to MAX_PAGE transactions (ids from the indexed {TxOpened} events, paged by the caller), those that
    /// have an {Issue}, in the order given. Unknown ids are skipped.
    function unresolvedAmong(TxId[] calldata txIds) external view returns (Unresolved[] memory items);

    /// @notice The last sequence used on a pipe, its recorders now (its services' current signers, zero before its
    /// first open) and its institutions.
    function pipeOf(
        PipeId pipeId
    )
        external
        view
        returns (
            uint64 lastSequence,
            address sourceSigner,
            address targetSigner,
            uint32 sourceInstitution,
            uint32 targetInstitution
        );

    /// @notice A verifier's kind, weight and index (weight 0: not a verifier).
    function verifier(address account) external view returns (Verifier memory);
}

/**
 * @title ITransactionLedger
 * @notice The cross-chain transaction ledger of the governance chain (事务治理合约, white paper 2.5): every
 * cross-chain transaction is opened here before anything is sent, each atomic read or write records its result,
 * weighted verifiers confirm the result set, and failures are compensated (retry, rollback, manual resolution,
 * expiry). See `contracts/transactions/README.md` for the states and who calls what.
 */
interface ITransactionLedger is ITransactionLedgerRecovery, ITransactionLedgerEndorsement, ITransactionLedgerViews {
    // ---------------------------------------------------------------- transactions

    /**
     * @notice Opens a transaction before anything is sent. Only the route's source service signer. Every packet must
     * name the same pipe and transaction id, match the route (parties, target service, contract name), carry a
     * sequence above the last one used on the pipe (strictly increasing across packets), a valid stage-1 signature
     * of the route's source app key and stage-2 countersignature of the source service signer under this ledger's
     * EIP-712 domain, and be allowed by the pipe ({IPipeAuthority.requireOperation}). A transaction whose writes are
     * two-phase (operation 2; their packets say write) is two-phase: at most one write per side, no plain write, at
     * most MAX_STEPS - 1 steps; its write results are prepares, and when every step is recorded it is Committing.
     * @param packets 1 to MAX_PACKETS packets; the k-th authorises the k-th target step
     * @param steps 1 to MAX_STEPS atomic steps
     * @param deadline after now, at most now + the pipe's timeout (MAX_DURATION when the pipe has none)
     * @return number the transaction's number (1, 2, ...), in {TxOpened}
     */
    function open(
        SignedPacket[] calldata packets,
        Step[] calldata steps,
        uint64 deadline
    ) external returns (uint64 number);

    /**
     * @notice Records a step's result. Only the proxy of the step's side, while the transaction is Open or Executing
     * (before the deadline), or, for the commit of a prepared two-phase write, while it is Committing (the gateway
     * bounds the commit to the deadline plus its grace). A failure fails the transaction; a dependent write whose
     * `stateVersion` is not its read's fails it as a stale read; completed (or prepared) writes of a failed
     * transaction go to compensation (rollback) at once. A failed commit sends it to Manual (`CommitFailed`).
     */
    function recordResult(Result calldata result) external;

    /**
     * @notice Opens 1 to MAX_BATCH transactions in one call, across pipes, each as {open} would, in order (the caller
     * must be the source service signer of each one's pipe). All or nothing: the first refusal reverts the whole call
     * with that transaction's own error (a transaction id twice in the batch is {LedgerTxExists}, a sequence reused
     * inside it {LedgerSequenceReused}).
     * @return first the number of the first transaction opened; the others follow it
     */
    function openMany(OpenRequest[] calldata requests) external returns (uint64 first);

    /// @notice Records 1 to MAX_BATCH results in one call, each as {recordResult} would, across transactions. All or
    /// nothing: the first refusal reverts the whole call with that result's own error.
    function recordResults(Result[] calldata results) external;

    // ---------------------------------------------------------------- views

    /// @notice What a receiver reads before it acts: the state, the deadline, how many steps are done, of how many.
    function statusOf(
        TxId txId
    ) external view returns (TxState state, uint64 deadline, uint8 stepsDone, uint8 stepCount);

    /// @notice The number of transactions ever opened (numbered 1 to this number in {TxOpened}), so a reconciliation
    /// that read the events can tell it saw them all.
    function txCount() external view returns (uint64);

    /// @notice Whether the refusal of a packet was reported.
    function refusalReported(bytes32 packetHash) external view returns (bool);

    /// @notice The sum of every verifier's weight (confirmation counts only the verifiers whose accounts are active).
    function totalWeight() external view returns (uint16);

    function maxRetries() external view returns (uint8);

    function pipeAuthority() external view returns (address);

    function creditScore() external view returns (address);

    function membership() external view returns (address);

    /// @notice The AMDP EIP-712 domain separator: name "CCGP-AMDP", version "1", this chain, this ledger.
    function domainSeparator() external view returns (bytes32);

    /// @notice The recovery module the ledger delegates {ITransactionLedgerRecovery} to.
    function recoveryModule() external view returns (address);

    /// @notice The view module the ledger serves {ITransactionLedgerViews} from (made by the ledger's constructor).
    function viewsModule() external view returns (address);

    /// @notice The module the ledger delegates {ITransactionLedgerEndorsement} to (made by the ledger's constructor).
    function endorsementModule() external view returns (address);
}
