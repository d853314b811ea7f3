/**
 * The relayer's synchronised view of the governance chain: institutions, accounts, services (endpoint, TLS
 * fingerprint, signer, heartbeats) and pipes (routes). Loaded by view calls at start, then each entity is re-read
 * from the chain when one of its events arrives (the event says what changed; the chain says what it is now), so the
 * view never drifts from the contracts' own answers. Permission checks that must be exact at the moment of use
 * (`checkOperation`, the ledger's state) are asked of the chain, not of this view.
 */
import {
  decodeEventLog,
  type Abi,
  encodeAbiParameters,
  getAddress,
  keccak256,
  type Address,
  type ContractFunctionReturnType,
  type Hex,
} from "viem";
import { namedArgs } from "../../../lib/abi/events";
import type { ChainLog } from "../../../lib/chain/types";
import type { Logger } from "../../../lib/infra/log";
import {
  AccountStatus,
  InstitutionStatus,
  PipeStatus,
  ServiceStatus,
  type ledgerAbi,
} from "../../../lib/abi/contracts";
import type { GovernanceContracts } from "./contracts";

export interface ServiceEntry {
  id: Hex;
  status: number;
  signer: Address;
  institution: number;
  subchain: Hex;
  host: string;
  port: number;
  /** SHA-256 of the DER certificate, lowercase hex without 0x (the `normalizeFingerprint` form). */
  fingerprint: string;
  /** Seconds since the epoch of the last heartbeat (0: never). */
  lastSeen: number;
}

export interface Route {
  id: Hex;
  status: number;
  operations: number;
  sourceInstitution: number;
  targetInstitution: number;
  sourceApp: Hex;
  targetApp: Hex;
  sourceAppKey: Address;
  targetAppKey: Address;
  sourceService: Hex;
  targetService: Hex;
  sourceServiceSigner: Address;
  targetServiceSigner: Address;
  sourceSubchain: Hex;
  targetSubchain: Hex;
  contractName: Hex;
  ratePerMinute: number;
  maxPayloadBytes: number;
  timeoutSeconds: number;
  /** The target side's alternate routes (service ids), in priority order after `targetService`. */
  alternates: Hex[];
}

export interface InstitutionEntry {
  id: number;
  kind: number;
  status: number;
  name: string;
}

export interface AccountEntry {
  address: Address;
  institution: number;
  role: number;
  status: number;
}

/** What changed, for listeners (the transaction driver wakes up on ledger events). */
export type ViewChange =
  | { type: "service"; id: Hex }
  | { type: "heartbeat"; id: Hex; at: number }
  | { type: "pipe"; id: Hex }
  | { type: "institution"; id: number }
  | { type: "account"; address: Address }
  | { type: "appKeyRotated"; appId: Hex }
  /** `VerifierSet`: the ledger's verifier record of `address` changed. */
  | { type: "verifier"; address: Address }
  /**
   * `state`: the state the event moved the transaction to (`to` of `TxTransitioned`, or of `ResultRecorded` and
   * `Endorsed` on the normal path); none when it moved none.
   */
  | { type: "ledger"; txId: Hex; event: string; state?: number }
  /** The chain reorganised past the confirmation depth from `forkHeight`: the view was read again. */
  | { type: "reorg"; forkHeight: bigint };

/** Whether `serviceId` is a target route of the pipe: its own target service or one of its alternates. */
export function isTargetRoute(route: Pick<Route, "targetService" | "alternates">, serviceId: Hex): boolean {
  const id = serviceId.toLowerCase();
  return route.targetService.toLowerCase() === id || route.alternates.some((a) => a.toLowerCase() === id);
}

const fingerprintOf = (bytes32: Hex): string => bytes32.slice(2).toLowerCase();

type VerifierRecord = ContractFunctionReturnType<typeof ledgerAbi, "view", "verifier">;

export class GovernanceView {
  readonly services = new Map<Hex, ServiceEntry>();
  readonly pipes = new Map<Hex, Route>();
  readonly institutions = new Map<number, InstitutionEntry>();
  readonly accounts = new Map<Address, AccountEntry>();
  private readonly _listeners: Array<(change: ViewChange) => void> = [];
  /** Verifier records read, until their `VerifierSet` (or a reload). */
  private readonly _verifiers = new Map<Address, Promise<VerifierRecord>>();
  private _chainId = 0n;

  constructor(
    readonly contracts: GovernanceContracts,
    private readonly _log: Logger,
  ) {}

  /** Reads everything the view keeps, at the chain's current head. */
  async load(): Promise<void> {
    this._chainId = this.contracts.domain.chainId;
    this._verifiers.clear();
    const [institutions, services, pipes] = await Promise.all([
      this.contracts.membership.read("institutionCount", []),
      this.contracts.services.read("serviceCount", []),
      this.contracts.pipes.read("pipeCount", []),
    ]);
    for (let id = 1; id <= institutions; id++) await this.refreshInstitution(id);
    for (let index = 1; index <= services; index++) {
      const id = await this.contracts.services.read("serviceAt", [index]);
      await this.refreshService(id);
    }
    for (let n = 1n; n <= pipes; n++) await this.refreshPipe(this.pipeIdAt(n));
    this._log.info(
      { institutions, services, pipes: pipes.toString(), enabledServices: this.enabledFingerprints().size },
      "governance view loaded",
    );
  }

  /** `keccak256(abi.encode(chainid, registry, n))`, as PipeRegistry numbers its pipes. */
  pipeIdAt(n: bigint): Hex {
    return keccak256(
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "uint256" }],
        [this._chainId, this.contracts.pipes.address, n],
      ),
    );
  }

  /** After a reorg: reads everything again, then tells the listeners (what they acted on may be undone). */
  async reorged(forkHeight: bigint): Promise<void> {
    await this.load();
    this._emit({ type: "reorg", forkHeight });
  }

  onChange(listener: (change: ViewChange) => void): void {
    this._listeners.push(listener);
  }

  private _emit(change: ViewChange): void {
    for (const listener of this._listeners) listener(change);
  }

  async refreshService(id: Hex): Promise<ServiceEntry> {
    const s = await this.contracts.services.read("service", [id]);
    const entry: ServiceEntry = {
      id,
      status: s.status,
      signer: s.signer,
      institution: s.institution,
      subchain: s.subchain,
      host: s.host,
      port: s.port,
      fingerprint: fingerprintOf(s.tlsFingerprint),
      lastSeen: s.lastSeen,
    };
    this.services.set(id, entry);
    return entry;
  }

  async refreshPipe(id: Hex): Promise<Route | undefined> {
    const [r, alternates] = await Promise.all([
      this.contracts.pipes.read("route", [id]),
      this.contracts.pipes.read("alternates", [id]),
    ]);
    if (r.status === PipeStatus.None) {
      this.pipes.delete(id);
      return undefined;
    }
    const route: Route = { id, ...r, alternates: [...alternates] };
    this.pipes.set(id, route);
    return route;
  }

  async refreshInstitution(id: number): Promise<void> {
    const i = await this.contracts.membership.read("institution", [id]);
    this.institutions.set(id, { id, kind: i.kind, status: i.status, name: i.name });
  }

  async refreshAccount(address: Address): Promise<AccountEntry> {
    const a = await this.contracts.membership.read("account", [address]);
    const entry = { address: getAddress(address), institution: a.institution, role: a.role, status: a.status };
    this.accounts.set(entry.address, entry);
    return entry;
  }

  /** A pipe's route, from the view, or read from the chain when the view has not seen it yet. */
  async route(pipeId: Hex): Promise<Route | undefined> {
    return this.pipes.get(pipeId) ?? (await this.refreshPipe(pipeId));
  }

  async service(serviceId: Hex): Promise<ServiceEntry | undefined> {
    const known = this.services.get(serviceId);
    if (known !== undefined) return known;
    const entry = await this.refreshService(serviceId);
    return entry.status === ServiceStatus.None ? undefined : entry;
  }

  /**
   * The ledger's verifier record of `account` (its weight): read once, then kept until a `VerifierSet` of it. It only
   * decides whether to endorse at all; the ledger checks the weight again at each endorsement.
   */
  verifier(account: Address): Promise<VerifierRecord> {
    const key = getAddress(account);
    let record = this._verifiers.get(key);
    if (record === undefined) {
      record = this.contracts.ledger.read("verifier", [key]);
      this._verifiers.set(key, record);
      record.catch(() => this._verifiers.delete(key));
    }
    return record;
  }

  /** The fingerprints of enabled services: the peers this relayer accepts and dials. */
  enabledFingerprints(): Set<string> {
    const out = new Set<string>();
    for (const s of this.services.values()) if (s.status === ServiceStatus.Enabled) out.add(s.fingerprint);
    return out;
  }

  serviceBySigner(signer: Address): ServiceEntry | undefined {
    for (const s of this.services.values()) if (s.signer.toLowerCase() === signer.toLowerCase()) return s;
    return undefined;
  }

  institutionActive(id: number): boolean {
    return this.institutions.get(id)?.status === InstitutionStatus.Active;
  }

  accountActive(address: Address): boolean {
    return this.accounts.get(getAddress(address))?.status === AccountStatus.Active;
  }

  /** Pipes with `serviceId` on either side, an alternate target route included. */
  pipesOfService(serviceId: Hex): Route[] {
    return [...this.pipes.values()].filter(
      (p) => p.sourceService === serviceId || p.targetService === serviceId || p.alternates.includes(serviceId),
    );
  }

  /** Applies one confirmed block's logs: re-reads each entity an event names, then tells the listeners. */
  async applyLogs(logs: readonly ChainLog[]): Promise<void> {
    for (const log of logs) {
      const change = this._decode(log);
      if (change === undefined) continue;
      await this._refresh(change);
      this._emit(change);
    }
  }

  private async _refresh(change: ViewChange): Promise<void> {
    switch (change.type) {
      case "service":
        await this.refreshService(change.id);
        return;
      case "heartbeat": {
        const s = this.services.get(change.id);
        if (s !== undefined) s.lastSeen = Math.max(s.lastSeen, change.at);
        return;
      }
      case "pipe":
        await this.refreshPipe(change.id);
        return;
      case "institution":
        await this.refreshInstitution(change.id);
        return;
      case "account":
        await this.refreshAccount(change.address);
        return;
      case "verifier":
        this._verifiers.delete(change.address);
        return;
      default:
        return;
    }
  }

  /** Which entity a log is about, or `undefined` for logs the view does not keep. */
  private _decode(log: ChainLog): ViewChange | undefined {
    const c = this.contracts;
    const at = log.address.toLowerCase();
    const [signature, ...indexed] = log.topics;
    const decode = (abi: Abi): Decoded => {
      if (signature === undefined) return undefined;
      try {
        const { eventName, args } = decodeEventLog({ abi, data: log.data, topics: [signature, ...indexed] });
        const named = namedArgs(args);
        return eventName === undefined || named === undefined ? undefined : { eventName, args: named };
      } catch {
        return undefined;
      }
    };
    if (at === c.services.address.toLowerCase()) return serviceChange(decode(c.services.abi));
    if (at === c.pipes.address.toLowerCase()) return pipeChange(decode(c.pipes.abi));
    if (at === c.membership.address.toLowerCase()) return membershipChange(decode(c.membership.abi));
    if (at === c.ledger.address.toLowerCase()) {
      const e = decode(c.ledger.abi);
      if (e?.eventName === "VerifierSet") return { type: "verifier", address: getAddress(e.args.verifier as Address) };
      if (e === undefined || typeof e.args.txId !== "string") return undefined;
      const state = movedTo(e.args);
      return {
        type: "ledger",
        txId: e.args.txId as Hex,
        event: e.eventName,
        ...(state === undefined ? {} : { state }),
      };
    }
    if (at === c.apps.address.toLowerCase()) {
      const e = decode(c.apps.abi);
      if (e?.eventName === "AppKeyRotated") return { type: "appKeyRotated", appId: e.args.appId as Hex };
    }
    return undefined;
  }
}

type Decoded = { eventName: string; args: Record<string, unknown> } | undefined;

/**
 * The state a ledger event moved its transaction to: `to` of `TxTransitioned`, and of `ResultRecorded` and `Endorsed`,
 * which tell the moves of the normal path (None there: no move).
 */
export function movedTo(args: Record<string, unknown>): number | undefined {
  if (args.to === undefined) return undefined;
  const to = Number(args.to);
  return to === 0 ? undefined : to;
}

function serviceChange(e: Decoded): ViewChange | undefined {
  if (e === undefined || typeof e.args.serviceId !== "string") return undefined;
  if (e.eventName === "ServiceHeartbeat")
    return { type: "heartbeat", id: e.args.serviceId as Hex, at: Number(e.args.at) };
  return { type: "service", id: e.args.serviceId as Hex };
}

function pipeChange(e: Decoded): ViewChange | undefined {
  if (e === undefined) return undefined;
  if (typeof e.args.pipeId === "string") return { type: "pipe", id: e.args.pipeId as Hex };
  if (e.eventName === "ServiceUsabilitySynced") return { type: "service", id: e.args.serviceId as Hex };
  if (e.eventName === "InstitutionUsabilitySynced") return { type: "institution", id: Number(e.args.institution) };
  return undefined;
}

function membershipChange(e: Decoded): ViewChange | undefined {
  if (e === undefined) return undefined;
  if (typeof e.args.account === "string") return { type: "account", address: getAddress(e.args.account) };
  if (typeof e.args.id === "number" && e.eventName.startsWith("Institution"))
    return { type: "institution", id: e.args.id };
  return undefined;
}
