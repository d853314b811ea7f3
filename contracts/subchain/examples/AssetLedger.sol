// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {CrossChainBusiness} from "../CrossChainBusiness.sol";
import {ICrossChainBusiness} from "../../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../../interfaces/ITwoPhaseBusiness.sol";
import {IAssetLedger} from "../../interfaces/IAssetLedger.sol";
import {NO_TX, TxId} from "../../types/Ids.sol";

/**
 * @title AssetLedger
 * @notice Example business contract: one institution's asset balances, the two halves of a transfer between two
 * institutions' ledgers; see {IAssetLedger}. Two-phase for `debit` and `credit`: a prepare checks (a debit: the
 * balance) and stages, the gateway locks the account, and the commit applies; a locked account takes no other
 * write, so the balance a prepared debit checked is still there at its commit. State versions: `stateVersion(account)`
 * moves on every change of the account's balance.
 */
contract AssetLedger is IAssetLedger, ITwoPhaseBusiness, CrossChainBusiness, AccessControl {
    /// @notice May issue balances.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    struct Move {
        bytes32 account;
        bool credit;
        uint256 amount;
    }

    mapping(bytes32 account => uint256 balance) private _balances;
    mapping(bytes32 account => uint256 version) private _versions;
    mapping(bytes32 requestId => Move) private _applied;
    mapping(TxId txId => Move) private _staged;

    /**
     * @param gateway_ The sub-chain's gateway.
     * @param admin The local administrator (grants the issuer role).
     */
    constructor(address gateway_, address admin) CrossChainBusiness(gateway_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- local entry points

    /// @inheritdoc IAssetLedger
    function issue(bytes32 account, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _checkMove(account, amount);
        _requireUnlocked(account);
        _move(Move(account, true, amount), bytes32(0));
        emit Issued(account, amount, msg.sender);
    }

    // ---------------------------------------------------------------- cross-chain entry points

    /// @inheritdoc IAssetLedger
    function debit(bytes32 account, uint256 amount) external onlyGateway {
        _applyInbound(Move(account, false, amount));
    }

    /// @inheritdoc IAssetLedger
    function credit(bytes32 account, uint256 amount) external onlyGateway {
        _applyInbound(Move(account, true, amount));
    }

    /// @inheritdoc ICrossChainBusiness
    function compensate(bytes32 requestId) external onlyGateway {
        Move memory m = _applied[requestId];
        if (m.account == bytes32(0)) revert CrossChainBusinessUnknownRequest(requestId);
        _requireUnlocked(m.account);
        delete _applied[requestId];
        // The opposite move; undoing a credit fails when the balance was spent meanwhile (compensation's weakness).
        _move(Move(m.account, !m.credit, m.amount), requestId);
        emit MoveCompensated(requestId, m.account, m.credit, m.amount);
    }

    /// @inheritdoc ITwoPhaseBusiness
    function prepare(TxId txId, bytes calldata data) external onlyGateway returns (bytes32[] memory keys) {
        bytes4 selector = data.length < 4 ? bytes4(0) : bytes4(data[:4]);
        bool isCredit = selector == IAssetLedger.credit.selector;
        if (!isCredit && selector != IAssetLedger.debit.selector) revert TwoPhaseBusinessUnsupportedCall(selector);
        (bytes32 account, uint256 amount) = abi.decode(data[4:], (bytes32, uint256));
        // No lock check here: the gateway locks the reported key and refuses one another transaction holds.
        _checkMove(account, amount);
        if (!isCredit && _balances[account] < amount)
            revert AssetLedgerInsufficientBalance(account, _balances[account], amount);
        _staged[txId] = Move(account, isCredit, amount);
        emit MoveStaged(txId, account, isCredit, amount);
        keys = new bytes32[](1);
        keys[0] = account;
    }

    /// @inheritdoc ITwoPhaseBusiness
    function commit(TxId txId) external onlyGateway {
        // The account was locked since the prepare checked it: a staged debit is still covered.
        _move(_takeStaged(txId), TxId.unwrap(txId));
    }

    /// @inheritdoc ITwoPhaseBusiness
    function rollback(TxId txId) external onlyGateway {
        emit MoveDiscarded(txId, _takeStaged(txId).account);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAssetLedger
    function balanceOf(bytes32 account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IAssetLedger
    function staged(TxId txId) external view returns (bytes32 account, bool credit_, uint256 amount) {
        Move storage m = _staged[txId];
        return (m.account, m.credit, m.amount);
    }

    /// @inheritdoc IERC165
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(CrossChainBusiness, AccessControl, IERC165) returns (bool) {
        return interfaceId == type(ITwoPhaseBusiness).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    function _keyVersion(bytes32 key) internal view override returns (uint256) {
        return _versions[key];
    }

    function _applyInbound(Move memory m) private {
        _checkMove(m.account, m.amount);
        _requireUnlocked(m.account);
        bytes32 requestId = _inboundRequestId();
        _applied[requestId] = m;
        _move(m, requestId);
    }

    function _checkMove(bytes32 account, uint256 amount) private pure {
        if (account == bytes32(0)) revert AssetLedgerInvalidAccount(account);
        if (amount == 0) revert AssetLedgerInvalidAmount(amount);
    }

    function _requireUnlocked(bytes32 account) private view {
        TxId holder = _lockHolder(account);
        if (holder != NO_TX) revert AssetLedgerAccountLocked(account, holder);
    }

    function _move(Move memory m, bytes32 ref) private {
        uint256 balance = _balances[m.account];
        if (!m.credit && balance < m.amount) revert AssetLedgerInsufficientBalance(m.account, balance, m.amount);
        balance = m.credit ? balance + m.amount : balance - m.amount;
        _balances[m.account] = balance;
        unchecked {
            ++_versions[m.account];
        }
        _stateChanged();
        emit BalanceMoved(m.account, ref, m.credit, m.amount, balance);
    }

    function _takeStaged(TxId txId) private returns (Move memory m) {
        m = _staged[txId];
        if (m.account == bytes32(0)) revert TwoPhaseBusinessUnknownTx(txId);
        delete _staged[txId];
    }
}
