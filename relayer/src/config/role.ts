/**
 * The config file of a process an institution runs beside its relayers (the independent verifier, the attester):
 * one JSON object, refused at start naming each bad field, key material never accepted, a keystore path resolved
 * against the file's own directory (and required to exist).
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { LOG_FORMATS, LOG_LEVELS } from "../../../lib/infra/log";
import { ConfigError, readConfigJson, type ConfigIssue } from "./load";
import type { KeySource } from "./schema";
import { findSecrets } from "./secrets";

const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`), "config");

export interface RoleConfigOptions {
  /** The file it came from, in the refusal's message. */
  source?: string;
  /** What relative paths are resolved against (the config's own directory). */
  baseDir?: string;
}

/**
 * Validates `raw` against `schema`; `more` adds the checks the schema cannot say (each issue named by its path).
 * Throws a `ConfigError` listing every bad field.
 */
export function parseRoleConfig<S extends z.ZodType<{ key: KeySource }>>(
  schema: S,
  raw: unknown,
  options: RoleConfigOptions = {},
  more: (config: z.output<S>) => ConfigIssue[] = () => [],
): z.output<S> {
  const source = options.source ?? "(inline)";
  const secrets = typeof raw === "object" && raw !== null ? findSecrets(raw as Record<string, unknown>) : [];
  if (secrets.length > 0) throw new ConfigError("CONFIG_INVALID", source, secrets);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.flatMap((i) =>
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => ({ path: pathOf([...i.path, k]), message: "unknown field" }))
        : [{ path: pathOf(i.path), message: i.message }],
    );
    throw new ConfigError("CONFIG_INVALID", source, issues);
  }
  const config = parsed.data;
  const issues = more(config);
  if (issues.length > 0) throw new ConfigError("CONFIG_INVALID", source, issues);
  if (config.key.kind === "keystore") {
    const path = isAbsolute(config.key.path)
      ? config.key.path
      : resolve(options.baseDir ?? process.cwd(), config.key.path);
    if (!existsSync(path))
      throw new ConfigError("CONFIG_INVALID", source, [
        { path: "config.key.path", message: `file not found: ${path}` },
      ]);
    config.key = { ...config.key, path };
  }
  return config;
}

/** Reads the JSON file at `path` and parses it with `parse` (given the file as source and its directory). */
export function loadRoleConfig<T>(path: string, parse: (raw: unknown, options: RoleConfigOptions) => T): T {
  const absolute = resolve(path);
  return parse(readConfigJson(absolute), { source: absolute, baseDir: dirname(absolute) });
}

/** The log settings every such process takes (`log`), with their defaults. */
export const roleLogSchema = z
  .strictObject({ level: z.enum(LOG_LEVELS).default("info"), format: z.enum(LOG_FORMATS).default("auto") })
  .default({ level: "info", format: "auto" });

/** What a process's start-up (`runProcess`) takes: the config, or its refusal as `<role> config ... refused`. */
export function configOrRefusal<T>(role: string, load: () => T): { config: T } | { refused: string } {
  try {
    return { config: load() };
  } catch (error) {
    if (error instanceof ConfigError) return { refused: error.message.replace(/^relayer config/, `${role} config`) };
    throw error;
  }
}
