/**
 * The operator's experience, as a new user has it: `npm start` in one terminal, `npx ccgp …` in another. The code
 * blocks of docs/cli.md and of the README's operator guide are run command by command, as written, so the docs cannot
 * fail when followed literally; then the supervision of `npm start`: a killed chain reported
 * in one line and restarted with its state, a relayer restarted, a relayer started by hand stopped by Ctrl-C.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256 } from "viem";
import { main } from "../../relayer/src/cli/main";
import type { LocalPointer } from "../../relayer/src/cli/pointer";
import { builtProcess } from "../../scripts/build";
import { REPO_ROOT } from "../../scripts/lib/local/relayers";

/** The commands of the ```sh block after `<!-- doc-test: <name> -->` in `file`, comments removed. */
export function docCommands(file: string, name: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  const at = text.indexOf(`<!-- doc-test: ${name} -->`);
  if (at < 0) throw new Error(`${file} has no doc-test block named ${name}`);
  const block = /```sh\n([\s\S]*?)\n\s*```/.exec(text.slice(at))![1]!;
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#\s.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The words of a shell command line: spaces split, single and double quotes group (no expansion is used in the docs). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current = (current ?? "") + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current ??= "";
    } else if (/\s/.test(ch)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else current = (current ?? "") + ch;
  }
  if (quote) throw new Error(`unclosed quote in: ${line}`);
  if (current !== undefined) words.push(current);
  return words;
}

/**
 * Runs a documented command. The first of each block goes through bash and npx exactly as written, which proves the
 * `npx ccgp` entry point; the others call the same `main` in this process with the line's words (each one through
 * npx costs seconds of start-up on a loaded machine, and the docs have a dozen).
 */
async function documented(command: string, env: NodeJS.ProcessEnv, viaShell: boolean): Promise<Ran> {
  if (viaShell || !command.startsWith("npx ccgp ")) return sh(command, env);
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "ccgp", ...shellWords(command).slice(2)], {
    env,
    io: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
  });
  return { code, stdout, stderr };
}

function sh(command: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await res.json()) as { result: unknown }).result;
}

describe("operator experience: npm start, then npx ccgp in a second terminal, as the docs say", function () {
  this.timeout(900_000);
  const dir = mkdtempSync(join(tmpdir(), "ccgp-operator-"));
  const pointerFile = join(dir, "current.json");
  // No CCGP_* variable of the caller's shell: the CLI must find everything through the pointer.
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CCGP_"))),
    CCGP_CURRENT: pointerFile,
    CCGP_RUNS_DIR: join(dir, "runs"),
  };
  let start: ChildProcess;
  let output = "";
  let exited: Promise<number | null>;
  const pointer = (): LocalPointer => JSON.parse(readFileSync(pointerFile, "utf8")) as LocalPointer;

  before(async () => {
    start = spawn(process.execPath, builtProcess("start"), {
      cwd: REPO_ROOT,
      env: { ...env, CI: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    start.stdout!.on("data", (d) => (output += d));
    start.stderr!.on("data", (d) => (output += d));
    exited = new Promise((r) => start.once("exit", (code) => r(code)));
    await until(
      "npm start to be running",
      () => output.includes("running; Ctrl-C stops everything") || start.exitCode !== null,
      400_000,
    );
    expect(start.exitCode, output).to.equal(null);
  });

  after(async () => {
    if (start.exitCode === null && start.signalCode === null) {
      start.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the scenario as short named steps and writes the pointer", () => {
    expect(output).to.match(/ 1\. record +Drug Maker A recorded batch/);
    expect(output).to.match(/ \d\. ledger +Open -> .*Confirmed in/);
    expect(output).not.to.match(/ledger: None|^\s*\{"/m);
    expect(pointer().pid).to.equal(start.pid);
  });

  it("docs/cli.md: the walkthrough runs as written", async () => {
    const commands = docCommands("docs/cli.md", "cli-walkthrough");
    expect(commands[0]).to.equal("npx ccgp local status");
    const outputs: Record<string, string> = {};
    for (const [i, command] of commands.entries()) {
      const ran = await documented(command, env, i === 0);
      expect(ran.code, `${command}\n${ran.stderr}${ran.stdout}`).to.equal(0);
      outputs[command] = ran.stdout;
    }
    expect(outputs['npx ccgp tx list --institution "Hospital B"']).to.match(
      /#1 +0x[0-9a-f]{64} +Confirmed +Drug Maker A -> Hospital B/,
    );
    expect(outputs["npx ccgp list institutions"]).to.match(/6 +Hospital B +Business +Active +did:ccgp:1337001:6/);
    const registerNode = commands.find((c) => c.startsWith("npx ccgp register node"))!;
    expect(outputs[registerNode]).to.match(
      /^node 0x[0-9a-f]{64} \(governance, key 0x[0-9a-fA-F]{40}\) registered at node1\.drug-maker-a\.example:30303 for institution \d+$/m,
    );
    expect(outputs["npx ccgp proposals --function enableNode"]).to.match(
      /Active +0\/0 of 3 +majority >50% +services\.enableNode\(Drug Maker A \(\d+\) Governance node node1\.drug-maker-a\.example:30303 \(0x[0-9a-f]{4}…[0-9a-f]{4}\), 0\)/,
    );
    const governors = (
      JSON.parse(outputs["npx ccgp list accounts --role Governor --json"]!) as { accounts: { role: string }[] }
    ).accounts;
    expect(governors.map((a) => a.role)).to.deep.equal(["Governor", "Governor", "Governor"]);
    expect(JSON.parse(outputs["npx ccgp auditor transactions --keystore auditor"]!))
      .to.be.an("array")
      .with.length.above(0);
    expect(output).to.match(/relayer hospital-b restarted: pid \d+ -> \d+/);
    expect(output).to.match(/chain sub-b restarted: pid \d+ -> \d+/);
    expect(output).to.match(/attester audit-office restarted: pid \d+ -> \d+/);
    expect(output, "a restart is not a death").not.to.match(/died/);
  });

  it("README: the operator guide runs as written: a suspension passed by two votes, then a reinstatement", async () => {
    for (const [i, command] of docCommands("README.md", "operator-guide").entries()) {
      const ran = await documented(command, env, i === 0);
      expect(ran.code, `${command}\n${ran.stderr}${ran.stdout}`).to.equal(0);
      if (command.includes("--status Suspended")) expect(ran.stdout).to.match(/6 +Hospital B +Business +Suspended/);
      if (command.startsWith("npx ccgp proposals --state Active"))
        expect(ran.stdout).to.match(
          /Active +0\/0 of 3 +majority >50% +membership\.suspendInstitution\(Hospital B \(6\)\)/,
        );
    }
    const after = await documented("npx ccgp list institutions --name 'Hospital B' --json", env, false);
    expect((JSON.parse(after.stdout) as { institutions: { status: string }[] }).institutions[0]!.status).to.equal(
      "Active",
    );
  });

  it("lists page, filter and write CSV to a file; bad input exits 2 naming the option; a refusal is one line", async () => {
    const paged = await documented("npx ccgp proposals --page-size 2 --page 2 --json", env, false);
    const page = JSON.parse(paged.stdout) as { proposals: { id: number }[]; page: number; pages: number };
    expect(page.proposals.map((p) => p.id)).to.deep.equal([3, 4]);
    const csvFile = join(dir, "pipes.csv");
    expect((await documented(`npx ccgp list pipes --csv --out ${csvFile}`, env, false)).code).to.equal(0);
    const csv = readFileSync(csvFile, "utf8").trim().split("\n");
    expect(csv[0]).to.match(/^pipeId,status,sourceInstitution,sourceInstitutionName,/);
    // The header, then npm start's three pipes: the drug batch's two and the asset transfer's.
    expect(csv).to.have.length(4);
    const tooFar = await documented("npx ccgp list pipes --page 9", env, false);
    expect(tooFar.code).to.equal(2);
    expect(tooFar.stderr.trim()).to.match(/^ccgp list pipes: --page: there are 1 page\(s\)/);
    // Through the shell: the one-line message is what a user sees on a terminal, nothing else on stderr.
    const refused = await sh("npx ccgp execute 1 --keystore genesis-1-governor", env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr.trim().split("\n")).to.deep.equal([
      "ccgp execute: execute proposal 1 refused: ProposalNotPassed(id: 1, state: Executed)",
    ]);
  });

  it("attests Hospital B's DrugTraceability/B: the sandbox runs on its sources and the report is bound to its code hash; a failing or foreign report is refused before anything is sent", async () => {
    // npm start attested its examples already (the start-up log says so); attesting again replaces the record.
    expect(output).to.match(/attested by the Audit Office: DrugTraceability\/B at 0x[0-9a-fA-F]{40}, code 0x/);
    expect(output).to.include("attestation required by vote");
    const listed = await documented("npx ccgp list contracts --name DrugTraceability/B --json", env, false);
    const rows = (JSON.parse(listed.stdout) as { contracts: { subchain: string; address: string }[] }).contracts;
    expect(rows, listed.stdout).to.have.length.above(0);
    const target = rows[0]!;
    const reports = join(dir, "audit");
    const sources = "contracts/subchain/examples/DrugTraceability.sol";
    const attest = (args: string) => `npx ccgp attest ${args} --subchain ${target.subchain} --keystore auditor`;
    const ran = await documented(
      `${attest(`DrugTraceability/B 1 ${sources} --out ${reports} --no-slither`)} --json`,
      env,
      false,
    );
    expect(ran.code, ran.stderr).to.equal(0);
    const report = join(reports, "report.json");
    const subB = pointer().chains.find((c) => c.name === "sub-b")!;
    const code = (await rpc(subB.url, "eth_getCode", [target.address, "latest"])) as `0x${string}`;
    expect(JSON.parse(ran.stdout)).to.deep.include({
      subchainId: target.subchain,
      contract: target.address,
      name: "DrugTraceability/B",
      version: "1",
      reportHash: keccak256(readFileSync(report)),
      codeHash: keccak256(code),
    });

    // A report written earlier: --contract --report. Its gate failed: refused, nothing sent.
    const failing = join(dir, "failing.json");
    writeFileSync(
      failing,
      JSON.stringify({
        ...JSON.parse(readFileSync(report, "utf8")),
        gate: { failOn: "medium", passed: false, blocking: 2 },
      }),
    );
    const refused = await documented(attest(`--contract ${target.address} --report ${failing}`), env, false);
    expect([refused.code, refused.stdout]).to.deep.equal([1, ""]);
    expect(refused.stderr).to.include(
      "the report's gate did not pass (2 open finding(s) at or above medium): not attested",
    );
    const foreign = join(dir, "foreign.json");
    writeFileSync(foreign, JSON.stringify({ gate: { passed: true } }));
    const bad = await documented(attest(`--contract ${target.address} --report ${foreign}`), env, false);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--report:");
    // Sources whose gate fails (the sandbox's own vulnerable fixture): refused after the sandbox ran, nothing sent.
    const vulnerable = await documented(
      attest(
        `DrugTraceability/B 1 audit/test/fixtures/detectors/reentrancy --out ${join(dir, "vulnerable")} --no-slither`,
      ),
      env,
      false,
    );
    expect([vulnerable.code, vulnerable.stdout]).to.deep.equal([1, ""]);
    expect(vulnerable.stderr).to.match(
      /the report's gate did not pass \(\d+ open finding\(s\) at or above medium\): not attested/,
    );
  });

  it("reports a killed chain in one line; ccgp local restart starts it again with its state", async () => {
    const subA = pointer().chains.find((c) => c.name === "sub-a")!;
    await new Promise((r) => setTimeout(r, 11_000)); // the state file is written every 10 s
    const height = Number(await rpc(subA.url, "eth_blockNumber"));
    process.kill(subA.pid, "SIGKILL");
    await until("the death line", () => output.includes(`chain sub-a (pid ${subA.pid}) died`), 20_000);
    expect(output.split("\n").filter((l) => l.includes("died"))).to.deep.equal([
      `chain sub-a (pid ${subA.pid}) died (SIGKILL); restart it with: npx ccgp local restart chain sub-a`,
    ]);
    const status = await documented("npx ccgp local status", env, false);
    expect(status.stdout).to.match(new RegExp(`chain +sub-a +pid ${subA.pid} +DEAD`));
    expect((await documented("npx ccgp local restart chain sub-a", env, false)).code).to.equal(0);
    expect(Number(await rpc(subA.url, "eth_blockNumber"))).to.be.greaterThan(height - 12);
    const code = (await rpc(subA.url, "eth_getCode", [
      JSON.parse(readFileSync(pointer().manifest, "utf8")).business.a.contracts.drugTraceability,
      "latest",
    ])) as string;
    expect(code.length, "the contracts are still there").to.be.greaterThan(2);
    expect(pointer().chains.find((c) => c.name === "sub-a")!.pid).not.to.equal(subA.pid);
  });

  it("Ctrl-C stops everything, a relayer started by hand with the run's config included, and removes the pointer", async () => {
    const [a, b] = ["drug-maker-a", "hospital-b"].map((slug) => pointer().relayers.find((r) => r.slug === slug)!);
    const status = async () => (await fetch(a!.health).catch(() => undefined))?.status;
    await until("A's health with B alive", async () => (await status()) === 200, 60_000);
    process.kill(b!.pid, "SIGKILL");
    const killed = Date.now();
    await until("the relayer's death line", () => output.includes(`relayer hospital-b (pid ${b!.pid}) died`), 20_000);
    // The local relayers beat every 10 s: A's /health shows its dead peer within one interval (plus 5 s of mining).
    await until("A's /health to fail", async () => (await status()) === 503, 30_000);
    expect(Date.now() - killed).to.be.below(10_000 + 5_000 + 3_000);
    const byHand = spawn(process.execPath, [...builtProcess("relayer"), "--config", b!.config], {
      cwd: REPO_ROOT,
      env: { ...env, CCGP_KEYSTORE_PASSWORD: "ccgp-local-only" },
      stdio: "ignore",
    });
    await until(
      "the hand-started relayer to be healthy",
      async () => (await fetch(b!.health).catch(() => undefined))?.status === 200,
      120_000,
    );
    const chains = pointer().chains.map((c) => c.pid);
    start.kill("SIGINT");
    expect(await exited, output).to.equal(0);
    await until(
      "the hand-started relayer to stop",
      () => byHand.exitCode !== null || byHand.signalCode !== null,
      15_000,
    );
    for (const pid of chains) expect(alive(pid), `chain ${pid}`).to.equal(false);
    expect(existsSync(pointerFile)).to.equal(false);
  });
});
