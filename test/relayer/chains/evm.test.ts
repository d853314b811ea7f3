import { expect } from "chai";
import { createPublicClient, decodeFunctionResult, http, keccak256, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { chainRegistry, ChainRegistry, evmChainKind, type ChainPlugin } from "../../../relayer/src/chains";
import { ExternalSigner } from "../../../relayer/src/keys";
import { silentLogger } from "../../../lib/infra/log";
import { deployEmitter, localChain, RELAYER_KEY, type Emitter } from "../helpers/emitter";
import { expectCcgpError } from "../helpers/errors";
import { freePort, startHardhatNode, type HardhatNode } from "../../helpers/hardhat-node";

describe("relayer/chains: EVM plugin against a hardhat node", function () {
  let node: HardhatNode;
  let emitter: Emitter;
  const relayer = privateKeyToAccount(RELAYER_KEY);

  const plugin = (overrides: Record<string, unknown> = {}, signer: LocalAccount | null = relayer): ChainPlugin =>
    chainRegistry.create(
      { kind: "evm", rpcUrl: node.url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 20, ...overrides },
      { name: "sub_a", signer: signer ?? undefined, logger: silentLogger() },
    );

  before(async function () {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
  });
  after(async function () {
    await node?.stop();
  });

  it("connects and reports status", async function () {
    const status = await plugin().connect();
    expect(status.chainId).to.equal(31337);
    expect(status.syncing).to.equal(false);
    expect(status.height >= emitter.deployBlock).to.equal(true);
  });

  it("refuses a node that serves another chain id, naming both", async function () {
    const error = await expectCcgpError(() => plugin({ chainId: 1 }).connect(), "CHAIN_ID_MISMATCH");
    expect(error.message).to.include("serves chain 31337, config says 1");
  });

  it("reports an unreachable node", async function () {
    const url = `http://127.0.0.1:${await freePort()}`;
    const error = await expectCcgpError(() => plugin({ rpcUrl: url }).status(), "CHAIN_UNREACHABLE");
    expect(error.message).to.include(url);
  });

  it("reads contract state", async function () {
    const p = plugin();
    const count = async (): Promise<bigint> =>
      decodeFunctionResult({
        abi: emitter.abi,
        functionName: "emittedCount",
        data: await p.read({ to: emitter.address, data: emitter.calldata("emittedCount") }),
      }) as bigint;
    const before = await count();
    await emitter.emit(1n);
    expect(await count()).to.equal(before + 1n);
  });

  it("writes with its signer and returns a receipt with the logs", async function () {
    const p = plugin();
    const hash = await p.write({ to: emitter.address, data: emitter.calldata("emitEvent", [42n, "0xbeef"]) });
    const receipt = await p.waitReceipt(hash);
    expect(receipt.status).to.equal("success");
    expect(receipt.transactionHash).to.equal(hash);
    expect(receipt.logs).to.have.length(1);
    expect(receipt.logs[0].address.toLowerCase()).to.equal(emitter.address.toLowerCase());
    expect(BigInt(receipt.logs[0].topics[1]!)).to.equal(42n);
    expect(BigInt(receipt.logs[0].topics[2]!)).to.equal(BigInt(relayer.address));
    expect(await p.getReceipt(hash)).to.deep.equal(receipt);
    expect(await p.getReceipt(`0x${"00".repeat(32)}`)).to.equal(null);
  });

  it("serialises concurrent writes so each gets its own nonce", async function () {
    const p = plugin();
    const hashes = await Promise.all(
      [1n, 2n, 3n, 4n, 5n].map((id) =>
        p.write({ to: emitter.address, data: emitter.calldata("emitEvent", [id, "0x"]) }),
      ),
    );
    const receipts = await Promise.all(hashes.map((h) => p.waitReceipt(h)));
    expect(receipts.every((r) => r.status === "success")).to.equal(true);
    const client = createPublicClient({ chain: localChain(node.url), transport: http(node.url) });
    const nonces = await Promise.all(hashes.map(async (hash) => (await client.getTransaction({ hash })).nonce));
    expect(new Set(nonces).size).to.equal(5);
  });

  it("writes through an external signer (KMS-style digest signing)", async function () {
    const signer = new ExternalSigner(relayer.address, ({ digest }) => relayer.sign({ hash: digest })).toAccount();
    const p = plugin({}, signer);
    const hash = await p.write({ to: emitter.address, data: emitter.calldata("emitEvent", [7n, "0x"]) });
    expect((await p.waitReceipt(hash)).status).to.equal("success");
    const client = createPublicClient({ chain: localChain(node.url), transport: http(node.url) });
    expect((await client.getTransaction({ hash })).from.toLowerCase()).to.equal(relayer.address.toLowerCase());
  });

  it("refuses a write that would revert, and a write without a signer", async function () {
    const error = await expectCcgpError(
      () => plugin().write({ to: emitter.address, data: "0xdeadbeef" as Hex }),
      "CHAIN_WRITE_FAILED",
    );
    expect(error.message).to.include(relayer.address);
    await expectCcgpError(() => plugin({}, null).write({ to: emitter.address, data: "0x" }), "CHAIN_NO_SIGNER");
  });

  it("hashes an address's code as it is now: a kept hash follows the code when it changes", async function () {
    const p = plugin();
    const client = createPublicClient({ transport: http(node.url) });
    const address = privateKeyToAccount(generatePrivateKey()).address;
    const code = (await client.getCode({ address: emitter.address }))!;
    expect(await p.codeHash(emitter.address)).to.equal(keccak256(code));
    expect(await p.codeHash(emitter.address), "read again, kept").to.equal(keccak256(code));
    expect(await p.codeHash(address), "no code").to.equal(keccak256("0x"));
    await client.request({ method: "hardhat_setCode" as "eth_call", params: [address, code] as never });
    expect(await p.codeHash(address)).to.equal(keccak256(code));
    const other = `${code}00` as Hex;
    await client.request({ method: "hardhat_setCode" as "eth_call", params: [address, other] as never });
    expect(await p.codeHash(address), "the same address, other code").to.equal(keccak256(other));
  });

  it("times out waiting for a receipt that never comes", async function () {
    await expectCcgpError(
      () => plugin().waitReceipt(`0x${"11".repeat(32)}`, { timeoutMs: 200 }),
      "CHAIN_RECEIPT_TIMEOUT",
    );
  });

  describe("registry", function () {
    it("refuses an unregistered chain kind, listing the known ones", async function () {
      const error = await expectCcgpError(
        () => chainRegistry.create({ kind: "fabric" }, { name: "sub_b", logger: silentLogger() }),
        "CHAIN_KIND_UNKNOWN",
      );
      expect(error.message).to.equal('chains.sub_b: no plugin for chain kind "fabric" (registered: evm)');
    });

    it("refuses to register a kind twice and validates config with the kind's schema", async function () {
      await expectCcgpError(
        () => new ChainRegistry().register(evmChainKind).register(evmChainKind),
        "CHAIN_KIND_DUPLICATE",
      );
      expect(() =>
        chainRegistry.create({ kind: "evm", rpcUrl: "nope" }, { name: "x", logger: silentLogger() }),
      ).to.throw(/expected an http\(s\) URL/);
    });
  });
});
