/**
 * `ccgp`: the command line of CCGP-EVM for consortium operators, relayer operators and app developers. One entry
 * point picks the command; each command group lives in its own file. Exit codes: 0 done, 1 refused or failed,
 * 2 bad input (the message names the argument). A failure is one line; `--debug` adds the stack and causes.
 */
import { Command, CommanderError } from "commander";
import { addAttestCommand } from "./attest";
import { addAttestersCommands } from "./attesters";
import { addAuditorCommands } from "./auditor";
import { addDeployCommand } from "./deploy";
import { CliError } from "./errors";
import { addGovernanceCommands, PROPOSALS } from "./governance";
import { addListCommands } from "./list";
import { addLocalCommands } from "./local";
import { addMemberCommands } from "./member";
import { toJson, processIo } from "./output";
import { revertData } from "./abi";
import { callFailure } from "./submit";
import { addPipeCommands } from "./pipe";
import { addRegisterCommands } from "./register";
import { addSendCommands } from "./send";
import { addTxCommands } from "./tx";
import type { Env } from "./context";

export function program(ctx: Env): Command {
  const root = new Command("ccgp")
    .description(
      "CCGP-EVM: deploy and govern the governance chain, register chains, apps, services and pipes, send " +
        "cross-chain requests, follow transactions",
    )
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
  // Subcommands made with .command() inherit exitOverride and the output configuration set above.
  addDeployCommand(root, ctx);
  addMemberCommands(root, ctx);
  addRegisterCommands(root, ctx);
  addPipeCommands(root, ctx);
  addGovernanceCommands(root, ctx);
  addSendCommands(root, ctx);
  addTxCommands(root, ctx);
  addListCommands(root, ctx, [PROPOSALS]);
  addAuditorCommands(root, ctx);
  addAttestCommand(root, ctx);
  addAttestersCommands(root, ctx);
  addLocalCommands(root, ctx);
  return root;
}

const commandPath = (cmd: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
};

/** Runs the CLI on `argv` (process.argv form: node, script, args...) and returns the exit code. */
export async function main(given: string[], ctx: Env = { env: process.env, io: processIo }): Promise<number> {
  // `--debug` anywhere: a failure also prints its stack and causes (by default one line names what went wrong).
  const debug = given.includes("--debug") || ctx.env.CCGP_DEBUG === "1";
  const argv = given.filter((a) => a !== "--debug");
  const root = program(ctx);
  let running = "ccgp";
  root.hook("preAction", (_root, action) => {
    running = commandPath(action);
  });
  try {
    await root.parseAsync(argv);
    return 0;
  } catch (err) {
    return report(err, running, argv.includes("--json"), debug, ctx);
  }
}

function report(thrown: unknown, running: string, json: boolean, debug: boolean, ctx: Env): number {
  // Commander already printed its own one-line error ("error: required option '--pipe <id>' not specified").
  if (thrown instanceof CommanderError) return thrown.exitCode === 0 ? 0 : 2;
  // A contract's refusal inside a read the command did not wrap is still named by its custom error.
  const err = thrown instanceof CliError || !revertData(thrown) ? thrown : callFailure("a contract call", thrown);
  const cli = err instanceof CliError ? err : undefined;
  if (debug) for (let e: unknown = thrown; e instanceof Error; e = e.cause) ctx.io.stderr(`${e.stack ?? e.message}\n`);
  const message = (cli?.message ?? (err instanceof Error ? err.message : String(err))).replace(/\s*\n\s*/g, "; ");
  if (json)
    ctx.io.stderr(
      `${toJson({ error: { command: running, code: cli?.code ?? "FAILED", message, details: cli?.details ?? {} } })}\n`,
    );
  else ctx.io.stderr(`${running}: ${message}\n`);
  return cli?.exitCode ?? 1;
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
