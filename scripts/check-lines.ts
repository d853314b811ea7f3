/**
 * `npm run lint:lines`: no TypeScript line of production code is over 120 columns. Prettier wraps code at 120 but
 * not comments, strings or templates, so this checks what it leaves. A line holding a URL is not counted (a URL is
 * not split). A file may keep the long lines `scripts/check-lines.allow.json` grants it, each grant with its reason;
 * a file with more fails, naming each line, and a grant no longer used is reported so it can be lowered.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const MAX = 120;
const ROOTS = ["relayer", "lib", "auditor", "audit", "scripts", "console/server"];
const SKIP_DIRS = new Set(["node_modules", "dist", "test"]);
const repo = join(__dirname, "..");

interface Grant {
  lines: number;
  reason: string;
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* sources(path);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".generated.ts")) yield path;
  }
}

function longLines(path: string): { line: number; length: number }[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((text, i) =>
      text.length > MAX && !/https?:\/\//.test(text) ? [{ line: i + 1, length: text.length }] : [],
    );
}

function main(): void {
  const grants = JSON.parse(readFileSync(join(__dirname, "check-lines.allow.json"), "utf8")) as Record<string, Grant>;
  const failures: string[] = [];
  const unused: string[] = [];
  for (const root of ROOTS) {
    for (const path of sources(join(repo, root))) {
      const file = relative(repo, path);
      const long = longLines(path);
      const allowed = grants[file]?.lines ?? 0;
      if (long.length > allowed) {
        for (const { line, length } of long) failures.push(`${file}:${line}: ${length} columns (max ${MAX})`);
        if (allowed > 0) failures.push(`  (${file} may keep ${allowed}: ${grants[file]!.reason})`);
      } else if (long.length < allowed) unused.push(`${file}: ${long.length} long lines, allowed ${allowed}`);
    }
  }
  for (const note of unused) console.log(`lint:lines: lower the grant in scripts/check-lines.allow.json: ${note}`);
  if (failures.length > 0) {
    console.error(
      `lint:lines: lines over ${MAX} columns (wrap the comment, split the string):\n${failures.join("\n")}`,
    );
    process.exitCode = 1;
  }
}

main();
