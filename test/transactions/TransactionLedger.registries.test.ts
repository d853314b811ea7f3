import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { countersign, hashPacket, signPacket } from "../../lib/amdp";
import { flipByte } from "../helpers/amdp";
import { PacketField, RefusalKind, Side, StepProblem, TxState, resultSetHash } from "../../lib/domain/ledger-types";
import { Role, addAccount, govern } from "../helpers/governance";
import { newKey } from "../helpers/pipes";
import { SEL_READ, newAppKey } from "../helpers/registries";
import {
  CHAIN_A,
  CHAIN_B,
  Outcome,
  OPERATION_READ,
  Refusal,
  OPERATION_WRITE,
  makePacket,
  now,
  openTx,
  readStep,
  readThenWrite,
  record,
  registryLedgerFixture,
  result,
  sign,
  writeStep,
  type RegistryWorld,
  type SignedInput,
  type StepInput,
} from "./fixtures";
import { expectRecord } from "../helpers/records";

const OTHER_SELECTOR = "0x12345678";

/** The ledger deployed with the registries: every check of an open and every credit report against the real ones. */
describe("TransactionLedger: against the real PipeRegistry and CreditScore", () => {
  let w: RegistryWorld;
  beforeEach(async () => {
    w = await loadFixture(registryLedgerFixture);
  });

  const open = (packets: SignedInput[], steps: StepInput[] = readThenWrite()) =>
    (async () => w.ledger.connect(w.srcProxy.wallet).open(packets, steps, (await now()) + 1800n))();
  const ledgerAddress = () => w.ledger.getAddress();

  it("runs a two-step transaction to Confirmed and credits both institutions", async () => {
    const o = await openTx(w);
    await expectRecord(
      o.tx,
      w.ledger,
      "PacketAccepted",
      o.txId,
      w.pipeId,
      o.packet.sequence,
      hashPacket(o.packet),
      OPERATION_WRITE,
      o.packet.selector,
    );
    await expect(o.tx)
      .to.emit(w.ledger, "PipeSynced")
      .withArgs(w.pipeId, 1, w.srcProxy.address, w.tgtProxy.address, w.source, w.target, CHAIN_A, CHAIN_B);
    const results = [result(o, 0), result(o, 1)];
    await w.ledger.connect(w.srcProxy.wallet).recordResult(results[0]!);
    await w.ledger.connect(w.tgtProxy.wallet).recordResult(results[1]!);
    const hash = resultSetHash(results);
    await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash);
    const confirm = w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
    await expectRecord(
      confirm,
      w.c.credit,
      "OutcomeReported",
      w.source,
      Outcome.Completed,
      o.txId,
      1,
      1001,
      await ledgerAddress(),
    );
    await expectRecord(
      confirm,
      w.c.credit,
      "OutcomeReported",
      w.target,
      Outcome.Completed,
      o.txId,
      1,
      1001,
      await ledgerAddress(),
    );
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Confirmed);
    // The next open finds the copy unchanged.
    await expect((await openTx(w)).tx).not.to.emit(w.ledger, "PipeSynced");
  });

  it("opens a transaction without a source step, before and after the ledger copied the pipe", async () => {
    const target = [writeStep(Side.Target)];
    const first = await openTx(w, { steps: target });
    await expect(first.tx).to.emit(w.ledger, "PipeSynced");
    const second = await openTx(w, { steps: target });
    await expect(second.tx).to.emit(w.ledger, "TxOpened");
    await record(w, second, 0);
    expect((await w.ledger.statusOf(second.txId)).state).to.equal(TxState.Executed);
  });

  it("refuses what the registry refuses, after the signatures, for the first packet and the others", async () => {
    const signed = await sign(w, await makePacket(w));
    const refused = (reason: bigint | number, packets = [signed], signer = w.srcApp.address) =>
      expect(open(packets, packets.length === 1 ? readThenWrite() : [readStep(Side.Target), writeStep(Side.Target, 0)]))
        .to.be.revertedWithCustomError(w.c.pipes, "PipeOperationRefused")
        .withArgs(w.pipeId, signer, reason);
    await w.c.pipes.connect(w.tgt.operator).pausePipe(w.pipeId);
    await refused(Refusal.PipeNotActive);
    await w.c.pipes.connect(w.tgt.operator).resumePipe(w.pipeId);
    await govern(w.c, w.c.membership, "suspendInstitution", [w.tgt.institution]);
    await refused(Refusal.InstitutionNotActive);
    await govern(w.c, w.c.membership, "reinstateInstitution", [w.tgt.institution]);
    await govern(w.c, w.c.services, "disableService", [w.tgt.service]);
    await refused(Refusal.ServiceDisabled);
    await govern(w.c, w.c.services, "enableService", [w.tgt.service]);
    await refused(Refusal.SelectorNotAllowed, [await sign(w, await makePacket(w, { selector: OTHER_SELECTOR }))]);
    // The second packet is asked separately.
    const txId = keccak256(toHex("two packets"));
    const read = await sign(
      w,
      await makePacket(w, { txId, operation: OPERATION_READ, selector: SEL_READ as `0x${string}` }),
    );
    const write = await sign(w, await makePacket(w, { txId, operation: OPERATION_WRITE, selector: OTHER_SELECTOR }));
    await refused(Refusal.SelectorNotAllowed, [read, write]);
    // A rotated app key: the pipe still holds the old one, now revoked.
    await w.c.chains
      .connect(w.src.operator)
      .rotateAppKey(w.src.appId, ...(await newAppKey(w.c, w.src.operator, w.src.appId, (await newKey()).wallet)));
    await refused(Refusal.KeyRevoked);
  });

  it("names the packet field or the step whose fixed value differs from the registry's", async () => {
    const cases: [Partial<Parameters<typeof makePacket>[1]>, PacketField][] = [
      [{ targetService: keccak256(toHex("other service")) }, PacketField.TargetService],
      [{ contractName: keccak256(toHex("Other")) }, PacketField.ContractName],
    ];
    for (const [override, field] of cases) {
      const signed = await sign(w, await makePacket(w, override!));
      await expect(open([signed]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerPacketMismatch")
        .withArgs(0, field);
    }
    const signed = await sign(w, await makePacket(w));
    const elsewhere = keccak256(toHex("another chain"));
    // The first step of a side names the sub-chain the hash is checked with; any later one is compared to it.
    for (const [steps, index] of [
      [[{ ...readStep(Side.Source), subchain: elsewhere }, writeStep(Side.Target, 0)], 0],
      [[readStep(Side.Source), { ...writeStep(Side.Target, 0), subchain: elsewhere }], 1],
      [[readStep(Side.Source), writeStep(Side.Target, 0), { ...readStep(Side.Source), subchain: CHAIN_B }], 2],
    ] as [StepInput[], number][]) {
      await expect(open([signed], steps))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStep")
        .withArgs(index, StepProblem.SubchainMismatch);
    }
    const unknown = await sign(w, await makePacket(w, { pipeId: keccak256(toHex("no pipe")) }));
    await expect(open([unknown]))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownPipe")
      .withArgs(keccak256(toHex("no pipe")));
    await expect(open([signed])).to.emit(w.ledger, "TxOpened");
  });

  it("follows a proxy signer rotation at once: a new opener and a new recorder, with nothing to refresh", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    const [srcNext, tgtNext] = [await newKey(), await newKey()];
    await addAccount(w.c, w.tgt.admin, tgtNext, w.tgt.institution, Role.Business);
    await w.c.services.connect(w.tgt.operator).rotateServiceSigner(w.tgt.service, tgtNext.address);
    // The ledger keeps the pipe's services, not their keys: a sync finds nothing to copy.
    await expect(w.ledger.syncPipe(w.pipeId)).not.to.emit(w.ledger, "PipeSynced");
    expect((await w.ledger.pipeOf(w.pipeId)).targetSigner).to.equal(tgtNext.address);
    await expect(record(w, o, 1))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
      .withArgs(o.txId, 1, w.tgtProxy.address, tgtNext.address);
    await w.ledger.connect(tgtNext.wallet).recordResult(result(o, 1));
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
    // The source's proxy: its successor countersigns and opens; the old one is refused.
    await addAccount(w.c, w.src.admin, srcNext, w.src.institution, Role.Business);
    await w.c.services.connect(w.src.operator).rotateServiceSigner(w.src.service, srcNext.address);
    await expect(open([await sign(w, await makePacket(w))]))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedOpener")
      .withArgs(w.pipeId, w.srcProxy.address, srcNext.address);
    const next = await sign(w, await makePacket(w), w.srcApp, srcNext);
    await expect(w.ledger.connect(srcNext.wallet).open([next], readThenWrite(), (await now()) + 1800n)).not.to.emit(
      w.ledger,
      "PipeSynced",
    );
    await expect(w.ledger.syncPipe(keccak256(toHex("nope")))).to.be.revertedWithCustomError(
      w.ledger,
      "LedgerUnknownPipe",
    );
  });

  it("reports a failed step for its side to the credit score", async () => {
    const o = await openTx(w);
    await expectRecord(
      record(w, o, 0, { success: false }),
      w.c.credit,
      "OutcomeReported",
      w.source,
      Outcome.Failed,
      o.txId,
      -20,
      980,
      await ledgerAddress(),
    );
  });

  it("reports a refused packet; the credit score takes one refusal per institution and transaction", async () => {
    const txId = keccak256(toHex("refused"));
    // A stage-1 signature with a flipped byte, countersigned by the source proxy all the same.
    const badly = async (): Promise<SignedInput> => {
      const packet = await makePacket(w, { txId });
      const appSignature = flipByte(await signPacket(w.srcApp.account, w.domain, packet), 63);
      return {
        packet,
        appSignature,
        proxySignature: await countersign(w.srcProxy.account, w.domain, packet, appSignature),
      };
    };
    const bad = await badly();
    const report = (s: SignedInput) => w.ledger.reportRefusal(s.packet, s.appSignature, s.proxySignature);
    await expectRecord(
      report(bad),
      w.c.credit,
      "OutcomeReported",
      w.source,
      Outcome.BadSignature,
      txId,
      -100,
      900,
      await ledgerAddress(),
    );
    // Another refused packet of the same transaction: recorded by the ledger, not counted twice by the credit score.
    const again = await badly();
    const tx = report(again);
    await expect(tx)
      .to.emit(w.ledger, "RefusalRecorded")
      .withArgs(
        w.pipeId,
        hashPacket(again.packet),
        await w.c.deployer.getAddress(),
        w.source,
        RefusalKind.BadSignature,
        txId,
        again.packet.sequence,
      );
    const refusal = w.c.credit.interface.encodeErrorResult("CreditOutcomeAlreadyReported", [
      w.source,
      txId,
      Outcome.BadSignature,
    ]);
    await expect(tx).to.emit(w.ledger, "CreditReportFailed").withArgs(txId, w.source, Outcome.BadSignature, refusal);
    expect(await w.c.credit.scoreOf(w.source)).to.equal(900);
  });
});
