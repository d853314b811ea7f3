/**
 * Parsers of command arguments. Each throws commander's InvalidArgumentError, which commander reports naming the
 * option (`option '--port <n>' argument 'x' is invalid. expected ...`), and main() turns into exit code 2.
 */
import { InvalidArgumentError } from "commander";
import { FunctionFragment, getAddress, id, isAddress, isHexString } from "ethers";
import { scopedId } from "../../../lib/domain/ids";
import { usage } from "./errors";

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** A 32-byte id: given as 0x + 64 hex digits, or as a label, hashed with keccak256 (ethers `id`). */
export function idArg(value: string): string {
  if (BYTES32.test(value)) return value.toLowerCase();
  if (value.startsWith("0x"))
    throw new InvalidArgumentError("expected 0x + 64 hex digits, or a label (hashed with keccak256)");
  if (value.length === 0) throw new InvalidArgumentError("expected a non-empty label or a 32-byte hex id");
  return id(value);
}

const SCOPED_LABEL = /^([0-9]+):(.+)$/s;

/**
 * A sub-chain, app or service id: 0x + 64 hex digits, or `<institution>:<label>`. These ids are namespaced by
 * institution (lib/domain/ids.ts), so a bare label names no id.
 */
export function scopedIdArg(value: string): string {
  if (BYTES32.test(value)) return value.toLowerCase();
  const m = SCOPED_LABEL.exec(value);
  const institution = m ? BigInt(m[1]!) : 0n;
  if (!m || institution === 0n || institution > 0xffffffffn)
    throw new InvalidArgumentError(
      "expected 0x + 64 hex digits, or <institution>:<label> (these ids begin with their institution's number)",
    );
  return scopedId(institution, m[2]!);
}

/** A 32-byte hex value, never a label (pipe and transaction ids are made by the chain or the app). */
export function bytes32Arg(value: string): string {
  if (!BYTES32.test(value)) throw new InvalidArgumentError("expected 0x + 64 hex digits");
  return value.toLowerCase();
}

export function addressArg(value: string): string {
  if (!isAddress(value)) throw new InvalidArgumentError("expected a 0x-prefixed 20-byte address");
  try {
    return getAddress(value);
  } catch {
    throw new InvalidArgumentError("bad EIP-55 checksum (write the address in lower case to skip it)");
  }
}

function integer(value: string, min: bigint, max: bigint, what: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`expected ${what}`);
  const n = BigInt(value);
  if (n < min || n > max) throw new InvalidArgumentError(`expected ${what}`);
  return n;
}

export const uintArg = (value: string): bigint => integer(value, 0n, (1n << 256n) - 1n, "a non-negative integer");
export const positiveArg = (value: string): bigint => integer(value, 1n, (1n << 256n) - 1n, "an integer of at least 1");
export const uint32Arg = (value: string): number =>
  Number(integer(value, 0n, 0xffff_ffffn, "an integer 0..4294967295"));
export const portArg = (value: string): number => Number(integer(value, 1n, 65_535n, "a port 1..65535"));
export const uint64Arg = (value: string): bigint => integer(value, 0n, (1n << 64n) - 1n, "an integer 0..2^64-1");

/** A function selector: 0x + 8 hex digits, or a signature such as `batch(bytes32)`. */
export function selectorOf(value: string): string {
  if (/^0x[0-9a-fA-F]{8}$/.test(value)) return value.toLowerCase();
  return functionOf(value).selector;
}

/** A function fragment from a signature (`continueCustody(bytes32,address,string)`). */
export function functionOf(signature: string): FunctionFragment {
  try {
    return FunctionFragment.from(signature.startsWith("function ") ? signature : `function ${signature}`);
  } catch {
    throw new InvalidArgumentError(`"${signature}" is not a function signature (e.g. batch(bytes32))`);
  }
}

/** Comma-separated selectors or signatures; signatures with commas inside parentheses are kept whole. */
export function selectorsArg(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of value) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim() !== "") parts.push(current.trim());
  return parts.map(selectorOf);
}

/** `read`, `write` or `read,write` as the pipe's operation bits (READ = 1, WRITE = 2). */
export function operationsArg(value: string): number {
  let bits = 0;
  for (const part of value.split(",").map((s) => s.trim().toLowerCase())) {
    if (part === "read") bits |= 1;
    else if (part === "write") bits |= 2;
    else throw new InvalidArgumentError(`expected read, write or read,write (got "${part}")`);
  }
  return bits;
}

/** A JSON value given on the command line; `argument` names the option in the error. */
export function jsonOf(argument: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw usage(argument, `not valid JSON: ${(err as Error).message}`);
  }
}

export function hexDataArg(value: string): string {
  if (!isHexString(value) || value.length % 2 !== 0) throw new InvalidArgumentError("expected 0x-prefixed hex bytes");
  return value.toLowerCase();
}

/** A SHA-256 fingerprint: 64 hex digits, with or without colons or 0x. */
export function fingerprintArg(value: string): string {
  const hex = value.replace(/^0x/i, "").replace(/:/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new InvalidArgumentError("expected a SHA-256 fingerprint (64 hex digits, colons allowed)");
  return `0x${hex.toLowerCase()}`;
}

/** One of `choices` (case-insensitive), returned as its index. */
export function choiceArg(choices: readonly string[]): (value: string) => number {
  return (value: string) => {
    const i = choices.findIndex((c) => c.toLowerCase() === value.toLowerCase());
    if (i < 0) throw new InvalidArgumentError(`expected one of ${choices.join(", ")}`);
    return i;
  };
}
