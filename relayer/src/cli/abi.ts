/**
 * One table of every error and event the governance chain can produce, so a refusal bubbled up from any contract
 * (a Membership error raised inside a ChainRegistry call, a business error bubbled through VotingTickets.execute)
 * is printed by name with its arguments, and a receipt's logs are listed by event name.
 */
import { ErrorFragment, EventFragment, Interface, type Log, type Result } from "ethers";
import { abiOf, ERROR_SOURCES } from "./artifacts";
import { enumName } from "./enums";

/** An ABI parameter as the compiler wrote it: `internalType` names the enum (ethers' ParamType drops it). */
interface RawParam {
  name: string;
  type: string;
  internalType?: string;
  components?: readonly RawParam[];
}

interface RawItem {
  type: string;
  name?: string;
  inputs?: readonly RawParam[];
}

const ABIS = ERROR_SOURCES.map((path) => abiOf(path) as readonly RawItem[]);

/** Every error and event once (the same error is declared in several ABIs), with its parameters as written. */
function merged(): { iface: Interface; params: Map<string, readonly RawParam[]> } {
  const params = new Map<string, readonly RawParam[]>();
  const fragments: (ErrorFragment | EventFragment)[] = [];
  for (const abi of ABIS)
    for (const item of abi) {
      if (item.type !== "error" && item.type !== "event") continue;
      const fragment = item.type === "error" ? ErrorFragment.from(item) : EventFragment.from(item);
      const key = fragment.format("sighash");
      if (params.has(key)) continue;
      params.set(key, item.inputs ?? []);
      fragments.push(fragment);
    }
  return { iface: new Interface(fragments), params };
}

// Built at the first decode: commands that decode nothing do not pay for parsing a dozen ABIs.
let built: ReturnType<typeof merged> | undefined;
const table = () => (built ??= merged());

export interface DecodedError {
  name: string;
  /** `Name(type,...)`. */
  signature: string;
  args: unknown[];
  /** `Name(argName: value, ...)` with enums by name. */
  text: string;
}

/** Revert data found anywhere in an ethers error (estimateGas, call, nested JSON-RPC error). */
export function revertData(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (e: unknown): string | undefined => {
    if (typeof e !== "object" || e === null || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]*$/.test(o.data) && o.data.length >= 10) return o.data;
    for (const key of ["error", "info", "cause", "revert"]) {
      const found = walk(o[key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(err);
}

/** Decodes revert data into the custom error's name and arguments; a selector not in the table is named by it. */
export function decodeError(data: string): DecodedError {
  const parsed = table().iface.parseError(data);
  if (!parsed) {
    const selector = data.slice(0, 10);
    return {
      name: `unknown error ${selector}`,
      signature: selector,
      args: [],
      text: `unknown error ${selector} (data ${data})`,
    };
  }
  const inputs = table().params.get(parsed.fragment.format("sighash"))!;
  const args = inputs.map((p, i) => plain(parsed.args[i], p));
  const shown = inputs.map((p, i) => `${p.name ? `${p.name}: ` : ""}${show(parsed.args[i], p)}`);
  const text = `${parsed.name}(${shown.join(", ")})`;
  return { name: parsed.name, signature: parsed.signature, args, text };
}

const childOf = (p: RawParam): RawParam => ({
  ...p,
  type: p.type.replace(/\[\d*\]$/, ""),
  internalType: p.internalType?.replace(/\[\d*\]$/, ""),
});
const enumKeyOf = (p: RawParam): string | undefined =>
  p.internalType?.startsWith("enum ") ? p.internalType.slice("enum ".length) : undefined;

/** A value for people: enums by name, tuples as {field: value}, bigints in decimal. */
export function show(value: unknown, param: RawParam): string {
  if (param.type.endsWith("]")) return `[${(value as Result).map((v) => show(v, childOf(param))).join(", ")}]`;
  if (param.type === "tuple") {
    const r = value as Result;
    return `{${(param.components ?? []).map((c, i) => `${c.name}: ${show(r[i], c)}`).join(", ")}}`;
  }
  const enumKey = enumKeyOf(param);
  if (enumKey) return enumName(enumKey, value as bigint);
  if (param.type === "string") return JSON.stringify(value);
  return String(value);
}

/** A value for JSON: enums by name, tuples as objects, arrays as arrays. */
export function plain(value: unknown, param: RawParam): unknown {
  if (param.type.endsWith("]")) return (value as Result).map((v) => plain(v, childOf(param)));
  if (param.type === "tuple") {
    const r = value as Result;
    return Object.fromEntries((param.components ?? []).map((c, i) => [c.name || String(i), plain(r[i], c)]));
  }
  const enumKey = enumKeyOf(param);
  if (enumKey) return enumName(enumKey, value as bigint);
  // Small integers as JSON numbers, as viem does (uint48 and below); wider ones stay bigints (decimal strings).
  const bits = /^u?int(\d+)$/.exec(param.type)?.[1];
  return typeof value === "bigint" && bits !== undefined && Number(bits) <= 48 ? Number(value) : value;
}

/** The topic of a governance event by name (`TxOpened`); throws on a name no governance ABI declares. */
export function eventTopic(name: string): string {
  const fragment = table().iface.getEvent(name);
  if (!fragment) throw new Error(`no governance event named ${name}`);
  return fragment.topicHash;
}

export interface DecodedLog {
  name: string;
  address: string;
  blockNumber: number;
  transactionHash: string;
  args: Record<string, unknown>;
  text: string;
}

/** A governance log by event name, with its arguments (unknown logs are skipped by the caller). */
export function decodeLog(log: Log): DecodedLog | undefined {
  let parsed;
  try {
    parsed = table().iface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return undefined; // an event of a contract outside the table
  }
  if (!parsed) return undefined;
  const inputs = table().params.get(parsed.fragment.format("sighash"))!;
  return {
    name: parsed.name,
    address: log.address,
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    args: Object.fromEntries(inputs.map((p, i) => [p.name, plain(parsed.args[i], p)])),
    text: `${parsed.name}(${inputs.map((p, i) => `${p.name}: ${show(parsed.args[i], p)}`).join(", ")})`,
  };
}
