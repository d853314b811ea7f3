import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rcompare, satisfies, valid, validRange } from "semver";
import { solcCacheDir } from "./loader";

/**
 * solc releases published as the npm `solc` package (every one since 0.4.0, 0.4.12 never was).
 * Used as is; the registry is only asked when no listed release satisfies a pragma (a newer release).
 */
const KNOWN_RELEASES: readonly string[] = [
  ...range("0.4", 0, 26).filter((v) => v !== "0.4.12"),
  ...range("0.5", 0, 17),
  ...range("0.6", 0, 12),
  ...range("0.7", 0, 6),
  ...range("0.8", 0, 37),
];

function range(minor: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${minor}.${from + i}`);
}

/** The `pragma solidity <range>;` directives of a source (comments removed first). */
export function solidityPragmas(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  return [...code.matchAll(/pragma\s+solidity\s+([^;]+);/g)].map((m) => m[1].trim());
}

/** A Solidity version range as npm semver reads it (`>=0.4.22 <0.9.0`, `^0.8.0`, `0.8.18`, `=0.7.6`). */
function toSemverRange(pragma: string): string | null {
  return validRange(pragma.replace(/\s+/g, " ").replace(/([<>=^~]+)\s+/g, "$1"));
}

export type VersionChoice = { version: string } | { error: string };

/**
 * The compiler for a set of pragmas (a file and everything it imports): the newest preferred version
 * that satisfies all of them (the project's configured compilers), else the newest release.
 */
export function chooseVersion(pragmas: string[], preferred: string[] = []): VersionChoice {
  const ranges: string[] = [];
  for (const p of new Set(pragmas)) {
    const r = toSemverRange(p);
    if (!r) return { error: `pragma solidity ${p} is not a version range` };
    ranges.push(r);
  }
  const fits = (v: string): boolean => ranges.every((r) => satisfies(v, r));
  const pick = (list: readonly string[]): string | undefined => [...list].sort(rcompare).find(fits);
  const chosen = pick(preferred.filter((v) => valid(v))) ?? pick(KNOWN_RELEASES) ?? pick(publishedReleases());
  if (chosen) return { version: chosen };
  return { error: `no solc release satisfies pragma solidity ${[...new Set(pragmas)].join(" and ")}` };
}

let published: string[] | undefined;
/** Releases of the npm `solc` package (asked once a day, cached; [] when the registry cannot be reached). */
function publishedReleases(): string[] {
  if (published) return published;
  const file = join(solcCacheDir(), "releases.json");
  try {
    const cached = JSON.parse(readFileSync(file, "utf8")) as { at: number; versions: string[] };
    if (Date.now() - cached.at < 86_400_000) return (published = cached.versions);
  } catch {
    // no cache yet
  }
  try {
    const out = execFileSync("npm", ["view", "solc", "versions", "--json"], { encoding: "utf8", timeout: 60_000 });
    published = (JSON.parse(out) as string[]).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
    if (!existsSync(solcCacheDir())) mkdirSync(solcCacheDir(), { recursive: true });
    writeFileSync(file, JSON.stringify({ at: Date.now(), versions: published }));
  } catch {
    published = [];
  }
  return published;
}
