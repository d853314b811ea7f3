import { join } from "node:path";
import { JsonRpcProvider, Wallet, toBeHex } from "ethers";
import type { Hex } from "viem";
import { createKeystore } from "../../../relayer/src/keys";

/** An account of the local consortium: a fresh random key, kept in an encrypted keystore under the run dir. */
export interface LocalKey {
  name: string;
  address: string;
  /** Web3 Secret Storage v3 file, encrypted with the run's keystore password. */
  keystore: string;
  wallet: Wallet;
}

/**
 * scrypt cost of the local run's keystores (2^12, ~10 ms an unlock): the keys guard play money on throw-away
 * chains, and every relayer start decrypts two of them. Production keystores keep the default (2^17).
 */
export const LOCAL_SCRYPT_N = 1 << 12;

/** Creates one random key per name and writes its keystore to `<dir>/<name>.json`. */
export async function createLocalKeys<N extends string>(
  names: readonly N[],
  dir: string,
  password: string,
  scryptN = LOCAL_SCRYPT_N,
): Promise<Record<N, LocalKey>> {
  const entries = await Promise.all(
    names.map(async (name) => {
      const wallet = Wallet.createRandom();
      const { path } = await createKeystore({
        privateKey: wallet.privateKey as Hex,
        password,
        path: join(dir, `${name}.json`),
        scryptN,
      });
      return [name, { name, address: wallet.address, keystore: path, wallet: new Wallet(wallet.privateKey) }] as const;
    }),
  );
  return Object.fromEntries(entries) as unknown as Record<N, LocalKey>;
}

/** 10,000 ether: enough gas money for any local run. */
const BALANCE = toBeHex(10n ** 22n);

/** Gives each address a balance on an anvil chain (`anvil_setBalance`: no transfer, no nonce). */
export async function fund(provider: JsonRpcProvider, addresses: string[]): Promise<void> {
  await Promise.all(addresses.map((a) => provider.send("anvil_setBalance", [a, BALANCE])));
}

/** A provider for a local node: fixed chain id (no detection round trip), quick receipt polling, and no 250 ms
 * request cache (it would hand a sender the same pending nonce twice when transactions follow each other fast). */
export function localProvider(url: string, chainId: number): JsonRpcProvider {
  const provider = new JsonRpcProvider(url, chainId, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  provider.pollingInterval = 50;
  return provider;
}
