// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

contract Voucher08 {
    address private immutable _signer;
    mapping(address => uint256) private _minted;

    constructor(address signer) {
        _signer = signer;
    }

    function redeem(uint256 amount, bytes calldata signature) external {
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(keccak256(abi.encode(msg.sender, amount)));
        require(ECDSA.recover(digest, signature) == _signer, "signer"); // @bug
        _minted[msg.sender] += amount;
    }
}
