import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { keccak256, toHex, type Hex } from "viem";
import { domainSeparator, hashPacket, verifySequence, type Packet } from "../../lib/amdp";
import { NO_DEPENDENCY, PacketField, Side, StepProblem, TxState } from "../../lib/domain/ledger-types";
import { PACKET_FIELDS, flipByte, flipField, loadVectors, malleate, signedFromVector } from "../helpers/amdp";
import {
  CHAIN_A,
  CHAIN_B,
  PIPE,
  OPERATION_READ,
  Refusal,
  TIMEOUT,
  OPERATION_WRITE,
  eventsOf,
  ledgerFixture,
  makePacket,
  now,
  openTx,
  readStep,
  readThenWrite,
  revertName,
  sign,
  writeStep,
  type SignedInput,
  type StepInput,
  type World,
} from "./fixtures";
import { expectRecord } from "../helpers/records";

describe("TransactionLedger: open and the AMDP signature sequence", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  /** Expects a revert with one of the ledger's custom errors `names`. */
  const expectOneOf = async (call: Promise<unknown>, names: string[], what: string) => {
    expect(names, what).to.include(await revertName(w, call));
  };

  const open = (packets: SignedInput[], steps: StepInput[] = readThenWrite(), deadline?: bigint) =>
    (async () => w.ledger.connect(w.srcProxy.wallet).open(packets, steps, deadline ?? (await now()) + 1800n))();

  describe("a valid open", () => {
    it("records the transaction, uses the sequence and emits the packet and the opening", async () => {
      const o = await openTx(w);
      const hash = hashPacket(o.packet);
      await expectRecord(
        o.tx,
        w.ledger,
        "PacketAccepted",
        o.txId,
        PIPE,
        o.packet.sequence,
        hash,
        OPERATION_WRITE,
        o.packet.selector,
      );
      const opened = (await eventsOf(w, o.tx, "TxOpened"))[0]!;
      expect(opened.txId).to.equal(o.txId);
      expect(opened.opener).to.equal(w.srcProxy.address);
      expect(opened.number).to.equal(await w.ledger.txCount());
      expect(opened.deadline).to.equal(o.deadline);
      expect(opened.stepCount).to.equal(2n);
      // step 0: source read; step 1: target write depending on step 0 (5 bits per step).
      expect(opened.steps).to.equal(0n | ((1n | 2n | (1n << 2n)) << 5n));
      const status = await w.ledger.statusOf(o.txId);
      expect(status.state).to.equal(TxState.Open);
      expect(status.deadline).to.equal(o.deadline);
      expect(status.stepsDone).to.equal(0n);
      expect(status.stepCount).to.equal(2n);
      const pipe = await w.ledger.pipeOf(PIPE);
      expect(pipe.lastSequence).to.equal(o.packet.sequence);
      expect(pipe.sourceSigner).to.equal(w.srcProxy.address);
      expect(pipe.targetSigner).to.equal(w.tgtProxy.address);
      expect(pipe.sourceInstitution).to.equal(BigInt(w.source));
      expect(pipe.targetInstitution).to.equal(BigInt(w.target));
      const view = await w.ledger.transaction(o.txId);
      expect(view.pipeId).to.equal(PIPE);
      expect(view.writeMask).to.equal(2n);
      const step1 = await w.ledger.stepOf(o.txId, 1);
      expect([step1.side, step1.operation, step1.dependsOn]).to.deep.equal([
        BigInt(Side.Target),
        BigInt(OPERATION_WRITE),
        0n,
      ]);
      const step0 = await w.ledger.stepOf(o.txId, 0);
      expect(step0.dependsOn).to.equal(BigInt(NO_DEPENDENCY));
      // The receiver's one read: the same state, deadline, sequence and steps.
      const asReceived = await w.ledger.openedOf(o.txId, PIPE);
      expect([asReceived.state, asReceived.deadline, asReceived.lastSequence]).to.deep.equal([
        BigInt(TxState.Open),
        o.deadline,
        o.packet.sequence,
      ]);
      expect(asReceived.steps.map((s) => [s.side, s.operation, s.dependsOn])).to.deep.equal(
        [step0, step1].map((s) => [s.side, s.operation, s.dependsOn]),
      );
    });

    it("copies the pipe once, and again only when the route changed; never for a key, which it asks for now", async () => {
      const first = await openTx(w);
      await expect(first.tx).to.emit(w.ledger, "PipeSynced");
      const second = await openTx(w);
      await expect(second.tx).not.to.emit(w.ledger, "PipeSynced");
      const rotated = await ethers.Wallet.createRandom();
      await w.pipes.setRoute(PIPE, { ...w.route, targetServiceSigner: rotated.address });
      // A rotation: the ledger keeps the service, so the recorder is the new key at once, with nothing to copy.
      expect((await w.ledger.pipeOf(PIPE)).targetSigner).to.equal(rotated.address);
      await expect(w.ledger.syncPipe(PIPE)).not.to.emit(w.ledger, "PipeSynced");
      await w.pipes.setRoute(PIPE, { ...w.route, targetServiceSigner: rotated.address, targetInstitution: 99 });
      await expect(w.ledger.syncPipe(PIPE))
        .to.emit(w.ledger, "PipeSynced")
        .withArgs(PIPE, 1, w.srcProxy.address, rotated.address, w.source, 99, CHAIN_A, CHAIN_B);
      await expect(w.ledger.syncPipe(keccak256(toHex("nope"))))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownPipe")
        .withArgs(keccak256(toHex("nope")));
    });

    it("opens several packets, the k-th authorising the k-th target step", async () => {
      const txId = keccak256(toHex("multi"));
      const read = await sign(w, await makePacket(w, { txId, operation: OPERATION_READ }));
      const write = await sign(w, await makePacket(w, { txId, operation: OPERATION_WRITE }));
      const steps = [readStep(Side.Target), writeStep(Side.Target, 0), writeStep(Side.Source)];
      const tx = await open([read, write], steps);
      await expectRecord(
        tx,
        w.ledger,
        "PacketAccepted",
        txId,
        PIPE,
        read.packet.sequence,
        hashPacket(read.packet),
        OPERATION_READ,
        read.packet.selector,
      );
      await expectRecord(
        tx,
        w.ledger,
        "PacketAccepted",
        txId,
        PIPE,
        write.packet.sequence,
        hashPacket(write.packet),
        OPERATION_WRITE,
        write.packet.selector,
      );
      expect((await w.ledger.pipeOf(PIPE)).lastSequence).to.equal(write.packet.sequence);
    });
  });

  describe("the shared EIP-712 vectors and the relayer's signing", () => {
    it("has the domain separator the relayer computes for this ledger", async () => {
      expect(await w.ledger.domainSeparator()).to.equal(domainSeparator(w.domain));
      const d = await w.ledger.eip712Domain();
      expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
        "CCGP-AMDP",
        "1",
        w.domain.chainId,
        w.domain.verifyingContract,
      ]);
    });

    it("accepts every vector packet re-signed for this ledger, and hashes it as the vectors and the relayer do", async () => {
      const file = loadVectors();
      for (const v of file.vectors) {
        const packet: Packet = {
          ...(await makePacket(w)),
          operation: v.packet.operation as 0 | 1,
          selector: v.packet.selector as Hex,
          payloadHash: v.packet.payloadHash as Hex,
        };
        const signed = await sign(w, packet);
        const steps = [packet.operation === OPERATION_READ ? readStep(Side.Target) : writeStep(Side.Target)];
        const tx = await open([signed], steps);
        const [accepted] = await eventsOf(w, tx, "PacketAccepted");
        expect(accepted!.packetHash, v.name).to.equal(hashPacket(packet));
      }
      // What the ledger accepted, the relayer's own full-sequence check accepts too, with the same packet hash.
      const o = await openTx(w);
      const verified = await verifySequence(
        w.domain,
        {
          packet: o.packet,
          payload: toHex("payload"),
          signatures: { app: o.signed.appSignature, proxy: o.signed.proxySignature },
        },
        { expectedApp: w.srcApp.address, expectedProxy: w.srcProxy.address, now: await now() },
      );
      expect(verified.packetHash).to.equal((await eventsOf(w, o.tx, "PacketAccepted"))[0]!.packetHash);
      // The vectors' own packet hashes (fixed verifying contract) are what the relayer computes for their packets.
      for (const v of file.vectors) expect(hashPacket(signedFromVector(v).packet), v.name).to.equal(v.packetHash);
    });
  });

  describe("the signature sequence", () => {
    it("refuses each signature with one flipped byte (bytes of r, s and v)", async () => {
      const signed = await sign(w, await makePacket(w));
      // A flipped r byte may leave no curve point (malformed) or recover another key; either way it is refused.
      for (const index of [0, 17, 31, 32, 47, 63, 64]) {
        const app = { ...signed, appSignature: flipByte(signed.appSignature, index) };
        await expectOneOf(open([app]), ["AmdpInvalidAppSignature", "AmdpMalformedSignature"], `app byte ${index}`);
        const proxy = { ...signed, proxySignature: flipByte(signed.proxySignature, index) };
        await expectOneOf(
          open([proxy]),
          ["AmdpInvalidProxySignature", "AmdpMalformedSignature"],
          `proxy byte ${index}`,
        );
      }
      // Exact errors: a flipped low byte of s recovers another key; a flipped v is malformed.
      await expect(
        open([{ ...signed, appSignature: flipByte(signed.appSignature, 63) }]),
      ).to.be.revertedWithCustomError(w.ledger, "AmdpInvalidAppSignature");
      await expect(
        open([{ ...signed, proxySignature: flipByte(signed.proxySignature, 63) }]),
      ).to.be.revertedWithCustomError(w.ledger, "AmdpInvalidProxySignature");
      await expect(open([{ ...signed, proxySignature: flipByte(signed.proxySignature, 64) }]))
        .to.be.revertedWithCustomError(w.ledger, "AmdpMalformedSignature")
        .withArgs(2);
      // The untouched packet still opens: the refusals came from the flips.
      await expect(open([signed])).to.emit(w.ledger, "TxOpened");
    });

    it("refuses a malleable (high-s) twin of a valid signature", async () => {
      const signed = await sign(w, await makePacket(w));
      await expect(open([{ ...signed, appSignature: malleate(signed.appSignature) }]))
        .to.be.revertedWithCustomError(w.ledger, "AmdpMalformedSignature")
        .withArgs(1);
    });

    it("refuses each packet field flipped after signing, with the error of the check it breaks", async () => {
      const signed = await sign(w, await makePacket(w));
      const expected: Record<keyof Packet, string> = {
        pipeId: "LedgerUnknownPipe",
        sourceInstitution: "LedgerPacketMismatch",
        targetInstitution: "LedgerPacketMismatch",
        targetService: "LedgerPacketMismatch",
        contractName: "LedgerPacketMismatch",
        operation: "AmdpInvalidAppSignature",
        selector: "AmdpInvalidAppSignature",
        payloadHash: "AmdpInvalidAppSignature",
        txId: "AmdpInvalidAppSignature",
        sequence: "AmdpInvalidAppSignature",
        deadline: "AmdpInvalidAppSignature",
        signer: "AmdpSignerMismatch",
      };
      for (const field of PACKET_FIELDS) {
        const packet = flipField(signed.packet, field);
        // Signatures are checked before the steps, so the flagship steps fit every flip.
        await expect(open([{ ...signed, packet }]), field).to.be.revertedWithCustomError(w.ledger, expected[field]);
      }
      await expect(open([signed])).to.emit(w.ledger, "TxOpened");
    });

    it("names the mismatching field of the route", async () => {
      const cases: [Partial<Packet>, PacketField][] = [
        [{ sourceInstitution: 99 }, PacketField.SourceInstitution],
        [{ targetInstitution: 99 }, PacketField.TargetInstitution],
        [{ targetService: keccak256(toHex("other service")) }, PacketField.TargetService],
        [{ contractName: keccak256(toHex("Other")) }, PacketField.ContractName],
      ];
      for (const [override, field] of cases) {
        const signed = await sign(w, await makePacket(w, override));
        await expect(open([signed]))
          .to.be.revertedWithCustomError(w.ledger, "LedgerPacketMismatch")
          .withArgs(0, field);
      }
    });

    it("refuses a wrong stage order (the two signatures swapped)", async () => {
      const signed = await sign(w, await makePacket(w));
      const swapped = { ...signed, appSignature: signed.proxySignature, proxySignature: signed.appSignature };
      await expect(open([swapped]))
        .to.be.revertedWithCustomError(w.ledger, "AmdpInvalidAppSignature")
        .withArgs(anyValue, w.srcApp.address);
    });

    it("refuses a packet signed by a key the pipe does not reserve, at either stage", async () => {
      const byIntruder = await sign(w, await makePacket(w, { signer: w.intruder.address }), w.intruder);
      await expect(open([byIntruder]))
        .to.be.revertedWithCustomError(w.ledger, "AmdpSignerMismatch")
        .withArgs(w.intruder.address, w.srcApp.address);
      const counterByIntruder = await sign(w, await makePacket(w), w.srcApp, w.intruder);
      await expect(open([counterByIntruder]))
        .to.be.revertedWithCustomError(w.ledger, "AmdpInvalidProxySignature")
        .withArgs(anyValue, w.srcProxy.address);
      // A packet signed for another ledger (another domain) recovers another key.
      const other = { ...w, domain: { ...w.domain, verifyingContract: w.intruder.address } };
      const foreign = await sign(other, await makePacket(w));
      await expect(open([foreign])).to.be.revertedWithCustomError(w.ledger, "AmdpInvalidAppSignature");
    });

    it("refuses what the pipe authority refuses", async () => {
      await w.pipes.setRefusal(PIPE, w.srcApp.address, Refusal.KeyRevoked);
      const signed = await sign(w, await makePacket(w));
      await expect(open([signed]))
        .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
        .withArgs(PIPE, w.srcApp.address, Refusal.KeyRevoked);
      await w.pipes.setRefusal(PIPE, w.srcApp.address, Refusal.Allowed);
      await w.pipes.setRoute(PIPE, { ...w.route, operations: 1 });
      await expect(open([signed]))
        .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
        .withArgs(PIPE, w.srcApp.address, Refusal.OperationNotAllowed);
      await w.pipes.setRoute(PIPE, { ...w.route, status: 4 });
      await expect(open([signed]))
        .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
        .withArgs(PIPE, w.srcApp.address, Refusal.PipeNotActive);
    });

    it("refuses a replayed or reused sequence, and an already opened transaction", async () => {
      const o = await openTx(w);
      // The very same packet again: its transaction exists.
      await expect(open([o.signed]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerTxExists")
        .withArgs(o.txId);
      // A new transaction with the same (or a lower) sequence: replay.
      for (const sequence of [o.packet.sequence, o.packet.sequence - 1n]) {
        const replay = await sign(w, await makePacket(w, { sequence }));
        await expect(open([replay]))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSequenceReused")
          .withArgs(PIPE, sequence, o.packet.sequence);
      }
      // Within one open, sequences strictly increase.
      const txId = keccak256(toHex("dup"));
      const a = await sign(w, await makePacket(w, { txId, operation: OPERATION_READ }));
      const b = await sign(w, await makePacket(w, { txId, sequence: a.packet.sequence }));
      await expect(open([a, b], [readStep(Side.Target), writeStep(Side.Target)]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerSequenceReused")
        .withArgs(PIPE, a.packet.sequence, a.packet.sequence);
    });

    it("refuses an expired packet deadline", async () => {
      const signed = await sign(w, await makePacket(w, { deadline: (await now()) + 10n }));
      await time.increase(60);
      await expect(open([signed])).to.be.revertedWithCustomError(w.ledger, "AmdpDeadlinePassed");
    });
  });

  describe("open's other refusals", () => {
    it("only the route's source service signer opens", async () => {
      const signed = await sign(w, await makePacket(w));
      await expect(w.ledger.connect(w.tgtProxy.wallet).open([signed], readThenWrite(), (await now()) + 100n))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedOpener")
        .withArgs(PIPE, w.tgtProxy.address, w.srcProxy.address);
    });

    it("refuses a transaction deadline in the past or beyond the pipe's timeout", async () => {
      const signed = await sign(w, await makePacket(w));
      const at = async (deadline: (t: bigint) => bigint, extra = 0n) => {
        const t = (await now()) + 10n;
        await time.setNextBlockTimestamp(t);
        return { t, call: open([signed], readThenWrite(), deadline(t) + extra) };
      };
      let c = await at((t) => t);
      await expect(c.call)
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidDeadline")
        .withArgs(c.t, c.t, c.t + BigInt(TIMEOUT));
      c = await at((t) => t + BigInt(TIMEOUT) + 1n);
      await expect(c.call)
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidDeadline")
        .withArgs(c.t + BigInt(TIMEOUT) + 1n, c.t, c.t + BigInt(TIMEOUT));
      // Without a pipe timeout the bound is MAX_DURATION.
      await w.pipes.setRoute(PIPE, { ...w.route, timeoutSeconds: 0 });
      const max = await w.ledger.MAX_DURATION();
      c = await at((t) => t + max + 1n);
      await expect(c.call)
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidDeadline")
        .withArgs(c.t + max + 1n, c.t, c.t + max);
      c = await at((t) => t + max);
      await expect(c.call).to.emit(w.ledger, "TxOpened");
    });

    it("refuses packet and step counts out of bounds, and the zero transaction id", async () => {
      await expect(open([])).to.be.revertedWithCustomError(w.ledger, "LedgerInvalidPacketCount").withArgs(0, 4);
      const txId = keccak256(toHex("five"));
      const five: SignedInput[] = [];
      for (let i = 0; i < 5; i++) five.push(await sign(w, await makePacket(w, { txId })));
      await expect(open(five)).to.be.revertedWithCustomError(w.ledger, "LedgerInvalidPacketCount").withArgs(5, 4);
      const signed = await sign(w, await makePacket(w));
      await expect(open([signed], []))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStepCount")
        .withArgs(0, 8);
      const nine = [writeStep(), ...Array.from({ length: 8 }, () => readStep())];
      await expect(open([signed], nine))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStepCount")
        .withArgs(9, 8);
      const zero = await sign(w, await makePacket(w, { txId: `0x${"00".repeat(32)}` }));
      await expect(open([zero])).to.be.revertedWithCustomError(w.ledger, "LedgerZeroTxId");
    });

    it("refuses packets that disagree on the pipe or the transaction", async () => {
      const txId = keccak256(toHex("two"));
      const a = await sign(w, await makePacket(w, { txId, operation: OPERATION_READ }));
      const otherTx = await sign(w, await makePacket(w));
      const steps = [readStep(Side.Target), writeStep(Side.Target)];
      await expect(open([a, otherTx], steps))
        .to.be.revertedWithCustomError(w.ledger, "LedgerPacketMismatch")
        .withArgs(1, PacketField.TxId);
      const otherPipe = await sign(w, await makePacket(w, { txId, pipeId: keccak256(toHex("pipe 2")) }));
      await expect(open([a, otherPipe], steps))
        .to.be.revertedWithCustomError(w.ledger, "LedgerPacketMismatch")
        .withArgs(1, PacketField.PipeId);
    });

    it("refuses invalid steps, naming the step and the problem", async () => {
      const signed = await sign(w, await makePacket(w));
      const cases: [StepInput[], number, StepProblem][] = [
        [[{ ...writeStep(), operation: 3 }], 0, StepProblem.InvalidOperation],
        [[{ ...writeStep(), subchain: CHAIN_A }], 0, StepProblem.SubchainMismatch],
        [[readStep(), { ...writeStep(), side: Side.Source }], 1, StepProblem.SubchainMismatch],
        [[writeStep(), writeStep()], 1, StepProblem.NoPacket],
        [[readStep(Side.Target)], 0, StepProblem.OperationMismatch],
        [[readStep(), writeStep(Side.Target, 1)], 1, StepProblem.InvalidDependency],
        [[readStep(), writeStep(Side.Target, 2)], 1, StepProblem.InvalidDependency],
        [[writeStep(Side.Source), writeStep(Side.Target, 0)], 1, StepProblem.InvalidDependency],
        [[readStep(), { ...readStep(Side.Source), dependsOn: 0 }, writeStep()], 1, StepProblem.InvalidDependency],
      ];
      for (const [steps, index, problem] of cases) {
        await expect(open([signed], steps), `${StepProblem[problem]} at ${index}`)
          .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidStep")
          .withArgs(index, problem);
      }
      await expect(open([signed], [readStep()]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerPacketsUnused")
        .withArgs(0, 1);
    });
  });
});
