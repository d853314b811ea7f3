// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Permit05Safe {
    mapping(address => uint256) public nonces;
    mapping(address => mapping(address => uint256)) public allowance;

    function _chainId() private view returns (uint256 id) {
        assembly {
            id := chainid()
        }
    }

    function permit(address holder, address spender, uint256 value, uint8 v, bytes32 r, bytes32 s) external {
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "s");
        bytes32 digest = keccak256(abi.encode(_chainId(), address(this), holder, spender, value, nonces[holder]++));
        address signer = ecrecover(digest, v, r, s);
        require(signer != address(0) && signer == holder, "signer");
        allowance[holder][spender] = value;
    }
}
