/**
 * The independent verifier on a real local consortium (three anvil chains, the Audit Office's verifier process):
 * the parties' keys drive a transaction by hand (open, gateway execute with the attester's signature, record,
 * endorse), as two colluding relayers could. While the verifier is down both a false and a true result wait in
 * Executed; once it is back the one the sub-chain contradicts is conflicted and goes to Manual, the true one
 * confirms. The parties' real relayer processes, patched to record a false result and endorse it on both sides, do
 * not reach Confirmed either: the verifier conflicts and the transaction goes to Manual. A read's state version the read did not see (recorded to pass a stale dependent write) is conflicted
 * too, and so is a true result of code other than the attested code. The gateway refuses a relayer key alone, a
 * forged attestation, one attester short of k and a replayed attester-set change. The relayer's collector finds
 * attesters at the endpoints they published in the service registry, and `ccgp attesters sync` moves both gateways
 * to a newly voted set with the current set's signatures. The attesters run as their own processes
 * (`dist/attester.js`), as an institution runs one.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getAddress, keccak256, toHex, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Operation, countersign, packetDomain, signPacket, toWire, type Packet } from "../../lib/amdp";
import {
  attestationOf,
  attestationSigner,
  packAttestations,
  signAttestation,
  signAttesterSetChange,
} from "../../relayer/src/attest/attestation";
import { Attester, type AttestationRequest } from "../../relayer/src/attest/attester";
import { attesterChain } from "../../relayer/src/attest/chain";
import { main as cli } from "../../relayer/src/cli/main";
import { Council } from "../../scripts/lib/local/council";
import { startAttesterProcess, writeAttesterConfig } from "../../scripts/lib/local/attesters";
import type { RoleProcess } from "../../scripts/lib/local/role-process";
import { freePort } from "../../scripts/lib/anvil";
import { collectAttestations } from "../../relayer/src/attest/collect";
import { RegistryAttesterEndpoints } from "../../relayer/src/attest/endpoints";
import { loadKeystore } from "../../relayer/src/keys";
import { NO_DEPENDENCY, Reason, Side, TxState, resultSetHash, type LedgerResult } from "../../lib/domain/ledger-types";
import { setupLocalConsortium, type LocalConsortium } from "../../scripts/lib/local-consortium";
import {
  appAccount,
  keystoreSigner,
  newBatch,
  nextSequence,
  nextCustodyWrite,
  openCustodyWrite,
  postRequest,
  signCustodyRequest,
  waitForLedger,
} from "../../scripts/lib/local/scenario";
import { expectCcgpError } from "../relayer/helpers/errors";
import { builtTestProcess } from "../../scripts/build";
import { startRelayers } from "../../scripts/lib/local/relayers";
import { JsonRpcProvider, keccak256 as ethersKeccak, type ContractTransactionResponse } from "ethers";
import {
  AttesterRegistry__factory,
  ChainRegistry__factory,
  DrugTraceability__factory,
  Membership__factory,
  ServiceRegistry__factory,
  SubchainGateway__factory,
  TransactionLedger__factory,
  VotingTickets__factory,
  type SubchainGateway,
  type TransactionLedger,
} from "../../typechain-types";

const WAIT_MS = 60_000;

/** `signature` with byte `index` inverted. */
const flipByte = (signature: Hex, index: number): Hex => {
  const at = 2 + 2 * index;
  const byte = (0xff ^ parseInt(signature.slice(at, at + 2), 16)).toString(16).padStart(2, "0");
  return `${signature.slice(0, at)}${byte}${signature.slice(at + 2)}` as Hex;
};

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
  let attester: LocalAccount;
  /** The second attester (from the sync case on) and its process. */
  let second: LocalAccount;
  let secondProcess: RoleProcess | undefined;

  before(async () => {
    c = await setupLocalConsortium({ relayerPollIntervalMs: 100 });
    const [a, b] = [c.business.a, c.business.b];
    ledgerA = TransactionLedger__factory.connect(
      c.governance.ledger,
      await keystoreSigner(c, a.accounts.business.keystore, "governance"),
    );
    ledgerB = TransactionLedger__factory.connect(
      c.governance.ledger,
      await keystoreSigner(c, b.accounts.business.keystore, "governance"),
    );
    gatewayB = SubchainGateway__factory.connect(
      b.contracts.gateway,
      await keystoreSigner(c, b.accounts.relayer.keystore, "b"),
    );
    attester = await loadKeystore(c.accounts.auditor.keystore, c.password);
  });
  after(async () => {
    await secondProcess?.stop();
    await c?.stop();
  });

  /** `ccgp <args> --json` in this process, against this consortium, signed with `keystore`. */
  async function ccgp(args: string[], keystore: string) {
    let stdout = "";
    let stderr = "";
    const code = await cli(
      [
        "node",
        "ccgp",
        ...args,
        "--rpc",
        c.chains.governance.url,
        "--deployments",
        c.runDir,
        "--keystore",
        keystore,
        "--json",
        ...(args[1] === "sync" ? ["--subchain-rpc", c.chains.a.url, "--subchain-rpc", c.chains.b.url] : []),
      ],
      {
        env: { ...process.env, CCGP_KEYSTORE_PASSWORD: c.password, CCGP_CURRENT: join(c.runDir, "no-pointer.json") },
        io: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
      },
    );
    return { code, stdout, stderr };
  }

  /** Opens a custody write A -> B with the parties' keys; returns the gateway call on B and its attestation. */
  async function openOnLedger() {
    const { signed, call } = await openCustodyWrite(c, "verifier-test");
    const { data: payload, ...fields } = call;
    return {
      signed,
      call,
      fields,
      payload,
      attestation: attestationOf(call, c.business.b.subchain.id as Hex, c.business.b.contracts.gateway as Hex),
    };
  }

  /** Opens a custody write A -> B and executes it on B with the attester's signature. */
  async function openAndExecute() {
    const b = c.business.b;
    const { call, fields, payload, attestation } = await openOnLedger();
    // Without attestations the relayer key alone is refused, by name.
    await expect(gatewayB.execute(fields, payload, "0x")).to.be.revertedWithCustomError(
      gatewayB,
      "SubchainGatewayAttestationsInsufficient",
    );
    const signature = await signAttestation(attester, c.chains.b.chainId, attestation);
    const receipt = (await (await gatewayB.execute(fields, payload, signature)).wait())!;
    const executed = receipt.logs
      .map((l) => gatewayB.interface.parseLog(l))
      .find((e) => e?.name === "InboundExecuted")!;
    const result: LedgerResult = {
      txId: call.txId,
      step: 0,
      subchain: b.subchain.id as Hex,
      subchainTx: receipt.hash as Hex,
      blockNumber: BigInt(receipt.blockNumber),
      resultHash: executed.args.resultHash as Hex,
      operation: 1,
      success: executed.args.success as boolean,
      stateVersion: executed.args.stateVersion as bigint,
    };
    return { txId: call.txId as Hex, result };
  }

  /** B records `result` and both parties endorse what was recorded. */
  async function recordAndEndorse(txId: Hex, result: LedgerResult): Promise<void> {
    await (await ledgerB.recordResult(result)).wait();
    const hash = resultSetHash([result]);
    await (await ledgerA.endorse(txId, hash)).wait();
    await (await ledgerB.endorse(txId, hash)).wait();
  }

  const statusOf = async (txId: Hex) => {
    const t = await ledgerA.transaction(txId);
    return { state: Number(t.state), reason: Number(t.reason) };
  };

  it("two parties recording a read's version it did not see, to pass a stale dependent write: the verifier conflicts", async () => {
    // Down while the parties record and endorse, so that its conflict comes after theirs.
    await c.verifier.stop();
    const pipe = c.pipes.aToB;
    const b = c.business.b;
    const { batchId, dataHash } = newBatch("verifier-stale");
    const app = await appAccount(c, pipe);
    const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Hex);
    const proxyA = await loadKeystore(c.business.a.accounts.business.keystore, c.password);
    const sequence = await nextSequence(c, pipe);
    // The write's packet, and the read's: the same transaction, the read first.
    const write = await signCustodyRequest(c, app, {
      pipe,
      batchId,
      custodian: b.accounts.operator.address,
      dataHash,
      sequence: sequence + 1n,
    });
    const readPayload = DrugTraceability__factory.createInterface().encodeFunctionData("custodyState", [
      batchId,
    ]) as Hex;
    const readPacket: Packet = {
      ...write.packet,
      operation: Operation.Read,
      selector: readPayload.slice(0, 10) as Hex,
      payloadHash: keccak256(readPayload),
      sequence,
    };
    const read = {
      packet: readPacket,
      payload: readPayload,
      signatures: { app: await signPacket(app, domain, readPacket) },
    };
    const txId = write.packet.txId;
    const entries = await Promise.all(
      [read, write].map(async (p) => ({
        packet: p.packet,
        appSignature: p.signatures.app,
        proxySignature: await countersign(proxyA, domain, p.packet, p.signatures.app),
      })),
    );
    const steps = [
      { side: Side.Target, subchain: b.subchain.id, operation: 0, dependsOn: NO_DEPENDENCY },
      { side: Side.Target, subchain: b.subchain.id, operation: 1, dependsOn: 0 },
    ];
    await (await ledgerA.open(entries, steps, write.packet.deadline)).wait();
    const fieldsOf = (p: { packet: Packet; payload: Hex }) => ({
      txId,
      pipeId: pipe.id as Hex,
      sequence: p.packet.sequence,
      deadline: p.packet.deadline,
      contractName: pipe.contractNameHash as Hex,
      operation: p.packet.operation,
    });
    const attest = (p: { packet: Packet; payload: Hex }) =>
      signAttestation(
        attester,
        c.chains.b.chainId,
        attestationOf({ ...fieldsOf(p), data: p.payload }, b.subchain.id as Hex, b.contracts.gateway as Hex),
      );
    const resultOf = async (
      tx: Promise<ContractTransactionResponse>,
      step: number,
      operation: number,
      stateVersion: bigint,
    ): Promise<LedgerResult> => {
      const receipt = (await (await tx).wait())!;
      const executed = receipt.logs
        .map((l) => gatewayB.interface.parseLog(l))
        .find((e) => e?.name === "InboundExecuted")!;
      const { resultHash, success } = executed.args as unknown as { resultHash: Hex; success: boolean };
      return {
        txId,
        step,
        subchain: b.subchain.id as Hex,
        subchainTx: receipt.hash as Hex,
        blockNumber: BigInt(receipt.blockNumber),
        resultHash,
        operation,
        success,
        stateVersion,
      };
    };
    // The read sees the batch unknown on B (its version 0); then the batch changes there.
    const drugB = DrugTraceability__factory.connect(
      b.contracts.drugTraceability,
      await keystoreSigner(c, b.accounts.operator.keystore, "b"),
    );
    const readTx = gatewayB.execute(fieldsOf(read), read.payload, await attest(read));
    await (await readTx).wait();
    await (await drugB.recordBatch(batchId, b.accounts.operator.address, dataHash)).wait();
    const now = await drugB.stateVersion(batchId);
    expect(now).to.be.greaterThan(0n);
    // The parties claim the read saw today's version: the ledger's stale check and the gateway's both pass.
    const readResult = await resultOf(readTx, 0, 0, now);
    await (await ledgerB.recordResult(readResult)).wait();
    const writeResult = await resultOf(
      gatewayB.executeDependentWrite(fieldsOf(write), write.payload, batchId, now, await attest(write)),
      1,
      1,
      now,
    );
    await (await ledgerB.recordResult(writeResult)).wait();
    const hash = resultSetHash([readResult, writeResult]);
    await (await ledgerA.endorse(txId, hash)).wait();
    await (await ledgerB.endorse(txId, hash)).wait();
    expect((await statusOf(txId)).state).to.equal(TxState.Executed);
    await c.verifier.start();
    // The verifier reads the batch's version at the read's block on B (0), not the recorded one.
    await until(
      "the verifier's conflict",
      async () => (await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId, c.verifier.address))).length,
      (n) => n > 0,
    );
    // The only independent verifier conflicted: confirmation is out of reach.
    expect(await statusOf(txId)).to.deep.equal({ state: TxState.Manual, reason: Reason.Conflict });
    // Only the read is contradicted: the dependent write did run on the version recorded for it.
    const logged = readFileSync(c.verifier.logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes(txId) && l.includes('"reasons"'))
      .map((l) => (JSON.parse(l) as { reasons: string[] }).reasons);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.have.length(1);
    expect(logged[0]![0]).to.match(/^step 0 .*recorded state version \d+, the read saw key 0x[0-9a-f]{64} at 0$/);
  });

  // One verifier outage serves both cases: a false result and a true one, recorded and endorsed by both parties.
  let falseTx: Hex;
  let trueTx: Hex;

  it("with the verifier down, a false result and a true one endorsed by both parties wait in Executed", async () => {
    await c.verifier.stop();
    const forged = await openAndExecute();
    falseTx = forged.txId;
    await recordAndEndorse(falseTx, { ...forged.result, resultHash: keccak256(toHex("what the parties claim")) });
    const honest = await openAndExecute();
    trueTx = honest.txId;
    await recordAndEndorse(trueTx, honest.result);
    // The parties' two of three: a majority, but no non-party among it.
    expect(await statusOf(falseTx)).to.deep.equal({ state: TxState.Executed, reason: Reason.None });
    expect(await statusOf(trueTx)).to.deep.equal({ state: TxState.Executed, reason: Reason.None });
  });

  it("once the verifier is back it reads sub-chain B: the false result is conflicted and goes to Manual, the true one confirms", async () => {
    await c.verifier.start();
    await until(
      "the true result Confirmed",
      async () => (await statusOf(trueTx)).state,
      (s) => s === TxState.Confirmed,
    );
    const [endorsement] = await ledgerA.queryFilter(ledgerA.filters.Endorsed(trueTx, c.verifier.address));
    expect(endorsement, "the verifier's own endorsement").to.not.equal(undefined);
    await until(
      "the false result Manual",
      async () => (await statusOf(falseTx)).state,
      (s) => s === TxState.Manual,
    );
    expect(await statusOf(falseTx)).to.deep.equal({ state: TxState.Manual, reason: Reason.Conflict });
    const conflicts = await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(falseTx, c.verifier.address));
    expect(conflicts).to.have.length(1);
    // Its conflict made confirmation impossible (no other non-party verifier): no governor was needed.
    const [manual] = await ledgerA.queryFilter(ledgerA.filters.TxTransitioned(falseTx, undefined, TxState.Manual));
    expect([manual?.args.actor, manual?.args.from, manual?.args.reason]).to.deep.equal([
      getAddress(c.verifier.address),
      BigInt(TxState.Executed),
      BigInt(Reason.Conflict),
    ]);
  });

  it("an execution a reorg on B mined again in a later block than the recorded one is the same execution: the verifier confirms it", async () => {
    await c.verifier.stop();
    const subB = new JsonRpcProvider(c.chains.b.url, c.chains.b.chainId, { staticNetwork: true });
    try {
      const before = await subB.getBlockNumber();
      const snapshot = (await subB.send("evm_snapshot", [])) as string;
      const { txId, result } = await openAndExecute();
      // Every transaction B took since the snapshot, the execution among them, in order.
      const raw: Hex[] = [];
      for (let n = before + 1; n <= Number(result.blockNumber); n++) {
        for (const hash of (await subB.getBlock(n))!.transactions)
          raw.push((await subB.send("eth_getRawTransactionByHash", [hash])) as Hex);
      }
      // The blocks that held them are replaced; the same signed transactions are mined again in later ones.
      expect(await subB.send("evm_revert", [snapshot])).to.equal(true);
      while ((await subB.getBlockNumber()) < Number(result.blockNumber)) await subB.send("evm_mine", []);
      for (const tx of raw) await subB.send("eth_sendRawTransaction", [tx]);
      const moved = await subB.getTransactionReceipt(result.subchainTx);
      expect(BigInt(moved!.blockNumber)).to.be.greaterThan(result.blockNumber);
      // Recorded at its first receipt (as a relayer records), then endorsed by both parties.
      await recordAndEndorse(txId, result);
      await c.verifier.start();
      await until(
        "Confirmed",
        async () => (await statusOf(txId)).state,
        (s) => s === TxState.Confirmed,
      );
      expect(await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId))).to.deep.equal([]);
    } finally {
      subB.destroy();
    }
  });

  it("the two parties' relayers, patched to record a false result on both sides, do not reach Confirmed: the verifier conflicts and the transaction goes to Manual", async () => {
    // The real relayer processes, with the ledger writer patched (test/e2e/helpers/lying-relayer.ts): B records a
    // false result hash, and both endorse what was recorded, whatever B's sub-chain shows.
    const program = await builtTestProcess("lying-relayer", join(__dirname, "helpers", "lying-relayer.ts"));
    // Down until both parties have endorsed, so that its conflict comes after theirs.
    await c.verifier.stop();
    const relayers = await startRelayers(c, [c.business.a, c.business.b], { program });
    try {
      const pipe = c.pipes.aToB;
      const b = c.business.b;
      const { txId } = await postRequest(relayers[0]!.intakeUrl, await nextCustodyWrite(c, "verifier-lying-relayers"));
      // Both parties endorsed the recorded (false) set: two of three, and no non-party among them.
      const executed = await until(
        "both parties' endorsements",
        async () => ledgerA.transaction(txId),
        (t) => Number(t.weightFor) === 2,
      );
      expect(Number(executed.state)).to.equal(TxState.Executed);
      for (const party of [c.business.a, b])
        expect(await ledgerA.hasEndorsed(txId, party.accounts.business.address)).to.equal(true);
      await c.verifier.start();
      expect(await waitForLedger(c, txId, "Manual", WAIT_MS)).to.equal("Manual");
      const t = await ledgerA.transaction(txId);
      // The Audit Office's verifier, reading B itself, conflicted.
      expect([Number(t.state), Number(t.reason), Number(t.weightFor), Number(t.weightAgainst)]).to.deep.equal([
        TxState.Manual,
        Reason.Conflict,
        2,
        1,
      ]);
      const [conflict] = await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId, c.verifier.address));
      expect(conflict?.args.recordedHash).to.equal(t.resultSetHash);
      // What it read: B's gateway ran the write, and logged another result than the one recorded.
      const reasons = readFileSync(c.verifier.logFile, "utf8")
        .split("\n")
        .filter((l) => l.includes(txId) && l.includes('"reasons"'))
        .map((l) => (JSON.parse(l) as { reasons: string[] }).reasons);
      expect(reasons).to.have.length(1);
      const [reason] = reasons[0]!;
      expect(reason).to.match(
        /^step 0 \(tx 0x[0-9a-f]{64}, block \d+\): the gateway 0x[0-9a-fA-F]{40} logged no execution of pipe 0x[0-9a-f]{64} with the recorded outcome$/,
      );
      const subB = new JsonRpcProvider(c.chains.b.url, c.chains.b.chainId, { staticNetwork: true });
      const ran = await subB.getTransactionReceipt(reason!.slice(11, 77));
      subB.destroy();
      const logged = ran!.logs.map((l) => gatewayB.interface.parseLog(l)).find((e) => e?.name === "InboundExecuted");
      expect(logged?.args.pipeId).to.equal(pipe.id);
    } finally {
      await Promise.all(relayers.map((r) => r.stop()));
    }
  });

  it("two parties running code that is not the attested code are conflicted, even with the true result", async () => {
    const target = c.business.b.contracts.drugTraceability;
    const subB = new JsonRpcProvider(c.chains.b.url, c.chains.b.chainId, { staticNetwork: true });
    const code = await subB.getCode(target);
    const chains = ChainRegistry__factory.connect(
      c.governance.chains,
      await keystoreSigner(c, c.accounts.auditor.keystore, "governance"),
    );
    await (
      await chains.attest(c.business.b.subchain.id, target, keccak256(toHex("report")), ethersKeccak(code))
    ).wait();
    // The parties bypass their relayers' code check: the same address runs other code (one unreachable byte more).
    await subB.send("anvil_setCode", [target, `${code}00`]);
    try {
      const { txId, result } = await openAndExecute();
      await recordAndEndorse(txId, result);
      await until(
        "the verifier's conflict",
        async () => (await ledgerA.queryFilter(ledgerA.filters.EndorsementConflicted(txId, c.verifier.address))).length,
        (n) => n > 0,
      );
      expect(await statusOf(txId)).to.deep.equal({ state: TxState.Manual, reason: Reason.Conflict });
    } finally {
      await subB.send("anvil_setCode", [target, code]);
      subB.destroy();
    }
  });

  it("an attester that follows the ledger signs each open ahead: the on-demand signature, and it still refuses what was not opened or is over", async () => {
    const g = c.governance;
    const b = c.business.b;
    const governance = await attesterChain(c.chains.governance.url, g.ledger as Hex, attester);
    const attesterOf = () =>
      new Attester({
        chain: governance.chain,
        ledger: g.ledger as Hex,
        pipes: g.pipes as Hex,
        chains: g.chains as Hex,
        attesters: g.attesters as Hex,
        account: attester,
      });
    const ahead = attesterOf();
    ahead.start();
    try {
      const { signed, call } = await openCustodyWrite(c, "verifier-ahead");
      const request: AttestationRequest = {
        packet: toWire(signed).packet as AttestationRequest["packet"],
        payload: signed.payload,
        step: 0,
      };
      await until(
        "signed ahead",
        async () => ahead.holds(signed.packet),
        (held) => held,
      );
      const served = await ahead.attest(request);
      expect(ahead.stats).to.include({ presigned: 1, onDemand: 0 });
      // A restarted attester holds nothing: it checks the request on the ledger and signs the same thing.
      const restarted = attesterOf();
      const fresh = await restarted.attest(request);
      expect(restarted.stats).to.include({ presigned: 0, onDemand: 1 });
      expect(served.signature).to.equal(fresh.signature);
      expect(served.attestation).to.deep.equal(fresh.attestation);
      const expected = attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Hex);
      expect(await attestationSigner(c.chains.b.chainId, expected, served.signature)).to.equal(attester.address);

      // A step the ledger did not open, a changed field and a packet never opened are refused, each by name.
      await expectCcgpError(() => ahead.attest({ ...request, step: 1 }), "ATTESTATION_NOT_OPENED");
      const later = { ...request.packet, deadline: (BigInt(signed.packet.deadline) + 1n).toString() };
      await expectCcgpError(() => ahead.attest({ ...request, packet: later }), "ATTESTATION_NOT_OPENED");
      const unopened = await nextCustodyWrite(c, "verifier-never-opened");
      const never = {
        packet: toWire(unopened).packet as AttestationRequest["packet"],
        payload: unopened.payload,
        step: 0,
      };
      await expectCcgpError(() => ahead.attest(never), "ATTESTATION_NOT_OPENED");

      // The transaction fails (B records its step as failed): the signature held for it is no longer served.
      const failed: LedgerResult = {
        txId: call.txId as Hex,
        step: 0,
        subchain: b.subchain.id as Hex,
        subchainTx: keccak256(toHex("verifier-ahead-failed")),
        blockNumber: 1n,
        resultHash: keccak256(toHex("failed")),
        operation: 1,
        success: false,
        stateVersion: 0n,
      };
      await (await ledgerB.recordResult(failed)).wait();
      expect(ahead.holds(signed.packet)).to.equal(true);
      await expectCcgpError(() => ahead.attest(request), "ATTESTATION_TX_NOT_ACTIVE");
      expect(ahead.stats).to.include({ presigned: 1 });
    } finally {
      await ahead.stop();
      governance.close();
    }
  });

  it("the target relayer's collector finds each attester at the endpoint its key published in the service registry", async () => {
    // The Audit Office's attester is its own process (`dist/attester.js --config`), as an institution runs it.
    type Health = { role: string; attester: string; ready: boolean; presigned: number; onDemand: number; held: number };
    const health = async () => (await (await fetch(c.attester.healthUrl)).json()) as Health;
    const before = await health();
    expect(before).to.include({ role: "attester", attester: attester.address, ready: true });
    expect(c.attester.pid).to.not.equal(process.pid);
    const { signed, call } = await openCustodyWrite(c, "verifier-endpoints");
    const request: AttestationRequest = {
      packet: toWire(signed).packet as AttestationRequest["packet"],
      payload: signed.payload,
      step: 0,
    };
    const b = c.business.b;
    const expected = attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Hex);
    const [, threshold, attesters] = await gatewayB.attesterSet();
    const set = { threshold: Number(threshold), attesters: attesters as Hex[] };
    const services = ServiceRegistry__factory.connect(
      c.governance.services,
      await keystoreSigner(c, c.accounts.auditor.keystore, "governance"),
    );
    const published = await services.attesterEndpoint(attester.address);
    expect(published).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Read once a minute: only a failed endpoint makes the collector read the registry again sooner.
    const source = new RegistryAttesterEndpoints((a) => services.attesterEndpoint(a), 60_000);
    const collect = (o = { timeoutMs: 2_000, retries: 0 }) =>
      collectAttestations(request, expected, c.chains.b.chainId, set, source, o);
    // It signed the open when it saw it: the request is served from what it signed ahead.
    await until(
      "the open signed ahead by the attester process",
      async () => (await health()).held,
      (held) => held > before.held,
    );
    const collected = await collect();
    expect(await attestationSigner(c.chains.b.chainId, expected, collected)).to.equal(attester.address);
    expect(await health()).to.include({ presigned: before.presigned + 1, onDemand: before.onDemand });

    // Withdrawn: nothing to ask, by name; published at a dead port: the connection failure, by endpoint.
    await (await services.setAttesterEndpoint("")).wait();
    source.forget(attester.address);
    const none = await expectCcgpError(collect, "ATTESTATIONS_INSUFFICIENT");
    expect(none.message).to.contain(`${attester.address}: published no attester endpoint in the service registry`);
    await (await services.setAttesterEndpoint("http://127.0.0.1:9")).wait();
    const dead = await expectCcgpError(collect, "ATTESTATIONS_INSUFFICIENT");
    expect(dead.message).to.contain("0 of 1 attestations collected: http://127.0.0.1:9: connect ECONNREFUSED");
    // Moved back: the failure dropped the cached entry, so the next attempt finds the new endpoint.
    await (await services.setAttesterEndpoint(published)).wait();
    expect(await collect()).to.equal(collected);
  });

  it("ccgp attesters sync moves both gateways to the voted set with the current set's signatures from their endpoints; a replayed change is refused", async () => {
    // A second attester institution: the first genesis institution's governor, serving beside the Audit Office.
    second = await loadKeystore(c.accounts.governors[0]!.keystore, c.password);
    const g = c.governance;
    // Run as an institution runs it: its own attester process, configured by a file, then its key publishes it.
    const port = await freePort();
    const configPath = join(c.runDir, "attester-second.json");
    writeAttesterConfig(configPath, {
      institutionId: c.institutions.genesis[0]!,
      governanceRpc: c.chains.governance.url,
      fromBlock: 0,
      contracts: { ledger: g.ledger, pipes: g.pipes, chains: g.chains, attesters: g.attesters },
      keystore: c.accounts.governors[0]!.keystore,
      passwordEnv: c.passwordEnv,
      port,
      logLevel: "info",
    });
    const env = { [c.passwordEnv]: c.password };
    secondProcess = await startAttesterProcess(configPath, join(c.runDir, "logs", "attester-second.log"), env, port);
    const secondUrl = `http://127.0.0.1:${port}`;
    const published = await ccgp(["attesters", "endpoint", secondUrl], c.accounts.governors[0]!.keystore);
    expect(published.code, published.stderr).to.equal(0);
    const governors = await Promise.all(c.accounts.governors.map((k) => keystoreSigner(c, k.keystore, "governance")));
    const council = new Council(
      VotingTickets__factory.connect(g.voting, governors[0]),
      Membership__factory.connect(g.membership, governors[0]),
      governors,
    );
    const registry = AttesterRegistry__factory.connect(g.attesters, governors[0]);
    const [before] = await registry.attesterSet();
    const set = [attester.address, second.address];
    await council.decide(registry, "setAttesters", [set, 2], "attester set");

    // The gateways still hold the old set (the Audit Office, 1 of 1): its signature moves each one.
    const synced = await ccgp(["attesters", "sync"], c.accounts.auditor.keystore);
    expect(synced.code, synced.stderr).to.equal(0);
    const report = JSON.parse(synced.stdout) as { epoch: string; gateways: { status: string; signers: string[] }[] };
    expect(report.epoch).to.equal(String(before + 1n));
    expect(report.gateways.map((r) => [r.status, r.signers])).to.deep.equal([
      ["updated", [attester.address]],
      ["updated", [attester.address]],
    ]);
    expect(await gatewayB.attesterSet()).to.deep.equal([before + 1n, 2n, set]);
    // The same change again (what sync submitted): stale, by name.
    const change = { epoch: before + 1n, threshold: 2, attesters: set as Hex[] };
    const gateway = c.business.b.contracts.gateway as Hex;
    const replayed = await signAttesterSetChange(attester, c.chains.b.chainId, gateway, change);
    await expect(gatewayB.updateAttesters(change.epoch, change.attesters, change.threshold, replayed))
      .to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttesterEpochStale")
      .withArgs(change.epoch, change.epoch);
    const again = await ccgp(["attesters", "sync"], c.accounts.auditor.keystore);
    expect(again.code, again.stderr).to.equal(0);
    expect(
      (JSON.parse(again.stdout) as { gateways: { status: string }[] }).gateways.map((r) => r.status),
    ).to.deep.equal(["in step", "in step"]);

    // Both attesters are now asked, each at its published endpoint, and the gateway takes the two signatures.
    const { fields, payload, signed, attestation } = await openOnLedger();
    const collected = await collectAttestations(
      { packet: toWire(signed).packet as AttestationRequest["packet"], payload: signed.payload, step: 0 },
      attestation,
      c.chains.b.chainId,
      { threshold: 2, attesters: set as Hex[] },
      new RegistryAttesterEndpoints(
        (a) => ServiceRegistry__factory.connect(g.services, governors[0]).attesterEndpoint(a),
        60_000,
      ),
      { timeoutMs: 2_000, retries: 0 },
    );
    expect(collected.length).to.equal(2 + 2 * 130);
    await (await gatewayB.execute(fields, payload, collected)).wait();
    // The second attester's process stops cleanly on SIGTERM.
    await secondProcess!.stop();
    expect(await secondProcess!.exited).to.equal(0);
  });

  it("the gateway refuses a forged attestation, one attester short of k, a removed attester and a replayed attester-set change, each by name", async () => {
    const { fields, payload, attestation } = await openOnLedger();
    const chainId = c.chains.b.chainId;
    const gateway = c.business.b.contracts.gateway as Hex;
    const good = await signAttestation(attester, chainId, attestation);
    // One byte of `s` flipped (it stays low): the signature recovers to a key that never was an attester.
    const forged = flipByte(good, 63);
    const byTheSecond = await signAttestation(second, chainId, attestation);
    await expect(
      gatewayB.execute(fields, payload, packAttestations([forged, byTheSecond])),
    ).to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttestationSignerUnknown");

    // The current set (the Audit Office and the second attester, 2 of 2, since the sync case) moves the gateway to
    // 2 of 3.
    const [epoch] = await gatewayB.attesterSet();
    const [x, y] = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
    const change = { epoch: epoch + 1n, threshold: 2, attesters: [attester.address, x.address, y.address] };
    const signed = packAttestations(
      await Promise.all([attester, second].map((k) => signAttesterSetChange(k, chainId, gateway, change))),
    );
    await (await gatewayB.updateAttesters(change.epoch, change.attesters, change.threshold, signed)).wait();
    await expect(gatewayB.updateAttesters(change.epoch, change.attesters, change.threshold, signed))
      .to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttesterEpochStale")
      .withArgs(change.epoch, change.epoch);

    await expect(gatewayB.execute(fields, payload, good))
      .to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttestationsInsufficient")
      .withArgs(1, 2);
    // The second attester, removed by that change, no longer counts.
    await expect(gatewayB.execute(fields, payload, packAttestations([good, byTheSecond])))
      .to.be.revertedWithCustomError(gatewayB, "SubchainGatewayAttesterNotCurrent")
      .withArgs(1, getAddress(second.address), epoch);
    const byX = await signAttestation(x, chainId, attestation);
    await (await gatewayB.execute(fields, payload, packAttestations([good, byX]))).wait();
  });
});
