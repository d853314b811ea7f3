/** Names shared by several detectors. */

/** State that decides who controls a contract. */
export const PRIVILEGED_NAME = /owner|admin|governance|role|paused|implementation/i;

/** `initialize`, `initializeV2`, `init`, `init_` — but not `initiate` or `initialPrice`. */
export const INITIALIZER_NAME = /^_{0,2}(initiali[sz]e|init)(?![a-z])/;

/** `upgradeTo`, `upgradeToAndCall`, `setImplementation`. */
export const UPGRADE_NAME = /^(upgradeTo|setImplementation)/i;

/** OpenZeppelin Initializable's modifiers. */
export const INITIALIZER_MODIFIER = /^(initializer|reinitializer|onlyInitializing)$/;
