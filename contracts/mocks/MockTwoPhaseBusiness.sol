// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {CrossChainBusiness} from "../subchain/CrossChainBusiness.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../interfaces/ITwoPhaseBusiness.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title MockTwoPhaseBusiness
 * @notice Test-only business contract for the gateway paths the examples cannot reach: a prepare reporting any
 * number of keys, and business calls that burn all the gas they are given.
 */
contract MockTwoPhaseBusiness is ITwoPhaseBusiness, CrossChainBusiness {
    bytes32[] private _reportedKeys;
    bool private _exhaustOnCompensate;
    uint256 private _writes;

    constructor(address gateway_) CrossChainBusiness(gateway_) {}

    /// @notice Sets the keys the next prepares report.
    function setReportedKeys(bytes32[] calldata keys) external {
        _reportedKeys = keys;
    }

    /// @notice Makes `compensate` burn all its gas.
    function setExhaustOnCompensate(bool exhaust) external {
        _exhaustOnCompensate = exhaust;
    }

    /// @notice A plain gateway write.
    function write() external onlyGateway {
        ++_writes;
        _stateChanged();
    }

    /// @notice The number of writes applied and not compensated.
    function writes() external view returns (uint256) {
        return _writes;
    }

    /// @notice A write that burns all the gas it is given.
    function exhaustGas() external view onlyGateway {
        _exhaust();
    }

    /// @inheritdoc ICrossChainBusiness
    function compensate(bytes32) external onlyGateway {
        if (_exhaustOnCompensate) _exhaust();
        --_writes;
        _stateChanged();
    }

    /// @inheritdoc ITwoPhaseBusiness
    function prepare(TxId, bytes calldata) external view onlyGateway returns (bytes32[] memory) {
        return _reportedKeys;
    }

    /// @inheritdoc ITwoPhaseBusiness
    function commit(TxId) external onlyGateway {
        _stateChanged();
    }

    /// @inheritdoc ITwoPhaseBusiness
    function rollback(TxId) external view onlyGateway {}

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(CrossChainBusiness, IERC165) returns (bool) {
        return interfaceId == type(ITwoPhaseBusiness).interfaceId || super.supportsInterface(interfaceId);
    }

    function _keyVersion(bytes32) internal pure override returns (uint256) {
        return 0;
    }

    function _exhaust() private pure {
        assembly {
            invalid()
        }
    }
}
