// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TxId} from "../types/Ids.sol";

/**
 * @title IAssetLedger
 * @notice One institution's ledger of asset balances (white paper 5: cross-institution settlement). A transfer to
 * another institution is a debit here and a credit on the other institution's ledger, in one cross-chain
 * transaction. Two-phase (the safe mode): each side prepares first (a debit checks and reserves the balance) with the
 * account locked at the gateway, and nothing is applied before both sides prepared, so no side is ever debited
 * without the credit on the other. With compensation, each side applies at once and an undo follows a failure (which
 * itself can fail: a credited balance may be spent before it is taken back).
 */
interface IAssetLedger {
    /// @notice The zero account.
    error AssetLedgerInvalidAccount(bytes32 account);
    /// @notice A zero amount.
    error AssetLedgerInvalidAmount(uint256 amount);
    /// @notice `account` holds `balance`, less than `amount`.
    error AssetLedgerInsufficientBalance(bytes32 account, uint256 balance, uint256 amount);
    /// @notice `account` is locked by the prepared two-phase transaction `txId`.
    error AssetLedgerAccountLocked(bytes32 account, TxId txId);

    /// @notice `issuer` issued `amount` to `account` on this ledger.
    event Issued(bytes32 indexed account, uint256 amount, address indexed issuer);
    /// @notice `account` was debited (`credit` false) or credited by `amount`; `ref` is the inbound request id
    /// (compensation mode) or the two-phase transaction id.
    event BalanceMoved(bytes32 indexed account, bytes32 indexed ref, bool credit, uint256 amount, uint256 balance);
    /// @notice The two-phase transaction `txId` staged a debit or credit of `amount` on `account` (nothing moved).
    event MoveStaged(TxId indexed txId, bytes32 indexed account, bool credit, uint256 amount);
    /// @notice The staged move of `txId` was discarded (rolled back).
    event MoveDiscarded(TxId indexed txId, bytes32 indexed account);
    /// @notice The move made by the inbound request `requestId` was undone.
    event MoveCompensated(bytes32 indexed requestId, bytes32 indexed account, bool credit, uint256 amount);

    /**
     * @notice Issues `amount` to `account` (a local operation of the institution). Issuer only; refused while the
     * account is locked by a prepared two-phase transaction.
     */
    function issue(bytes32 account, uint256 amount) external;

    /**
     * @notice Debits `amount` from `account`: the outgoing half of a transfer. Gateway only (a compensable
     * cross-chain write, or staged by a two-phase prepare).
     */
    function debit(bytes32 account, uint256 amount) external;

    /// @notice Credits `amount` to `account`: the incoming half of a transfer. Gateway only, as {debit}.
    function credit(bytes32 account, uint256 amount) external;

    /// @notice The balance of `account` (staged moves not included).
    function balanceOf(bytes32 account) external view returns (uint256);

    /**
     * @notice The move staged by the two-phase transaction `txId`.
     * @return account The account (zero: nothing staged).
     * @return credit Whether it is a credit.
     * @return amount The amount.
     */
    function staged(TxId txId) external view returns (bytes32 account, bool credit, uint256 amount);
}
