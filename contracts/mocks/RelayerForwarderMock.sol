// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title RelayerForwarderMock
 * @notice Test-only relayer account that is a contract forwarding anyone's call: the worst relayer a gateway can
 * be given, used to show that a business contract re-entering through a relayer still cannot run a packet twice,
 * compensate twice or finish a two-phase transaction twice.
 */
contract RelayerForwarderMock {
    address private immutable _GATEWAY;

    constructor(address gateway_) {
        _GATEWAY = gateway_;
    }

    /// @notice Calls the gateway with `data` and bubbles up its revert.
    function forward(bytes calldata data) external returns (bytes memory result) {
        bool ok;
        // solhint-disable-next-line avoid-low-level-calls
        (ok, result) = _GATEWAY.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
