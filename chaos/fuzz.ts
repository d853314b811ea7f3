/**
 * A fuzzer of AMDP requests: mutations of a packet the relayer already accepted (so a mutation that still means the
 * same packet is a replay), sent to the app intake (plain HTTP) and to the peer endpoint (mutual TLS, with the source
 * relayer's certificate). Every answer must be a refusal with a named error: a 4xx status and a `code`. A 5xx, a
 * dropped connection or a 2xx is a finding.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import type { Rng } from "./rng";

export interface FuzzTarget {
  name: "intake" | "peer";
  url: string;
  /** A wire packet (JSON object) the target has already accepted. */
  base: Record<string, unknown>;
  tls?: { cert: string; key: string; ca: string };
}

export interface FuzzResult {
  sent: number;
  refused: number;
  /** Refusals by code. */
  codes: Record<string, number>;
  /** Answers that were not a named refusal (status and a sample body), at most 20 kept. */
  findings: Array<{ target: string; mutation: string; status: number; body: string }>;
  notRefused: number;
  /** Per target: requests sent, the seconds from its first send to its last answer, and their rate. */
  rates: Partial<Record<FuzzTarget["name"], FuzzRate>>;
}

export interface FuzzRate {
  sent: number;
  seconds: number;
  perSecond: number;
}

const HEX_FIELDS = ["txId", "pipeId", "payloadHash", "contractName", "selector", "targetService", "signer"];

/** One mutated request body (text) and the name of its mutation. */
export function mutate(base: Record<string, unknown>, rng: Rng): { name: string; text: string } {
  const clone = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  const packet = (clone.packet ?? {}) as Record<string, unknown>;
  const signatures = (clone.signatures ?? {}) as Record<string, unknown>;
  const flipHex = (value: unknown): string => {
    const text = String(value);
    if (text.length < 4) return `${text}0`;
    const at = rng.int(2, text.length - 1);
    const digit = "0123456789abcdef"[(parseInt(text[at]!, 16) + rng.int(1, 15)) % 16] ?? "0";
    return text.slice(0, at) + digit + text.slice(at + 1);
  };
  switch (rng.int(0, 9)) {
    case 0: {
      const field = rng.pick(HEX_FIELDS);
      packet[field] = flipHex(packet[field]);
      return { name: `flip packet.${field}`, text: JSON.stringify(clone) };
    }
    case 1: {
      const which = rng.pick(Object.keys(signatures).length > 0 ? Object.keys(signatures) : ["app"]);
      signatures[which] = flipHex(signatures[which]);
      return { name: `flip signatures.${which}`, text: JSON.stringify(clone) };
    }
    case 2:
      clone.payload = flipHex(clone.payload);
      return { name: "flip payload", text: JSON.stringify(clone) };
    case 3: {
      const text = JSON.stringify(clone);
      return { name: "truncated", text: text.slice(0, rng.int(0, text.length - 1)) };
    }
    case 4:
      // Over the payload limit (64 KiB locally), under the body limit: refused by name, not by a closed connection.
      clone.payload = `0x${"ab".repeat(rng.int(65_600, 70_000))}`;
      return { name: "oversized payload", text: JSON.stringify(clone) };
    case 5: {
      const field = rng.pick(["sequence", "deadline", "sourceInstitution", "operation", "txId"]);
      packet[field] = rng.pick([null, true, [], {}, -1, "x", 1e300, "0x"]);
      return { name: `wrong type packet.${field}`, text: JSON.stringify(clone) };
    }
    case 6: {
      const field = rng.pick(Object.keys(packet));
      delete packet[field];
      return { name: `missing packet.${field}`, text: JSON.stringify(clone) };
    }
    case 7:
      return { name: "not an object", text: rng.pick(["[]", "null", "42", '"packet"', "{", "", "\u0000\u0001"]) };
    case 8:
      packet.sequence = String(BigInt(String(packet.sequence ?? "1")) + BigInt(rng.int(1, 1000)));
      return { name: "sequence changed (signature no longer matches)", text: JSON.stringify(clone) };
    default:
      return { name: "replay", text: JSON.stringify(base) };
  }
}

function send(target: FuzzTarget, agent: HttpAgent, text: string): Promise<{ status: number; body: string }> {
  const request = target.tls ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      target.url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
        timeout: 30_000,
        ...(target.tls ? { checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c.length < 4096 ? c : ""));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", () => resolve({ status: 0, body: "response error" }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, body: `transport: ${error.message}` }));
    req.end(text);
  });
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Sends `count` mutated requests to the target, `concurrency` at a time. */
export async function fuzz(
  target: FuzzTarget,
  count: number,
  rng: Rng,
  concurrency = 16,
  result?: FuzzResult,
): Promise<FuzzResult> {
  const out: FuzzResult = result ?? { sent: 0, refused: 0, codes: {}, findings: [], notRefused: 0, rates: {} };
  const began = performance.now();
  let sent = 0;
  const agent = target.tls
    ? new HttpsAgent({
        keepAlive: true,
        cert: readFileSync(target.tls.cert),
        key: readFileSync(target.tls.key),
        ca: readFileSync(target.tls.ca),
      })
    : new HttpAgent({ keepAlive: true });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const m = mutate(target.base, rng);
      let answer = await send(target, agent, m.text);
      // A connection the server closed after an early refusal (its body unread): that refusal was sent; ask again.
      if (answer.status === 0) answer = await send(target, agent, m.text);
      out.sent += 1;
      sent += 1;
      let code: string | undefined;
      try {
        const body = JSON.parse(answer.body) as { code?: string; error?: { code?: string } };
        code = body.error?.code ?? body.code;
      } catch {
        code = undefined;
      }
      if (answer.status >= 400 && answer.status < 500 && typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)) {
        out.refused += 1;
        out.codes[code] = (out.codes[code] ?? 0) + 1;
      } else {
        out.notRefused += 1;
        if (out.findings.length < 20)
          out.findings.push({
            target: target.name,
            mutation: m.name,
            status: answer.status,
            body: answer.body.slice(0, 300),
          });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  const seconds = (performance.now() - began) / 1000;
  out.rates[target.name] = { sent, seconds: round1(seconds), perSecond: round1(sent / Math.max(seconds, 0.001)) };
  return out;
}
