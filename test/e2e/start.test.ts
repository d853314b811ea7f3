import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtProcess } from "../../scripts/build";
import { REPO_ROOT } from "../../scripts/lib/local/relayers";
import { answers } from "./helpers/consortium";

/** `scripts/start.ts` (what `npm start` runs after building) as a child process, its output collected. */
function start(
  args: string[],
  runsDir: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...builtProcess("start"), ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CCGP_RUNS_DIR: runsDir,
      CCGP_CURRENT: join(runsDir, "..", `${runsDir.split("/").pop()}-current.json`),
      CI: "false",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Chain URLs and relayer pids the run printed under "where to look". */
function started(output: string): { urls: string[]; pids: number[] } {
  const urls = [...output.matchAll(/^ {2}(?:governance chain|sub-chain [AB]) +(http:\/\/127\.0\.0\.1:\d+)/gm)].map(
    (m) => m[1],
  );
  const pids = [...output.matchAll(/^ {2}relayer .*: pid (\d+),/gm)].map((m) => Number(m[1]));
  return { urls, pids };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectAllStopped(output: string): Promise<void> {
  const { urls, pids } = started(output);
  expect(urls, "chain URLs printed").to.have.length(3);
  expect(pids, "relayer pids printed").to.have.length(2);
  for (const url of urls) expect(await answers(url), `${url} still answers`).to.equal(false);
  for (const pid of pids) expect(alive(pid), `relayer ${pid} still running`).to.equal(false);
}

describe("npm start (scripts/start.ts): the local consortium, its relayers, the seed and two-phase scenarios", function () {
  this.timeout(240_000);
  const runsDir = mkdtempSync(join(tmpdir(), "ccgp-start-"));
  let running: ChildProcess | undefined;

  afterEach(() => {
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGTERM");
  });
  after(() => rmSync(runsDir, { recursive: true, force: true }));

  it("--once: confirms the seed transaction on the ledger, prints where to look, stops everything and exits 0", async () => {
    const run = start(["--once"], runsDir);
    running = run.child;
    const code = await run.exited;
    const out = run.output();
    expect(code, out).to.equal(0);
    expect(out).to.match(/\d+\. ledger +Open -> .*Confirmed in [\d.]+ s/);
    expect(out, "no raw JSON line, no None state").not.to.match(/ledger: None|^\s*\{"/m);
    expect(out).to.match(/has 1 custody step\(s\) on DrugTraceability\/B/);
    // A non-party checked both chains: the Audit Office's verifier endorsed the seed transaction.
    expect(out).to.match(
      /\d+\. endorsed +by Audit Office \(independent: read both sub-chains itself\), weight 1, \d of 3/,
    );
    expect(out).to.match(/transaction +0x[0-9a-f]{64}: ledger state Confirmed/);
    // The second scenario: a two-phase transfer, prepared then committed on both sides, the balances moved.
    const transfer = out.slice(out.indexOf("second scenario: a two-phase asset transfer"));
    expect(transfer, out).to.match(/\d+\. ledger +Open -> .*Confirmed in [\d.]+ s/);
    expect(transfer).to.match(
      /sub-chain A +prepared in block \d+ \(1 account locked\), committed in block \d+, 1 lock\(s\) released; 0x[0-9a-f]{8}… balance 100 -> 75 on AssetLedger\/A/,
    );
    expect(transfer).to.match(
      /sub-chain B +prepared in block \d+ \(1 account locked\), committed in block \d+, 1 lock\(s\) released; 0x[0-9a-f]{8}… balance 0 -> 25 on AssetLedger\/B/,
    );
    expect(out).to.match(/transfer +0x[0-9a-f]{64}: ledger state Confirmed \(two-phase\)/);
    expect(out).to.match(/health http:\/\/127\.0\.0\.1:\d+\/health, metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
    await expectAllStopped(out);
  });

  it("a second run gets a fresh run dir, keeps running until SIGINT, then stops the relayers and chains and exits 0", async () => {
    const run = start([], runsDir);
    running = run.child;
    await until("the running line", () => run.output().includes("running; Ctrl-C stops everything"), 100_000);
    const { urls, pids } = started(run.output());
    expect(await answers(urls[0])).to.equal(true);
    expect(pids.every(alive)).to.equal(true);
    run.child.kill("SIGINT");
    expect(await run.exited, run.output()).to.equal(0);
    expect(run.output()).to.match(/Ctrl-C: stopping relayers and chains\nstopped/);
    await expectAllStopped(run.output());
    expect(readdirSync(runsDir)).to.have.length(2);
  });
});
