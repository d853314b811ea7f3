// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract KingOfEther04 {
    address public king;
    uint256 public prize;

    function claimThrone() public payable {
        require(msg.value > prize);
        address previous = king;
        uint256 previousPrize = prize;
        king = msg.sender;
        prize = msg.value;
        previous.send(previousPrize); // @bug
    }
}
