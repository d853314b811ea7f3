// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ISubchainGateway} from "../interfaces/ISubchainGateway.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title CrossChainBusiness
 * @notice Base of a business contract reachable through a {SubchainGateway}: the gateway address, the
 * `onlyGateway` guard, the request id the gateway appends to inbound calldata, the contract-wide state version and
 * the ERC-165 answer the gateway checks at registration. A concrete contract implements `compensate` and
 * `_keyVersion`, and calls `_stateChanged()` on every state change, local or cross-chain.
 */
abstract contract CrossChainBusiness is ICrossChainBusiness, ERC165 {
    address private immutable _GATEWAY;
    uint256 private _contractVersion;

    modifier onlyGateway() {
        if (msg.sender != _GATEWAY) revert CrossChainBusinessUnauthorizedGateway(msg.sender);
        _;
    }

    /// @param gateway_ The sub-chain's gateway, the only caller of the cross-chain entry points and hooks.
    constructor(address gateway_) {
        if (gateway_ == address(0)) revert CrossChainBusinessInvalidGateway(gateway_);
        _GATEWAY = gateway_;
    }

    /// @inheritdoc ICrossChainBusiness
    function gateway() public view returns (address) {
        return _GATEWAY;
    }

    /// @inheritdoc ICrossChainBusiness
    function stateVersion(bytes32 key) external view returns (uint256) {
        return key == bytes32(0) ? _contractVersion : _keyVersion(key);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(ICrossChainBusiness).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev The version of the state under a non-zero `key`.
    function _keyVersion(bytes32 key) internal view virtual returns (uint256);

    /// @dev Moves the contract-wide version; call it on every state change.
    function _stateChanged() internal {
        unchecked {
            ++_contractVersion;
        }
    }

    /// @dev The request id the gateway appended to the calldata; meaningful only in an `onlyGateway` entry point
    /// the gateway reaches through `execute` (the hooks receive their ids as arguments).
    function _inboundRequestId() internal pure returns (bytes32) {
        return bytes32(msg.data[msg.data.length - 32:]);
    }

    /// @dev The prepared two-phase transaction holding `key` of this contract at the gateway (zero: free).
    function _lockHolder(bytes32 key) internal view returns (TxId) {
        return ISubchainGateway(_GATEWAY).lockHolder(address(this), key);
    }
}
