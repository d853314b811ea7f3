/**
 * Names next to ids: institutions by their registered name, sub-chains, apps and contract names by the name they
 * were registered with (from the registries' events, as the ids themselves are hashes), services by their
 * institution and endpoint, accounts by their institution and role, nodes by institution, kind and endpoint, pipes
 * by their two sides. Each table is loaded once per command, on first use.
 */
import type { Log, ParamType } from "ethers";
import { decodeLog, eventTopic, type DecodedLog } from "./abi";
import type { Session } from "./context";
import { enumName } from "./enums";

export interface ScanOptions {
  fromBlock: bigint;
  logRange: bigint;
}

export const DEFAULT_SCAN: ScanOptions = { fromBlock: 0n, logRange: 10_000n };

/**
 * Every log of the named events emitted by `address`, decoded, in chain order (read in ranges: nodes limit getLogs).
 */
export async function eventsNamed(
  s: Session,
  address: string,
  names: string[],
  scan: ScanOptions,
): Promise<DecodedLog[]> {
  const topics = names.map((n) => eventTopic(n));
  const latest = await s.chain.provider.getBlockNumber();
  const logs: Log[] = [];
  const range = Number(scan.logRange);
  for (let from = Number(scan.fromBlock); from <= latest; from += range)
    logs.push(
      ...(await s.chain.provider.getLogs({
        address,
        topics: [topics],
        fromBlock: from,
        toBlock: Math.min(from + range - 1, latest),
      })),
    );
  return logs.map((l) => decodeLog(l)).filter((l): l is DecodedLog => l !== undefined);
}

/** `0x1234…abcd`: enough of a hash to tell it apart on screen (JSON keeps it whole). */
export const short = (hash: string): string => (hash.length > 14 ? `${hash.slice(0, 6)}…${hash.slice(-4)}` : hash);

/** `name (0x1234…abcd)`, or the short hash when no name is registered. */
export const named = (name: string | undefined, hash: string): string =>
  name ? `${name} (${short(hash)})` : short(hash);

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
      const names = await Promise.all(
        Array.from({ length: count }, (_, i) => m.institution(i + 1).then((x) => x.name)),
      );
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
      const events = await eventsNamed(
        this.s,
        this.s.record.chains!,
        ["SubchainRegistered", "AppRegistered", "ContractRegistered"],
        this.scan,
      );
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

  /** `Drug Maker A Operator` for an account the membership knows, else undefined. */
  async account(address: string): Promise<string | undefined> {
    const a = await this.s.gov.membership.account(address);
    if (a.status === 0n) return undefined;
    return (
      `${(await this.institution(a.institution)) ?? `institution ${a.institution}`} ` +
      `${enumName("IMembership.Role", a.role)}`
    );
  }

  /** What a bytes32 id names: a sub-chain, app or contract name, a service, a node or a pipe (in that order). */
  async id(hash: string): Promise<string | undefined> {
    const registered = await this.of(hash);
    if (registered) return registered;
    const reg = this.s.gov.services;
    const [service, node] = await Promise.all([reg.service(hash), reg.node(hash)]);
    if (service.status !== 0n)
      return `${await this.institutionLabel(service.institution)} service ${service.host}:${service.port}`;
    if (node.status !== 0n)
      return (
        `${await this.institutionLabel(node.institution)} ${enumName("IServiceRegistry.NodeKind", node.kind)} ` +
        `node ${node.host}:${node.port}`
      );
    const route = await this.s.gov.pipes.route(hash).catch(() => undefined);
    if (route && route.sourceInstitution !== 0n)
      return (
        `pipe ${await this.institution(route.sourceInstitution)} -> ` +
        `${await this.institution(route.targetInstitution)}`
      );
    return undefined;
  }

  /**
   * A decoded argument with the name registered for it: institutions (a uint32 named `id` or `institution`),
   * accounts, and ids. Values with no registered name are printed whole.
   */
  async arg(param: ParamType, value: unknown): Promise<string> {
    const text = String(value);
    if (param.type === "uint32" && /^(id|institution)$/.test(param.name)) return this.institutionLabel(value as bigint);
    if (param.type === "address") {
      const who = await this.account(text);
      return who ? named(who, text) : text;
    }
    if (param.type === "bytes32") {
      const name = await this.id(text);
      return name ? named(name, text) : text;
    }
    return text;
  }
}
