import { isAddress, type Address } from "viem";
import { z } from "zod";

/**
 * Zod building blocks shared by the relayer config and the chain plugins' own config schemas. Messages for
 * missing fields, wrong types and out-of-range numbers come from the loader's error map, so each check here
 * only says what a good value looks like.
 */

/** A schema-level message that still lets a missing field read "required". */
const unlessMissing =
  (message: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? "required" : message;

export const httpUrl = z.url({ protocol: /^https?$/, error: unlessMissing("expected an http(s) URL") });

export const wsUrl = z.url({ protocol: /^wss?$/, error: unlessMissing("expected a ws(s) URL") });

export const address = z
  .string({ error: unlessMissing("expected a 0x-prefixed 20-byte address") })
  .refine((v) => isAddress(v), "expected a 0x-prefixed 20-byte address (mixed case must be a valid checksum)")
  .transform((v) => v as Address);

export const chainId = z.int().min(1, "expected a chain id >= 1");

export const confirmations = z.int().min(0).max(10_000);

export const port = z.int().min(1).max(65_535);

export const host = z.string().min(1, "expected a host name or IP address");

/** A file path; relative paths are resolved against the config file's directory by the loader. */
export const filePath = z.string().min(1, "expected a file path");

/** Environment variable names as POSIX shells accept them. */
export const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name such as CCGP_SERVICE_KEY_PASSWORD");
