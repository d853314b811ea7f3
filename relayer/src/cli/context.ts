/**
 * What every command shares: the governance chain (`--rpc` or CCGP_GOVERNANCE_RPC), the deployment record that
 * says where the contracts are (`--deployments`), the signer (`--keystore`, password from CCGP_KEYSTORE_PASSWORD;
 * never a raw key) and the output mode (`--json`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { decryptKeystoreJson, isError, JsonRpcProvider, Network, Wallet, type Provider, type Signer } from "ethers";
import type { Command } from "commander";
import type { DeploymentRecord } from "../../../lib/domain/record";
import type {
  AttesterRegistry,
  ChainRegistry,
  CreditScore,
  Membership,
  PipeRegistry,
  ServiceRegistry,
  TransactionLedger,
  VotingTickets,
} from "../../../typechain-types";
import { ARTIFACT, connect } from "./artifacts";
import { failed, usage } from "./errors";
import { Output, type Io } from "./output";
import { readPointer, type LocalPointer } from "./pointer";

export interface CommonOptions {
  rpc?: string;
  deployments?: string;
  network?: string;
  keystore?: string;
  json?: boolean;
}

/** Adds the options every command takes. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option("--rpc <url>", "governance chain JSON-RPC URL (default: $CCGP_GOVERNANCE_RPC)")
    .option(
      "--deployments <path>",
      "deployment record file, or the folder holding <network>-<chainId>.json (default: $CCGP_DEPLOYMENTS or " +
        ".deployments)",
    )
    .option("--network <name>", "network name of the record in a --deployments folder")
    .option(
      "--keystore <file>",
      "encrypted keystore of the signer (default: $CCGP_KEYSTORE; password in $CCGP_KEYSTORE_PASSWORD)",
    )
    .option("--json", "print the result as JSON");
}

export interface Env {
  env: NodeJS.ProcessEnv;
  io: Io;
}

const RPC_TIMEOUT_MS = 10_000;

/** The chain id the node at `url` serves; refuses a malformed URL (exit 2) and a node that does not answer (exit 1). */
export async function chainIdOf(url: string, flag: string): Promise<number> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(flag, `"${url}" is not a URL (expected http(s)://host:port)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw usage(flag, `"${url}": expected an http(s) URL`);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const body = (await res.json()) as { result?: string };
    if (!res.ok || typeof body.result !== "string") throw new Error(`HTTP ${res.status}, no chain id in the answer`);
    return Number(BigInt(body.result));
  } catch (err) {
    throw failed(`${flag} ${url}: the node does not answer (${networkReason(err)})`, { url }, err);
  }
}

/** The system error behind a failed fetch (ECONNREFUSED, ENOTFOUND), else its message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
}

export interface Chain {
  provider: JsonRpcProvider;
  chainId: number;
  url: string;
}

/** The running `npm start` consortium, when neither `--rpc` nor CCGP_GOVERNANCE_RPC names a chain. */
export function localRun(opts: CommonOptions, env: NodeJS.ProcessEnv): LocalPointer | undefined {
  return (opts.rpc ?? env.CCGP_GOVERNANCE_RPC) ? undefined : readPointer(env);
}

/** Connects to the governance chain named by `--rpc` (or `flag`), CCGP_GOVERNANCE_RPC, or the running `npm start`. */
export async function openChain(opts: CommonOptions, env: NodeJS.ProcessEnv, flag = "--rpc"): Promise<Chain> {
  const url = opts.rpc ?? env.CCGP_GOVERNANCE_RPC ?? readPointer(env)?.rpc;
  if (!url)
    throw usage(
      flag,
      "no governance chain RPC: give --rpc <url>, set CCGP_GOVERNANCE_RPC, or run npm start (the CLI then finds it)",
    );
  const chainId = await chainIdOf(url, flag);
  // A static network: ethers would otherwise re-ask the chain id before every call and retry forever when down.
  // No response cache: a cached eth_getTransactionCount gives two quick transactions the same nonce.
  const provider = new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 250;
  return { provider, chainId, url };
}

/** Where the record of `chainId` is: the file itself, or `<network>-<chainId>.json` in a folder (the only one). */
export function recordFile(opts: CommonOptions, env: NodeJS.ProcessEnv, chainId: number): string {
  const given = opts.deployments ?? env.CCGP_DEPLOYMENTS ?? localRun(opts, env)?.deployments ?? ".deployments";
  const path = resolve(given);
  if (!existsSync(path))
    throw usage("--deployments", `${given} does not exist: run ccgp deploy first, or name the record file`);
  if (!statSync(path).isDirectory()) return path;
  if (opts.network) {
    const file = join(path, `${opts.network}-${chainId}.json`);
    if (!existsSync(file)) throw usage("--network", `no record ${opts.network}-${chainId}.json in ${given}`);
    return file;
  }
  const found = readdirSync(path).filter((f) => f.endsWith(`-${chainId}.json`));
  if (found.length === 0)
    throw usage(
      "--deployments",
      `no record of chain ${chainId} in ${given} (expected <network>-${chainId}.json): run ccgp deploy first`,
    );
  if (found.length > 1)
    throw usage(
      "--network",
      `${given} holds several records of chain ${chainId} (${found.join(", ")}): name one with --network`,
    );
  return join(path, found[0]!);
}

export function readRecord(file: string, chainId: number): DeploymentRecord {
  let record: DeploymentRecord;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
  } catch (err) {
    throw usage("--deployments", `${file} is not a readable deployment record: ${(err as Error).message}`);
  }
  if (typeof record !== "object" || record === null || typeof record.chainId !== "number")
    throw usage("--deployments", `${file} is not a deployment record (no chainId)`);
  if (record.chainId !== chainId)
    throw usage("--deployments", `${file} is the record of chain ${record.chainId}, but --rpc serves chain ${chainId}`);
  return record;
}

export type ContractKey = "membership" | "voting" | "services" | "chains" | "pipes" | "credit" | "ledger" | "attesters";

/** The governance contracts of a record, connected to `runner`. */
export function governance(record: DeploymentRecord, file: string, runner: Provider | Signer) {
  const at = (key: ContractKey): string => {
    const address = record[key];
    if (!address)
      throw failed(
        `deployment record ${file} has no ${key} address: the deployment is incomplete, run ccgp deploy again`,
        { file, key },
      );
    return address;
  };
  return {
    get membership() {
      return connect<Membership>(ARTIFACT.membership, at("membership"), runner);
    },
    get voting() {
      return connect<VotingTickets>(ARTIFACT.voting, at("voting"), runner);
    },
    get services() {
      return connect<ServiceRegistry>(ARTIFACT.services, at("services"), runner);
    },
    get chains() {
      return connect<ChainRegistry>(ARTIFACT.chains, at("chains"), runner);
    },
    get pipes() {
      return connect<PipeRegistry>(ARTIFACT.pipes, at("pipes"), runner);
    },
    get credit() {
      return connect<CreditScore>(ARTIFACT.credit, at("credit"), runner);
    },
    get ledger() {
      return connect<TransactionLedger>(ARTIFACT.ledger, at("ledger"), runner);
    },
    get attesters() {
      return connect<AttesterRegistry>(ARTIFACT.attesters, at("attesters"), runner);
    },
  };
}

export type Governance = ReturnType<typeof governance>;

/** Decrypts a v3 keystore into an ethers wallet; the password comes from the environment, never an argument. */
const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

export async function openKeystore(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  flag: string,
  passwordVars: string[],
): Promise<Wallet> {
  if (!file)
    throw usage(
      flag,
      `this command signs: give ${flag} <file> (an encrypted keystore; password in ${passwordVars.join(" or ")})`,
    );
  // With `npm start` running, a key of the run may be named as in its keys folder: --keystore genesis-1-governor.
  const run = readPointer(env);
  // A folder of the same name (the repository has an `auditor/`) is not a keystore: the run's key is meant.
  const named = run && !isFile(file) ? join(run.keys, `${file.replace(/\.json$/, "")}.json`) : undefined;
  if (named && existsSync(named)) file = named;
  const variable = passwordVars.find((v) => env[v] !== undefined && env[v] !== "");
  const local =
    run?.localPassword !== undefined && resolve(file).startsWith(resolve(run.keys)) ? run.localPassword : undefined;
  if (!variable && local === undefined)
    throw usage(passwordVars[0]!, `not set: it must hold the password of ${file} (${flag})`);
  const password = variable ? env[variable]! : local!;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw usage(flag, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const account = await decryptKeystoreJson(text, password);
    return new Wallet(account.privateKey);
  } catch (err) {
    if (isError(err, "INVALID_ARGUMENT") && err.argument === "password")
      throw usage(flag, `wrong password for ${file} (from ${variable ?? "the local run's default"})`);
    throw usage(flag, `${file} is not a usable keystore: ${(err as Error).message}`);
  }
}

/** Everything a command needs: output, chain, record, contracts, and (when it signs) the signer. */
export interface Session {
  out: Output;
  chain: Chain;
  recordFile: string;
  record: DeploymentRecord;
  gov: Governance;
  signer?: Wallet;
}

export async function session(opts: CommonOptions, ctx: Env, sign: true): Promise<Session & { signer: Wallet }>;
export async function session(opts: CommonOptions, ctx: Env, sign?: false): Promise<Session>;
export async function session(opts: CommonOptions, ctx: Env, sign = false): Promise<Session> {
  const out = new Output(ctx.io, opts.json === true);
  // The keystore first: a missing password is bad input and should not wait for the network.
  const wallet = sign
    ? await openKeystore(opts.keystore ?? ctx.env.CCGP_KEYSTORE, ctx.env, "--keystore", ["CCGP_KEYSTORE_PASSWORD"])
    : undefined;
  const chain = await openChain(opts, ctx.env);
  const file = recordFile(opts, ctx.env, chain.chainId);
  const record = readRecord(file, chain.chainId);
  const signer = wallet?.connect(chain.provider);
  const gov = governance(record, file, signer ?? chain.provider);
  return { out, chain, recordFile: file, record, gov, signer };
}
