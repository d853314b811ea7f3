export { createKeystore, loadKeystore, keystoreAddress, DEFAULT_SCRYPT_N, MIN_PASSWORD_LENGTH } from "./keystore";
export type { CreateKeystoreOptions } from "./keystore";
export { ExternalSigner, httpDigestSigner } from "./external";
export type { DigestSigner, DigestSignRequest, SignPurpose } from "./external";
export { loadSigner, type Signer } from "./signer";
export { keystoreCommand, type KeystoreCommandIo } from "./cli";
