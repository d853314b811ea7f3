/**
 * `ccgp local status|restart`: the consortium `npm start` runs on this machine, found through its pointer file.
 * A restart is done by `npm start` itself (its control endpoint), so the restarted process stays under its watch
 * and Ctrl-C in its terminal stops it.
 */
import type { Command } from "commander";
import { type Env } from "./context";
import { CliError, CliErrorCode, failed, usage } from "./errors";
import { Output } from "./output";
import { pointerPath, readPointer, type LocalPointer } from "./pointer";

function running(ctx: Env): LocalPointer {
  const p = readPointer(ctx.env);
  if (!p)
    throw failed(
      `no local consortium is running (no live npm start behind ${pointerPath(ctx.env)}): start one with npm start`,
    );
  return p;
}

async function status(opts: { json?: boolean }, ctx: Env): Promise<void> {
  const p = running(ctx);
  const out = new Output(ctx.io, opts.json === true);
  let members: { kind: string; name: string; pid: number; url: string }[] = [];
  try {
    members = (
      (await (await fetch(`${p.control}/members`, { signal: AbortSignal.timeout(5_000) })).json()) as {
        members: typeof members;
      }
    ).members;
  } catch {
    // the supervisor does not answer: show what the pointer says
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return "running";
    } catch {
      return "DEAD";
    }
  };
  const rows = members.length
    ? members
    : [
        ...p.chains.map((c) => ({ kind: "chain", name: c.name, pid: c.pid, url: c.url })),
        ...p.relayers.map((r) => ({ kind: "relayer", name: r.slug, pid: r.pid, url: r.health })),
      ];
  out.result(
    [
      `npm start (pid ${p.pid}), run dir ${p.runDir}`,
      `governance chain ${p.rpc}, record ${p.deployments}, keystores ${p.keys}`,
      ...rows.map(
        (m) =>
          `  ${m.kind.padEnd(8)} ${m.name.padEnd(13)} pid ${String(m.pid).padEnd(8)} ${alive(m.pid).padEnd(8)} ` +
          `${m.url}`,
      ),
    ],
    { ...p, members: rows.map((m) => ({ ...m, state: alive(m.pid) === "running" ? "running" : "dead" })) },
  );
}

async function restart(kind: string, name: string, opts: { json?: boolean }, ctx: Env): Promise<void> {
  if (!["chain", "relayer", "verifier", "attester"].includes(kind))
    throw usage("<kind>", `expected chain, relayer, verifier or attester (got "${kind}")`);
  const p = running(ctx);
  const out = new Output(ctx.io, opts.json === true);
  out.progress(`asking npm start (pid ${p.pid}) to restart ${kind} ${name}`);
  let res: Response;
  try {
    res = await fetch(`${p.control}/restart/${kind}/${encodeURIComponent(name)}`, {
      method: "POST",
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw failed(`npm start's control endpoint ${p.control} does not answer: ${(err as Error).message}`);
  }
  const body = (await res.json()) as { message?: string; error?: string };
  if (!res.ok)
    throw new CliError(
      res.status === 400 && /no (chain|relayer|verifier|attester) named/.test(body.error ?? "")
        ? CliErrorCode.Usage
        : CliErrorCode.Failed,
      `${name}: ${body.error}`,
    );
  out.result([body.message!], { kind, name, message: body.message });
}

export function addLocalCommands(root: Command, ctx: Env): void {
  const local = root
    .command("local")
    .description("the consortium npm start runs on this machine: status, restart a chain or relayer");
  local
    .command("status")
    .description("what npm start runs: chains and relayers, their pids and URLs")
    .option("--json", "print the result as JSON")
    .action((opts: { json?: boolean }) => status(opts, ctx));
  local
    .command("restart")
    .description(
      "restart one chain (governance, sub-a, sub-b: its state is kept), relayer (drug-maker-a, hospital-b), " +
        "verifier or attester (audit-office)",
    )
    .argument("<kind>", "chain, relayer, verifier or attester")
    .argument("<name>", "which one")
    .option("--json", "print the result as JSON")
    .action((kind: string, name: string, opts: { json?: boolean }) => restart(kind, name, opts, ctx));
}
