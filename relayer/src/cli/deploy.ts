/**
 * `ccgp deploy`: deploys and bootstraps the governance chain with `deployGovernance`, the same code path as
 * scripts/deploy.ts, signed by a keystore. Idempotent: the record file says what exists, and a second run sends
 * nothing and says what it found; an interrupted run resumes at the step it reached.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError, loadConsortium, type ConsortiumConfig } from "../../../lib/domain/consortium-config";
import { recordPath } from "../../../lib/domain/record";
import { openChain, openKeystore, withCommon, type CommonOptions, type Env } from "./context";
import { failed, usage } from "./errors";
import { Output } from "./output";
import { callFailure } from "./submit";

interface DeployOptions extends CommonOptions {
  networkUrl?: string;
  consortium: string;
}

/** `--deployments` for deploy: a folder (the record is `<network>-<chainId>.json` in it) or that file itself. */
export function deployTarget(
  given: string,
  network: string | undefined,
  chainId: number,
): { dir: string; network: string } {
  const path = resolve(given);
  if (existsSync(path) && statSync(path).isDirectory()) return { dir: path, network: network ?? "governance" };
  const match = /^(.+)-(\d+)\.json$/.exec(basename(path));
  if (!match) {
    if (path.endsWith(".json"))
      throw usage(
        "--deployments",
        `a record file must be named <network>-<chainId>.json (e.g. governance-${chainId}.json), or give a folder`,
      );
    return { dir: path, network: network ?? "governance" }; // a folder to create
  }
  if (Number(match[2]) !== chainId)
    throw usage("--deployments", `${given} names chain ${match[2]}, but the node serves chain ${chainId}`);
  if (network !== undefined && network !== match[1])
    throw usage("--network", `${network} differs from the record file's network ${match[1]}`);
  return { dir: dirname(path), network: match[1]! };
}

function consortiumOf(file: string): ConsortiumConfig {
  try {
    return loadConsortium(file);
  } catch (err) {
    if (err instanceof ConfigError)
      throw usage("--consortium", err.message.replace(/:\n\s*/, ": ").replace(/\n\s*/g, "; "));
    throw err;
  }
}

async function deploy(opts: DeployOptions, ctx: Env): Promise<void> {
  const out = new Output(ctx.io, opts.json === true);
  if (opts.rpc && opts.networkUrl && opts.rpc !== opts.networkUrl)
    throw usage("--network-url", "differs from --rpc: give one of them");
  const cfg = consortiumOf(opts.consortium);
  const wallet = await openKeystore(opts.keystore ?? ctx.env.CCGP_KEYSTORE, ctx.env, "--keystore", [
    "CCGP_KEYSTORE_PASSWORD",
  ]);
  const chain = await openChain(
    { rpc: opts.networkUrl ?? opts.rpc },
    ctx.env,
    opts.networkUrl ? "--network-url" : "--rpc",
  );
  const target = deployTarget(
    opts.deployments ?? ctx.env.CCGP_DEPLOYMENTS ?? ".deployments",
    opts.network,
    chain.chainId,
  );
  const deployer = wallet.connect(chain.provider);
  const file = recordPath(target.dir, target.network, chain.chainId);
  out.progress(
    `consortium "${cfg.name}" (${cfg.genesis.length} genesis institutions) on chain ${chain.chainId} at ` +
      `${chain.url}, deployer ${deployer.address}`,
  );
  out.progress(`record: ${file}${existsSync(file) ? " (found: resuming from it)" : " (new)"}`);
  let acted = 0;
  // Lazy: deploy-governance loads every contract factory (bytecode included), which only this command needs.
  const { deployGovernance } = await import("../../../lib/deploy/governance");
  let result;
  try {
    result = await deployGovernance(deployer, cfg, {
      network: target.network,
      recordDir: target.dir,
      log: (line) => {
        if (!line.startsWith("found")) acted++;
        out.progress(`  ${line}`);
      },
    });
  } catch (err) {
    if (err instanceof Error && err.name === "DeployError") throw failed(`deploy stopped: ${err.message}`, {}, err);
    throw callFailure("deploy", err);
  }
  const { record } = result;
  const institutions = Number(await result.membership.institutionCount());
  const summary = acted === 0 ? "everything was already deployed: nothing sent" : `${acted} step(s) done`;
  const lines = [
    `governance chain ${chain.chainId} deployed (${summary}); record ${file}`,
    ...(["membership", "voting", "pipes", "services", "chains", "credit", "ledger", "ledgerRecovery"] as const).map(
      (k) => `  ${k.padEnd(15)} ${record[k]}`,
    ),
    `  institutions    ${institutions}`,
  ];
  out.result(lines, { chainId: chain.chainId, recordFile: file, stepsDone: acted, record, institutions });
}

export function addDeployCommand(root: Command, ctx: Env): void {
  withCommon(
    root
      .command("deploy")
      .description("deploy and bootstrap the governance contracts (idempotent: finds what the record names)")
      .requiredOption("--consortium <file>", "consortium file: genesis institutions, governors, voting period, credit")
      .option("--network-url <url>", "governance chain JSON-RPC URL (same as --rpc)"),
  ).action((opts: DeployOptions) => deploy(opts, ctx));
}
