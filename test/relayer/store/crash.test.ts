import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex } from "viem";
import { RelayerStore } from "../../../relayer/src/store";

const WRITER = join(__dirname, "..", "helpers", "store-writer.ts");
const PER_BLOCK = 40;

interface Run {
  blocks: bigint[];
  accepted: string[];
  duplicates: string[];
}

/** Runs the writer until it reported `untilBlocks` commits, then SIGKILLs it and waits for it to die. */
function runAndKill(path: string, untilBlocks: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", WRITER, path, String(PER_BLOCK)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run: Run = { blocks: [], accepted: [], duplicates: [] };
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const [what, a, b] = line.split(" ");
        if (what === "block") run.blocks.push(BigInt(a));
        if (what === "inbound") (b === "true" ? run.accepted : run.duplicates).push(a);
      }
      if (run.blocks.length >= untilBlocks && !child.killed) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(run);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe("relayer/store crash safety (SIGKILL of a writing process)", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-crash-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every committed batch whole, loses none, and accepts no inbound packet twice", async function () {
    const path = join(dir, "relayer.sqlite");
    const runs: Run[] = [];
    // Three lives: each is killed at an arbitrary point after a different number of commits.
    for (const until of [25, 60, 15]) runs.push(await runAndKill(path, until));

    const store = RelayerStore.open({ path });
    try {
      expect(store.db.pragma("integrity_check", { simple: true })).to.equal("ok");
      const checkpoint = store.checkpoint("sub_a")!;
      const printed = runs.flatMap((r) => r.blocks);
      const lastPrinted = printed.reduce((a, b) => (a > b ? a : b));
      // Nothing committed is lost: the checkpoint is at or past every block the writer saw committed.
      expect(checkpoint.height >= lastPrinted).to.equal(true);
      expect(checkpoint.hash).to.equal(keccak256(toHex(checkpoint.height)));

      // No partial batch: every height up to the checkpoint has all its items, nothing above it has any.
      const counts = store.db
        .prepare("SELECT source_height AS h, COUNT(*) AS n FROM outbox GROUP BY source_height ORDER BY source_height")
        .all() as Array<{ h: bigint; n: bigint }>;
      expect(counts.length).to.equal(Number(checkpoint.height));
      counts.forEach((row, i) => {
        expect(row.h).to.equal(BigInt(i + 1));
        expect(Number(row.n)).to.equal(PER_BLOCK);
      });

      // Each life resumed right after the previous checkpoint: no block recorded twice, none skipped.
      for (let i = 1; i < runs.length; i++) expect(runs[i].blocks[0] > runs[i - 1].blocks.at(-1)!).to.equal(true);

      // Inbound packets: each accepted once; after the crash, accepting them again is refused.
      const accepted = runs.flatMap((r) => r.accepted);
      expect(new Set(accepted).size).to.equal(accepted.length);
      expect(runs.flatMap((r) => r.duplicates)).to.deep.equal([]);
      for (const key of accepted) expect(store.acceptInbound(key, {})).to.equal(false);
      expect(store.pendingCount()).to.equal(Number(checkpoint.height) * PER_BLOCK);
    } finally {
      store.close();
    }
  });
});
