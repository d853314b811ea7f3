// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Delegation08 {
    mapping(address => address) private _delegateOf;
    mapping(address => uint256) private _nonces;
    mapping(address => uint256) private _weight;

    function setDelegate(address delegate) external {
        _delegateOf[msg.sender] = delegate;
    }

    function delegateBySig(address account, address to, uint8 v, bytes32 r, bytes32 s) external {
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "s");
        bytes32 digest = keccak256(abi.encode(block.chainid, address(this), account, to, _nonces[account]++));
        address signer = ecrecover(digest, v, r, s); // @bug
        require(signer == _delegateOf[account] || signer == account, "signer");
        _weight[to] += 1;
    }
}
