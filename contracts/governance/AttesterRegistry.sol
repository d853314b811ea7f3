// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAttesterRegistry} from "../interfaces/IAttesterRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {Governed} from "./Governed.sol";

/**
 * @title AttesterRegistry
 * @notice The attester set of the consortium; see {IAttesterRegistry}. Only a vote changes it. Membership in the
 * current set is one slot per attester (the epoch it was set in), so a change writes the new set and never clears
 * the old one: an attester of an earlier epoch simply stops matching.
 */
contract AttesterRegistry is IAttesterRegistry, Governed {
    /// @notice The largest attester set.
    uint256 public constant MAX_ATTESTERS = 32;

    struct Seat {
        uint64 epoch; // the epoch this account was last put in the set
        uint32 institution;
    }

    IMembership private immutable _membership;
    address private immutable _voting;

    uint64 private _epoch;
    uint8 private _threshold;
    address[] private _attesters;
    mapping(address attester => Seat) private _seats;

    constructor(IMembership membership_, address voting_) {
        _membership = membership_;
        _voting = voting_;
    }

    /// @inheritdoc IAttesterRegistry
    function setAttesters(address[] calldata attesters, uint8 threshold) external onlyGovernance {
        uint256 size = attesters.length;
        if (size == 0 || size > MAX_ATTESTERS) revert AttesterSetSizeInvalid(size, MAX_ATTESTERS);
        // More than half: two sets of signers that could each reach the threshold always share an attester.
        if (uint256(threshold) * 2 <= size || threshold > size) revert AttesterThresholdInvalid(threshold, size);
        uint32[] memory institutions = new uint32[](size);
        // Bounded by MAX_ATTESTERS (the repeat check is quadratic in at most 32).
        for (uint256 i = 0; i < size; ++i) {
            address attester = attesters[i];
            if (!_membership.isActiveAccount(attester)) revert AttesterNotActiveAccount(attester);
            uint32 institution = _membership.account(attester).institution;
            for (uint256 j = 0; j < i; ++j)
                if (institutions[j] == institution) revert AttesterInstitutionRepeated(attester, institution);
            institutions[i] = institution;
        }
        uint64 next = _epoch + 1;
        _epoch = next;
        _threshold = threshold;
        delete _attesters;
        for (uint256 i = 0; i < size; ++i) {
            _attesters.push(attesters[i]);
            _seats[attesters[i]] = Seat({epoch: next, institution: institutions[i]});
        }
        emit AttesterSetChanged(next, threshold, attesters, institutions);
    }

    /// @inheritdoc IAttesterRegistry
    function attesterSet() external view returns (uint64, uint8, address[] memory) {
        return (_epoch, _threshold, _attesters);
    }

    /// @inheritdoc IAttesterRegistry
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IAttesterRegistry
    function isAttester(address account) external view returns (bool) {
        return _inCurrentSet(account) && _membership.isActiveAccount(account);
    }

    /// @inheritdoc IAttesterRegistry
    function institutionOf(address account) external view returns (uint32) {
        return _inCurrentSet(account) ? _seats[account].institution : 0;
    }

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return _voting;
    }

    function _inCurrentSet(address account) private view returns (bool) {
        uint64 current = _epoch;
        return current != 0 && _seats[account].epoch == current;
    }
}
