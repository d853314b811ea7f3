import { readFileSync } from "node:fs";
import { z } from "zod";
import { getAddress, isAddress, keccak256, toUtf8Bytes } from "ethers";

const address = z
  .string()
  .refine((v) => isAddress(v), { message: "expected a 0x-prefixed 20-byte address" })
  .transform((v) => getAddress(v));

const genesisSchema = z
  .object({
    name: z.string().min(1, "expected a non-empty name"),
    identity: z.string().min(1, "expected the identity (e.g. registration number or LEI)"),
    attributes: z.record(z.string(), z.unknown()).default({}),
    admin: address,
    weight: z.number().int().min(1).max(65_535).default(1),
    governors: z.array(address).min(1, "expected at least one governor address"),
  })
  .strict();

const weight = z.number().int().min(-32_768).max(32_767);

/** Credit evaluation at deployment (governed afterwards); see ICreditRegistry.CreditParams. */
const creditSchema = z
  .object({
    initialScore: z.number().int().min(0).max(4_294_967_295).default(1000),
    maxScore: z.number().int().min(1).max(4_294_967_295).default(2000),
    restrictionThreshold: z.number().int().min(0).max(4_294_967_295).default(600),
    expulsionThreshold: z.number().int().min(0).max(4_294_967_295).default(300),
    completed: weight.min(0).default(1),
    failed: weight.max(0).default(-20),
    timedOut: weight.max(0).default(-10),
    badSignature: weight.max(0).default(-100),
    replay: weight.max(0).default(-100),
  })
  .strict()
  .refine(
    (c) =>
      c.expulsionThreshold < c.restrictionThreshold &&
      c.restrictionThreshold <= c.initialScore &&
      c.initialScore <= c.maxScore,
    {
      message: "expected expulsionThreshold < restrictionThreshold <= initialScore <= maxScore",
    },
  );

export type CreditConfig = z.infer<typeof creditSchema>;

export const consortiumSchema = z
  .object({
    name: z.string().min(1),
    votingPeriodSeconds: z
      .number()
      .int()
      .min(60)
      .max(365 * 24 * 3600)
      .default(7 * 24 * 3600),
    genesis: z.array(genesisSchema).min(1, "expected at least one genesis institution").max(127),
    credit: creditSchema.default(creditSchema.parse({})),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, string>();
    cfg.genesis.forEach((g, i) =>
      g.governors.forEach((gov, j) => {
        const where = `genesis.${i}.governors.${j}`;
        if (seen.has(gov))
          ctx.addIssue({
            code: "custom",
            path: ["genesis", i, "governors", j],
            message: `${gov} is already listed at ${seen.get(gov)}`,
          });
        seen.set(gov, where);
      }),
    );
  });

export type ConsortiumConfig = z.infer<typeof consortiumSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Validates a consortium file's content; throws a {@link ConfigError} naming every bad field. */
export function parseConsortium(raw: unknown, source = "consortium config"): ConsortiumConfig {
  const result = consortiumSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
  throw new ConfigError(`${source} is invalid:\n  ${issues.join("\n  ")}`, issues);
}

export function loadConsortium(path: string): ConsortiumConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read consortium config ${path}: ${(err as Error).message}`, []);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`, []);
  }
  return parseConsortium(raw, path);
}

/** The identity is kept on-chain as a hash; the documents stay with the institution. */
export const identityHash = (identity: string): string => keccak256(toUtf8Bytes(identity));
export const attributesBytes = (attributes: Record<string, unknown>): Uint8Array =>
  toUtf8Bytes(JSON.stringify(attributes));
