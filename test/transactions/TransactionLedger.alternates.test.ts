import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { scopedId } from "../../lib/domain/ids";
import { Side, TxState } from "../../lib/domain/ledger-types";
import { Role, addAccount, govern, pass, proposalIdOf } from "../helpers/governance";
import { newKey, type Key } from "../helpers/pipes";
import { enabledService } from "../helpers/registries";
import {
  CHAIN_B,
  OPERATION_WRITE,
  openTx,
  readStep,
  record,
  registryLedgerFixture,
  result,
  writeStep,
  type RegistryWorld,
} from "./fixtures";

/**
 * Route failover on the real pipe registry and ledger: the target side lists alternate routes (services of its own
 * institution fronting the target sub-chain) for a pipe, decided like the pipe itself; the ledger takes a target result
 * from any listed route serving now, once per step, and nothing from a removed, disabled or foreign one.
 */
describe("TransactionLedger: alternate target routes", () => {
  interface World extends RegistryWorld {
    alt: { key: Key; service: string }[];
  }
  async function alternatesFixture(): Promise<World> {
    const w = await registryLedgerFixture();
    const alt = [];
    for (const n of [2, 3]) {
      const key = await newKey();
      await addAccount(w.c, w.tgt.admin, key, w.tgt.institution, Role.Business);
      const service = scopedId(w.tgt.institution, `Target Co/service-${n}`);
      await enabledService(w.c, w.tgt.operator, service, CHAIN_B, key.address);
      alt.push({ key, service });
    }
    await w.c.pipes.connect(w.tgt.operator).proposeAlternates(w.pipeId, [alt[0]!.service, alt[1]!.service]);
    return { ...w, alt };
  }
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(alternatesFixture);
  });
  const state = async (txId: string) => (await w.ledger.statusOf(txId)).state;

  it("lists the alternates in priority order; the target's alternate records the target step, once", async () => {
    expect(await w.c.pipes.alternates(w.pipeId)).to.deep.equal([w.alt[0]!.service, w.alt[1]!.service]);
    expect(await w.c.pipes.alternateSigner(w.pipeId, w.alt[1]!.key.address)).to.deep.equal([true, true]);
    expect(await w.c.pipes.alternateSigner(w.pipeId, w.tgtProxy.address)).to.deep.equal([false, false]);
    const o = await openTx(w);
    await record(w, o, 0);
    const r = result(o, 1);
    await expect(w.ledger.connect(w.alt[1]!.key.wallet).recordResult(r))
      .to.emit(w.ledger, "ResultRecorded")
      .withArgs(
        o.txId,
        1,
        TxState.Executed,
        w.alt[1]!.key.address,
        CHAIN_B,
        r.subchainTx,
        r.blockNumber,
        r.resultHash,
        OPERATION_WRITE,
        true,
        7n,
        anyValue,
      );
    expect(await state(o.txId)).to.equal(BigInt(TxState.Executed));
  });

  it("two routes racing on one step: the second is refused by name and changes nothing", async () => {
    // The target's write first (it depends on nothing), so the transaction is still running.
    const o = await openTx(w, { steps: [readStep(Side.Source), writeStep(Side.Target)] });
    await w.ledger.connect(w.alt[0]!.key.wallet).recordResult(result(o, 1));
    const before = await w.ledger.transaction(o.txId);
    for (const who of [w.alt[1]!.key, w.tgtProxy]) {
      await expect(w.ledger.connect(who.wallet).recordResult(result(o, 1, { success: false })))
        .to.be.revertedWithCustomError(w.ledger, "LedgerStepAlreadyRecorded")
        .withArgs(o.txId, 1);
    }
    expect(await w.ledger.transaction(o.txId)).to.deep.equal(before);
  });

  it("records a batch by an alternate (asked at each result) and takes a retry from it", async () => {
    const [a, b] = [await openTx(w, { steps: [writeStep(Side.Target)] }), await openTx(w)];
    await record(w, b, 0);
    await w.ledger.connect(w.alt[0]!.key.wallet).recordResults([result(a, 0), result(b, 1)]);
    expect([await state(a.txId), await state(b.txId)]).to.deep.equal([TxState.Executed, TxState.Executed].map(BigInt));
    const c = await openTx(w, { steps: [writeStep(Side.Target)] });
    await expect(w.ledger.connect(w.alt[1]!.key.wallet).retryStep(c.txId, 0, "primary down")).to.emit(
      w.ledger,
      "StepRetried",
    );
  });

  it("refuses a removed alternate, a disabled one, a foreign relayer and an alternate on the source step", async () => {
    const o = await openTx(w);
    // The source side's proxy (another institution) on the target step.
    await expect(w.ledger.connect(w.srcProxy.wallet).recordResult(result(o, 1)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
      .withArgs(o.txId, 1, w.srcProxy.address, w.tgtProxy.address);
    // An alternate of the target on the source's step.
    await expect(w.ledger.connect(w.alt[0]!.key.wallet).recordResult(result(o, 0)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
      .withArgs(o.txId, 0, w.alt[0]!.key.address, w.srcProxy.address);
    await record(w, o, 0);
    // Removed by the target's operator (no vote required in this consortium, as for the pipe itself).
    await expect(w.c.pipes.connect(w.tgt.operator).proposeAlternates(w.pipeId, [w.alt[1]!.service]))
      .to.emit(w.c.pipes, "PipeAlternatesSet")
      .withArgs(w.pipeId, [w.alt[1]!.service], w.tgt.operator.getAddress());
    await expect(w.ledger.connect(w.alt[0]!.key.wallet).recordResult(result(o, 1)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
      .withArgs(o.txId, 1, w.alt[0]!.key.address, w.tgtProxy.address);
    // Disabled by vote: refused from the vote's own block, with no refresh anywhere.
    await govern(w.c, w.c.services, "disableService", [w.alt[1]!.service]);
    expect(await w.c.pipes.alternateSigner(w.pipeId, w.alt[1]!.key.address)).to.deep.equal([true, false]);
    await expect(w.ledger.connect(w.alt[1]!.key.wallet).recordResult(result(o, 1)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
      .withArgs(w.alt[1]!.key.address);
    expect(await state(o.txId)).to.equal(BigInt(TxState.Executing));
    await record(w, o, 1);
    expect(await state(o.txId)).to.equal(BigInt(TxState.Executed));
  });

  it("follows a rotation of an alternate's signer in the rotation's own transaction", async () => {
    const o = await openTx(w, { steps: [readStep(Side.Source), writeStep(Side.Target)] });
    const rotated = await newKey();
    await addAccount(w.c, w.tgt.admin, rotated, w.tgt.institution, Role.Business);
    await w.c.services.connect(w.tgt.operator).rotateServiceSigner(w.alt[0]!.service, rotated.address);
    await expect(w.ledger.connect(w.alt[0]!.key.wallet).recordResult(result(o, 1)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
      .withArgs(w.alt[0]!.key.address);
    await expect(w.ledger.connect(rotated.wallet).recordResult(result(o, 1))).to.emit(w.ledger, "ResultRecorded");
  });

  it("refuses the target operator suspended now, changing nothing", async () => {
    const pipes = w.c.pipes;
    const before = await pipes.alternates(w.pipeId);
    const operator = await w.tgt.operator.getAddress();
    await govern(w.c, w.c.membership, "suspendAccount", [operator]);
    await expect(pipes.connect(w.tgt.operator).proposeAlternates(w.pipeId, [w.alt[1]!.service]))
      .to.be.revertedWithCustomError(w.c.membership, "AccountNotActive")
      .withArgs(operator, anyValue);
    expect(await pipes.alternates(w.pipeId)).to.deep.equal(before);
  });

  it("refuses bad alternate lists by name, and takes them by vote when the pipe's activation needs one", async () => {
    const pipes = w.c.pipes;
    const [one, two] = [w.alt[0]!.service, w.alt[1]!.service];
    const op = pipes.connect(w.tgt.operator);
    await expect(pipes.connect(w.src.operator).proposeAlternates(w.pipeId, [one]))
      .to.be.revertedWithCustomError(pipes, "PipeUnauthorizedOperator")
      .withArgs(await w.src.operator.getAddress(), w.target);
    await expect(op.proposeAlternates(w.pipeId, [w.tgt.service]))
      .to.be.revertedWithCustomError(pipes, "PipeAlternateDuplicate")
      .withArgs(w.pipeId, w.tgt.service);
    await expect(op.proposeAlternates(w.pipeId, [one, two, one]))
      .to.be.revertedWithCustomError(pipes, "PipeAlternateDuplicate")
      .withArgs(w.pipeId, one);
    await expect(op.proposeAlternates(w.pipeId, [one, two, one, two]))
      .to.be.revertedWithCustomError(pipes, "PipeTooManyAlternates")
      .withArgs(4, 3);
    await expect(op.proposeAlternates(w.pipeId, [w.src.service]))
      .to.be.revertedWithCustomError(pipes, "PipeServiceMismatch")
      .withArgs(w.src.service, w.tgt.appId);
    const unknown = scopedId(w.tgt.institution, "nowhere");
    await expect(op.proposeAlternates(w.pipeId, [unknown]))
      .to.be.revertedWithCustomError(pipes, "PipeServiceNotFound")
      .withArgs(unknown);
    await expect(op.setAlternates(w.pipeId, [])).to.be.revertedWithCustomError(pipes, "GovernanceOnly");
    expect(await pipes.alternates(w.pipeId)).to.deep.equal([one, two]);

    await govern(w.c, pipes, "setActivationVoteRequired", [true]);
    const id = await proposalIdOf(w.c.voting, op.proposeAlternates(w.pipeId, [two, one]));
    expect(await pipes.alternates(w.pipeId)).to.deep.equal([one, two]);
    await pass(w.c, id);
    expect(await pipes.alternates(w.pipeId)).to.deep.equal([two, one]);
    await pipes.connect(w.tgt.operator).closePipe(w.pipeId);
    await expect(op.proposeAlternates(w.pipeId, []))
      .to.be.revertedWithCustomError(pipes, "PipeInvalidStatus")
      .withArgs(w.pipeId, 5);
  });
});
