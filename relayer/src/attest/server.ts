/**
 * An attester's endpoint: `POST /v1/attestations` with an {@link AttestationRequest} answers
 * `{ signature, signer, chainId, attestation }` (200); `POST /v1/attester-set` with `{ subchain }` answers the
 * voted set change for that sub-chain's gateway, `{ signature, signer, chainId, gateway, change }`. Either may answer
 * `{ error: { code, message } }` (400 bad request, 409 not opened, no longer active or no set voted, 500 when the
 * governance chain could not be read). `GET /health` answers `{ role, attester, ready, presigned, onDemand, held }`,
 * 200 once a started attester has read the ledger (503 before). Plain HTTP on the host given: put it behind the
 * institution's TLS front when it leaves the machine.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, sendError, sendJson } from "../../../lib/infra/http";
import { AttestationRefused, type Attester } from "./attester";

const MAX_BODY_BYTES = 512 * 1024;

const ROUTES: Record<string, (attester: Attester, body: unknown) => Promise<unknown>> = {
  "/v1/attestations": (attester, body) => attester.attest(body),
  "/v1/attester-set": (attester, body) => attester.signSetChange(body),
};

export interface RunningAttesterServer {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

export async function startAttesterServer(
  attester: Attester,
  opts: { host?: string; port?: number } = {},
): Promise<RunningAttesterServer> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/health")
      return sendJson(res, attester.ready ? 200 : 503, {
        role: "attester",
        attester: attester.address,
        ready: attester.ready,
        ...attester.stats,
      });
    const route = req.method === "POST" ? ROUTES[req.url ?? ""] : undefined;
    if (route === undefined) return sendError(res, 404, "NOT_FOUND", `no route ${req.method} ${req.url}`);
    readBody(req, MAX_BODY_BYTES)
      .then((body) => route(attester, JSON.parse(body.toString("utf8")) as unknown))
      .then((signed) => sendJson(res, 200, signed))
      .catch((error: unknown) => {
        if (error instanceof AttestationRefused)
          return sendError(res, error.code === "ATTESTATION_BAD_REQUEST" ? 400 : 409, error.code, error.message);
        if (error instanceof SyntaxError)
          return sendError(res, 400, "ATTESTATION_BAD_REQUEST", `the body is not JSON: ${error.message}`);
        sendError(res, 500, "ATTESTER_UNAVAILABLE", error instanceof Error ? error.message : String(error));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
