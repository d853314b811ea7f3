import { Command } from "commander";
import type { Hex } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { createKeystore, DEFAULT_SCRYPT_N, keystoreAddress } from "./keystore";

export interface KeystoreCommandIo {
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}

function fromEnv(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === "")
    throw new CcgpError("KEYSTORE_ENV_MISSING", `environment variable ${name} (${what}) is not set`, {
      variable: name,
    });
  return value;
}

/**
 * `keystore create --out <file>` and `keystore address <file>`. Secrets come from environment variables,
 * never from arguments (which other users can read in the process list).
 */
export function keystoreCommand(io: KeystoreCommandIo = {}): Command {
  const env = io.env ?? process.env;
  const print = io.print ?? ((line: string) => console.log(line));
  const command = new Command("keystore").description(
    "create and inspect encrypted key files (Web3 Secret Storage v3)",
  );
  command
    .command("create")
    .description("encrypt a new random key, or the key in --private-key-env, into a keystore file")
    .requiredOption("--out <file>", "keystore file to write (refuses to overwrite)")
    .option("--password-env <name>", "variable holding the password", "CCGP_KEYSTORE_PASSWORD")
    .option("--private-key-env <name>", "variable holding a key to import (default: a fresh random key)")
    .option("--scrypt-n <n>", "scrypt cost parameter", String(DEFAULT_SCRYPT_N))
    .action(async (opts: { out: string; passwordEnv: string; privateKeyEnv?: string; scryptN: string }) => {
      const password = fromEnv(env, opts.passwordEnv, "keystore password");
      const privateKey =
        opts.privateKeyEnv === undefined ? undefined : (fromEnv(env, opts.privateKeyEnv, "private key") as Hex);
      const created = await createKeystore({ privateKey, password, path: opts.out, scryptN: Number(opts.scryptN) });
      print(`${created.address} ${created.path}`);
    });
  command
    .command("address")
    .description("print the address a keystore file holds, without decrypting it")
    .argument("<file>")
    .action((file: string) => print(keystoreAddress(file)));
  return command;
}

if (require.main === module) {
  keystoreCommand()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
