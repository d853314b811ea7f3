import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { categoryOf } from "./dedupe";
import { AuditInputError } from "./errors";
import type { Finding } from "./types";

/**
 * A reviewed finding that does not block the gate. `line` or `function` (`name` or `Contract.name`)
 * says which one; `justification` is mandatory and goes into the report.
 */
export interface AcceptedEntry {
  detector: string;
  file: string;
  line?: number;
  function?: string;
  justification: string;
}

const entrySchema = z
  .object({
    detector: z.string().min(1),
    file: z.string().min(1),
    line: z.number().int().positive().optional(),
    function: z.string().min(1).optional(),
    justification: z.string().optional(),
  })
  .strict();

const fileSchema = z.union([z.array(z.unknown()), z.object({ accepted: z.array(z.unknown()) }).strict()]);

/**
 * Reads an accepted-findings file ({"accepted": [...]} or a bare array). Throws AuditInputError
 * naming the entry for a missing justification, an entry with neither line nor function, or a bad field.
 */
export function loadAccepted(path: string, root: string, required = false): AcceptedEntry[] {
  const abs = resolve(root, path);
  if (!existsSync(abs)) {
    if (required) throw new AuditInputError(`accepted-findings file does not exist: ${path}`);
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, "utf8"));
  } catch (cause) {
    throw new AuditInputError(`accepted-findings file ${path} is not valid JSON`, { cause });
  }
  return parseAccepted(json, path);
}

export function parseAccepted(json: unknown, source = "accepted findings"): AcceptedEntry[] {
  const top = fileSchema.safeParse(json);
  if (!top.success) throw new AuditInputError(`${source}: expected {"accepted": [ ... ]} or an array of entries`);
  const items = Array.isArray(top.data) ? top.data : top.data.accepted;
  return items.map((item, i) => {
    const parsed = entrySchema.safeParse(item);
    const where = `${source}: entry ${i + 1}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AuditInputError(`${where}: ${issue.path.join(".") || "entry"}: ${issue.message}`);
    }
    const e = parsed.data;
    const label =
      `${where} (${e.detector} in ` + `${e.file}${e.line ? `:${e.line}` : ""}${e.function ? ` ${e.function}` : ""})`;
    if (!e.justification || e.justification.trim() === "")
      throw new AuditInputError(`${label} has no justification: say why the finding is accepted`);
    if (e.line === undefined && e.function === undefined)
      throw new AuditInputError(`${label} needs a line or a function`);
    return { ...e, justification: e.justification.trim() };
  });
}

function matches(entry: AcceptedEntry, f: Finding): boolean {
  if (entry.file.replace(/^\.\//, "") !== f.file) return false;
  if (entry.detector !== f.detector && categoryOf(entry.detector) !== categoryOf(f.detector)) return false;
  if (entry.line !== undefined && entry.line !== f.line) return false;
  if (entry.function !== undefined) {
    const fn = f.function ?? "";
    if (entry.function !== fn && !fn.endsWith(`.${entry.function}`)) return false;
  }
  return true;
}

/** Marks findings matched by an entry as accepted; returns the entries that matched nothing. */
export function applyAccepted(findings: Finding[], entries: AcceptedEntry[]): AcceptedEntry[] {
  const used = new Set<AcceptedEntry>();
  for (const f of findings) {
    const entry = entries.find((e) => matches(e, f));
    if (!entry) continue;
    used.add(entry);
    f.status = "accepted";
    f.justification = entry.justification;
  }
  return entries.filter((e) => !used.has(e));
}
