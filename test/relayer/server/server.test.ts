import { expect } from "chai";
import { request as httpsRequest } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CcgpError } from "../../../lib/infra/errors";
import { BoundedQueue } from "../../../relayer/src/flow";
import { RelayerMetrics } from "../../../relayer/src/metrics";
import {
  certificateFingerprint,
  loadTlsMaterial,
  OpsServer,
  PeerClient,
  PeerServer,
  peerHeartbeatCheck,
  pinSet,
  type PinPolicy,
  type TlsMaterial,
} from "../../../relayer/src/server";
import { RelayerStore } from "../../../relayer/src/store";
import { TestPki, type Identity } from "../helpers/certs";
import { expectCcgpError, ManualClock } from "../helpers/errors";
import { waitFor } from "../../helpers/hardhat-node";

describe("relayer/server", function () {
  const pki = new TestPki();
  let ca: Identity, serverId: Identity, pinned: Identity, unpinned: Identity, rogue: Identity, rogueCa: Identity;
  let server: PeerServer;
  let url: string;
  let store: RelayerStore;
  let storeDir: string;
  const metrics = new RelayerMetrics();
  const allowedClients = new Set<string>();
  let handled = 0;

  const tls = (id: Identity, caId = ca): TlsMaterial => ({ cert: id.cert, key: id.key, ca: caId.cert });
  const client = (
    id: Identity,
    isPinned: PinPolicy = pinSet([certificateFingerprint(serverId.cert)]),
    caId = ca,
  ): PeerClient => new PeerClient({ tls: tls(id, caId), isPinned, timeoutMs: 10_000 });

  before(async function () {
    ca = pki.ca("consortium-ca");
    rogueCa = pki.ca("rogue-ca");
    serverId = pki.leaf("relayer-a", ca);
    pinned = pki.leaf("relayer-b", ca);
    unpinned = pki.leaf("relayer-c", ca);
    rogue = pki.leaf("relayer-rogue", rogueCa);
    allowedClients.add(certificateFingerprint(pinned.cert));
    storeDir = mkdtempSync(join(tmpdir(), "ccgp-server-"));
    store = RelayerStore.open({ path: join(storeDir, "s.sqlite") });
    const queue = new BoundedQueue<unknown>(1, "inbound");
    queue.push("occupied");
    server = new PeerServer({
      host: "127.0.0.1",
      port: 0,
      tls: loadTlsMaterial({ cert: serverId.certPath, key: serverId.keyPath, ca: ca.certPath }),
      isPinned: (fp) => allowedClients.has(fp),
      maxBodyBytes: 1024,
      onRefusal: (r) => {
        store.recordRefusal({ reason: r.reason, details: { message: r.message, ...r.peer } });
        metrics.record({ type: "packetRefused", reason: r.reason });
      },
    })
      .route("POST", "/amdp/packet", (req) => {
        handled += 1;
        return { status: 202, body: { received: JSON.parse(req.body.toString()), from: req.peer.commonName } };
      })
      .route("POST", "/amdp/queued", (req) => {
        queue.push(req.body);
        return { status: 202 };
      })
      .route("GET", "/fails", () => {
        throw new CcgpError("AMDP_BAD_SIGNATURE", "stage-2 signature does not recover to the proxy key");
      });
    url = `https://127.0.0.1:${(await server.start()).port}`;
  });
  after(async function () {
    await server?.stop();
    store?.close();
    rmSync(pki.dir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  });

  it("computes the same SHA-256 fingerprint as openssl", function () {
    const ours = certificateFingerprint(pinned.cert);
    expect(ours).to.equal(pki.opensslFingerprint(pinned).replace(/:/g, "").toLowerCase());
  });

  it("serves a client whose certificate is issued by the CA and pinned", async function () {
    const result = await client(pinned).call(`${url}/amdp/packet`, { body: { sequence: 1 } });
    expect(result.status).to.equal(202);
    expect(result.body).to.deep.equal({ received: { sequence: 1 }, from: "relayer-b" });
  });

  it("refuses a CA-issued client whose fingerprint is not registered, and records the refusal", async function () {
    const before = handled;
    const result = await client(unpinned).call(`${url}/amdp/packet`, { body: { sequence: 2 } });
    expect(result.status).to.equal(403);
    const fp = certificateFingerprint(unpinned.cert);
    expect(result.body).to.deep.equal({
      error: {
        code: "PEER_NOT_PINNED",
        message: `client certificate ${fp} (CN=relayer-c) is not registered for any peer proxy`,
      },
    });
    expect(handled).to.equal(before);
    const refusal = store.refusals({ reason: "PEER_NOT_PINNED" }).at(-1)!;
    expect(refusal.details).to.include({ fingerprint: fp, commonName: "relayer-c" });
    expect(await metrics.text()).to.include('ccgp_packets_refused_total{reason="PEER_NOT_PINNED",pipe=""} 1');
  });

  it("stops serving a peer at once when its pin is withdrawn", async function () {
    const fp = certificateFingerprint(pinned.cert);
    allowedClients.delete(fp);
    try {
      expect((await client(pinned).call(`${url}/amdp/packet`, { body: {} })).status).to.equal(403);
    } finally {
      allowedClients.add(fp);
    }
    expect((await client(pinned).call(`${url}/amdp/packet`, { body: {} })).status).to.equal(202);
  });

  it("refuses, at the TLS handshake, a client certificate from another CA and a client without one", async function () {
    const before = store.refusals({ reason: "TLS_HANDSHAKE_FAILED" }).length;
    await expectCcgpError(() => client(rogue, () => true).call(`${url}/amdp/packet`, { body: {} }), "PEER_UNREACHABLE");
    await waitFor(() => store.refusals({ reason: "TLS_HANDSHAKE_FAILED" }).length > before, "the recorded refusal");
    const status = await new Promise<number | string>((resolve) => {
      const req = httpsRequest(`${url}/amdp/packet`, { method: "POST", ca: ca.cert, agent: false }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on("error", (e) => resolve(e.message));
      req.end("{}");
    });
    expect(status).to.be.a("string"); // a transport error, never an HTTP answer
  });

  it("does not send a request to a server whose certificate is not pinned", async function () {
    const before = handled;
    const error = await expectCcgpError(
      () => client(pinned, pinSet([certificateFingerprint(unpinned.cert)])).call(`${url}/amdp/packet`, { body: {} }),
      "PEER_NOT_PINNED",
    );
    expect(error.message).to.include(certificateFingerprint(serverId.cert));
    expect(handled).to.equal(before);
  });

  it("keeps a connection alive between calls, and checks the server's pin again before each request on it", async function () {
    let handshakes = 0;
    const stopCounting = server.onConnection(() => (handshakes += 1));
    try {
      const material = tls(pinned);
      const pins = new Set([certificateFingerprint(serverId.cert)]);
      const c = new PeerClient({ tls: material, isPinned: (fp) => pins.has(fp), timeoutMs: 10_000 });
      for (let i = 0; i < 3; i++) expect((await c.call(`${url}/amdp/packet`, { body: { i } })).status).to.equal(202);
      expect(handshakes, "one mutual-TLS handshake for three calls").to.equal(1);
      // The pin is withdrawn while the connection is open: the next call sends nothing on it.
      pins.clear();
      const before = handled;
      await expectCcgpError(() => c.call(`${url}/amdp/packet`, { body: {} }), "PEER_NOT_PINNED");
      expect(handled).to.equal(before);
      pins.add(certificateFingerprint(serverId.cert));
      expect((await c.call(`${url}/amdp/packet`, { body: {} })).status).to.equal(202);
    } finally {
      stopCounting();
    }
  });

  it("opens every new connection with a full, checked handshake: no TLS session resumption, which skips the pin check", async function () {
    const resumed: boolean[] = [];
    const stopWatching = server.onConnection((connection) => resumed.push(connection.resumed));
    try {
      const material = tls(pinned);
      const pins = new Set([certificateFingerprint(serverId.cert)]);
      const c = new PeerClient({ tls: material, isPinned: (fp) => pins.has(fp), timeoutMs: 10_000 });
      for (const calls of [1, 12, 12]) {
        const answers = await Promise.all(
          Array.from({ length: calls }, (_, i) => c.call(`${url}/amdp/packet`, { body: { i } })),
        );
        expect(answers.map((a) => a.status)).to.deep.equal(Array(calls).fill(202));
      }
      expect(resumed.length, "connections opened").to.be.within(2, 13);
      expect(resumed.filter((r) => r)).to.deep.equal([]);
      // Every kept-alive connection is refused once the pin is withdrawn.
      pins.clear();
      const refused = await Promise.allSettled(
        Array.from({ length: 12 }, () => c.call(`${url}/amdp/packet`, { body: {} })),
      );
      expect(refused.map((r) => r.status === "rejected" && (r.reason as CcgpError).code)).to.deep.equal(
        Array(12).fill("PEER_NOT_PINNED"),
      );
    } finally {
      stopWatching();
    }
  });

  it("retries once on a new connection when the server closed the kept-alive one", async function () {
    const c = client(pinned);
    expect((await c.call(`${url}/amdp/packet`, { body: {} })).status).to.equal(202);
    // The server drops every idle connection, as its keep-alive timeout would.
    server.closeIdleConnections();
    const before = handled;
    expect((await c.call(`${url}/amdp/packet`, { body: { again: true } })).status).to.equal(202);
    expect(handled).to.equal(before + 1);
  });

  it("refuses a server certificate from another CA even if its fingerprint were pinned", async function () {
    await expectCcgpError(
      () => client(pinned, () => true, rogueCa).call(`${url}/amdp/packet`, { body: {} }),
      "PEER_UNREACHABLE",
    );
  });

  it("answers refusals with a code: too large (413), queue full (429), handler error (400), no route (404)", async function () {
    const c = client(pinned);
    const big = await c.call(`${url}/amdp/packet`, { body: { data: "x".repeat(2048) } });
    expect([big.status, (big.body as { error: { code: string } }).error.code]).to.deep.equal([
      413,
      "PAYLOAD_TOO_LARGE",
    ]);
    const full = await c.call(`${url}/amdp/queued`, { body: {} });
    expect([full.status, (full.body as { error: { code: string } }).error.code]).to.deep.equal([429, "QUEUE_FULL"]);
    const bad = await c.call(`${url}/fails`);
    expect(bad).to.deep.include({ status: 400 });
    expect(bad.body).to.deep.equal({
      error: { code: "AMDP_BAD_SIGNATURE", message: "stage-2 signature does not recover to the proxy key" },
    });
    expect((await c.call(`${url}/nowhere`)).status).to.equal(404);
    expect(store.refusals({ reason: "QUEUE_FULL" })).to.have.length(1);
  });

  describe("ops listener", function () {
    const clock = new ManualClock();
    const opsMetrics = new RelayerMetrics({ clock: clock.read });
    let ops: OpsServer;
    let opsUrl: string;
    let subChainUp = true;

    before(async function () {
      ops = new OpsServer({
        host: "127.0.0.1",
        port: 0,
        metrics: opsMetrics,
        checks: {
          subChain: () => ({ ok: subChainUp, detail: subChainUp ? "ok" : "node down" }),
          peers: peerHeartbeatCheck(
            () => ["relayer-b"],
            () => opsMetrics.lastHeartbeats(),
            30_000,
            clock.read,
          ),
        },
      });
      opsUrl = `http://127.0.0.1:${(await ops.start()).port}`;
    });
    after(async function () {
      await ops?.stop();
    });

    it("answers /health with 200 when every check passes, 503 naming the failing ones otherwise", async function () {
      opsMetrics.record({ type: "peerHeartbeat", peer: "relayer-b", at: clock.now });
      const ok = await fetch(`${opsUrl}/health`);
      expect(ok.status).to.equal(200);
      expect(await ok.json()).to.deep.equal({
        status: "ok",
        checks: { subChain: { ok: true, detail: "ok" }, peers: { ok: true, detail: { stale: {} } } },
      });
      subChainUp = false;
      clock.advance(45_000);
      const failing = await fetch(`${opsUrl}/health`);
      expect(failing.status).to.equal(503);
      expect(await failing.json()).to.deep.equal({
        status: "failing",
        checks: {
          subChain: { ok: false, detail: "node down" },
          peers: { ok: false, detail: { stale: { "relayer-b": 45_000 } } },
        },
      });
      subChainUp = true;
    });

    it("serves Prometheus metrics on /metrics", async function () {
      opsMetrics.record({ type: "packetIn", pipeId: "p9" });
      const response = await fetch(`${opsUrl}/metrics`);
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.include("text/plain");
      const text = await response.text();
      expect(text).to.include('ccgp_packets_in_total{pipe="p9"} 1');
      expect(text).to.include('ccgp_peer_heartbeat_age_seconds{peer="relayer-b"}');
    });

    it("serves nothing else", async function () {
      expect((await fetch(`${opsUrl}/other`)).status).to.equal(404);
      expect((await fetch(`${opsUrl}/health`, { method: "POST" })).status).to.equal(405);
    });
  });
});
