import { expect } from "chai";
import { ethers, network } from "hardhat";
import {
  createPublicClient,
  custom,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from "viem";
import { AcceptedPackets } from "../../../relayer/src/attest/accepted";
import { toChainLog } from "../../../relayer/src/chains/evm/events";
import type { ChainEvents } from "../../../relayer/src/chains";

/** The attester's index of the packets `TxOpened` logs, on Hardhat's chain, with every JSON-RPC method it sends counted. */
describe("attester: the index of accepted packets", () => {
  let emitter: Awaited<ReturnType<typeof deploy>>;
  let client: PublicClient;
  /** The plugin's `events` over the counting client (Hardhat's in-process node has no URL for the plugin). */
  const events: Pick<ChainEvents, "events"> = {
    events: async (q) =>
      (
        (await client.getLogs({
          address: q.address,
          event: q.event,
          args: q.args,
          fromBlock: q.fromBlock,
          toBlock: q.toBlock,
          strict: true,
        } as never)) as Log<bigint, number, false>[]
      ).map((l) => toChainLog(l)),
  };
  const calls: string[] = [];
  /** The filter of each `eth_getLogs` sent. */
  const filters: { fromBlock?: string; topics?: unknown[] }[] = [];

  async function deploy() {
    const factory = await ethers.getContractFactory("EventEmitterMock");
    const c = await factory.deploy();
    await c.waitForDeployment();
    return c;
  }

  const packet = (n: number) => ({
    txId: keccak256(toHex(`tx-${n}`)),
    pipeId: keccak256(toHex("pipe")),
    sequence: BigInt(n),
  });
  const hashOf = (n: number): Hex => keccak256(toHex(`packet-${n}`));
  const accept = async (n: number, hash = hashOf(n)) => {
    const p = packet(n);
    await (await emitter.emitPacketAccepted(p.txId, p.pipeId, p.sequence, hash)).wait();
  };

  before(async () => {
    emitter = await deploy();
    client = createPublicClient({
      transport: custom({
        request: ({ method, params }: { method: string; params?: unknown[] }) => {
          calls.push(method);
          if (method === "eth_getLogs") filters.push((params as [{ fromBlock?: string; topics?: unknown[] }])[0]);
          return network.provider.request({ method, params });
        },
      }),
    });
  });

  beforeEach(() => {
    calls.length = 0;
    filters.length = 0;
  });

  it("finds an accepted packet, answers it again with no call, and refuses a wrong hash or an unknown packet", async () => {
    const index = new AcceptedPackets(events, (await emitter.getAddress()) as Address, 0n);
    await accept(1);
    expect(await index.has(packet(1), hashOf(1))).to.equal(true);
    const afterFirst = calls.length;
    expect(await index.has(packet(1), hashOf(1))).to.equal(true);
    expect(calls.length).to.equal(afterFirst);
    expect(await index.has(packet(1), hashOf(2))).to.equal(false);
    // The open's transaction and pipe with another sequence: not the packet it accepted.
    expect(await index.has({ ...packet(1), sequence: 5n }, hashOf(1))).to.equal(false);
    expect(await index.has(packet(99), hashOf(99))).to.equal(false);
  });

  it("a packet opened since the last block delivered costs one eth_getLogs by the open's topics from that block, no head read; a delivered one none", async () => {
    const index = new AcceptedPackets(events, (await emitter.getAddress()) as Address, 0n);
    const head = async () => BigInt((await network.provider.request({ method: "eth_blockNumber" })) as string);
    await accept(2);
    // The subscription delivered every block up to here (packet 2's included).
    const indexedTo = await head();
    index.add(indexedTo, [{ ...packet(2), packetHash: hashOf(2), transactionHash: keccak256(toHex("tx")) }]);
    expect(await index.has(packet(2), hashOf(2))).to.equal(true);
    expect(calls).to.deep.equal([]);
    await Promise.all([3, 4, 5].map((n) => accept(n)));
    calls.length = 0;
    filters.length = 0;
    const found = await Promise.all([3, 4, 5].map((n) => index.has(packet(n), hashOf(n))));
    expect(found).to.deep.equal([true, true, true]);
    expect(calls).to.deep.equal(["eth_getLogs", "eth_getLogs", "eth_getLogs"]);
    // Each from the last block delivered, by the open's indexed topics (TxOpened, txId, pipe).
    for (const f of filters) {
      expect(BigInt(f.fromBlock!)).to.equal(indexedTo);
      expect(f.topics!.filter((t) => t !== null)).to.have.length(3);
    }
    // Answered from the index once found, with no call.
    expect(await index.has(packet(3), hashOf(3))).to.equal(true);
    expect(calls.length).to.equal(3);
  });

  it("still finds a packet accepted in a block that replaced one it had indexed (a reorganisation)", async () => {
    const index = new AcceptedPackets(events, (await emitter.getAddress()) as Address, 0n);
    const snapshot = await network.provider.request({ method: "evm_snapshot" });
    await accept(6);
    expect(await index.has(packet(6), hashOf(6))).to.equal(true);
    await network.provider.request({ method: "evm_revert", params: [snapshot] });
    // The same height again, with another packet: the index has looked at this height already.
    await accept(7);
    expect(await index.has(packet(7), hashOf(7))).to.equal(true);
  });
});
