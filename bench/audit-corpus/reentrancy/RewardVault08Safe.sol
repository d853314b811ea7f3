// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IHook {
    function onReward(address account, uint256 amount) external;
}

contract RewardVault08Safe {
    mapping(address => uint256) private _rewards;
    mapping(address => bool) private _claimed;

    function fund(address account, uint256 points) external {
        _rewards[account] += points;
    }

    function claim(IHook hook) external {
        require(!_claimed[msg.sender], "claimed");
        _markClaimed(msg.sender);
        hook.onReward(msg.sender, _rewards[msg.sender]);
    }

    function _markClaimed(address account) internal {
        _claimed[account] = true;
    }
}
