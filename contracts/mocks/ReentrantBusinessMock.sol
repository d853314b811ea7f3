// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {CrossChainBusiness} from "../subchain/CrossChainBusiness.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../interfaces/ITwoPhaseBusiness.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title ReentrantBusinessMock
 * @notice Test-only malicious business contract: while the gateway runs one of its entry points or hooks, it makes
 * one armed call (to the gateway itself, or through a relayer-role forwarder) and bubbles up its revert. The attack
 * is disarmed before it is made, so the nested call meets the plain contract (a reverted attack leaves it armed).
 */
contract ReentrantBusinessMock is ITwoPhaseBusiness, CrossChainBusiness {
    /// @notice Where the armed call is made.
    enum Hook {
        Write,
        Compensate,
        Prepare,
        Commit,
        Rollback
    }

    struct Attack {
        bool armed;
        Hook hook;
        address to;
        bytes data;
    }

    /// @notice The armed call ran and returned `result`.
    event AttackSucceeded(Hook hook, bytes result);

    Attack private _attack;
    uint256 private _writes;

    constructor(address gateway_) CrossChainBusiness(gateway_) {}

    /// @notice Arms one call of `data` to `to`, made the next time `hook` runs.
    function arm(Hook hook, address to, bytes calldata data) external {
        _attack = Attack({armed: true, hook: hook, to: to, data: data});
    }

    /// @notice Makes no call the next time any hook runs.
    function disarm() external {
        delete _attack;
    }

    /// @notice A gateway write (the attack hook `Write`).
    function write() external onlyGateway {
        ++_writes;
        _stateChanged();
        _strike(Hook.Write);
    }

    /// @notice The number of writes applied and not compensated.
    function writes() external view returns (uint256) {
        return _writes;
    }

    /// @inheritdoc ICrossChainBusiness
    function compensate(bytes32) external onlyGateway {
        --_writes;
        _stateChanged();
        _strike(Hook.Compensate);
    }

    /// @inheritdoc ITwoPhaseBusiness
    function prepare(TxId, bytes calldata) external onlyGateway returns (bytes32[] memory keys) {
        _strike(Hook.Prepare);
        keys = new bytes32[](1);
        keys[0] = keccak256("key");
    }

    /// @inheritdoc ITwoPhaseBusiness
    function commit(TxId) external onlyGateway {
        _stateChanged();
        _strike(Hook.Commit);
    }

    /// @inheritdoc ITwoPhaseBusiness
    function rollback(TxId) external onlyGateway {
        _strike(Hook.Rollback);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(CrossChainBusiness, IERC165) returns (bool) {
        return interfaceId == type(ITwoPhaseBusiness).interfaceId || super.supportsInterface(interfaceId);
    }

    function _keyVersion(bytes32) internal pure override returns (uint256) {
        return 0;
    }

    function _strike(Hook hook) private {
        Attack memory attack = _attack;
        if (!attack.armed || attack.hook != hook) return;
        delete _attack;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = attack.to.call(attack.data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
        emit AttackSucceeded(hook, result);
    }
}
