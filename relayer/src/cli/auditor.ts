/**
 * `ccgp auditor …`: the client of the auditor-only HTTP API (a relayer's `/auditor`, or `npm run auditor -- serve`).
 * Each request is signed with the auditor account's keystore (EIP-712, `auditor/src/auth.ts`) under the
 * consortium's domain (governance chain id, Membership address), so a plain request's 401 never reaches the user.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { auditorDomain, signAuditorRequest } from "../../../auditor/src/auth";
import { localRun, networkReason, session, withCommon, type CommonOptions, type Env } from "./context";
import { CliError, CliErrorCode, failed, usage } from "./errors";
import { toJson } from "./output";
import { bytes32Arg } from "./parse";

interface AuditorOptions extends CommonOptions {
  api?: string;
  csv?: boolean;
  out?: string;
  institution?: string;
  pipe?: string;
  account?: string;
  state?: string;
  from?: string;
  to?: string;
  limit?: string;
  offset?: string;
  receipts?: boolean;
}

const QUERY_FLAGS = ["institution", "pipe", "account", "state", "from", "to", "limit", "offset"] as const;

async function ask(
  path: string,
  opts: AuditorOptions,
  ctx: Env,
  query: Record<string, string | undefined> = {},
): Promise<void> {
  const api = opts.api ?? ctx.env.CCGP_AUDITOR_API ?? localRun(opts, ctx.env)?.auditorApi ?? undefined;
  if (!api)
    throw usage(
      "--api",
      "no auditor API: give --api <url> (e.g. http://127.0.0.1:9464/auditor) or set CCGP_AUDITOR_API",
    );
  const s = await session(opts, ctx, true);
  const url = new URL(`${api.replace(/\/$/, "")}${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const account = privateKeyToAccount(s.signer.privateKey as Hex);
  const headers = await signAuditorRequest(account, auditorDomain(s.chain.chainId, s.record.membership as Hex), {
    method: "GET",
    url: url.toString(),
  });
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw failed(`auditor API ${url.origin}: no answer (${networkReason(err)})`, { url: url.toString() }, err);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `HTTP ${res.status}`;
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new CliError(CliErrorCode.Refused, `auditor API refused (${code}): ${message}`, { status: res.status, code });
  }
  const output = query.format === "csv" ? text : `${toJson(JSON.parse(text))}\n`;
  if (opts.out) {
    writeFileSync(opts.out, output);
    s.out.progress(`written to ${opts.out}`);
  } else ctx.io.stdout(output);
}

const filters = (opts: AuditorOptions): Record<string, string | undefined> => ({
  ...Object.fromEntries(QUERY_FLAGS.map((f) => [f, opts[f]])),
  format: opts.csv ? "csv" : undefined,
});

export function addAuditorCommands(root: Command, ctx: Env): void {
  const auditor = root
    .command("auditor")
    .description(
      "ask the auditor API (signed with the auditor's keystore): status, transactions, trace, events, anomalies, " +
        "reconciliation",
    );
  const common = (cmd: Command) =>
    withCommon(cmd)
      .option("--api <url>", "the auditor API (default: $CCGP_AUDITOR_API, or the one of the running npm start)")
      .option("--out <file>", "write the answer to this file instead of stdout");
  const listing = (cmd: Command) => {
    for (const f of QUERY_FLAGS) cmd.option(`--${f} <value>`, `only ${f} (as the API's query parameter)`);
    return cmd.option("--csv", "CSV instead of JSON");
  };
  common(auditor.command("status").description("the index's height and counts")).action((opts: AuditorOptions) =>
    ask("/v1/status", opts, ctx),
  );
  common(listing(auditor.command("transactions").description("transactions, filtered"))).action(
    (opts: AuditorOptions) => ask("/v1/transactions", opts, ctx, filters(opts)),
  );
  common(
    auditor
      .command("trace")
      .description("a transaction end to end, with who signed each packet")
      .argument("<txId>", "transaction id", bytes32Arg),
  )
    .option("--receipts", "check every sub-chain receipt on its chain")
    .action((txId: string, opts: AuditorOptions) =>
      ask(`/v1/transactions/${txId}`, opts, ctx, { receipts: opts.receipts ? "true" : undefined }),
    );
  common(listing(auditor.command("events").description("governance events, filtered"))).action((opts: AuditorOptions) =>
    ask("/v1/events", opts, ctx, filters(opts)),
  );
  common(auditor.command("anomalies").description("anomaly warnings")).action((opts: AuditorOptions) =>
    ask("/v1/anomalies", opts, ctx),
  );
  common(auditor.command("reconciliation").description("the ledger reconciled against the sub-chains")).action(
    (opts: AuditorOptions) => ask("/v1/reconciliation", opts, ctx),
  );
}
