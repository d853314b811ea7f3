/**
 * The independent verifier on a real local consortium (three anvil chains, the Audit Office's verifier process):
 * the parties' keys drive a transaction by hand (open, gateway execute with the attester's signature, record,
 * endorse), as two colluding relayers could. A result the sub-chain contradicts is conflicted by the verifier and
 * never confirms; while the verifier is down a true result waits in Executed and confirms once it is back; a relayer
 * key alone cannot make the gateway execute.
 */
import { expect } from "chai";
import { keccak256, toHex, type Hex } from "viem";
import { countersign, packetDomain } from "../../lib/amdp";
import { attestationOf, signAttestation } from "../../relayer/src/attest/attestation";
import { loadKeystore } from "../../relayer/src/keys";
import { NO_DEPENDENCY, Side, TxState, resultSetHash, type LedgerResult } from "../../lib/domain/ledger-types";
import { setupLocalConsortium, type LocalConsortium } from "../../scripts/lib/local-consortium";
import { appAccount, keystoreSigner, newBatch, nextSequence, signCustodyRequest } from "../../scripts/lib/local/scenario";
import { SubchainGateway__factory, TransactionLedger__factory, type SubchainGateway, type TransactionLedger } from "../../typechain-types";

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
