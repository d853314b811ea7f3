// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {AMDP} from "../libraries/AMDP.sol";
import {IAMDP} from "../interfaces/IAMDP.sol";

/**
 * @title AMDPHarness
 * @notice Test-only contract exposing the {AMDP} library under the "CCGP-AMDP" / "1" EIP-712 domain.
 * @dev `verifyWithDomain` takes any domain separator so the shared test vectors, signed for a fixed
 * verifying contract, can be checked without deploying at that address.
 */
contract AMDPHarness is EIP712("CCGP-AMDP", "1"), IAMDP {
    /// @notice The EIP-712 domain separator of this contract (as the ledger would use for its own address).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice {AMDP.PACKET_TYPEHASH}.
    function packetTypehash() external pure returns (bytes32) {
        return AMDP.PACKET_TYPEHASH;
    }

    /// @notice {AMDP.COUNTERSIGNATURE_TYPEHASH}.
    function countersignatureTypehash() external pure returns (bytes32) {
        return AMDP.COUNTERSIGNATURE_TYPEHASH;
    }

    /// @notice {AMDP.hash} of a packet copied to memory.
    function hashPacket(AMDP.Packet memory p) external pure returns (bytes32) {
        return AMDP.hash(p);
    }

    /// @notice {AMDP.hashCalldata} of a packet read from calldata.
    function hashPacketCalldata(AMDP.Packet calldata p) external pure returns (bytes32) {
        return AMDP.hashCalldata(p);
    }

    /// @notice {AMDP.countersignatureHash}.
    function countersignatureHash(
        bytes32 packetHash,
        bytes32 appSignatureHash,
        address signer
    ) external pure returns (bytes32) {
        return AMDP.countersignatureHash(packetHash, appSignatureHash, signer);
    }

    /// @notice The EIP-712 digest of `structHash` under `domainSeparator_`.
    function typedDataHash(bytes32 domainSeparator_, bytes32 structHash) external pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator_, structHash);
    }

    /// @notice {AMDP.verifySequence} under this contract's own domain.
    function verifySequence(
        AMDP.Packet calldata p,
        bytes calldata appSig,
        bytes calldata proxySig,
        address expectedApp,
        address expectedProxy
    ) external view returns (bytes32) {
        return AMDP.verifySequence(_domainSeparatorV4(), p, appSig, proxySig, expectedApp, expectedProxy);
    }

    /// @notice {AMDP.verifySequence} under any domain separator (for the shared test vectors).
    function verifyWithDomain(
        bytes32 domainSeparator_,
        AMDP.Packet calldata p,
        bytes calldata appSig,
        bytes calldata proxySig,
        address expectedApp,
        address expectedProxy
    ) external view returns (bytes32) {
        return AMDP.verifySequence(domainSeparator_, p, appSig, proxySig, expectedApp, expectedProxy);
    }

    /// @notice Gas spent by {AMDP.verifySequence} alone (no call overhead), for the gas snapshot.
    function verifySequenceGas(
        bytes32 domainSeparator_,
        AMDP.Packet calldata p,
        bytes calldata appSig,
        bytes calldata proxySig,
        address expectedApp,
        address expectedProxy
    ) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        AMDP.verifySequence(domainSeparator_, p, appSig, proxySig, expectedApp, expectedProxy);
        gasUsed = before - gasleft();
    }

    /// @notice {AMDP.verifyPayload}.
    function verifyPayload(AMDP.Packet calldata p, bytes calldata payload) external pure {
        AMDP.verifyPayload(p, payload);
    }
}
