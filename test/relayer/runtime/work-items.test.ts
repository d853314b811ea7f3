import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex, type Hex } from "viem";
import { RelayerStore } from "../../../relayer/src/store";
import { isWorkItem, txOf, work, workOf, type WorkInput } from "../../../relayer/src/work/items";
import { ManualClock } from "../helpers/errors";

const txId: Hex = keccak256(toHex("tx"));
const pipeId: Hex = keccak256(toHex("pipe"));
const result = {
  txId,
  step: 0,
  subchain: pipeId,
  subchainTx: txId,
  blockNumber: "7",
  resultHash: txId,
  operation: 1,
  success: true,
  stateVersion: "0",
};
const request = {
  chain: "sub_a",
  requestId: txId,
  pipeId,
  sender: "0x00000000000000000000000000000000000000aa" as const,
  contractName: pipeId,
  operation: 1,
  payload: "0x01" as const,
  nonce: "3",
  blockNumber: "12",
};

/** Every constructor once, with the id and payload a store written before the typed items holds for it. */
const ALL: Array<[WorkInput, string, unknown]> = [
  [work.open(txId), `tx:${txId}:open`, { type: "open", txId }],
  [work.open(txId, 2), `tx:${txId}:reopen:2`, { type: "open", txId }],
  [work.step("initiator", txId, 0), `tx:${txId}:exec:0`, { type: "step", txId, step: 0, role: "initiator" }],
  [work.step("receiver", txId, 1), `rx:${txId}:exec:1`, { type: "step", txId, step: 1, role: "receiver" }],
  [
    work.record("receiver", txId, 1, result),
    `rx:${txId}:record:1`,
    { type: "record", txId, step: 1, role: "receiver", result },
  ],
  [work.deliver(txId), `tx:${txId}:deliver`, { type: "deliver", txId }],
  [work.undo("initiator", txId, 0), `tx:${txId}:undo:0`, { type: "undo", txId, step: 0, role: "initiator" }],
  [
    work.compensate("receiver", txId, 1),
    `rx:${txId}:compensate:1`,
    { type: "compensate", txId, step: 1, role: "receiver" },
  ],
  [work.verify(txId), `verify:${txId}`, { type: "verify", txId }],
  [
    work.escalate(txId, "stuck"),
    `escalate:${txId}`,
    { type: "ledger", ledger: { op: "escalate", txId, reason: "stuck" } },
  ],
  [work.expire(txId), `expire:${txId}`, { type: "ledger", ledger: { op: "expire", txId } }],
  [work.chainRequest(request), `req:sub_a:${txId}`, { type: "chain-request", ...request }],
];

describe("relayer/work items", function () {
  let dir: string;
  let store: RelayerStore;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-work-"));
    store = RelayerStore.open({ path: join(dir, "s.sqlite"), clock: new ManualClock().read });
  });
  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds each kind with the id and the stored shape of earlier stores", function () {
    for (const [item, id, payload] of ALL) {
      expect(item.id, id).to.equal(id);
      expect(item.payload, id).to.deep.equal(payload);
    }
    expect(new Set(ALL.map(([item]) => item.id)).size).to.equal(ALL.length);
  });

  it("reads items a store written before the typed items holds, and dedupes a constructor's item against them", function () {
    // Written as the untyped code wrote them: plain objects, by hand.
    for (const [, id, payload] of ALL)
      store.enqueue({ id, kind: id.startsWith("tx:") && id.endsWith("open") ? "ledger-write" : "packet", payload });
    store.close();
    store = RelayerStore.open({ path: join(dir, "s.sqlite"), clock: new ManualClock().read });
    for (const [item, id] of ALL) {
      const stored = store.getOutbox(id);
      expect(stored, id).to.not.equal(null);
      expect(workOf(stored!), id).to.deep.equal(item.payload);
      // The same work again is no second item.
      expect(store.enqueue(item), id).to.equal(false);
    }
  });

  it("names the transaction and role an item belongs to", function () {
    expect(txOf(work.step("receiver", txId, 1).payload)).to.deep.equal({ txId, role: "receiver" });
    expect(txOf(work.deliver(txId).payload)).to.deep.equal({ txId });
    expect(txOf(work.expire(txId).payload)).to.equal(null);
    expect(txOf(work.chainRequest(request).payload)).to.equal(null);
  });

  it("refuses stored payloads of no known kind or missing what their handler reads", function () {
    const bad: unknown[] = [
      null,
      "open",
      { type: "nobody", txId },
      { type: "open" },
      { type: "open", txId: 7 },
      { type: "step", txId, step: "0", role: "initiator" },
      { type: "step", txId, step: 0, role: "verifier" },
      { type: "record", txId, step: 0, role: "initiator" },
      { type: "ledger", ledger: {} },
      { type: "chain-request", chain: "sub_a", pipeId },
    ];
    for (const payload of bad) expect(isWorkItem(payload), JSON.stringify(payload)).to.equal(false);
    for (const [item] of ALL) expect(isWorkItem(item.payload), item.id).to.equal(true);
  });
});
