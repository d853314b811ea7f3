// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipListener} from "../interfaces/IMembershipListener.sol";

/// @dev Test-only: records which changes the membership contract tells its listener of.
contract MembershipListenerMock is IMembershipListener {
    event InstitutionSynced(uint32 id, address caller);
    event AccountSynced(address account, address caller);

    function syncInstitution(uint32 id) external {
        emit InstitutionSynced(id, msg.sender);
    }

    function syncAccount(address account) external {
        emit AccountSynced(account, msg.sender);
    }
}
