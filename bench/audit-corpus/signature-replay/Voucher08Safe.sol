// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract Voucher08Safe is EIP712, Nonces {
    bytes32 private constant _TYPEHASH = keccak256("Voucher(address to,uint256 amount,uint256 nonce)");
    address private immutable _signer;
    mapping(address => uint256) private _minted;

    constructor(address signer) EIP712("Voucher", "1") {
        _signer = signer;
    }

    function redeem(uint256 amount, bytes calldata signature) external {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(_TYPEHASH, msg.sender, amount, _useNonce(msg.sender))));
        require(ECDSA.recover(digest, signature) == _signer, "signer");
        _minted[msg.sender] += amount;
    }
}
