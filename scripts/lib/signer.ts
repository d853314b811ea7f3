import { readFileSync } from "node:fs";
import { Wallet, type Provider, type Signer } from "ethers";

/**
 * The signer of a script: the encrypted keystore named by `CCGP_KEYSTORE` (password from
 * `CCGP_KEYSTORE_PASSWORD`) on a real network, else the network's configured account `index` (local chains).
 * Keys never come from source or config files.
 */
export async function scriptSigner(
  provider: Provider,
  localSigners: () => Promise<Signer[]>,
  index = 0,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Signer> {
  const path = env.CCGP_KEYSTORE;
  if (path) {
    const password = env.CCGP_KEYSTORE_PASSWORD;
    if (!password) throw new Error("CCGP_KEYSTORE is set but CCGP_KEYSTORE_PASSWORD is not");
    let json: string;
    try {
      json = readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`CCGP_KEYSTORE: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return (await Wallet.fromEncryptedJson(json, password)).connect(provider);
    } catch (err) {
      throw new Error(
        `CCGP_KEYSTORE: cannot decrypt ${path} (wrong password or not a keystore): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const signer = (await localSigners())[index];
  if (!signer) throw new Error(`--signer ${index}: the network has no account at that index`);
  return signer;
}
