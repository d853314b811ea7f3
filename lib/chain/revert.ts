/**
 * A contract's refusal found in a failed call: viem nests the revert data a few levels down its cause chain, and the
 * custom error is decoded from it, so callers branch on the error's name instead of on message text.
 */
import { decodeErrorResult, type Abi, type Hex } from "viem";

/** A decoded revert: the custom error's name and arguments (`name` is `unknown` when the ABI does not know it). */
export interface Revert {
  name: string;
  args: readonly unknown[];
  data: Hex;
}

const HEX_DATA = /^0x[0-9a-fA-F]{8}(?:[0-9a-fA-F]{2})*$/;

/** Finds the revert data in an error's cause chain (viem nests it a few levels down) and decodes it. */
export function revertOf(error: unknown, abi: Abi): Revert | undefined {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 16; depth++) {
    let data = (current as { data?: unknown }).data;
    // Hardhat's node nests it: `error.data = { message, data }`; anvil and geth give the hex string.
    if (typeof data === "object" && data !== null) data = (data as { data?: unknown }).data;
    if (typeof data === "string" && HEX_DATA.test(data)) return decodeRevert(abi, data as Hex);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function decodeRevert(abi: Abi, data: Hex): Revert {
  try {
    const decoded = decodeErrorResult({ abi, data });
    return { name: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[], data };
  } catch {
    return { name: "unknown", args: [], data };
  }
}
