import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve, isAbsolute } from "node:path";
import type { AstNode } from "./ast";
import { AuditCompileError, AuditImportError, AuditInputError } from "./errors";
import { Progress } from "./progress";
import { toReportPath } from "./sources";

interface SolcModule {
  version(): string;
  compile(input: string, callbacks: { import: (path: string) => { contents: string } | { error: string } }): string;
}

interface SolcError {
  severity: "error" | "warning" | "info";
  type: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: { file: string; start: number; end: number };
}

interface SolcOutput {
  errors?: SolcError[];
  sources?: Record<string, { id: number; ast: AstNode }>;
}

/** One compiled source unit. Local files have absolute unit names; packages keep their import name. */
export interface CompiledUnit {
  unitName: string;
  /** Absolute path of the file read for this unit. */
  absPath: string;
  /** Path relative to the audit root, forward slashes. */
  relPath: string;
  content: string;
  /** Byte offset of the start of each line (solc `src` offsets are UTF-8 byte offsets). */
  lineStarts: number[];
  ast: AstNode;
  /** solc's source index, the third field of every `src`. */
  index: number;
  /** True for the files the author asked to audit; imports are analysed but not reported on. */
  isTarget: boolean;
}

export interface CompileResult {
  solcVersion: string;
  units: CompiledUnit[];
  /** Distinct imported (not audited) files. */
  importedFiles: number;
  warnings: number;
}

let solcCache: SolcModule | undefined;
function loadSolc(): SolcModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  solcCache ??= require("solc") as SolcModule;
  return solcCache;
}

export function solcVersion(): string {
  return loadSolc().version();
}

/** Byte offsets of line starts, so that a `src` offset maps to a 1-based line. */
export function lineStartsOf(content: string): number[] {
  const bytes = Buffer.from(content, "utf8");
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of a byte offset. */
export function lineColumnOf(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

/** node_modules folders from each start folder up to the file system root, nearest first, deduplicated. */
export function nodeModulesDirs(starts: string[]): string[] {
  const found: string[] = [];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const nm = join(dir, "node_modules");
      if (!found.includes(nm) && existsSync(nm)) found.push(nm);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return found;
}

/** Resolves imports: absolute unit names (local files, relative imports) as files, others through node_modules. */
class ImportResolver {
  readonly resolved = new Map<string, string>();
  readonly missing = new Map<string, string[]>();

  constructor(private readonly searchDirs: string[]) {}

  read(unitName: string): { contents: string } | { error: string } {
    const tried = isAbsolute(unitName) ? [unitName] : this.searchDirs.map((d) => join(d, unitName));
    for (const candidate of tried) {
      if (existsSync(candidate) && statSync(candidate).isFile()) {
        this.resolved.set(unitName, candidate);
        return { contents: readFileSync(candidate, "utf8") };
      }
    }
    this.missing.set(unitName, tried);
    return { error: `not found (looked in ${tried.join(", ")})` };
  }
}

/**
 * solc-js (the WebAssembly build) runs out of memory on a few hundred sources in one run and is
 * unusable afterwards, so large trees are compiled in runs of at most this many audited files.
 */
export const MAX_FILES_PER_RUN = 64;

/**
 * Compiles `files` (absolute paths) with the npm solc to typed ASTs (analysis only, no bytecode).
 * Throws AuditImportError for an unresolvable import and AuditCompileError for any solc error,
 * each naming file:line:column relative to `root`. Trees larger than MAX_FILES_PER_RUN are compiled
 * in several runs whose node ids and source indices are shifted apart, then merged.
 */
export function compileSources(
  files: string[],
  root: string,
  progress = Progress.silent(),
  maxFilesPerRun = MAX_FILES_PER_RUN,
): CompileResult {
  const solc = loadSolc();
  progress.phase(`compiling ${files.length} files with solc ${solc.version()}`);
  const units: CompiledUnit[] = [];
  let warnings = 0;
  for (let start = 0, run = 0; start < files.length; start += maxFilesPerRun, run++) {
    const chunk = files.slice(start, start + maxFilesPerRun);
    const result = compileRun(solc, chunk, root, progress);
    // Runs restart ids and source indices at 0: move each run into its own range.
    const indexBase = units.reduce((max, u) => Math.max(max, u.index + 1), 0);
    for (const unit of result.units) units.push(run === 0 ? unit : shiftUnit(unit, run * ID_STRIDE, indexBase));
    warnings += result.warnings;
    progress.step("compiling", start + chunk.length, files.length, "files");
  }
  const importedFiles = new Set(units.filter((u) => !u.isTarget).map((u) => u.absPath)).size;
  progress.phase(`compiled ${files.length} files and ${importedFiles} imported files`);
  return { solcVersion: solc.version(), units, importedFiles, warnings };
}

function compileRun(
  solc: SolcModule,
  files: string[],
  root: string,
  progress: Progress,
): { units: CompiledUnit[]; warnings: number } {
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[f] = { content: readFileSync(f, "utf8") };
  const resolver = new ImportResolver(nodeModulesDirs([root, ...new Set(files.map((f) => dirname(f)))]));
  for (const f of files) resolver.resolved.set(f, f);
  const input = {
    language: "Solidity",
    sources,
    settings: { evmVersion: "cancun", outputSelection: { "*": { "": ["ast"], "*": [] } } },
  };
  let imports = 0;
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (path) => {
        progress.tick("compiling: imports resolved: {n}", ++imports);
        return resolver.read(path);
      },
    }),
  ) as SolcOutput;
  const contents = (unit: string): string | undefined =>
    sources[unit]?.content ??
    (resolver.resolved.has(unit) ? readFileSync(resolver.resolved.get(unit)!, "utf8") : undefined);
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throwCompileErrors(errors, resolver, root, contents);
  const targets = new Set(files);
  const units = Object.entries(output.sources ?? {}).map(([unitName, s]): CompiledUnit => {
    const absPath = resolver.resolved.get(unitName) ?? unitName;
    const content = contents(unitName) ?? "";
    return {
      unitName,
      absPath,
      relPath: toReportPath(root, absPath),
      content,
      lineStarts: lineStartsOf(content),
      ast: s.ast,
      index: s.id,
      isTarget: targets.has(unitName),
    };
  });
  return { units, warnings: (output.errors ?? []).filter((e) => e.severity === "warning").length };
}

/** Distance between the node-id ranges of two compile runs (a run of 64 files stays far below it). */
const ID_STRIDE = 10_000_000;
/** Fields that hold node ids (builtins use ids near 2^32 and are left alone). */
const ID_FIELDS = new Set(["id", "referencedDeclaration", "scope", "declaration"]);
const ID_LIST_FIELDS = new Set([
  "baseFunctions",
  "baseModifiers",
  "linearizedBaseContracts",
  "contractDependencies",
  "usedErrors",
  "usedEvents",
  "internalFunctionIDs",
]);
const SRC_FIELDS = new Set(["src", "nameLocation", "nativeSrc"]);

/** A copy of a unit whose node ids are shifted by `idOffset` and source indices by `indexBase`. */
function shiftUnit(unit: CompiledUnit, idOffset: number, indexBase: number): CompiledUnit {
  const shiftId = (v: unknown): unknown => (typeof v === "number" && v >= 0 && v < 2 ** 31 ? v + idOffset : v);
  const shiftSrc = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    const parts = v.split(":");
    if (parts.length !== 3 || Number(parts[2]) < 0) return v;
    return `${parts[0]}:${parts[1]}:${Number(parts[2]) + indexBase}`;
  };
  const visit = (value: unknown, key = ""): unknown => {
    if (Array.isArray(value)) return ID_LIST_FIELDS.has(key) ? value.map(shiftId) : value.map((v) => visit(v));
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = visit(v, k);
      return out;
    }
    if (ID_FIELDS.has(key)) return shiftId(value);
    if (SRC_FIELDS.has(key)) return shiftSrc(value);
    return value;
  };
  return { ...unit, ast: visit(unit.ast) as AstNode, index: unit.index + indexBase };
}

/** `file:line:column` of a solc source location, relative to root. */
function locate(
  loc: SolcError["sourceLocation"],
  root: string,
  resolver: ImportResolver,
  contents: (unit: string) => string | undefined,
): string | undefined {
  if (!loc) return undefined;
  const text = contents(loc.file);
  const path = toReportPath(root, resolver.resolved.get(loc.file) ?? loc.file);
  if (text === undefined || loc.start < 0) return path;
  const { line, column } = lineColumnOf(lineStartsOf(text), loc.start);
  return `${path}:${line}:${column}`;
}

function throwCompileErrors(
  errors: SolcError[],
  resolver: ImportResolver,
  root: string,
  contents: (unit: string) => string | undefined,
): never {
  const missingImports: { written: string; line: string }[] = [];
  const lines: string[] = [];
  for (const e of errors) {
    const where = locate(e.sourceLocation, root, resolver, contents);
    const notFound = /^Source "(.+)" not found/.exec(e.message);
    if (notFound && resolver.missing.has(notFound[1])) {
      const written = importTextAt(e.sourceLocation, contents) ?? notFound[1];
      const tried = resolver.missing.get(notFound[1])!.map((p) => toReportPath(root, p));
      const at = where ? ` imported at ${where};` : "";
      missingImports.push({ written, line: `"${written}" not found:${at} looked in ${tried.join(", ")}` });
    } else lines.push(`${where ? `${where}: ` : ""}${e.type}: ${e.message}`);
  }
  if (missingImports.length > 0) {
    const names = missingImports.map((m) => `"${m.written}"`).join(", ");
    throw new AuditImportError(`missing import ${names}`, { details: missingImports.map((m) => m.line).join("\n") });
  }
  if (lines.length === 0) throw new AuditInputError("solc failed without a message");
  const count = `${lines.length} error${lines.length > 1 ? "s" : ""}`;
  throw new AuditCompileError(`solc could not compile the sources (${count}):`, { details: lines.join("\n") });
}

/** The import path as the author wrote it, read from the import directive solc pointed at. */
function importTextAt(
  loc: SolcError["sourceLocation"],
  contents: (unit: string) => string | undefined,
): string | undefined {
  if (!loc) return undefined;
  const text = contents(loc.file);
  if (text === undefined) return undefined;
  const directive = Buffer.from(text, "utf8").subarray(loc.start, loc.end).toString("utf8");
  return /["']([^"']+)["']/.exec(directive)?.[1];
}
