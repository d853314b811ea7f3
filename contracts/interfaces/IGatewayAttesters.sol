// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title IGatewayAttesters
 * @notice The sub-chain gateway's copy of the consortium's attester set (governed on the governance chain by
 * `AttesterRegistry`). An inbound packet runs only with the EIP-712 attestations of `threshold` distinct attesters
 * of the current epoch; a new set is taken only when `threshold` attesters of the current set signed it, with a
 * higher epoch.
 *
 * Domain: name "CCGP-Gateway", version "1", the sub-chain's chain id and the gateway's address. Attestations are
 * 65-byte `r || s || v` signatures with low `s`, concatenated (any order).
 */
interface IGatewayAttesters {
    // ---------------------------------------------------------------- errors

    /// @notice A set holds 1 to `max` attesters.
    error SubchainGatewayAttesterSetSizeInvalid(uint256 size, uint256 max);
    /// @notice The threshold must be more than half of the set (`size`) and at most the whole set.
    error SubchainGatewayAttesterThresholdInvalid(uint256 threshold, uint256 size);
    /// @notice Attester `index` of a set is the zero address or appears twice in it.
    error SubchainGatewayAttesterInvalid(uint256 index, address attester);
    /// @notice A set change names `epoch`, which is not above the current `currentEpoch` (stale or replayed).
    error SubchainGatewayAttesterEpochStale(uint64 epoch, uint64 currentEpoch);
    /// @notice `count` attestations given, `threshold` needed (the attestation bytes are `count * 65` long).
    error SubchainGatewayAttestationsInsufficient(uint256 count, uint256 threshold);
    /// @notice The attestation bytes are not a whole number of 65-byte signatures.
    error SubchainGatewayAttestationsMalformed(uint256 length);
    /// @notice Attestation `index` is not a valid signature: wrong length of `v`, high `s`, or unrecoverable.
    error SubchainGatewayAttestationMalformed(uint256 index);
    /**
     * @notice Attestation `index` recovers to `signer`, who never was an attester here: it was signed over another
     * domain (chain, gateway), another field value, or by a key that is no attester.
     */
    error SubchainGatewayAttestationSignerUnknown(uint256 index, address signer);
    /// @notice Attestation `index` is by `signer`, an attester of `epoch` only, not of the current epoch.
    error SubchainGatewayAttesterNotCurrent(uint256 index, address signer, uint64 epoch);
    /// @notice Attestation `index` is by `signer`, who already signed an earlier attestation of this call.
    error SubchainGatewayAttesterDuplicated(uint256 index, address signer);

    // ---------------------------------------------------------------- events

    /// @notice The gateway took the attester set of `epoch`: `attesters`, `threshold` signatures needed.
    event AttesterSetUpdated(uint64 indexed epoch, uint8 threshold, address[] attesters, address indexed submitter);

    // ---------------------------------------------------------------- functions

    /**
     * @notice Replaces the attester set with the set of `epoch`, signed (EIP-712 `AttesterSetChange`) by
     * `threshold` distinct attesters of the current set. Anyone may submit it: the signatures are the authority.
     * @param epoch The new set's epoch (the governance chain's), above the current one.
     * @param attesters 1 to `MAX_ATTESTERS` distinct non-zero attesters.
     * @param threshold Signatures the new set needs: more than half of it, at most all of it.
     * @param signatures Concatenated 65-byte signatures of current attesters over the change.
     */
    function updateAttesters(
        uint64 epoch,
        address[] calldata attesters,
        uint8 threshold,
        bytes calldata signatures
    ) external;

    /// @notice The current epoch, its threshold and its attesters.
    function attesterSet() external view returns (uint64 epoch, uint8 threshold, address[] memory attesters);

    /// @notice The EIP-712 domain separator attestations and set changes are signed under.
    function attestationDomainSeparator() external view returns (bytes32);

    /**
     * @notice The digest attesters sign for the inbound packet these fields describe (the gateway fills in its
     * sub-chain id and address): what an off-chain signer can compare its own digest with.
     */
    function attestationDigest(
        TxId txId,
        PipeId pipeId,
        uint64 sequence,
        bytes32 contractName,
        uint8 operation,
        bytes calldata data,
        uint64 deadline
    ) external view returns (bytes32);

    /// @notice The digest attesters sign to move this gateway to the set of `epoch`.
    function attesterSetChangeDigest(
        uint64 epoch,
        address[] calldata attesters,
        uint8 threshold
    ) external view returns (bytes32);

    /// @notice The sub-chain id (the governance chain's `ChainRegistry` id) this gateway serves.
    function subchainId() external view returns (SubchainId);
}
