// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Router05Safe {
    address public owner;
    uint256 public calls;

    constructor() public {
        owner = msg.sender;
    }

    function execute(address target, bytes calldata data) external {
        require(msg.sender == owner, "owner");
        calls += 1;
        (bool ok, ) = target.call(data);
        require(ok, "call");
    }
}
