import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, posix } from "node:path";
import type { AstNode } from "./ast";
import { AuditCompileError, AuditError, AuditImportError, AuditInputError } from "./errors";
import { detectProject, projectNodeModules, type Project, type Remapping } from "./project";
import { Progress } from "./progress";
import { normaliseLegacyAst } from "./solc/legacy-ast";
import { loadSolc, type SolcModule } from "./solc/loader";
import { chooseVersion, solidityPragmas } from "./solc/releases";
import { toReportPath } from "./sources";

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

/** An audited file that did not compile, with solc's (or the import resolver's) message. */
export interface CompileFailure {
  file: string;
  message: string;
}

/** One solc run as it happened, for tools that read a build-info (Slither through crytic-compile). */
export interface CompileRun {
  solcLongVersion: string;
  solcVersion: string;
  input: { language: string; sources: Record<string, { content: string }>; settings: Record<string, unknown> };
  output: { sources: Record<string, { id: number; ast: AstNode }> };
  /** Unit name -> absolute path of the file read for it. */
  paths: Record<string, string>;
}

export interface CompileResult {
  /** The compiler versions used, comma-separated (one for most projects). */
  solcVersion: string;
  /** Audited file (report path) -> compiler version it was compiled with. */
  versions: Record<string, string>;
  units: CompiledUnit[];
  /** Distinct imported (not audited) files. */
  importedFiles: number;
  warnings: number;
  /** Audited files that did not compile; the others were still compiled. */
  failures: CompileFailure[];
  runs: CompileRun[];
  project: Project;
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

/**
 * Resolves imports the way the audited project does: absolute unit names (local files, relative and
 * remapped imports) as files; other names through the project's node_modules folders (from the
 * importing files' folders up to the project root, never above it), then from the project root
 * (Hardhat's `contracts/X.sol` style). The sandbox's own dependencies are never searched.
 */
class ImportResolver {
  readonly resolved = new Map<string, string>();
  readonly missing = new Map<string, string[]>();

  constructor(
    private readonly searchDirs: string[],
    private readonly project: Project,
  ) {}

  candidates(unitName: string): string[] {
    if (isAbsolute(unitName)) return [unitName];
    return [...this.searchDirs.map((d) => join(d, unitName)), join(this.project.root, unitName)];
  }

  read(unitName: string): { contents: string } | { error: string } {
    const tried = this.candidates(unitName);
    for (const candidate of tried) {
      if (existsSync(candidate) && statSync(candidate).isFile()) {
        this.resolved.set(unitName, candidate);
        this.missing.delete(unitName);
        return { contents: readFileSync(candidate, "utf8") };
      }
    }
    this.missing.set(unitName, tried);
    return { error: `not found (looked in ${tried.join(", ")})` };
  }

  /** The project's remappings as solc takes them. */
  remappings(): string[] {
    return this.project.remappings.map((r) => `${r.context ? `${r.context}:` : ""}${r.prefix}=${r.target}`);
  }

  /** The unit name solc gives an import written as `path` in unit `from` (relative, then remappings). */
  unitNameOf(path: string, from: string): string {
    if (path.startsWith("./") || path.startsWith("../")) {
      const joined = posix.normalize(posix.join(posix.dirname(from.split("\\").join("/")), path));
      return joined;
    }
    let best: Remapping | undefined;
    for (const r of this.project.remappings)
      if (path.startsWith(r.prefix) && from.startsWith(r.context) && (!best || r.prefix.length > best.prefix.length))
        best = r;
    return best ? best.target + path.slice(best.prefix.length) : path;
  }
}

const IMPORT = /import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/g;

function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  return [...code.matchAll(IMPORT)].map((m) => m[1]);
}

/** Unit names a file reaches through its imports (itself included), as far as they can be read. */
function importClosure(file: string, resolver: ImportResolver, cache: Map<string, string | null>): Set<string> {
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length > 0) {
    const unit = stack.pop()!;
    if (seen.has(unit)) continue;
    seen.add(unit);
    if (!cache.has(unit)) {
      const r = resolver.read(unit);
      cache.set(unit, "contents" in r ? r.contents : null);
    }
    const text = cache.get(unit);
    if (text) for (const p of importsOf(text)) stack.push(resolver.unitNameOf(p, unit));
  }
  return seen;
}

/**
 * solc-js (the WebAssembly build) runs out of memory on a few hundred sources in one run and is
 * unusable afterwards, so large trees are compiled in runs of at most this many audited files.
 */
export const MAX_FILES_PER_RUN = 64;

/**
 * Compiles `files` (absolute paths) to typed ASTs (analysis only, no bytecode), each with the compiler
 * its pragmas (and those of everything it imports) ask for: the project's configured version when it
 * fits, else the newest release that does (see solc/releases.ts). A file that does not compile is
 * listed in `failures` with solc's message and the others are still compiled; when none compiles,
 * throws AuditImportError (an unresolvable import) or AuditCompileError naming file:line:column
 * relative to `root`. Runs are merged with their node ids and source indices shifted apart.
 */
export function compileSources(
  files: string[],
  root: string,
  progress = Progress.silent(),
  maxFilesPerRun = MAX_FILES_PER_RUN,
  project: Project = detectProject(files[0] ?? root),
): CompileResult {
  const resolver = new ImportResolver(projectNodeModules(project, [...new Set(files.map((f) => dirname(f)))]), project);
  const texts = new Map<string, string | null>();
  const closures = new Map(files.map((f) => [f, importClosure(f, resolver, texts)]));
  const failures: CompileFailure[] = [];
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const pragmas = [...closures.get(f)!].flatMap((u) => solidityPragmas(texts.get(u) ?? ""));
    const choice = chooseVersion(pragmas, project.compilers);
    if ("error" in choice) failures.push({ file: toReportPath(root, f), message: choice.error });
    else groups.set(choice.version, [...(groups.get(choice.version) ?? []), f]);
  }
  const units: CompiledUnit[] = [];
  const runs: CompileRun[] = [];
  const versions: Record<string, string> = {};
  let warnings = 0;
  let done = 0;
  const errorsByFile: { file: string; error: AuditInputError }[] = [];
  for (const [version, group] of [...groups].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))) {
    let solc: SolcModule;
    try {
      progress.phase(`compiling ${group.length} file${group.length === 1 ? "" : "s"} with solc ${version}`);
      solc = loadSolc(version);
    } catch (err) {
      const message = err instanceof AuditError ? err.message : String(err);
      for (const f of group) failures.push({ file: toReportPath(root, f), message });
      continue;
    }
    for (let start = 0; start < group.length; start += maxFilesPerRun) {
      const chunk = group.slice(start, start + maxFilesPerRun);
      const result = compileIsolating(solc, chunk, root, resolver, closures, progress);
      for (const e of result.failed) {
        failures.push({ file: toReportPath(root, e.file), message: e.error.message });
        errorsByFile.push(e);
      }
      if (result.run) {
        // Runs restart ids and source indices at 0: move each run into its own range.
        const indexBase = units.reduce((max, u) => Math.max(max, u.index + 1), 0);
        const shift = runs.length;
        for (const unit of result.units) units.push(shift === 0 ? unit : shiftUnit(unit, shift * ID_STRIDE, indexBase));
        runs.push(result.run);
        for (const f of result.compiled) versions[toReportPath(root, f)] = version;
      }
      warnings += result.warnings;
      done += chunk.length;
      progress.step("compiling", done, files.length, "files");
    }
  }
  if (units.length === 0 && files.length > 0) throwNothingCompiled(errorsByFile, failures);
  const importedFiles = new Set(units.filter((u) => !u.isTarget).map((u) => u.absPath)).size;
  progress.phase(
    `compiled ${files.length - failures.length} files and ${importedFiles} imported files` +
      (failures.length > 0 ? `; ${failures.length} did not compile` : ""),
  );
  failures.sort((a, b) => a.file.localeCompare(b.file));
  const used = [...new Set(runs.map((r) => r.solcVersion))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return { solcVersion: used.join(", "), versions, units, importedFiles, warnings, failures, runs, project };
}

/** When nothing compiled: the single error (as before, with its type) or every file's message. */
function throwNothingCompiled(errors: { file: string; error: AuditInputError }[], failures: CompileFailure[]): never {
  if (failures.length === errors.length && errors.length > 0) {
    const first = errors[0].error;
    if (errors.length === 1 || errors.every((e) => e.error.message === first.message)) throw first;
    const Type = errors.every((e) => e.error instanceof AuditImportError) ? AuditImportError : AuditCompileError;
    throw new Type(`no audited file compiled (${errors.length} files):`, {
      details: errors.map((e) => e.error.message).join("\n"),
    });
  }
  throw new AuditCompileError(`no audited file compiled (${failures.length} files):`, {
    details: failures.map((f) => `${f.file}: ${f.message}`).join("\n"),
  });
}

interface IsolatedRun {
  units: CompiledUnit[];
  run?: CompileRun;
  compiled: string[];
  failed: { file: string; error: AuditInputError }[];
  warnings: number;
}

/**
 * Compiles `files` together; when solc reports errors, the files whose imports reach an erroneous
 * source are set aside (each with its message) and the rest compiled again.
 */
function compileIsolating(
  solc: SolcModule,
  files: string[],
  root: string,
  resolver: ImportResolver,
  closures: Map<string, Set<string>>,
  progress: Progress,
): IsolatedRun {
  const failed: IsolatedRun["failed"] = [];
  let remaining = files;
  while (remaining.length > 0) {
    const attempt = compileRun(solc, remaining, root, resolver, progress);
    if (!("errors" in attempt)) return { ...attempt, compiled: remaining, failed };
    const errorFiles = new Set(attempt.errors.map((e) => e.sourceLocation?.file).filter((f): f is string => !!f));
    const reaches = (f: string): boolean =>
      [...closures.get(f)!].some((u) => errorFiles.has(u) || resolver.missing.has(u));
    let bad = remaining.filter(reaches).map((f) => {
      const own = attempt.errors.filter((e) => !e.sourceLocation || closures.get(f)!.has(e.sourceLocation.file));
      return { file: f, error: describeErrors(own, resolver, root, attempt.contents) };
    });
    if (bad.length === 0) {
      // Errors without a location: find the culprits one file at a time.
      bad = remaining.flatMap((f) => {
        const alone = remaining.length === 1 ? attempt : compileRun(solc, [f], root, resolver, progress);
        return "errors" in alone
          ? [{ file: f, error: describeErrors(alone.errors, resolver, root, alone.contents) }]
          : [];
      });
      if (bad.length === 0)
        bad = remaining.map((file) => ({
          file,
          error: describeErrors(attempt.errors, resolver, root, attempt.contents),
        }));
    }
    failed.push(...bad);
    remaining = remaining.filter((f) => !bad.some((b) => b.file === f));
  }
  return { units: [], compiled: [], failed, warnings: 0 };
}

function compileRun(
  solc: SolcModule,
  files: string[],
  root: string,
  resolver: ImportResolver,
  progress: Progress,
):
  | { units: CompiledUnit[]; run: CompileRun; warnings: number }
  | { errors: SolcError[]; contents: (unit: string) => string | undefined } {
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[f] = { content: readFileSync(f, "utf8") };
  for (const f of files) resolver.resolved.set(f, f);
  const version = solc.version();
  const short = /^(\d+\.\d+\.\d+)/.exec(version)?.[1] ?? version;
  const settings: Record<string, unknown> = {
    outputSelection: { "*": { "": ["ast"], "*": [] } },
    remappings: resolver.remappings(),
  };
  // Older compilers refuse an EVM version they do not know; the AST does not depend on it.
  if (atLeast(short, "0.8.24")) settings.evmVersion = "cancun";
  const input = { language: "Solidity", sources, settings };
  let imports = 0;
  const read: Record<string, string> = {};
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (path) => {
        progress.tick("compiling: imports resolved: {n}", ++imports);
        const r = resolver.read(path);
        if ("contents" in r) read[path] = r.contents;
        return r;
      },
    }),
  ) as SolcOutput;
  const contents = (unit: string): string | undefined =>
    sources[unit]?.content ??
    read[unit] ??
    (resolver.resolved.has(unit) ? readFileSync(resolver.resolved.get(unit)!, "utf8") : undefined);
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) return { errors, contents };
  const targets = new Set(files);
  const outSources = output.sources ?? {};
  const units = Object.entries(outSources).map(([unitName, s]): CompiledUnit => {
    if (!s.ast)
      throw new AuditCompileError(`solc ${short} gave no JSON AST for ${unitName} (the sandbox needs solc >= 0.4.12)`);
    normaliseLegacyAst(s.ast);
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
  const run: CompileRun = {
    solcLongVersion: version.replace(/\.Emscripten\.clang$/, ""),
    solcVersion: short,
    input: { ...input, sources: Object.fromEntries(units.map((u) => [u.unitName, { content: u.content }])) },
    output: { sources: Object.fromEntries(Object.entries(outSources).map(([k, s]) => [k, { id: s.id, ast: s.ast }])) },
    paths: Object.fromEntries(units.map((u) => [u.unitName, u.absPath])),
  };
  return { units, run, warnings: (output.errors ?? []).filter((e) => e.severity === "warning").length };
}

function atLeast(version: string, min: string): boolean {
  return version.localeCompare(min, "en", { numeric: true }) >= 0;
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

/**
 * The error (not thrown) for a failed file: missing imports named with where they were looked for, else solc's
 * messages.
 */
function describeErrors(
  errors: SolcError[],
  resolver: ImportResolver,
  root: string,
  contents: (unit: string) => string | undefined,
): AuditInputError {
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
    return new AuditImportError(`missing import ${names}`, { details: missingImports.map((m) => m.line).join("\n") });
  }
  if (lines.length === 0) return new AuditInputError("solc failed without a message");
  const count = `${lines.length} error${lines.length > 1 ? "s" : ""}`;
  return new AuditCompileError(`solc could not compile the sources (${count}):`, { details: lines.join("\n") });
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
