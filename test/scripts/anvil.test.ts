import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { freePort, startAnvil } from "../../scripts/lib/anvil";

describe("scripts: local anvil chains", function () {
  this.timeout(60_000);

  it("starts chains with their own ids on free ports and stops them", async function () {
    const [a, b] = await Promise.all([
      startAnvil({ name: "a", chainId: 7101 }),
      startAnvil({ name: "b", chainId: 7102 }),
    ]);
    try {
      expect(a.port).to.not.equal(b.port);
      for (const chain of [a, b]) {
        const provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true });
        expect(Number((await provider.getNetwork()).chainId)).to.equal(chain.chainId);
        provider.destroy();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(a.process.exitCode !== null || a.process.signalCode !== null).to.equal(true);
    await a.stop(); // stopping twice is harmless
  });

  it("hands out listen ports below the kernel's ephemeral range, never the same one twice", async function () {
    // Outgoing connections take local ports from the ephemeral range; a listen port from there can be taken before the server binds it.
    const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).to.equal(ports.length);
    for (const port of ports) expect(port).to.be.within(20000, ephemeralLow - 1);
  });

  it("runs the Cancun rules the contracts are compiled for unless told otherwise: no block-hash history in the state", async function () {
    // From Prague on, each block writes its parent's hash into the EIP-2935 contract: the state grows a slot a block,
    // and anvil rebuilds the whole state root for every block. Cancun blocks carry no `requestsHash` (EIP-7685).
    const [cancun, prague] = await Promise.all([
      startAnvil({ name: "c", chainId: 7106 }),
      startAnvil({ name: "p", chainId: 7107, hardfork: "prague" }),
    ]);
    try {
      const latest = async (url: string) => {
        const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
        await provider.send("anvil_mine", ["0x3"]);
        const block = (await provider.send("eth_getBlockByNumber", ["latest", false])) as Record<string, unknown>;
        provider.destroy();
        return block;
      };
      expect(await latest(cancun.url)).to.not.have.property("requestsHash");
      expect(await latest(prague.url)).to.have.property("requestsHash");
    } finally {
      await Promise.all([cancun.stop(), prague.stop()]);
    }
  });

  it("names a chain that cannot start", async function () {
    const a = await startAnvil({ name: "a", chainId: 7103 });
    try {
      await expect(startAnvil({ name: "clash", chainId: 7104, port: a.port, timeoutMs: 5_000 })).to.be.rejectedWith(
        /anvil clash/,
      );
    } finally {
      await a.stop();
    }
  });

  it("keeps the block states anvil moves to disk in a HOME of its own, removed when the node stops", async function () {
    const a = await startAnvil({ name: "a", chainId: 7105 });
    const provider = new JsonRpcProvider(a.url, undefined, { staticNetwork: true });
    try {
      await provider.send("anvil_mine", ["0x1000"]);
      expect(existsSync(join(a.home, ".foundry", "anvil", "tmp")), "anvil's state dir under the node's HOME").to.equal(
        true,
      );
    } finally {
      provider.destroy();
      await a.stop();
    }
    expect(existsSync(a.home)).to.equal(false);
  });
});
