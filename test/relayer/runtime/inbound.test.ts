/**
 * The peer endpoint (stage 2 at the receiver) against real chains and real mutual TLS: the test plays the source
 * proxy with A's certificate and keys, or an intruder with other certificates, and speaks to B's relayer.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { hashPacket, toWire } from "../../../lib/amdp";
import { PeerClient, loadTlsMaterial, pinSet } from "../../../relayer/src/server";
import { PipeRegistry__factory } from "../../../typechain-types";
import { flipByte } from "../../helpers/amdp";
import { TestPki, type Identity } from "../helpers/certs";
import {
  accountOn,
  appSigned,
  batchOnA,
  countersigned,
  custodyLength,
  custodyPacket,
  forgedAppSigned,
  metric,
  peerAs,
  post,
  randomHex,
  refusalsOf,
  startSide,
  stateOf,
  until,
  untilState,
  wire,
  world,
  type World,
} from "./helpers/world";

describe("relayer runtime: peer endpoint (stage 2 at the receiver)", function () {
  this.timeout(120_000);
  let w: World;
  let batchId: Hex;
  let asA: ReturnType<typeof peerAs>;

  before(async function () {
    w = await world();
    await startSide(w, "a");
    await startSide(w, "b");
    ({ batchId } = await batchOnA(w));
    asA = peerAs(w, "b");
  });
  after(async () => w?.stop());

  async function refused(body: unknown, status: number, code: string, txId?: Hex): Promise<Record<string, unknown>> {
    const before = refusalsOf(w, "b", code).length;
    const counted = await metric(w, "b", `ccgp_packets_refused_total{reason="${code}"`);
    const answer = await asA.call(body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
    expect((answer.body.error as { code: string }).code).to.equal(code);
    expect(refusalsOf(w, "b", code).length).to.equal(before + 1);
    expect(await metric(w, "b", `ccgp_packets_refused_total{reason="${code}"`)).to.equal(counted + 1);
    if (txId !== undefined) expect(await stateOf(w, txId)).to.be.oneOf(["None", "Open"]);
    return answer.body;
  }

  /** A packet the ledger has open (opened by A's relayer, which B then receives). */
  async function confirmedThroughA(): Promise<{ txId: Hex; sequence: bigint }> {
    const { packet, payload } = await custodyPacket(w, batchId);
    expect((await post(w, "a", wire(await appSigned(w, packet, payload)))).status).to.equal(202);
    await untilState(w, packet.txId, "Confirmed");
    return { txId: packet.txId, sequence: packet.sequence };
  }

  it("refuses a peer whose certificate is from the CA but not registered, and one from another CA", async function () {
    const pki = new TestPki();
    const caDir = join(w.c.runDir, "tls");
    const consortiumCa: Identity = {
      name: "ca",
      certPath: join(caDir, "ca.crt"),
      keyPath: join(caDir, "ca.key"),
      cert: readFileSync(join(caDir, "ca.crt"), "utf8"),
      key: readFileSync(join(caDir, "ca.key"), "utf8"),
    };
    const unregistered = pki.leaf("unregistered", consortiumCa);
    const before = refusalsOf(w, "b", "PEER_NOT_PINNED").length;
    const answer = await peerAs(w, "b", { cert: unregistered.cert, key: unregistered.key, ca: consortiumCa.cert }).call(
      {},
    );
    expect(answer.status).to.equal(403);
    expect((answer.body.error as { code: string }).code).to.equal("PEER_NOT_PINNED");
    expect(refusalsOf(w, "b", "PEER_NOT_PINNED").length).to.equal(before + 1);

    const foreignCa = pki.ca("foreign-ca");
    const foreign = pki.leaf("foreign", foreignCa);
    const handshakes = refusalsOf(w, "b", "TLS_HANDSHAKE_FAILED").length;
    const client = new PeerClient({
      tls: { cert: foreign.cert, key: foreign.key, ca: consortiumCa.cert },
      isPinned: pinSet([w.c.business.b.tls.fingerprint]),
    });
    let failed: unknown;
    await client
      .call(`https://127.0.0.1:${w.c.business.b.ports.peer}/v1/packets`, { body: {} })
      .catch((e: unknown) => (failed = e));
    expect(failed, "the handshake must fail").to.be.instanceOf(Error);
    await until(
      () => refusalsOf(w, "b", "TLS_HANDSHAKE_FAILED").length === handshakes + 1,
      "the handshake refusal record",
    );
  });

  it("refuses a registered peer that is not the pipe's source proxy", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const b = w.c.business.b;
    const asB = peerAs(w, "b", loadTlsMaterial({ cert: b.tls.cert, key: b.tls.key, ca: b.tls.ca }));
    const answer = await asB.call(toWire(await countersigned(w, await appSigned(w, packet, payload))));
    expect([answer.status, (answer.body.error as { code: string }).code]).to.deep.equal([403, "PEER_MISMATCH"]);
  });

  it("refuses malformed, oversized and half-signed packets", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    await refused({ version: 1, packet: { pipeId: "0x12" } }, 400, "MALFORMED_PACKET");
    await refused(toWire(await appSigned(w, packet, payload)), 400, "MALFORMED_SIGNATURE", packet.txId);
    const tooLarge = refusalsOf(w, "b", "PAYLOAD_TOO_LARGE").length;
    // Above the body limit: four packets of the relayer's largest payload (a delivery of several target steps).
    const answer = await asA.call({ padding: "00".repeat(400_000) });
    expect(answer.status).to.equal(413);
    expect(refusalsOf(w, "b", "PAYLOAD_TOO_LARGE").length).to.equal(tooLarge + 1);
  });

  it("checks every signature in the sequence: one flipped byte, a wrong proxy, a wrong app key", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const good = await countersigned(w, await appSigned(w, packet, payload));
    await refused({ ...toWire(good), payload: flipByte(payload, 36) }, 400, "PAYLOAD_MISMATCH", packet.txId);
    await refused(
      toWire({ ...good, packet: { ...packet, sequence: packet.sequence + 1n } }),
      403,
      "BAD_APP_SIGNATURE",
      packet.txId,
    );
    await refused(
      toWire({ ...good, signatures: { ...good.signatures, proxy: flipByte(good.signatures.proxy!, 63) } }),
      403,
      "BAD_PROXY_SIGNATURE",
      packet.txId,
    );
    await refused(
      toWire(await countersigned(w, await appSigned(w, packet, payload), w.proxies.b)),
      403,
      "BAD_PROXY_SIGNATURE",
      packet.txId,
    );
    const stranger = await countersigned(
      w,
      await appSigned(w, { ...packet, signer: w.apps.b.address }, payload, w.apps.b),
    );
    await refused(toWire(stranger), 403, "SIGNER_MISMATCH", packet.txId);
  });

  it("reports to the ledger a bad app signature the source proxy vouched for (BadSignature)", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const vouched = await countersigned(w, await forgedAppSigned(packet, payload, w, w.apps.b));
    await refused(toWire(vouched), 403, "BAD_APP_SIGNATURE", packet.txId);
    const packetHash = hashPacket(packet);
    await until(async () => w.k.ledger.refusalReported(packetHash), "the refusal report on the ledger");
  });

  it("refuses a packet the initiator never opened, and expired ones", async function () {
    const { packet, payload } = await custodyPacket(w, batchId, {
      sequence: (await w.k.ledger.pipeOf(w.c.pipes.aToB.id)).lastSequence + 50n,
    });
    await refused(toWire(await countersigned(w, await appSigned(w, packet, payload))), 409, "TX_NOT_OPEN", packet.txId);
    const expired = await custodyPacket(w, batchId, { deadline: BigInt(Math.floor(Date.now() / 1000) - 1) });
    await refused(
      toWire(await countersigned(w, await appSigned(w, expired.packet, expired.payload))),
      400,
      "DEADLINE_PASSED",
      expired.packet.txId,
    );
  });

  it("never runs a packet twice: the same packet is a duplicate, another with its sequence a replay (refused, not charged)", async function () {
    const done = await confirmedThroughA();
    const entry = w.relayers.a!.runtime.journal.require(done.txId, "initiator");
    const custody = await custodyLength(w, "b", batchId);
    const body = await refused(toWire(entry.signed), 409, "DUPLICATE");
    expect(body.result).to.deep.include({ status: "done", success: true });
    const { packet, payload } = await custodyPacket(w, batchId, { sequence: done.sequence });
    await refused(toWire(await countersigned(w, await appSigned(w, packet, payload))), 409, "REPLAY", packet.txId);
    // A used sequence is never refusable on the ledger: nothing is queued to report it, and nothing is reported.
    expect(w.relayers.b!.runtime.store.getOutbox(`refusal:${hashPacket(packet)}`)).to.equal(null);
    expect(await w.k.ledger.refusalReported(hashPacket(packet))).to.equal(false);
    expect(await custodyLength(w, "b", batchId)).to.equal(custody);
  });

  it("refuses unknown and paused pipes, and packets of pipes that do not end here", async function () {
    const unknown = await custodyPacket(w, batchId, { packet: { pipeId: randomHex() } });
    await refused(
      toWire(await countersigned(w, await appSigned(w, unknown.packet, unknown.payload, w.apps.a))),
      404,
      "PIPE_UNKNOWN",
    );
    const reverse = await custodyPacket(w, batchId, { pipe: w.c.pipes.bToA });
    await refused(
      toWire(await countersigned(w, await appSigned(w, reverse.packet, reverse.payload), w.proxies.b)),
      403,
      "WRONG_SERVICE",
    );
    const operator = await accountOn(w, w.c.business.b.accounts.operator.keystore, "governance");
    const pipes = PipeRegistry__factory.connect(w.c.governance.pipes, operator);
    await (await pipes.pausePipe(w.c.pipes.aToB.id)).wait();
    try {
      const paused = await custodyPacket(w, batchId);
      await refused(
        toWire(await countersigned(w, await appSigned(w, paused.packet, paused.payload))),
        409,
        "PIPE_NOT_ACTIVE",
        paused.packet.txId,
      );
    } finally {
      await (await pipes.resumePipe(w.c.pipes.aToB.id)).wait();
    }
  });
});
