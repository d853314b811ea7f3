// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {PipeId, TxId} from "../types/Ids.sol";

/// @title IEventEmitterMock
/// @notice Test-only: emits events on demand so the relayer's chain plugins can be tested on a real node.
interface IEventEmitterMock {
    /// @notice Emitted by every call to `emitEvent`.
    event Emitted(uint256 indexed id, address indexed sender, bytes data);

    /// @notice The ledger's `TxOpened`, with its signature, for readers of that event alone.
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

    /// @notice Emits `Emitted(id, msg.sender, data)` and counts it.
    function emitEvent(uint256 id, bytes calldata data) external;

    /// @notice Emits `count` events with ids `firstId`, `firstId + 1`, ... in one transaction.
    function emitMany(uint256 firstId, uint256 count) external;

    /// @notice Number of events emitted so far.
    function emittedCount() external view returns (uint256);

    /// @notice Emits `TxOpened` as the ledger would for an open of one packet (operation 1, selector 0).
    function emitPacketAccepted(TxId txId, PipeId pipeId, uint64 sequence, bytes32 packetHash) external;
}

/// @title EventEmitterMock
/// @notice Test-only implementation of `IEventEmitterMock`.
contract EventEmitterMock is IEventEmitterMock {
    uint256 private _emittedCount;

    /// @inheritdoc IEventEmitterMock
    function emitEvent(uint256 id, bytes calldata data) external {
        _emittedCount += 1;
        emit Emitted(id, msg.sender, data);
    }

    /// @inheritdoc IEventEmitterMock
    function emitMany(uint256 firstId, uint256 count) external {
        _emittedCount += count;
        for (uint256 i = 0; i < count; ++i) {
            emit Emitted(firstId + i, msg.sender, "");
        }
    }

    /// @inheritdoc IEventEmitterMock
    function emittedCount() external view returns (uint256) {
        return _emittedCount;
    }

    /// @inheritdoc IEventEmitterMock
    function emitPacketAccepted(TxId txId, PipeId pipeId, uint64 sequence, bytes32 packetHash) external {
        _emittedCount += 1;
        bytes memory packed = abi.encodePacked(sequence, packetHash, uint8(1), bytes4(0));
        emit TxOpened(txId, pipeId, msg.sender, uint64(_emittedCount), 0, 1, 0, packed);
    }
}
