/**
 * Runs the `ccgp` command line for real, as a child process (the same launcher `npx ccgp` runs), and makes the
 * encrypted keystores it signs with. Keystores use a low scrypt cost so that each command unlocks fast; the CLI
 * reads the cost from the file, as it would a production one.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, type HDNodeWallet } from "ethers";
import type { Hex } from "viem";
import { createKeystore } from "../../relayer/src/keys/keystore";

export const ROOT = join(__dirname, "..", "..");
export const BIN = join(ROOT, "relayer", "src", "cli", "bin.js");
export const PASSWORD = "ccgp-cli-test";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as the --json document. */
  json: <T = Record<string, unknown>>() => T;
}

/** `ccgp <args>` in a child process, with only the CCGP_* variables given here (none inherited). */
export function ccgp(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CCGP_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json: <T>() => {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`ccgp ${args.join(" ")}: stdout is not JSON (exit ${code}):\n${stdout}\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** Fails with the command's output when it did not exit 0. */
export async function ok(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const run = await ccgp(args, env);
  if (run.code !== 0) throw new Error(`ccgp ${args.join(" ")} exited ${run.code}:\n${run.stderr}${run.stdout}`);
  return run;
}

export interface Actor {
  wallet: HDNodeWallet;
  address: string;
  keystore: string;
}

/** A fresh funded account with its encrypted keystore in `dir`. */
export async function actor(provider: JsonRpcProvider, dir: string, name: string, fund = true): Promise<Actor> {
  mkdirSync(dir, { recursive: true });
  const wallet = Wallet.createRandom().connect(provider);
  const keystore = join(dir, `${name}.json`);
  await createKeystore({ privateKey: wallet.privateKey as Hex, password: PASSWORD, path: keystore, scryptN: 1 << 10 });
  if (fund) await provider.send("anvil_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  return { wallet, address: wallet.address, keystore };
}
