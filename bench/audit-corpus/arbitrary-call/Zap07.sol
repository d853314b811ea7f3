// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Zap07 {
    mapping(address => uint256) private _zapped;

    function zap(address aggregator, bytes calldata swapData) external payable {
        _zapped[msg.sender] += msg.value;
        (bool ok, ) = aggregator.call{value: msg.value}(swapData); // @bug
        require(ok, "swap");
    }
}
