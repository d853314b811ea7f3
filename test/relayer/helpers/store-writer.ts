/**
 * Child process for the store crash test: records blocks (each with a batch of outbox items) and accepts
 * one inbound packet per block, forever, printing each commit after it returns. The test kills it with
 * SIGKILL at an arbitrary moment. Usage: store-writer <db path> <items per block>
 */
import { keccak256, toHex } from "viem";
import { RelayerStore } from "../../../relayer/src/store";

const [path, perBlock] = process.argv.slice(2);
const store = RelayerStore.open({ path });
let height = (store.checkpoint("sub_a")?.height ?? 0n) + 1n;
process.stdout.write(`start ${height}\n`);
for (;;) {
  const items = Array.from({ length: Number(perBlock) }, (_, i) => ({
    id: `sub_a:${height}:${i}`,
    kind: "packet" as const,
    payload: { height, i, padding: "x".repeat(256) },
  }));
  store.recordBlock("sub_a", height, keccak256(toHex(height)), items);
  process.stdout.write(`block ${height}\n`);
  const key = `packet:pipe-1:${height}`;
  process.stdout.write(`inbound ${key} ${store.acceptInbound(key, { height })}\n`);
  height += 1n;
}
