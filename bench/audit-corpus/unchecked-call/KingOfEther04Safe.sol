// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract KingOfEther04Safe {
    address public king;
    uint256 public prize;
    mapping(address => uint256) public refunds;

    function claimThrone() public payable {
        require(msg.value > prize);
        refunds[king] += prize;
        king = msg.sender;
        prize = msg.value;
    }

    function refund() public {
        uint256 amount = refunds[msg.sender];
        refunds[msg.sender] = 0;
        require(msg.sender.send(amount));
    }
}
