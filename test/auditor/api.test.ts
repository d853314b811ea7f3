import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  AuditorAuthenticator,
  AuditorQueries,
  GOVERNANCE_CONTRACTS,
  HEADERS,
  NonceCache,
  auditorDomain,
  createAuditorHandler,
  loadAbi,
  signAuditorRequest,
  startAuditorApi,
  type StartedAuditorApi,
} from "../../auditor/src";
import { flipByte } from "../helpers/amdp";
import { indexedConsortium, type IndexedConsortium } from "./helpers";
import { newKey, type Key, type Population, type World } from "./world";

const A_CHAIN = 7321;
const B_CHAIN = 7322;

describe("auditor: the auditor-only HTTP API", function () {
  this.timeout(300_000);
  let w: World;
  let p: Population;
  let queries: AuditorQueries;
  let api: StartedAuditorApi;
  let consortium: IndexedConsortium | undefined;

  const authenticator = (o: { nonces?: NonceCache; windowSeconds?: number } = {}) =>
    new AuditorAuthenticator({
      client: w.client,
      membership: w.c.membership.target as Address,
      chainId: 31337,
      membershipAbi: loadAbi(GOVERNANCE_CONTRACTS.membership),
      ...o,
    });

  before(async () => {
    consortium = await indexedConsortium("api", [A_CHAIN, B_CHAIN]);
    ({ w, p, queries } = consortium);
    api = await startAuditorApi({ queries, auth: authenticator(), port: 0 });
  });
  beforeEach(async () => {
    await loadFixture(consortium!.fixture); // undoes a revocation made by a test
  });
  after(async () => {
    await api?.close();
    await consortium?.close();
  });

  const domain = () => auditorDomain(31337, w.c.membership.target as Address);
  const now = () => Math.floor(Date.now() / 1000);

  async function signed(
    key: Key | { account: Key["account"] },
    path: string,
    over: { timestamp?: number; nonce?: Hex } = {},
  ) {
    return signAuditorRequest(key.account, domain(), { method: "GET", url: path, ...over });
  }

  async function get(path: string, headers: Record<string, string>, base = api.url) {
    const res = await fetch(`${base}${path}`, { headers });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      text,
      body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined,
    };
  }

  const asAuditor = async (path: string) => get(path, await signed(w.auditors[0]!, path));

  describe("an active auditor", () => {
    it("lists, exports and traces", async () => {
      const list = await asAuditor("/v1/transactions?state=Confirmed");
      expect(list.status).to.equal(200);
      expect(list.body.map((t: { txId: Hex }) => t.txId)).to.deep.equal([
        p.confirmed.txId,
        p.tampered.txId,
        p.missing.txId,
      ]);
      const csv = await asAuditor(`/v1/transactions?institution=${w.source.institution}&format=csv`);
      expect([csv.status, csv.type]).to.deep.equal([200, "text/csv; charset=utf-8"]);
      expect(csv.text.trimEnd().split("\r\n")).to.have.length(10);
      const trace = await asAuditor(`/v1/transactions/${p.tampered.txId}?receipts=true`);
      expect(trace.status).to.equal(200);
      expect(trace.body.receipts[0].problems[0].code).to.equal("result-hash-mismatch");
      const events = await asAuditor("/v1/events?event=RefusalRecorded");
      expect(events.body.map((e: { txId: Hex }) => e.txId)).to.deep.equal(p.refusedPackets);
    });

    it("reports anomalies, reconciliation and the index's status", async () => {
      const anomalies = await asAuditor("/v1/anomalies?refusalThreshold=3");
      expect(anomalies.body.counts).to.deep.include({ stuck: 1, "repeated-refusals": 2, conflict: 1 });
      const reconciliation = await asAuditor(`/v1/reconciliation?tx=${p.missing.txId},${p.confirmed.txId}`);
      expect(reconciliation.body.crossChain.map((e: { txId: Hex }) => e.txId)).to.deep.equal([p.missing.txId]);
      const status = await asAuditor("/v1/status");
      expect([status.body.transactions, status.body.identity.chainId]).to.deep.equal([9, 31337]);
    });

    it("gets a named refusal for a bad parameter, an unknown transaction or route", async () => {
      expect((await asAuditor("/v1/transactions?state=Finished")).body.error.code).to.equal("AUDITOR_BAD_INPUT");
      expect((await asAuditor("/v1/transactions?limit=0")).body.error).to.deep.equal({
        code: "AUDITOR_BAD_INPUT",
        message: 'limit "0" must be an integer from 1 to 100000',
      });
      const unknown = keccak256(toHex("nope"));
      expect(await asAuditor(`/v1/transactions/${unknown}`)).to.deep.include({ status: 404 });
      expect((await asAuditor("/v1/nothing")).status).to.equal(404);
    });
  });

  describe("refusals", () => {
    const PATH = "/v1/transactions?state=Confirmed";

    async function refused(headers: Record<string, string>, path = PATH) {
      const r = await get(path, headers);
      return [r.status, r.body?.error?.code, r.body?.error?.message];
    }

    it("refuses a request without a signature", async () => {
      expect(await refused({})).to.deep.equal([401, "AUDITOR_UNAUTHENTICATED", `missing header ${HEADERS.account}`]);
      const h = await signed(w.auditors[0]!, PATH);
      delete h[HEADERS.nonce];
      expect(await refused(h)).to.deep.equal([401, "AUDITOR_UNAUTHENTICATED", `missing header ${HEADERS.nonce}`]);
    });

    it("refuses accounts that are not auditors: a business account, an unknown key", async () => {
      expect(await refused(await signed(w.source.proxy, PATH))).to.deep.equal([
        403,
        "AUDITOR_FORBIDDEN",
        `${w.source.proxy.address} is not an active auditor: AccountRoleMismatch`,
      ]);
      const stranger = await newKey();
      expect(await refused(await signed(stranger, PATH))).to.deep.equal([
        403,
        "AUDITOR_FORBIDDEN",
        `${stranger.address} is not an active auditor: AccountNotActive`,
      ]);
    });

    it("refuses an auditor as soon as its account is revoked", async () => {
      const auditor = w.auditors[3]!;
      expect((await get(PATH, await signed(auditor, PATH))).status).to.equal(200);
      await w.c.membership.connect(w.auditAdmin).revokeOwnAccount(auditor.address);
      expect(await refused(await signed(auditor, PATH))).to.deep.equal([
        403,
        "AUDITOR_FORBIDDEN",
        `${auditor.address} is not an active auditor: AccountNotActive`,
      ]);
    });

    it("refuses a timestamp outside the window, either way", async () => {
      for (const timestamp of [now() - 120, now() + 120]) {
        const [status, code, message] = await refused(await signed(w.auditors[0]!, PATH, { timestamp }));
        expect([status, code]).to.deep.equal([401, "AUDITOR_UNAUTHENTICATED"]);
        expect(message).to.match(
          new RegExp(`^request timestamp ${timestamp} is more than 60s from the server's time \\d+$`),
        );
      }
    });

    it("refuses a replayed request", async () => {
      const h = await signed(w.auditors[0]!, PATH);
      expect((await get(PATH, h)).status).to.equal(200);
      expect(await refused(h)).to.deep.equal([
        401,
        "AUDITOR_UNAUTHENTICATED",
        "nonce already used: a replayed request",
      ]);
    });

    it("refuses one flipped byte in the signature, the path, the query, the timestamp or the nonce", async () => {
      const mine = `the signature is not ${w.auditors[0]!.address}'s over this request`;
      const h = await signed(w.auditors[0]!, PATH);
      for (const index of [0, 31, 32, 63]) {
        const r = await refused({ ...h, [HEADERS.signature]: flipByte(h[HEADERS.signature] as Hex, index) });
        expect(r[0]).to.equal(401);
        expect([mine, "the signature cannot be recovered"]).to.include(r[2]);
      }
      expect(await refused(h, PATH.replace("Confirmed", "Confirmee"))).to.deep.equal([
        401,
        "AUDITOR_UNAUTHENTICATED",
        mine,
      ]);
      expect(await refused(h, PATH.replace("/v1/transactions", "/v1/transactionr"))).to.deep.equal([
        401,
        "AUDITOR_UNAUTHENTICATED",
        mine,
      ]);
      expect(await refused({ ...h, [HEADERS.timestamp]: String(Number(h[HEADERS.timestamp]) ^ 1) })).to.deep.equal([
        401,
        "AUDITOR_UNAUTHENTICATED",
        mine,
      ]);
      expect(await refused({ ...h, [HEADERS.nonce]: flipByte(h[HEADERS.nonce] as Hex, 5) })).to.deep.equal([
        401,
        "AUDITOR_UNAUTHENTICATED",
        mine,
      ]);
      // Untouched, the same request still passes (none of the refusals used up its nonce).
      expect((await get(PATH, h)).status).to.equal(200);
    });

    it("refuses a signature made for another consortium (another Membership in the domain)", async () => {
      const other = auditorDomain(31337, (await newKey()).address);
      const h = await signAuditorRequest(w.auditors[0]!.account, other, { method: "GET", url: PATH });
      expect((await refused(h))[0]).to.equal(401);
    });

    it("refuses writes, and bounds the nonces it remembers", async () => {
      const res = await fetch(`${api.url}${PATH}`, { method: "POST", headers: await signed(w.auditors[0]!, PATH) });
      expect(res.status).to.equal(405);
      const small = await startAuditorApi({ queries, auth: authenticator({ nonces: new NonceCache(2) }), port: 0 });
      try {
        for (let i = 0; i < 2; i++)
          expect((await get(PATH, await signed(w.auditors[0]!, PATH), small.url)).status).to.equal(200);
        const full = await get(PATH, await signed(w.auditors[0]!, PATH), small.url);
        expect([full.status, full.body.error.code]).to.deep.equal([503, "AUDITOR_BUSY"]);
      } finally {
        await small.close();
      }
    });
  });

  it("mounts inside another server under a prefix (as the relayer's ops server would)", async () => {
    const handler = createAuditorHandler({ queries, auth: authenticator(), prefix: "/auditor" });
    const server: Server = createServer((req, res) => {
      if (req.url?.startsWith("/auditor/")) return handler(req, res);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const path = `/auditor/v1/transactions/${p.resolved.txId}`;
      const r = await get(path, await signed(w.auditors[1]!, path), base);
      expect([r.status, r.body.state, r.body.resolutions[0].reason]).to.deep.equal([
        200,
        "Resolved",
        "checked by hand: nothing ran",
      ]);
      // The prefix is part of what is signed.
      const bare = `/v1/transactions/${p.resolved.txId}`;
      expect((await get(path, await signed(w.auditors[1]!, bare), base)).status).to.equal(401);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("signs with any viem account (e.g. a keystore or KMS account)", async () => {
    const account = privateKeyToAccount(w.auditors[2]!.wallet.privateKey as Hex);
    const r = await get("/v1/status", await signed({ account }, "/v1/status"));
    expect(r.status).to.equal(200);
  });
});
