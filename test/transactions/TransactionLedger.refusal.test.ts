import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Hex } from "viem";
import { countersign, hashPacket, signPacket } from "../../lib/amdp";
import { RefusalKind } from "../../lib/domain/ledger-types";
import { flipByte } from "../helpers/amdp";
import {
  Outcome,
  PIPE,
  Refusal,
  ledgerFixture,
  makePacket,
  openTx,
  sign,
  type SignedInput,
  type World,
} from "./fixtures";
import { expectRecord } from "../helpers/records";

describe("TransactionLedger: refusal reports (credit for proven misbehaviour)", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const report = (s: SignedInput) =>
    w.ledger.connect(w.outsider).reportRefusal(s.packet, s.appSignature, s.proxySignature);

  /** A fresh packet whose stage-1 signature has a flipped byte, countersigned by the source proxy all the same. */
  const badlySigned = async (): Promise<SignedInput> => {
    const packet = await makePacket(w);
    const appSignature = flipByte(await signPacket(w.srcApp.account, w.domain, packet), 63);
    return {
      packet,
      appSignature,
      proxySignature: await countersign(w.srcProxy.account, w.domain, packet, appSignature),
    };
  };

  it("an invalid stage-1 signature the proxy countersigned anyway: BadSignature for the source, once", async () => {
    const s = await badlySigned();
    const packetHash = hashPacket(s.packet);
    expect(
      await w.ledger.connect(w.outsider).reportRefusal.staticCall(s.packet, s.appSignature, s.proxySignature),
    ).to.equal(RefusalKind.BadSignature);
    const tx = await report(s);
    await expect(tx)
      .to.emit(w.ledger, "RefusalRecorded")
      .withArgs(
        PIPE,
        packetHash,
        await w.outsider.getAddress(),
        w.source,
        RefusalKind.BadSignature,
        s.packet.txId,
        s.packet.sequence,
      );
    await expectRecord(
      tx,
      w.credit,
      "OutcomeReported",
      w.source,
      Outcome.BadSignature,
      s.packet.txId,
      -10,
      90,
      await w.ledger.getAddress(),
    );
    expect(await w.ledger.refusalReported(packetHash)).to.equal(true);
    // Reported once only.
    await expect(report(s))
      .to.be.revertedWithCustomError(w.ledger, "LedgerRefusalAlreadyReported")
      .withArgs(packetHash);
  });

  it("a valid signature by a key the pipe does not allow now proves nothing: it may predate a rotation", async () => {
    const other = await sign(w, await makePacket(w, { signer: w.intruder.address }), w.intruder);
    await expect(report(other))
      .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
      .withArgs(hashPacket(other.packet));
    await w.pipes.setRefusal(PIPE, w.srcApp.address, Refusal.KeyRevoked);
    const revoked = await sign(w, await makePacket(w));
    await expect(report(revoked))
      .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
      .withArgs(hashPacket(revoked.packet));
    expect(await w.credit.countOf(w.source, Outcome.BadSignature)).to.equal(0n);
  });

  it("a packet whose sequence the pipe already used proves nothing (signed while the keys were in force)", async () => {
    const o = await openTx(w);
    const s = await sign(w, await makePacket(w, { sequence: o.packet.sequence }));
    await expect(report(s))
      .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
      .withArgs(hashPacket(s.packet));
    expect(await w.credit.countOf(w.source, Outcome.Replay)).to.equal(0n);
  });

  describe("what proves nothing", () => {
    it("cannot frame an institution: without the source proxy's countersignature nothing is reported", async () => {
      // The intruder signs both stages with its own key.
      const framed = await sign(w, await makePacket(w, { signer: w.intruder.address }), w.intruder, w.intruder);
      await expect(report(framed))
        .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
        .withArgs(hashPacket(framed.packet));
      // A flipped byte of the countersignature.
      const s = await sign(w, await makePacket(w, { signer: w.intruder.address }), w.intruder);
      const flipped = { ...s, proxySignature: flipByte(s.proxySignature, 63) };
      await expect(report(flipped)).to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable");
      const malformed = { ...s, proxySignature: flipByte(s.proxySignature, 64) };
      await expect(report(malformed)).to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable");
      expect(await w.credit.countOf(w.source, Outcome.BadSignature)).to.equal(0n);
    });

    it("a packet the ledger would accept, an exact replay of an opened one, or a refusal that is nobody's fault", async () => {
      const fresh = await sign(w, await makePacket(w));
      await expect(report(fresh))
        .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
        .withArgs(hashPacket(fresh.packet));
      const o = await openTx(w);
      await expect(report(o.signed))
        .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
        .withArgs(hashPacket(o.packet));
      await w.pipes.setStatus(PIPE, 4); // paused
      const paused = await sign(w, await makePacket(w));
      await expect(report(paused)).to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable");
      const unknownPipe = keccak256(toHex("no such pipe"));
      const p = await sign(w, await makePacket(w, { pipeId: unknownPipe }));
      await expect(report(p)).to.be.revertedWithCustomError(w.ledger, "LedgerUnknownPipe").withArgs(unknownPipe);
    });
  });

  describe("the credit contract", () => {
    it("a refusing credit contract does not block the ledger: the failed report is recorded", async () => {
      await w.credit.setRefuse(true);
      const s = await badlySigned();
      const reason: Hex = w.credit.interface.encodeErrorResult("CreditUnauthorizedReporter", [
        await w.ledger.getAddress(),
      ]) as Hex;
      await expect(report(s))
        .to.emit(w.ledger, "CreditReportFailed")
        .withArgs(s.packet.txId, w.source, Outcome.BadSignature, reason);
      expect(await w.ledger.refusalReported(hashPacket(s.packet))).to.equal(true);
    });

    it("a caller cannot skip a report by starving it of gas: any gas that records the refusal reports it", async () => {
      // An expensive credit contract (as one that opens an expulsion proposal): 1/64 of its gas covers the rest.
      await w.credit.setGasBurn(250_000);
      const s = await badlySigned();
      const needed = await w.ledger
        .connect(w.outsider)
        .reportRefusal.estimateGas(s.packet, s.appSignature, s.proxySignature);
      // From far too little up: the first gas limit that goes through must have reported to credit.
      for (let gas = needed - 270_000n; gas <= needed; gas += 5_000n) {
        const tx = await w.ledger
          .connect(w.outsider)
          .reportRefusal(s.packet, s.appSignature, s.proxySignature, { gasLimit: gas })
          .then((t) => t.wait())
          .catch(() => null);
        if (tx === null) continue;
        const failed = tx.logs.filter((l) => w.ledger.interface.parseLog(l)?.name === "CreditReportFailed");
        expect(failed, `gas ${gas}`).to.have.length(0);
        expect(await w.credit.countOf(w.source, Outcome.BadSignature)).to.equal(1n);
        return;
      }
      expect.fail("never went through");
    });

    it("reverts with LedgerInsufficientGas when the report itself runs out of gas", async () => {
      await w.credit.setGasBurn(250_000);
      const s = await badlySigned();
      const needed = await w.ledger
        .connect(w.outsider)
        .reportRefusal.estimateGas(s.packet, s.appSignature, s.proxySignature);
      let seen = false;
      for (let gas = needed - 240_000n; gas < needed && !seen; gas += 5_000n) {
        try {
          await w.ledger
            .connect(w.outsider)
            .reportRefusal.staticCall(s.packet, s.appSignature, s.proxySignature, { gasLimit: gas });
        } catch (err) {
          const data = (err as { data?: string }).data;
          if (data && data !== "0x" && w.ledger.interface.parseError(data)?.name === "LedgerInsufficientGas")
            seen = true;
        }
      }
      expect(seen).to.equal(true);
    });
  });
});
