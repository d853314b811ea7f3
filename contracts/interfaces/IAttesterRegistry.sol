// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IAttesterRegistry
 * @notice The consortium's attester set, decided by vote: one key per verifier institution and a threshold `k` of
 * `n`. Every sub-chain gateway keeps a copy of it and executes an inbound packet only with the attestations
 * (EIP-712 signatures of what the ledger opened) of `k` distinct current attesters. Each set has an epoch, moved
 * by every change; a gateway takes a new set only from `k` of its current set and with a higher epoch.
 */
interface IAttesterRegistry {
    // ---------------------------------------------------------------- errors

    /// @notice A set holds 1 to `max` attesters.
    error AttesterSetSizeInvalid(uint256 size, uint256 max);
    /// @notice The threshold must be more than half of the set (`size`) and at most the whole set.
    error AttesterThresholdInvalid(uint256 threshold, uint256 size);
    /// @notice `attester` is not an active account of an active institution now.
    error AttesterNotActiveAccount(address attester);
    /// @notice `attester` belongs to `institution`, which already has an attester in the set (one per institution).
    error AttesterInstitutionRepeated(address attester, uint32 institution);

    // ---------------------------------------------------------------- events

    /**
     * @notice The vote made `attesters` (one per institution, `institutions` in the same order) the attester set of
     * `epoch`, with `threshold` signatures needed. Attesters sign this set change for every gateway.
     */
    event AttesterSetChanged(uint64 indexed epoch, uint8 threshold, address[] attesters, uint32[] institutions);

    // ---------------------------------------------------------------- governed

    /**
     * @notice Replaces the attester set and its threshold, opening the next epoch. Governance only.
     * @param attesters 1 to `MAX_ATTESTERS` active accounts, of distinct institutions.
     * @param threshold Signatures needed: more than half of the set, at most all of it.
     */
    function setAttesters(address[] calldata attesters, uint8 threshold) external;

    // ---------------------------------------------------------------- views

    /// @notice The current epoch (0 before the first set), its threshold and its attesters.
    function attesterSet() external view returns (uint64 epoch, uint8 threshold, address[] memory attesters);

    /// @notice The current epoch (0 before the first set).
    function epoch() external view returns (uint64);

    /**
     * @notice Whether `account` is in the current set and is an active account of an active institution now
     * (a suspended or revoked attester stops counting at once, before the vote that replaces it).
     */
    function isAttester(address account) external view returns (bool);

    /// @notice The institution `account` attests for in the current set (0 when it is not in it).
    function institutionOf(address account) external view returns (uint32);
}
