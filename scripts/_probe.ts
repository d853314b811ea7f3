import { network } from "hardhat";
import { ledgerFixture, openTx, result } from "../test/transactions/fixtures";
import { resultSetHash } from "./lib/ledger-types";
async function trace(hash: string, label: string) {
  const t = await network.provider.send("debug_traceTransaction", [hash, { disableStack: true, disableMemory: true, disableStorage: true }]);
  const byDepth: Record<number, number> = {};
  const ops: Record<string, number> = {};
  const logs = t.structLogs as { op: string; gasCost: number; depth: number; gas: number }[];
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i]!;
    let cost = l.gasCost;
    if (["CALL", "STATICCALL", "DELEGATECALL"].includes(l.op) && logs[i + 1] && logs[i + 1]!.depth > l.depth) {
      // cost of the call itself = gas before - gas at callee start
      cost = l.gas - logs[i + 1]!.gas;
      // the callee's remaining use counted at its depth; subtract what it returned
    }
    byDepth[l.depth] = (byDepth[l.depth] ?? 0) + cost;
    if (l.depth === 1) ops[l.op] = (ops[l.op] ?? 0) + cost;
  }
  const top = Object.entries(ops).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k}:${v}`).join(" ");
  console.log(label, "total", t.gas, "depth", JSON.stringify(byDepth), "\n   ", top);
}
async function main() {
  const w = await ledgerFixture();
  const warm = await openTx(w);
  await w.ledger.connect(w.srcProxy.wallet).recordResult(result(warm, 0));
  const o = await openTx(w);
  await trace(o.tx.hash, "open");
  const r0 = result(o, 0), r1 = result(o, 1);
  const a = await w.ledger.connect(w.srcProxy.wallet).recordResult(r0); await trace(a.hash, "r0");
  const b = await w.ledger.connect(w.tgtProxy.wallet).recordResult(r1); await trace(b.hash, "r1");
  const h = resultSetHash([r0, r1]);
  const e1 = await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, h); await trace(e1.hash, "e1");
  const e2 = await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, h); await trace(e2.hash, "e2");
}
main();
