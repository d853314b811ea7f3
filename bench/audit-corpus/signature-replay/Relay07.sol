// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Relay07 {
    mapping(address => uint256) public nonces;
    mapping(address => uint256) public credits;

    function creditBySig(address account, uint256 amount, uint8 v, bytes32 r, bytes32 s) external {
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "s");
        bytes32 digest = keccak256(abi.encode(account, amount, nonces[account]++));
        address signer = ecrecover(digest, v, r, s); // @bug
        require(signer != address(0) && signer == account, "signer");
        credits[account] += amount;
    }
}
