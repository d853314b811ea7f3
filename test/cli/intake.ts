/**
 * A small, real app intake for `ccgp send`: an HTTP server speaking the relayer's app intake contract
 * (`POST /v1/requests` -> 202 {txId, status} or 4xx {code, message}; `GET /v1/transactions/:txId`) that
 * checks every posted packet with the relayer's own verifier (`decodePacket` + `verifyStage1` against the key the
 * pipe reserves on the governance chain). It does not relay: the tests drive the ledger themselves.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Address } from "viem";
import { AmdpError, decodePacket, verifyStage1, type AmdpDomain, type SignedPacket } from "../../lib/amdp";

export interface Intake {
  url: string;
  /** Packets that passed the checks, with the steps and the mode that came with them. */
  accepted: { signed: SignedPacket; steps: unknown; mode: unknown }[];
  /** Refusals the intake answered (code). */
  refusals: string[];
  /** When set, the next request is refused with this answer (e.g. a rate limit). */
  refuseNext?: { status: number; code: string; message: string };
  /** Resolves with the next accepted packet. */
  next(): Promise<SignedPacket>;
  close(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = "";
    req.on("data", (d) => (text += d));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });

export async function startIntake(
  domain: AmdpDomain,
  reservedKey: (pipeId: string) => Promise<Address>,
): Promise<Intake> {
  const waiters: ((p: SignedPacket) => void)[] = [];
  const intake: Intake = {
    url: "",
    accepted: [],
    refusals: [],
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const answer = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    const tx = /^\/v1\/transactions\/(0x[0-9a-f]{64})$/.exec(req.url ?? "");
    if (req.method === "GET" && tx) {
      const known = intake.accepted.find((a) => a.signed.packet.txId === tx[1]);
      return known
        ? answer(200, { txId: tx[1], status: "accepted" })
        : answer(404, { code: "NOT_FOUND", message: "unknown transaction" });
    }
    if (req.method !== "POST" || req.url !== "/v1/requests")
      return answer(404, { code: "NOT_FOUND", message: "no such route" });
    if (intake.refuseNext) {
      const r = intake.refuseNext;
      intake.refuseNext = undefined;
      intake.refusals.push(r.code);
      return answer(r.status, { code: r.code, message: r.message });
    }
    try {
      // The request's fields beside the packet, as the relayer's intake takes them; the rest is the AMDP wire packet.
      const { steps, mode, ...wire } = JSON.parse(await body(req)) as Record<string, unknown>;
      const signed = decodePacket(JSON.stringify(wire));
      await verifyStage1(domain, signed, { expectedApp: await reservedKey(signed.packet.pipeId) });
      intake.accepted.push({ signed, steps, mode });
      answer(202, { txId: signed.packet.txId, status: "accepted" });
      waiters.splice(0).forEach((w) => w(signed));
    } catch (err) {
      const code = err instanceof AmdpError ? err.code : "BAD_REQUEST";
      intake.refusals.push(code);
      answer(400, { code, message: (err as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  intake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return intake;
}
