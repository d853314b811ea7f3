// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../interfaces/ITwoPhaseBusiness.sol";

/// @title PrivilegedSelectors
/// @notice The one list of functions a cross-chain call may never reach: the gateway's compensation and two-phase
/// hooks, and the usual access-control, ownership and upgrade functions. The pipe registry refuses them in every
/// pipe and the sub-chain gateway refuses them in every call, both from this definition.
library PrivilegedSelectors {
    bytes4 internal constant TRANSFER_OWNERSHIP = bytes4(keccak256("transferOwnership(address)"));
    bytes4 internal constant RENOUNCE_OWNERSHIP = bytes4(keccak256("renounceOwnership()"));
    bytes4 internal constant ACCEPT_OWNERSHIP = bytes4(keccak256("acceptOwnership()"));
    bytes4 internal constant UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));

    /// @notice Whether `selector` is one of the privileged functions.
    function isPrivileged(bytes4 selector) internal pure returns (bool) {
        return
            selector == ICrossChainBusiness.compensate.selector ||
            selector == ITwoPhaseBusiness.prepare.selector ||
            selector == ITwoPhaseBusiness.commit.selector ||
            selector == ITwoPhaseBusiness.rollback.selector ||
            selector == IAccessControl.grantRole.selector ||
            selector == IAccessControl.revokeRole.selector ||
            selector == IAccessControl.renounceRole.selector ||
            selector == TRANSFER_OWNERSHIP ||
            selector == RENOUNCE_OWNERSHIP ||
            selector == ACCEPT_OWNERSHIP ||
            selector == UPGRADE_TO_AND_CALL;
    }
}
