/**
 * The governance side of the relayer against a real governance chain: the synchronised view (loaded by view calls,
 * kept current from events), the TLS pin policy it feeds, revert decoding, and the ledger writer's check-first
 * idempotency.
 */
import { expect } from "chai";
import { keccak256, toHex, type Hex } from "viem";
import { toWire } from "../../../lib/amdp";
import { EvmChainPlugin } from "../../../relayer/src/chains";
import { ContractError } from "../../../relayer/src/governance/contract";
import {
  governanceContracts,
  registryWatch,
  type GovernanceContracts,
} from "../../../relayer/src/governance/contracts";
import { PIPE_REFUSALS } from "../../../lib/abi/contracts";
import { LogReader } from "../../../relayer/src/governance/logs";
import { EvmEvents } from "../../../relayer/src/chains/evm/events";
import { loadKeystore } from "../../../relayer/src/keys";
import { enabledServicePins, servicePin } from "../../../relayer/src/governance/pins";
import { GovernanceSync } from "../../../relayer/src/governance/sync";
import { GovernanceView } from "../../../relayer/src/governance/view";
import { LedgerWriter, type LedgerOp, type WriteOutcome } from "../../../relayer/src/governance/writer";
import { silentLogger } from "../../../lib/infra/log";
import { NO_DEPENDENCY, Side, TxState } from "../../../lib/domain/ledger-types";
import { PipeRegistry__factory, ServiceRegistry__factory } from "../../../typechain-types";
import { expectCcgpError } from "../helpers/errors";
import {
  accountOn,
  appSigned,
  batchOnA,
  council,
  countersigned,
  custodyPacket,
  nextSequence,
  randomHex,
  sideConfig,
  stateOf,
  until,
  world,
  type World,
} from "./helpers/world";
import type { LocalAccount } from "viem";

describe("relayer runtime: governance view, pins and ledger writer", function () {
  this.timeout(120_000);
  let w: World;
  let view: GovernanceView;
  let gov: GovernanceContracts;
  const controller = new AbortController();
  let following: Promise<void>;

  const contractsFor = (signer: LocalAccount): GovernanceContracts => {
    const g = sideConfig(w.c.business.a).governance;
    const plugin = new EvmChainPlugin(
      {
        kind: "evm",
        rpcUrl: g.rpcUrl,
        chainId: g.chainId,
        gateway: g.contracts.ledger,
        confirmations: 1,
        startBlock: 0,
        pollIntervalMs: 100,
        maxBlockRange: 1000,
        reorgWindow: 64,
      },
      { name: "governance", signer, logger: silentLogger() },
    );
    return governanceContracts(plugin, g);
  };
  const writerFor = (signer: LocalAccount) =>
    new LedgerWriter(
      contractsFor(signer),
      new LogReader(new EvmEvents(w.c.chains.governance.url)),
      signer.address,
      silentLogger(),
    );

  before(async function () {
    // The Audit Office's endorsement is sent by hand below: its verifier process stays off.
    w = await world({ verifier: false });
    gov = contractsFor(w.proxies.a);
    view = new GovernanceView(gov, silentLogger());
    const sync = new GovernanceSync(view, gov.ledger.chain, silentLogger(), { confirmations: 1 });
    ({ following } = await sync.start(controller.signal));
  });
  after(async () => {
    controller.abort();
    await following;
    await w?.stop();
  });

  it("loads institutions, services with endpoint and fingerprint, and pipes with their routes", async function () {
    const { a, b } = w.c.business;
    expect(view.institutions.size).to.equal(6);
    expect(view.institutionActive(a.institutionId)).to.equal(true);
    for (const side of [a, b]) {
      const s = view.services.get(side.service.id as Hex)!;
      expect(s).to.deep.include({
        host: "127.0.0.1",
        port: side.ports.peer,
        fingerprint: side.tls.fingerprint,
        institution: side.institutionId,
      });
      expect(s.signer.toLowerCase()).to.equal(side.accounts.business.address.toLowerCase());
      expect(view.serviceBySigner(side.accounts.business.address as Hex)?.id).to.equal(side.service.id);
    }
    const route = view.pipes.get(w.c.pipes.aToB.id as Hex)!;
    expect(route).to.deep.include({
      sourceService: a.service.id,
      targetService: b.service.id,
      sourceInstitution: a.institutionId,
      contractName: w.c.pipes.aToB.contractNameHash,
    });
    expect(route.sourceAppKey.toLowerCase()).to.equal(a.app.key.address.toLowerCase());
    expect(view.pipeIdAt(1n)).to.be.oneOf([w.c.pipes.aToB.id, w.c.pipes.bToA.id]);
    expect(view.pipesOfService(a.service.id as Hex).length).to.equal(2);
    expect((await view.refreshAccount(a.accounts.business.address as Hex)).role).to.equal(3);
    expect(view.accountActive(a.accounts.business.address as Hex)).to.equal(true);
  });

  it("pins exactly the certificates of enabled services", function () {
    const { a, b } = w.c.business;
    const any = enabledServicePins(view);
    expect([any(a.tls.fingerprint), any(b.tls.fingerprint), any("00".repeat(32))]).to.deep.equal([true, true, false]);
    const onlyB = servicePin(view, b.service.id as Hex);
    expect([onlyB(b.tls.fingerprint), onlyB(a.tls.fingerprint)]).to.deep.equal([true, false]);
  });

  it("decodes a contract's refusal into its custom error and arguments", async function () {
    const error = await expectCcgpError(() => gov.ledger.read("unresolvedAmong", [[]]), "CONTRACT_REVERTED");
    expect((error as ContractError).errorName).to.equal("LedgerInvalidPage");
    expect((error as ContractError).revert!.args.map(String)).to.deep.equal(["0", "500"]);
  });

  it("writes each ledger operation once: a repeat reads as already done, a finished transaction as moot", async function () {
    const writerA = writerFor(w.proxies.a);
    const writerB = writerFor(w.proxies.b);
    const { batchId } = await batchOnA(w);
    const { packet, payload } = await custodyPacket(w, batchId);
    const signed = await countersigned(w, await appSigned(w, packet, payload));
    const route = view.pipes.get(w.c.pipes.aToB.id as Hex)!;
    const open: LedgerOp = {
      op: "open",
      txId: packet.txId,
      packets: [toWire(signed)],
      steps: [{ side: Side.Target, subchain: route.targetSubchain, operation: 1, dependsOn: NO_DEPENDENCY }],
      deadline: packet.deadline.toString(),
    };
    // `state`: the state the write moved an opened transaction to, if any (what wakes the reconciler).
    const opened = await writerA.perform(open);
    expect(opened.outcome).to.equal("sent");
    expect(opened).to.not.have.property("state");
    expect(await writerA.perform(open)).to.deep.equal({ outcome: "already" });
    const retry: LedgerOp = { op: "retryStep", txId: packet.txId, step: 0, reason: "rpc timeout", attempt: 1 };
    const retried = await writerB.perform(retry);
    expect(retried.outcome).to.equal("sent");
    expect(retried).to.not.have.property("state");
    expect(await writerB.perform(retry)).to.deep.equal({ outcome: "already" });

    const result = {
      txId: packet.txId,
      step: 0,
      subchain: route.targetSubchain,
      subchainTx: randomHex(),
      blockNumber: "7",
      resultHash: randomHex(),
      operation: 1,
      success: true,
      stateVersion: "1",
    };
    const wrongRecorder = await expectCcgpError(
      () => writerA.perform({ op: "recordResult", result, fromBlock: "0" }),
      "CONTRACT_REVERTED",
    );
    expect((wrongRecorder as ContractError).errorName).to.equal("LedgerUnauthorizedRecorder");
    expect(await writerB.perform({ op: "recordResult", result, fromBlock: "0" })).to.include({
      outcome: "sent",
      state: TxState.Executed,
    });
    expect(await writerB.perform({ op: "recordResult", result, fromBlock: "0" })).to.deep.equal({ outcome: "already" });
    expect(await stateOf(w, packet.txId)).to.equal("Executed");

    const tx = await gov.ledger.read("transaction", [packet.txId]);
    const first = await writerA.perform({ op: "endorse", txId: packet.txId, resultSetHash: tx.resultSetHash });
    expect(first.outcome).to.equal("sent");
    expect(first).to.not.have.property("state");
    expect(await writerA.perform({ op: "endorse", txId: packet.txId, resultSetHash: tx.resultSetHash })).to.deep.equal({
      outcome: "already",
    });
    // Both parties: a majority, but without a non-party it does not confirm; the Audit Office's endorsement does.
    const second = await writerB.perform({ op: "endorse", txId: packet.txId, resultSetHash: tx.resultSetHash });
    expect(second.outcome).to.equal("sent");
    expect(second).to.not.have.property("state");
    const auditor = await loadKeystore(w.c.accounts.auditor.keystore, w.c.password);
    expect(
      await writerFor(auditor).perform({ op: "endorse", txId: packet.txId, resultSetHash: tx.resultSetHash }),
    ).to.include({ outcome: "sent", state: TxState.Confirmed });
    expect(await stateOf(w, packet.txId)).to.equal("Confirmed");
    expect((await writerA.perform({ op: "escalate", txId: packet.txId, reason: "too late" })).outcome).to.equal("moot");
    expect((await writerA.perform({ op: "expire", txId: packet.txId })).outcome).to.equal("moot");
    // A repeat once the transaction has moved on: its state no longer tells, its ResultRecorded log does.
    expect(await writerB.perform({ op: "recordResult", result, fromBlock: "0" })).to.deep.equal({ outcome: "already" });
    // A commit of a transaction that never was Committing: no second ResultRecorded, so it is moot.
    expect(await writerB.perform({ op: "recordCommit", result, fromBlock: "0" })).to.deep.equal({
      outcome: "moot",
      reason: "transaction is Confirmed",
    });
    // An exact replay of an opened packet proves nothing against anyone.
    expect((await writerB.perform({ op: "reportRefusal", packet: toWire(signed) })).outcome).to.equal("moot");
  });

  it("batches writes that arrive while one is in flight (openMany, recordResults, endorseMany); a refused batch goes item by item", async function () {
    const writerA = writerFor(w.proxies.a);
    const writerB = writerFor(w.proxies.b);
    const route = view.pipes.get(w.c.pipes.aToB.id as Hex)!;
    const first = await nextSequence(w, w.c.pipes.aToB);
    const openOf = async (sequence: bigint, txId?: Hex): Promise<LedgerOp & { op: "open" }> => {
      const { packet, payload } = await custodyPacket(w, randomHex(), { sequence, txId });
      const signed = await countersigned(w, await appSigned(w, packet, payload));
      const steps = [{ side: Side.Target, subchain: route.targetSubchain, operation: 1, dependsOn: NO_DEPENDENCY }];
      return { op: "open", txId: packet.txId, packets: [toWire(signed)], steps, deadline: packet.deadline.toString() };
    };
    const sentIn = (o: WriteOutcome) => (o.outcome === "sent" ? o.tx : o.outcome);
    // The first goes alone at once (an idle relayer's latency); the two that came meanwhile go in one call.
    const opens = [await openOf(first), await openOf(first + 1n), await openOf(first + 2n)];
    const opened = (await Promise.all(opens.map((o) => writerA.perform(o)))).map(sentIn);
    expect(opened[0]).to.not.equal(opened[1]);
    expect(opened[1]).to.equal(opened[2]);
    for (const o of opens) expect(await stateOf(w, o.txId)).to.equal("Open");

    const resultOf = (txId: Hex) => ({
      txId,
      step: 0,
      subchain: route.targetSubchain,
      subchainTx: randomHex(),
      blockNumber: "7",
      resultHash: randomHex(),
      operation: 1,
      success: true,
      stateVersion: "1",
    });
    const recorded = await Promise.all(
      opens.map((o) => writerB.perform({ op: "recordResult", result: resultOf(o.txId), fromBlock: "0" })),
    );
    expect(recorded.map(sentIn)[1]).to.equal(recorded.map(sentIn)[2]);
    for (const r of recorded) expect(r).to.include({ outcome: "sent", state: TxState.Executed });

    const hashes = await Promise.all(opens.map((o) => gov.ledger.read("transaction", [o.txId])));
    const endorsed = await Promise.all(
      opens.map((o, i) => writerA.perform({ op: "endorse", txId: o.txId, resultSetHash: hashes[i]!.resultSetHash })),
    );
    expect(endorsed.map(sentIn)[1]).to.equal(endorsed.map(sentIn)[2]);
    for (const o of opens) expect(await gov.ledger.read("hasEndorsed", [o.txId, w.proxies.a.address])).to.equal(true);

    // A batch with a refused item (a sequence used already): the batch is refused, its items go one by one, and only
    // the refused one fails, with its own error.
    const more = [await openOf(first + 3n), await openOf(first + 4n), await openOf(first)];
    const settled = await Promise.allSettled(more.map((o) => writerA.perform(o)));
    expect(settled.map((s) => s.status)).to.deep.equal(["fulfilled", "fulfilled", "rejected"]);
    expect(((settled[2] as PromiseRejectedResult).reason as ContractError).errorName).to.equal("LedgerSequenceReused");
    expect(await stateOf(w, more[1]!.txId)).to.equal("Open");
    expect(await stateOf(w, more[2]!.txId)).to.equal("None");
  });

  // Last: it disables B's service.
  it("follows events: a paused pipe, a new endpoint and fingerprint, a service disabled by vote", async function () {
    const { a, b } = w.c.business;
    const operatorA = await accountOn(w, a.accounts.operator.keystore, "governance");
    await (await PipeRegistry__factory.connect(w.c.governance.pipes, operatorA).pausePipe(w.c.pipes.aToB.id)).wait();
    await until(() => view.pipes.get(w.c.pipes.aToB.id as Hex)?.status === 4, "the paused pipe in the view");
    await (await PipeRegistry__factory.connect(w.c.governance.pipes, operatorA).resumePipe(w.c.pipes.aToB.id)).wait();
    await until(() => view.pipes.get(w.c.pipes.aToB.id as Hex)?.status === 3, "the resumed pipe in the view");

    const pins = enabledServicePins(view);
    const rotated = keccak256(toHex("a new certificate")).slice(2);
    const services = ServiceRegistry__factory.connect(w.c.governance.services, operatorA);
    await (
      await services.updateServiceEndpoint(a.service.id, {
        host: "127.0.0.1",
        port: a.ports.peer,
        tlsFingerprint: `0x${rotated}`,
      })
    ).wait();
    await until(() => pins(rotated), "the new fingerprint pinned");
    expect(pins(a.tls.fingerprint)).to.equal(false);

    expect(pins(b.tls.fingerprint)).to.equal(true);
    // A permission answer kept from the pushed heads (`readKept`) ends at the block of the vote that revokes it: the
    // next check says ServiceDisabled at once, before the view has followed the event.
    const { packet } = await custodyPacket(w, randomHex());
    const watch = registryWatch(gov);
    const rights = () =>
      gov.pipes.readKept("checkOperation", [packet.pipeId, packet.signer, packet.operation, packet.selector], watch);
    expect(PIPE_REFUSALS[await rights()]).to.equal("Allowed");
    expect(PIPE_REFUSALS[await rights()]).to.equal("Allowed");
    await (
      await council(w)
    ).decide(ServiceRegistry__factory.connect(w.c.governance.services), "disableService", [b.service.id], "disable B");
    await until(async () => PIPE_REFUSALS[await rights()] === "ServiceDisabled", "the kept answer ended", 5_000);
    await until(() => !pins(b.tls.fingerprint), "B's certificate unpinned");
  });

  // A node restarted without its latest blocks (anvil's state written before them) lost them with the writes in them,
  // which the writer took as done at their receipts: inside the confirmation depth the follower sees no reorg at all.
  it("tells a reorg when the node comes back with a lower head than it showed (blocks lost inside the depth)", async function () {
    const heads: bigint[] = [];
    const metrics = { record: (e: { type: string; head?: bigint }) => e.head !== undefined && heads.push(e.head) };
    const deep = new GovernanceView(gov, silentLogger());
    const changes: string[] = [];
    deep.onChange((change) => changes.push(change.type));
    const stop = new AbortController();
    // Deeper than the blocks lost below: the follower never delivers them, so it has no reorg to see.
    const sync = new GovernanceSync(deep, gov.ledger.chain, silentLogger(), {
      confirmations: 20,
      metrics: metrics as unknown as ConstructorParameters<typeof GovernanceSync>[3]["metrics"],
    });
    const { following: deepFollowing } = await sync.start(stop.signal);
    try {
      const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => {
        const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
        const res = await fetch(w.c.chains.governance.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        return ((await res.json()) as { result: unknown }).result;
      };
      const snapshot = (await rpc("evm_snapshot")) as string;
      const top = BigInt((await rpc("eth_blockNumber")) as string) + 3n;
      for (let i = 0; i < 3; i++) await rpc("evm_mine");
      await until(() => heads.some((h) => h >= top), "the higher head seen");
      expect(changes).to.not.include("reorg");
      await rpc("evm_revert", [snapshot]);
      await until(() => changes.includes("reorg"), "a reorg told after the head went back");
    } finally {
      stop.abort();
      await deepFollowing;
    }
  });
});
