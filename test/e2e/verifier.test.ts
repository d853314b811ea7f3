/**
 * The independent verifier on a real local consortium (three anvil chains, the Audit Office's verifier process):
 * the parties' keys drive a transaction by hand (open, gateway execute with the attester's signature, record,
 * endorse), as two colluding relayers could. A result the sub-chain contradicts is conflicted by the verifier and
 * never confirms, and so is a read's state version the read did not see (recorded to pass a stale dependent write);
 * while the verifier is down a true result waits in Executed and confirms once it is back; a relayer
 * key alone cannot make the gateway execute.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { keccak256, toHex, type Hex } from "viem";
import { Operation, countersign, packetDomain, signPacket, type Packet } from "../../lib/amdp";
import { attestationOf, signAttestation } from "../../relayer/src/attest/attestation";
import { loadKeystore } from "../../relayer/src/keys";
import { NO_DEPENDENCY, Side, TxState, resultSetHash, type LedgerResult } from "../../lib/domain/ledger-types";
import { setupLocalConsortium, type LocalConsortium } from "../../scripts/lib/local-consortium";
import { appAccount, keystoreSigner, newBatch, nextSequence, signCustodyRequest } from "../../scripts/lib/local/scenario";
import type { ContractTransactionResponse } from "ethers";
import { DrugTraceability__factory, SubchainGateway__factory, TransactionLedger__factory, type SubchainGateway, type TransactionLedger } from "../../typechain-types";

const WAIT_MS = 60_000;

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(v)} after ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("independent verifier (Audit Office process on a local consortium)", function () {
  this.timeout(240_000);
  let c: LocalConsortium;
  let ledgerA: TransactionLedger;
  let ledgerB: TransactionLedger;
  let gatewayB: SubchainGateway;

  before(async () => {
    c = await setupLocalConsortium({ relayerPollIntervalMs: 100 });
    const [a, b] = [c.business.a, c.business.b];
    ledgerA = TransactionLedger__factory.connect(c.governance.ledger, await keystoreSigner(c, a.accounts.business.keystore, "governance"));
    ledgerB = TransactionLedger__factory.connect(c.governance.ledger, await keystoreSigner(c, b.accounts.business.keystore, "governance"));
    gatewayB = SubchainGateway__factory.connect(b.contracts.gateway, await keystoreSigner(c, b.accounts.relayer.keystore, "b"));
  });
  after(async () => {
    await c?.stop();
  });

  /** Opens a custody write A -> B with the parties' keys and the attester's signature, and executes it on B. */
  async function openAndExecute() {
    const pipe = c.pipes.aToB;
    const b = c.business.b;
    const { batchId, dataHash } = newBatch("verifier-test");
    const app = await appAccount(c, pipe);
    const signed = await signCustodyRequest(c, app, { pipe, batchId, custodian: b.accounts.operator.address, dataHash, sequence: await nextSequence(c, pipe) });
    const proxyA = await loadKeystore(c.business.a.accounts.business.keystore, c.password);
    const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Hex);
    const proxySignature = await countersign(proxyA, domain, signed.packet, signed.signatures.app);
    const step = { side: Side.Target, subchain: b.subchain.id, operation: 1, dependsOn: NO_DEPENDENCY };
    await (await ledgerA.open([{ packet: signed.packet, appSignature: signed.signatures.app, proxySignature }], [step], signed.packet.deadline)).wait();
    const { packet, payload } = signed;
    const call = { txId: packet.txId, pipeId: pipe.id as Hex, sequence: packet.sequence, deadline: packet.deadline, contractName: pipe.contractNameHash as Hex, operation: 1, data: payload };
    const { data: _data, ...fields } = call;
    // Without attestations the relayer key alone is refused, by name.
    await expect(gatewayB.execute(fields, payload, "0x")).to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttestationsInsufficient");
    const attester = await loadKeystore(c.accounts.auditor.keystore, c.password);
    const attestation = await signAttestation(attester, c.chains.b.chainId, attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Hex));
    const receipt = (await (await gatewayB.execute(fields, payload, attestation)).wait())!;
    const executed = receipt.logs.map((l) => gatewayB.interface.parseLog(l)).find((e) => e?.name === "InboundExecuted")!;
    const result: LedgerResult = {
      txId: packet.txId,
      step: 0,
      subchain: b.subchain.id as Hex,
      subchainTx: receipt.hash as Hex,
      blockNumber: BigInt(receipt.blockNumber),
      resultHash: executed.args.resultHash as Hex,
      operation: 1,
      success: executed.args.success as boolean,
      stateVersion: executed.args.stateVersion as bigint,
    };
    return { txId: packet.txId as Hex, result };
  }

  /** B records `result` and both parties endorse what was recorded. */
  async function recordAndEndorse(txId: Hex, result: LedgerResult): Promise<void> {
    await (await ledgerB.recordResult(result)).wait();
    const hash = resultSetHash([result]);
    // A fixed gas limit: the verifier's endorsement may land between an estimate and its transaction.
    await (await ledgerA.endorse(txId, hash, { gasLimit: 400_000 })).wait();
    await (await ledgerB.endorse(txId, hash, { gasLimit: 400_000 })).wait();
  }

  const stateOf = async (txId: Hex): Promise<number> => Number((await ledgerA.statusOf(txId)).state);

  it("two parties recording and endorsing a false result do not confirm: the verifier reads sub-chain B and conflicts", async () => {
    const { txId, result } = await openAndExecute();
    const fake = { ...result, resultHash: keccak256(toHex("what the parties claim")) };
    await recordAndEndorse(txId, fake);
    // The parties' two of three: a majority, but no non-party among it.
    expect(await stateOf(txId)).to.equal(TxState.Executed);
    const conflicted = await until(
      "the verifier's conflict",
      async () => (await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId, c.verifier.address))).length,
      (n) => n > 0,
    );
    expect(conflicted).to.equal(1);
    expect(await stateOf(txId)).to.equal(TxState.Executed);
    expect(await ledgerA.hasEndorsed(txId, c.verifier.address)).to.equal(true);
  });

  it("two parties recording a read's version it did not see, to pass a stale dependent write: the verifier conflicts", async () => {
    const pipe = c.pipes.aToB;
    const b = c.business.b;
    const { batchId, dataHash } = newBatch("verifier-stale");
    const app = await appAccount(c, pipe);
    const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Hex);
    const proxyA = await loadKeystore(c.business.a.accounts.business.keystore, c.password);
    const sequence = await nextSequence(c, pipe);
    // The write's packet, and the read's: the same transaction, the read first.
    const write = await signCustodyRequest(c, app, { pipe, batchId, custodian: b.accounts.operator.address, dataHash, sequence: sequence + 1n });
    const readPayload = DrugTraceability__factory.createInterface().encodeFunctionData("custodyState", [batchId]) as Hex;
    const readPacket: Packet = { ...write.packet, operation: Operation.Read, selector: readPayload.slice(0, 10) as Hex, payloadHash: keccak256(readPayload), sequence };
    const read = { packet: readPacket, payload: readPayload, signatures: { app: await signPacket(app, domain, readPacket) } };
    const txId = write.packet.txId;
    const entries = await Promise.all(
      [read, write].map(async (p) => ({ packet: p.packet, appSignature: p.signatures.app, proxySignature: await countersign(proxyA, domain, p.packet, p.signatures.app) })),
    );
    const steps = [
      { side: Side.Target, subchain: b.subchain.id, operation: 0, dependsOn: NO_DEPENDENCY },
      { side: Side.Target, subchain: b.subchain.id, operation: 1, dependsOn: 0 },
    ];
    await (await ledgerA.open(entries, steps, write.packet.deadline)).wait();
    const attester = await loadKeystore(c.accounts.auditor.keystore, c.password);
    const fieldsOf = (p: { packet: Packet; payload: Hex }) => ({
      txId,
      pipeId: pipe.id as Hex,
      sequence: p.packet.sequence,
      deadline: p.packet.deadline,
      contractName: pipe.contractNameHash as Hex,
      operation: p.packet.operation,
    });
    const attest = (p: { packet: Packet; payload: Hex }) =>
      signAttestation(attester, c.chains.b.chainId, attestationOf({ ...fieldsOf(p), data: p.payload }, b.subchain.id as Hex, b.contracts.gateway as Hex));
    const resultOf = async (tx: Promise<ContractTransactionResponse>, step: number, operation: number, stateVersion: bigint): Promise<LedgerResult> => {
      const receipt = (await (await tx).wait())!;
      const executed = receipt.logs.map((l) => gatewayB.interface.parseLog(l)).find((e) => e?.name === "InboundExecuted")!;
      const { resultHash, success } = executed.args as unknown as { resultHash: Hex; success: boolean };
      return { txId, step, subchain: b.subchain.id as Hex, subchainTx: receipt.hash as Hex, blockNumber: BigInt(receipt.blockNumber), resultHash, operation, success, stateVersion };
    };
    // The read sees the batch unknown on B (its version 0); then the batch changes there.
    const drugB = DrugTraceability__factory.connect(b.contracts.drugTraceability, await keystoreSigner(c, b.accounts.operator.keystore, "b"));
    const readTx = gatewayB.execute(fieldsOf(read), read.payload, await attest(read));
    await (await readTx).wait();
    await (await drugB.recordBatch(batchId, b.accounts.operator.address, dataHash)).wait();
    const now = await drugB.stateVersion(batchId);
    expect(now).to.be.greaterThan(0n);
    // The parties claim the read saw today's version: the ledger's stale check and the gateway's both pass.
    const readResult = await resultOf(readTx, 0, 0, now);
    await (await ledgerB.recordResult(readResult)).wait();
    const writeResult = await resultOf(gatewayB.executeDependentWrite(fieldsOf(write), write.payload, batchId, now, await attest(write)), 1, 1, now);
    await (await ledgerB.recordResult(writeResult)).wait();
    const hash = resultSetHash([readResult, writeResult]);
    await (await ledgerA.endorse(txId, hash, { gasLimit: 400_000 })).wait();
    await (await ledgerB.endorse(txId, hash, { gasLimit: 400_000 })).wait();
    expect(await stateOf(txId)).to.equal(TxState.Executed);
    // The verifier reads the batch's version at the read's block on B (0), not the recorded one.
    await until(
      "the verifier's conflict",
      async () => (await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId, c.verifier.address))).length,
      (n) => n > 0,
    );
    expect(await stateOf(txId)).to.equal(TxState.Executed);
    // Only the read is contradicted: the dependent write did run on the version recorded for it.
    const logged = readFileSync(c.verifier.logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes(txId) && l.includes('"reasons"'))
      .map((l) => (JSON.parse(l) as { reasons: string[] }).reasons);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.have.length(1);
    expect(logged[0]![0]).to.match(/^step 0 .*recorded state version \d+, the read saw key 0x[0-9a-f]{64} at 0$/);
  });

  it("with the verifier down a true result waits in Executed, and confirms once it is back", async () => {
    await c.verifier.stop();
    const { txId, result } = await openAndExecute();
    await recordAndEndorse(txId, result);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await stateOf(txId)).to.equal(TxState.Executed);
    await c.verifier.start();
    await until("Confirmed", () => stateOf(txId), (s) => s === TxState.Confirmed);
    const [endorsement] = await ledgerA.queryFilter(ledgerA.filters.Endorsed(txId, c.verifier.address));
    expect(endorsement, "the verifier's own endorsement").to.not.equal(undefined);
  });
});
