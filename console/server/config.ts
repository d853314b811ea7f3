/**
 * What the console reads: the governance chain and its contracts, the sub-chains (receipt checks), the auditor
 * index (a relayer's SQLite file, opened read-only), the auditor API (proxied for signed exports) and the relayers'
 * health URLs. Built from a local consortium's `consortium.json`, or given whole.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Address } from "viem";

export interface ConsoleConfig {
  governance: { url: string; chainId: number; contracts: Record<string, Address> };
  subchains: { chainId: number; url: string; name: string }[];
  /** The auditor index (SQLite) the console reads transactions and events from. */
  indexDb: string;
  /** The auditor API (e.g. `http://127.0.0.1:9464/auditor`) signed exports are forwarded to; null: none. */
  auditorApi: string | null;
  relayers: { name: string; healthUrl: string }[];
}

interface Manifest {
  runDir: string;
  chains: Record<"governance" | "a" | "b", { url: string; chainId: number; name: string }>;
  governance: Record<string, Address>;
  business: Record<"a" | "b", { name: string; slug: string; ports: { ops: number } }>;
  auditorApi: string | null;
}

/** The console's view of a local consortium run (`<run dir>/consortium.json`, see docs/local-consortium.md). */
export function configFromManifest(path: string): ConsoleConfig {
  if (!existsSync(path))
    throw new Error(`no consortium manifest at ${path} (run \`npm start\` first, or give --manifest)`);
  const m = JSON.parse(readFileSync(path, "utf8")) as Manifest;
  const sides = [m.business.a, m.business.b];
  const served = sides.find((s) => m.auditorApi?.includes(`:${s.ports.ops}/`)) ?? m.business.a;
  return {
    governance: { url: m.chains.governance.url, chainId: m.chains.governance.chainId, contracts: m.governance },
    subchains: [m.chains.a, m.chains.b].map((c) => ({ chainId: c.chainId, url: c.url, name: c.name })),
    indexDb: join(m.runDir, "state", `auditor-${served.slug}.sqlite`),
    auditorApi: m.auditorApi,
    relayers: sides.map((s) => ({ name: s.name, healthUrl: `http://127.0.0.1:${s.ports.ops}/health` })),
  };
}

/** The newest local run's manifest under `runsDir` (`.ccgp/local` by default), or null. */
export function newestManifest(runsDir: string): string | null {
  if (!existsSync(runsDir)) return null;
  const runs = readdirSync(runsDir)
    .sort()
    .reverse()
    .map((d) => resolve(runsDir, d, "consortium.json"));
  return runs.find((p) => existsSync(p)) ?? null;
}
