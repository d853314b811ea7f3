// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IGatewayAttesters} from "../interfaces/IGatewayAttesters.sol";

/**
 * @title GatewayAttesters
 * @notice The attester set of a sub-chain gateway and the check of attestations; see {IGatewayAttesters}.
 *
 * Each attester's seat is one slot: the epoch it was last put in the set and its index in that set. An attester is
 * current when its seat's epoch is the current epoch, so a set change writes the new seats and never clears the old
 * ones (bounded by MAX_ATTESTERS), and a duplicate is one bit of a 32-bit mask per check.
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

    bytes32 private immutable _SUBCHAIN_ID;

    uint64 private _attesterEpoch;
    uint8 private _threshold;
    address[] private _attesters;
    /// @dev (epoch << 8) | index, of the last set the attester was put in.
    mapping(address attester => uint256 seat) private _seats;

    constructor(
        bytes32 subchainId_,
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
        uint64 current = _attesterEpoch;
        if (epoch <= current) revert SubchainGatewayAttesterEpochStale(epoch, current);
        _checkAttestations(_setChangeDigest(epoch, attesters, threshold), signatures);
        _setAttesters(epoch, attesters, threshold);
    }

    /// @inheritdoc IGatewayAttesters
    function attesterSet() external view returns (uint64, uint8, address[] memory) {
        return (_attesterEpoch, _threshold, _attesters);
    }

    /// @inheritdoc IGatewayAttesters
    function attestationDomainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IGatewayAttesters
    function attestationDigest(
        bytes32 txId,
        bytes32 pipeId,
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
    function subchainId() external view returns (bytes32) {
        return _SUBCHAIN_ID;
    }

    /// @dev The selector is the first 4 bytes of `data`; callers check `data` holds them.
    function _attestationDigest(
        bytes32 txId,
        bytes32 pipeId,
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
     * attester of the current epoch. Every signature given must be valid.
     */
    function _checkAttestations(bytes32 digest, bytes calldata signatures) internal view {
        uint256 length = signatures.length;
        if (length % _SIGNATURE_LENGTH != 0) revert SubchainGatewayAttestationsMalformed(length);
        uint256 count = length / _SIGNATURE_LENGTH;
        uint256 threshold = _threshold;
        if (count < threshold) revert SubchainGatewayAttestationsInsufficient(count, threshold);
        uint256 epoch = _attesterEpoch;
        uint256 seen;
        // Bounded by the calldata the caller pays for; each signature costs an ecrecover.
        for (uint256 i = 0; i < count; ++i) {
            uint256 start = i * _SIGNATURE_LENGTH;
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(
                digest,
                signatures[start:start + _SIGNATURE_LENGTH]
            );
            if (err != ECDSA.RecoverError.NoError) revert SubchainGatewayAttestationMalformed(i);
            uint256 seat = _seats[signer];
            uint256 seatEpoch = seat >> _INDEX_BITS;
            if (seatEpoch != epoch) {
                if (seat == 0) revert SubchainGatewayAttestationSignerUnknown(i, signer);
                revert SubchainGatewayAttesterNotCurrent(i, signer, uint64(seatEpoch));
            }
            uint256 bit = 1 << (seat & 0xff);
            if (seen & bit != 0) revert SubchainGatewayAttesterDuplicated(i, signer);
            seen |= bit;
        }
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
        _attesterEpoch = epoch;
        _threshold = threshold;
        delete _attesters;
        // Bounded by MAX_ATTESTERS.
        for (uint256 i = 0; i < size; ++i) {
            address attester = attesters[i];
            // A seat already of this epoch: the same address given twice.
            if (attester == address(0) || _seats[attester] >> _INDEX_BITS == epoch)
                revert SubchainGatewayAttesterInvalid(i, attester);
            _seats[attester] = (uint256(epoch) << _INDEX_BITS) | i;
            _attesters.push(attester);
        }
        emit AttesterSetUpdated(epoch, threshold, attesters, msg.sender);
    }
}
