// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Cheque05 {
    address public issuer;
    mapping(address => uint256) public paid;

    constructor() public {
        issuer = msg.sender;
    }

    function cash(uint256 amount, uint8 v, bytes32 r, bytes32 s) external {
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "s");
        bytes32 digest = keccak256(abi.encodePacked(msg.sender, amount));
        address signer = ecrecover(digest, v, r, s); // @bug
        require(signer == issuer && signer != address(0), "signer");
        paid[msg.sender] += amount;
    }
}
