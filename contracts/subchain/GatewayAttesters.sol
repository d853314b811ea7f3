// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IGatewayAttesters} from "../interfaces/IGatewayAttesters.sol";
import {PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title GatewayAttesters
 * @notice The attester set of a sub-chain gateway and the check of attestations; see {IGatewayAttesters}.
 *
 * The current set is kept as code (the packed addresses, behind a STOP byte, in a contract made at each set change), so
 * checking `k` attestations reads the epoch, threshold, size and the set's address in one slot and the whole set in
 * one EXTCODECOPY, instead of one cold storage read per signer: each signature then costs its ecrecover and its
 * calldata. Each attester's seat (the epoch it was last put in the set and its index) is also kept, one slot
 * each: its epoch is the current one exactly when the attester is in the current set. A set change uses it to
 * refuse a repeated address, a refused signer is named with it (never a member, or a member of an earlier epoch),
 * and a single signature (k = 1) is checked against its signer's seat alone, one slot, cheaper than the code. A set
 * change writes the new seats and never clears the old ones (bounded by MAX_ATTESTERS).
 */
abstract contract GatewayAttesters is IGatewayAttesters, EIP712 {
    /// @notice The largest attester set (as on the governance chain).
    uint256 public constant MAX_ATTESTERS = 32;
    /// @notice EIP-712 type of what attesters sign for every inbound packet the ledger opened.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 txId,bytes32 pipeId,uint64 sequence,bytes32 subchain,address gateway,"
        "bytes32 contractName,uint8 operation,bytes4 selector,bytes32 payloadHash,uint64 deadline)"
    );
    /// @notice EIP-712 type of a change of the attester set.
    bytes32 public constant ATTESTER_SET_CHANGE_TYPEHASH = keccak256(
        "AttesterSetChange(uint64 epoch,uint8 threshold,address[] attesters)"
    );

    uint256 private constant _SIGNATURE_LENGTH = 65;
    uint256 private constant _INDEX_BITS = 8;

    SubchainId private immutable _SUBCHAIN_ID;

    /// @dev One slot, read by every check: everything about the current set but its members.
    struct CurrentSet {
        uint64 epoch;
        uint8 threshold;
        uint8 size;
        address members; // code: 0x00, then `size` packed 20-byte addresses (see {_storeMembers})
    }

    CurrentSet private _current;
    /// @dev (epoch << 8) | index, of the last set the attester was put in.
    mapping(address attester => uint256 seat) private _seats;

    constructor(
        SubchainId subchainId_,
        uint64 epoch,
        address[] memory attesters,
        uint8 threshold
    ) EIP712("CCGP-Gateway", "1") {
        _SUBCHAIN_ID = subchainId_;
        if (epoch == 0) revert SubchainGatewayAttesterEpochStale(epoch, 0);
        _setAttesters(epoch, attesters, threshold);
    }

    /// @inheritdoc IGatewayAttesters
    function updateAttesters(
        uint64 epoch,
        address[] calldata attesters,
        uint8 threshold,
        bytes calldata signatures
    ) external {
        uint64 current = _current.epoch;
        if (epoch <= current) revert SubchainGatewayAttesterEpochStale(epoch, current);
        _checkAttestations(_setChangeDigest(epoch, attesters, threshold), signatures);
        _setAttesters(epoch, attesters, threshold);
    }

    /// @inheritdoc IGatewayAttesters
    function attesterSet() external view returns (uint64, uint8, address[] memory attesters) {
        CurrentSet memory set = _current;
        bytes memory packed = _loadMembers(set);
        attesters = new address[](set.size);
        for (uint256 i = 0; i < set.size; ++i) attesters[i] = _memberAt(packed, i);
        return (set.epoch, set.threshold, attesters);
    }

    /// @inheritdoc IGatewayAttesters
    function attestationDomainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IGatewayAttesters
    function attestationDigest(
        TxId txId,
        PipeId pipeId,
        uint64 sequence,
        bytes32 contractName,
        uint8 operation,
        bytes calldata data,
        uint64 deadline
    ) external view returns (bytes32) {
        return _attestationDigest(txId, pipeId, sequence, contractName, operation, data, deadline);
    }

    /// @inheritdoc IGatewayAttesters
    function attesterSetChangeDigest(
        uint64 epoch,
        address[] calldata attesters,
        uint8 threshold
    ) external view returns (bytes32) {
        return _setChangeDigest(epoch, attesters, threshold);
    }

    /// @inheritdoc IGatewayAttesters
    function subchainId() external view returns (SubchainId) {
        return _SUBCHAIN_ID;
    }

    /// @dev The selector is the first 4 bytes of `data`; callers check `data` holds them.
    function _attestationDigest(
        TxId txId,
        PipeId pipeId,
        uint64 sequence,
        bytes32 contractName,
        uint8 operation,
        bytes calldata data,
        uint64 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                txId,
                pipeId,
                sequence,
                _SUBCHAIN_ID,
                address(this),
                contractName,
                operation,
                bytes4(data),
                keccak256(data),
                deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /**
     * @dev Reverts unless `signatures` holds at least `threshold` signatures over `digest`, each by a distinct
     * attester of the current epoch. Every signature given must be valid. One pass: recover, find the signer in the
     * set read once, mark its index.
     */
    function _checkAttestations(bytes32 digest, bytes calldata signatures) internal view {
        uint256 length = signatures.length;
        if (length % _SIGNATURE_LENGTH != 0) revert SubchainGatewayAttestationsMalformed(length);
        uint256 count = length / _SIGNATURE_LENGTH;
        CurrentSet memory set = _current;
        if (count < set.threshold) revert SubchainGatewayAttestationsInsufficient(count, set.threshold);
        if (count == 1) {
            // One signature (k = 1): its signer's seat, one slot, says whether it is in the current set; cheaper
            // than loading the set's code.
            (bytes32 r, bytes32 s, uint8 v) = _splitAt(signatures, 0);
            (address only, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, v, r, s);
            if (err != ECDSA.RecoverError.NoError) revert SubchainGatewayAttestationMalformed(0);
            uint256 seat = _seats[only];
            if (seat >> _INDEX_BITS != set.epoch) _refuseSigner(0, only, seat);
            return;
        }
        bytes memory members = _loadMembers(set);
        uint256 seen = 0; // the seats already counted for this digest
        // Bounded by the calldata the caller pays for; each signature costs an ecrecover.
        for (uint256 i = 0; i < count; ++i) {
            (bytes32 r, bytes32 s, uint8 v) = _splitAt(signatures, i);
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, v, r, s);
            if (err != ECDSA.RecoverError.NoError) revert SubchainGatewayAttestationMalformed(i);
            uint256 bit = 1 << _indexOf(members, set.size, signer, i);
            if (seen & bit != 0) revert SubchainGatewayAttesterDuplicated(i, signer);
            seen |= bit;
        }
    }

    /// @dev The index of `signer` in the current set; else reverts naming attestation `i` and what the signer was.
    function _indexOf(bytes memory members, uint256 size, address signer, uint256 i) private view returns (uint256) {
        uint256 found = size;
        // Bounded by MAX_ATTESTERS: 20-byte entries, each read as the top of a word.
        assembly ("memory-safe") {
            let first := add(members, 0x20)
            for {
                let j := 0
            } lt(j, size) {
                j := add(j, 1)
            } {
                if eq(shr(96, mload(add(first, mul(j, 20)))), signer) {
                    found := j
                    break
                }
            }
        }
        if (found < size) return found;
        _refuseSigner(i, signer, _seats[signer]);
    }

    /// @dev Reverts naming attestation `i`'s signer, not in the current set: never a member, or one of an earlier
    /// epoch.
    function _refuseSigner(uint256 i, address signer, uint256 seat) private pure {
        if (seat == 0) revert SubchainGatewayAttestationSignerUnknown(i, signer);
        revert SubchainGatewayAttesterNotCurrent(i, signer, uint64(seat >> _INDEX_BITS));
    }

    /// @dev The current set's packed addresses, in one EXTCODECOPY past the leading STOP byte.
    function _loadMembers(CurrentSet memory set) private view returns (bytes memory members) {
        uint256 size = uint256(set.size) * 20;
        address code = set.members;
        members = new bytes(size);
        assembly ("memory-safe") {
            extcodecopy(code, add(members, 0x20), 1, size)
        }
    }

    /// @dev Signature `i` of the packed 65-byte `r || s || v` signatures (the caller checked the length).
    function _splitAt(bytes calldata signatures, uint256 i) private pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly ("memory-safe") {
            let at := add(signatures.offset, mul(i, 65))
            r := calldataload(at)
            s := calldataload(add(at, 0x20))
            v := byte(0, calldataload(add(at, 0x40)))
        }
    }

    function _memberAt(bytes memory members, uint256 j) private pure returns (address member) {
        assembly ("memory-safe") {
            member := shr(96, mload(add(add(members, 0x20), mul(j, 20))))
        }
    }

    /**
     * @dev Makes the contract whose code is 0x00 then the packed `attesters` (the STOP byte makes it do nothing when
     * called). Its init code copies what follows its 10-byte header and returns it: PUSH2 size, DUP1, PUSH1 10,
     * RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN. The epoch is the salt: each set gets its own address.
     */
    function _storeMembers(uint64 epoch, address[] memory attesters) private returns (address) {
        bytes memory code = hex"00";
        // Bounded by MAX_ATTESTERS.
        for (uint256 i = 0; i < attesters.length; ++i) code = bytes.concat(code, bytes20(attesters[i]));
        bytes memory init = bytes.concat(hex"61", bytes2(uint16(code.length)), hex"80600a3d393df3", code);
        return Create2.deploy(0, bytes32(uint256(epoch)), init);
    }

    function _setChangeDigest(
        uint64 epoch,
        address[] memory attesters,
        uint8 threshold
    ) private view returns (bytes32) {
        // EIP-712 encodes an array as the hash of its elements, each a 32-byte word.
        bytes32 structHash = keccak256(
            abi.encode(ATTESTER_SET_CHANGE_TYPEHASH, epoch, threshold, keccak256(abi.encodePacked(attesters)))
        );
        return _hashTypedDataV4(structHash);
    }

    function _setAttesters(uint64 epoch, address[] memory attesters, uint8 threshold) private {
        uint256 size = attesters.length;
        if (size == 0 || size > MAX_ATTESTERS) revert SubchainGatewayAttesterSetSizeInvalid(size, MAX_ATTESTERS);
        // More than half: two groups that could each reach the threshold always share an attester.
        if (uint256(threshold) * 2 <= size || threshold > size)
            revert SubchainGatewayAttesterThresholdInvalid(threshold, size);
        // Bounded by MAX_ATTESTERS.
        for (uint256 i = 0; i < size; ++i) {
            address attester = attesters[i];
            // A seat already of this epoch: the same address given twice.
            if (attester == address(0) || _seats[attester] >> _INDEX_BITS == epoch)
                revert SubchainGatewayAttesterInvalid(i, attester);
            _seats[attester] = (uint256(epoch) << _INDEX_BITS) | i;
        }
        _current = CurrentSet({
            epoch: epoch,
            threshold: threshold,
            size: uint8(size),
            members: _storeMembers(epoch, attesters)
        });
        emit AttesterSetUpdated(epoch, threshold, attesters, msg.sender);
    }
}
