// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

interface IToken {
    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
}

contract Airdrop06 {
    IToken private immutable _token;
    mapping(address => bool) private _claimed;

    constructor(IToken token) public {
        _token = token;
    }

    function claim() external {
        require(!_claimed[msg.sender], "claimed");
        _claimed[msg.sender] = true;
        _token.transfer(msg.sender, 100); // @bug
    }
}
