// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICrossChainBusiness} from "./ICrossChainBusiness.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title ITwoPhaseBusiness
 * @notice Opt-in two-phase (WeCross-style) participation of a business contract. The gateway detects it through
 * ERC-165 (`type(ITwoPhaseBusiness).interfaceId`, which covers the three functions below only).
 *
 * `prepare` validates and stages a write without applying it and reports the business keys it touches; the gateway
 * locks those keys for the transaction (a second prepare touching a locked key is refused) and exposes the locks
 * through `ISubchainGateway.lockHolder`, which the business contract consults before any other write to a key.
 * `commit` applies the staged write, `rollback` discards it; the gateway releases the locks in both cases, after the
 * hook returned (while a hook runs, its keys are still held by `txId`). A transaction not committed by the deadline
 * given to `prepare` can no longer commit, and anyone may have it rolled back: `rollback` must not revert for a
 * staged transaction, or its keys stay locked until the business contract is fixed.
 */
interface ITwoPhaseBusiness is ICrossChainBusiness {
    /// @notice `commit` or `rollback` named a transaction with nothing staged here.
    error TwoPhaseBusinessUnknownTx(TxId txId);

    /// @notice `prepare` was given calldata for a function that cannot take part in a two-phase transaction.
    error TwoPhaseBusinessUnsupportedCall(bytes4 selector);

    /**
     * @notice Stages the write encoded in `data` (the calldata of the business function) for transaction `txId`.
     * Gateway only.
     * @param txId The two-phase transaction id.
     * @param data The calldata of the write to stage.
     * @return keys The business keys the staged write touches (the gateway locks them).
     */
    function prepare(TxId txId, bytes calldata data) external returns (bytes32[] memory keys);

    /**
     * @notice Applies the write staged for `txId`. Gateway only.
     * @param txId The two-phase transaction id.
     */
    function commit(TxId txId) external;

    /**
     * @notice Discards the write staged for `txId`. Gateway only.
     * @param txId The two-phase transaction id.
     */
    function rollback(TxId txId) external;
}
