// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Zap07Safe {
    address private immutable _aggregator;
    mapping(address => uint256) private _zapped;

    constructor(address aggregator) {
        _aggregator = aggregator;
    }

    function zap(uint256 minOut) external payable {
        _zapped[msg.sender] += msg.value;
        (bool ok, ) = _aggregator.call{value: msg.value}(abi.encodeWithSignature("swap(uint256)", minOut));
        require(ok, "swap");
    }
}
