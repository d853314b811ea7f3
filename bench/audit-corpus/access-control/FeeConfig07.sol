// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract FeeConfig07 {
    address private _keeper;
    uint256 private _rate;

    constructor() {
        _keeper = msg.sender;
    }

    function setRate(uint256 rate) external {
        require(msg.sender == _keeper, "keeper");
        _rate = rate;
    }

    function resetRate(uint256 rate) external { // @bug
        _rate = rate;
    }

    function rate() external view returns (uint256) {
        return _rate;
    }
}
