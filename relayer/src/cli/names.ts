/**
 * Names next to ids: institutions by their registered name, sub-chains, apps and contract names by the name they
 * were registered with (from the registries' events, as the ids themselves are hashes), services by their
 * institution and endpoint. Each table is loaded once per command, on first use.
 */
import type { Log } from "ethers";
import { decodeLog, eventTopic, type DecodedLog } from "./abi";
import type { Session } from "./context";

export interface ScanOptions {
  fromBlock: bigint;
  logRange: bigint;
}

export const DEFAULT_SCAN: ScanOptions = { fromBlock: 0n, logRange: 10_000n };

/** Every log of the named events emitted by `address`, decoded, in chain order (read in ranges: nodes limit getLogs). */
export async function eventsNamed(s: Session, address: string, names: string[], scan: ScanOptions): Promise<DecodedLog[]> {
  const topics = names.map((n) => eventTopic(n));
  const latest = await s.chain.provider.getBlockNumber();
  const logs: Log[] = [];
  const range = Number(scan.logRange);
  for (let from = Number(scan.fromBlock); from <= latest; from += range)
    logs.push(...(await s.chain.provider.getLogs({ address, topics: [topics], fromBlock: from, toBlock: Math.min(from + range - 1, latest) })));
  return logs.map((l) => decodeLog(l)).filter((l): l is DecodedLog => l !== undefined);
}

/** `0x1234…abcd`: enough of a hash to tell it apart on screen (JSON keeps it whole). */
export const short = (hash: string): string => (hash.length > 14 ? `${hash.slice(0, 6)}…${hash.slice(-4)}` : hash);

/** `name (0x1234…abcd)`, or the short hash when no name is registered. */
export const named = (name: string | undefined, hash: string): string => (name ? `${name} (${short(hash)})` : short(hash));

export class Names {
  private institutions?: Promise<Map<number, string>>;
  private registered?: Promise<Map<string, string>>;

  constructor(
    private readonly s: Session,
    private readonly scan: ScanOptions,
  ) {}

  /** Institution names by id. */
  institutionMap(): Promise<Map<number, string>> {
    return (this.institutions ??= (async () => {
      const m = this.s.gov.membership;
      const count = Number(await m.institutionCount());
      const names = await Promise.all(Array.from({ length: count }, (_, i) => m.institution(i + 1).then((x) => x.name)));
      return new Map(names.map((n, i) => [i + 1, n]));
    })());
  }

  async institution(id: number | bigint): Promise<string | undefined> {
    return (await this.institutionMap()).get(Number(id));
  }

  /** `Drug Maker A (5)`. */
  async institutionLabel(id: number | bigint): Promise<string> {
    const name = await this.institution(id);
    return name ? `${name} (${id})` : String(id);
  }

  /** Names of sub-chains, apps and business contracts by their ids (hashes), from the registration events. */
  private registeredMap(): Promise<Map<string, string>> {
    return (this.registered ??= (async () => {
      const found = new Map<string, string>();
      const events = await eventsNamed(this.s, this.s.record.chains!, ["SubchainRegistered", "AppRegistered", "ContractRegistered"], this.scan);
      for (const e of events) {
        const key = (e.args.subchainId ?? e.args.appId ?? e.args.nameHash) as string;
        if (typeof key === "string" && typeof e.args.name === "string") found.set(key.toLowerCase(), e.args.name);
      }
      return found;
    })());
  }

  async of(hash: string): Promise<string | undefined> {
    return (await this.registeredMap()).get(hash.toLowerCase());
  }

  async label(hash: string): Promise<string> {
    return named(await this.of(hash), hash);
  }
}
