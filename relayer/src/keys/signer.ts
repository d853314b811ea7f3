import type { LocalAccount } from "viem";
import type { KeySource } from "../config/schema";
import { CcgpError } from "../../../lib/infra/errors";
import { ExternalSigner, httpDigestSigner } from "./external";
import { loadKeystore } from "./keystore";

/**
 * Anything that signs for the relayer is a viem `LocalAccount`: it has `address`, `signTypedData` (AMDP
 * packets), `signTransaction` (chain writes) and `signMessage`, whether the key is in a keystore or in a KMS.
 */
export type Signer = LocalAccount;

/**
 * Opens the signer a config entry describes. `role` is the config key (`service`, `business`) so errors
 * name the field to fix; the keystore password is read from the environment variable the config names.
 */
export async function loadSigner(
  source: KeySource,
  options: { role: string; env?: NodeJS.ProcessEnv },
): Promise<Signer> {
  if (source.kind === "external")
    return new ExternalSigner(source.address, httpDigestSigner(source.endpoint)).toAccount();
  const password = (options.env ?? process.env)[source.passwordEnv];
  if (password === undefined || password === "")
    throw new CcgpError(
      "KEYSTORE_PASSWORD_MISSING",
      `config.keys.${options.role}.passwordEnv: environment variable ${source.passwordEnv} is not set ` +
        `(it must hold the password of ${source.path})`,
      { role: options.role, variable: source.passwordEnv, path: source.path },
    );
  return loadKeystore(source.path, password);
}
