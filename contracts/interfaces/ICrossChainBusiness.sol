// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/**
 * @title ICrossChainBusiness
 * @notice What every business contract reachable through a sub-chain gateway implements. The gateway refuses to
 * register a contract that does not report this interface through ERC-165.
 *
 * Inbound calls: the gateway forwards the relayer's calldata unchanged and appends the 32-byte request id, as
 * ERC-2771 appends the sender. The gateway derives it from the packet, `keccak256(abi.encode(chainid, gateway,
 * pipeId, sequence))`, so each id reaches a business contract at most once. A business entry point called by the
 * gateway reads it from the last 32 bytes of `msg.data` to tag the write it makes, so that {compensate} can later
 * undo exactly that write.
 *
 * State versions: `stateVersion(key)` must change on every change of the state under `key`, whoever makes it (a
 * local transaction or the gateway), and never return to an earlier value. `key == bytes32(0)` asks for the
 * contract-wide version, which changes on every state change of the contract. The gateway reports the
 * contract-wide version in every `InboundExecuted` event and checks a per-key version before a dependent write.
 */
interface ICrossChainBusiness is IERC165 {
    /// @notice The constructor was given the zero address as gateway.
    error CrossChainBusinessInvalidGateway(address gateway);

    /// @notice A cross-chain entry point or hook was called by `caller`, which is not the gateway.
    error CrossChainBusinessUnauthorizedGateway(address caller);

    /// @notice `compensate` named a request that made no write that can still be undone here.
    error CrossChainBusinessUnknownRequest(bytes32 requestId);

    /// @notice The gateway this contract accepts cross-chain calls from.
    function gateway() external view returns (address);

    /**
     * @notice Undoes the write made by the inbound request `requestId`. Gateway only; the gateway calls it at most
     * once successfully per request. Reverts when the write cannot be undone (the gateway records the failure and
     * the governance ledger escalates to manual intervention).
     * @param requestId The request id the gateway appended to the original write.
     */
    function compensate(bytes32 requestId) external;

    /**
     * @notice The version of the state under `key` (`bytes32(0)`: the whole contract); see the interface notes.
     * @param key A business key (a batch id, an evidence hash ...) or zero for the contract-wide version.
     */
    function stateVersion(bytes32 key) external view returns (uint256);
}
