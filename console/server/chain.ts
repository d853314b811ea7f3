/**
 * Live state read from the governance chain (viem): head, institutions, accounts, proposals with their ballots,
 * services and their heartbeats, sub-chains, apps, contracts and pipes. The lists of ids come from the auditor
 * index (the chain has no enumeration for most of them); each item's current state comes from the contract, so a
 * suspension or a vote shows at the next block, whatever the index has reached.
 */
import {
  createPublicClient,
  decodeFunctionData,
  http,
  keccak256,
  toBytes,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { GOVERNANCE_CONTRACTS, loadAbi, type ContractKey } from "../../auditor/src/abi";
import type { AuditorQueries } from "../../auditor/src/queries";
import type { EventRow, JsonValue } from "../../auditor/src/types";
import { ENUM_NAMES } from "../../lib/domain/enums.generated";
import type { ConsoleConfig } from "./config";

/** The ledger's recovery half (it runs behind the ledger by delegation): its errors surface through the ledger. */
const EXTRA_ARTIFACTS = {
  ledgerRecovery: "transactions/LedgerRecovery.sol/LedgerRecovery",
  attesters: "governance/AttesterRegistry.sol/AttesterRegistry",
} as const;

export const INSTITUTION_KINDS = ENUM_NAMES["IMembership.InstitutionKind"];
export const INSTITUTION_STATUSES = ENUM_NAMES["IMembership.InstitutionStatus"];
export const ROLES = ENUM_NAMES["IMembership.Role"];
export const ACCOUNT_STATUSES = ENUM_NAMES["IMembership.AccountStatus"];
export const RULE_KINDS = ENUM_NAMES["IVotingTickets.RuleKind"];
export const PROPOSAL_STATES = ENUM_NAMES["IVotingTickets.ProposalState"];
export const SERVICE_STATUSES = ENUM_NAMES["IServiceRegistry.ServiceStatus"];
export const PIPE_STATUSES = ENUM_NAMES["IPipeAuthority.PipeStatus"];
export const CHAIN_KINDS = ENUM_NAMES["IChainRegistry.ChainKind"];

/** Every ABI the console knows, by contract key, from the compiled artifacts. */
export function consoleAbis(): Record<string, Abi> {
  const all: Record<string, Abi> = {};
  for (const [k, artifact] of Object.entries({ ...GOVERNANCE_CONTRACTS, ...EXTRA_ARTIFACTS })) {
    try {
      all[k] = loadAbi(artifact);
    } catch (error) {
      // The core contracts must be there; an optional one missing from this build is left out.
      if (k in GOVERNANCE_CONTRACTS) throw error;
    }
  }
  return all;
}

interface InstitutionRecord {
  kind: number;
  status: number;
  seat: number;
  weight: number;
  approvedAt: number;
  admin: Address;
  identityHash: Hex;
  name: string;
}

const str = (v: JsonValue | undefined): string => (v === undefined || v === null ? "" : String(v));

export class ChainReader {
  readonly client: PublicClient;
  readonly abis: Record<string, Abi>;
  private readonly _byAddress = new Map<string, string>();

  constructor(
    readonly config: ConsoleConfig,
    private readonly _queries: AuditorQueries,
  ) {
    this.client = createPublicClient({
      transport: http(config.governance.url, { batch: true, timeout: 10_000 }),
    }) as PublicClient;
    this.abis = consoleAbis();
    for (const [k, a] of Object.entries(config.governance.contracts)) this._byAddress.set(a.toLowerCase(), k);
  }

  private _read<T>(key: ContractKey, functionName: string, args: unknown[] = []): Promise<T> {
    return this.client.readContract({
      address: this.config.governance.contracts[key],
      abi: this.abis[key],
      functionName,
      args,
    }) as Promise<T>;
  }

  private _events(contract: ContractKey, event: string): EventRow[] {
    return this._queries.events({ contract, event, limit: 100_000 });
  }

  async head(): Promise<{ number: number; timestamp: number }> {
    const block = await this.client.getBlock();
    return { number: Number(block.number), timestamp: Number(block.timestamp) };
  }

  async institutions() {
    const count = Number(await this._read<number>("membership", "institutionCount"));
    const ids = [...Array(count).keys()].map((i) => i + 1);
    return Promise.all(
      ids.map(async (id) => {
        const [inst, score, restricted, did] = await Promise.all([
          this._read<InstitutionRecord>("membership", "institution", [id]),
          this._read<bigint>("credit", "scoreOf", [id]),
          this._read<boolean>("credit", "isRestricted", [id]),
          this._read<string>("membership", "didOf", [id]).catch(() => ""),
        ]);
        return {
          id,
          name: inst.name,
          kind: INSTITUTION_KINDS[inst.kind],
          status: INSTITUTION_STATUSES[inst.status],
          weight: Number(inst.weight),
          seat: Number(inst.seat),
          admin: inst.admin,
          unifiedId: did,
          credit: Number(score),
          restricted,
        };
      }),
    );
  }

  async accounts() {
    const addresses = [
      ...new Set(this._events("membership", "AccountRequested").map((e) => str(e.args.account))),
    ].filter((a) => a !== "");
    return Promise.all(
      addresses.map(async (address) => {
        const a = await this._read<{ institution: number; role: number; status: number }>("membership", "account", [
          address,
        ]);
        return { address, institution: Number(a.institution), role: ROLES[a.role], status: ACCOUNT_STATUSES[a.status] };
      }),
    );
  }

  /** What a proposal's call does, as a name: `Membership.setWeight(5, 2)`. */
  describeCall(target: Address, data: Hex): { contract: string; call: string } {
    const key = this._byAddress.get(target.toLowerCase());
    if (key === undefined) return { contract: target, call: data.slice(0, 10) };
    try {
      const { functionName, args } = decodeFunctionData({ abi: this.abis[key], data });
      const shown = (args ?? []).map((a) =>
        typeof a === "bigint" ? a.toString() : JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      );
      return { contract: key, call: `${functionName}(${shown.join(", ")})` };
    } catch {
      return { contract: key, call: data.slice(0, 10) };
    }
  }

  async proposals(now: number) {
    const count = Number(await this._read<bigint>("voting", "proposalCount"));
    const institutions = await this.institutions();
    const voters = institutions.filter((i) => i.kind === "Genesis");
    const described = new Map(
      this._events("voting", "ProposalCreated").map((e) => [str(e.args.id), str(e.args.description)]),
    );
    const ids = [...Array(count).keys()].map((i) => i + 1);
    const list = await Promise.all(
      ids.map(async (id) => {
        const [p, state] = await Promise.all([
          this._read<{
            proposer: Address;
            deadline: number;
            rule: number;
            thresholdBps: number;
            target: Address;
            data: Hex;
            canceled: boolean;
            executed: boolean;
          }>("voting", "proposal", [BigInt(id)]),
          this._read<number>("voting", "state", [BigInt(id)]),
        ]);
        const votes = await Promise.all(
          voters.map(async (v) => {
            const [voted, support] = await this._read<[boolean, boolean]>("voting", "ballotOf", [BigInt(id), v.seat]);
            return { institution: v.id, name: v.name, vote: voted ? (support ? "for" : "against") : "none" };
          }),
        );
        return {
          id,
          proposer: p.proposer,
          description: described.get(String(id)) ?? "",
          ...this.describeCall(p.target, p.data),
          target: p.target,
          rule: RULE_KINDS[p.rule],
          thresholdBps: Number(p.thresholdBps),
          deadline: Number(p.deadline),
          secondsLeft: Math.max(0, Number(p.deadline) - now),
          state: PROPOSAL_STATES[state],
          votes,
        };
      }),
    );
    return list.reverse();
  }

  async services(now: number) {
    const count = Number(await this._read<number>("services", "serviceCount"));
    return Promise.all(
      [...Array(count).keys()].map(async (i) => {
        const id = await this._read<Hex>("services", "serviceAt", [i + 1]);
        const s = await this._read<{
          signer: Address;
          lastSeen: number;
          status: number;
          port: number;
          institution: number;
          subchain: Hex;
          host: string;
        }>("services", "service", [id]);
        return {
          id,
          institution: Number(s.institution),
          signer: s.signer,
          endpoint: `${s.host}:${s.port}`,
          status: SERVICE_STATUSES[s.status],
          subchain: s.subchain,
          lastSeen: Number(s.lastSeen),
          secondsSinceHeartbeat: s.lastSeen ? Math.max(0, now - Number(s.lastSeen)) : null,
        };
      }),
    );
  }

  async topology() {
    const subchains = await Promise.all(
      this._events("chains", "SubchainRegistered").map(async (e) => {
        const id = str(e.args.subchainId) as Hex;
        const s = await this._read<{ institution: number; kind: number; gateway: Address; chainId: bigint }>(
          "chains",
          "subchain",
          [id],
        );
        return {
          id,
          name: str(e.args.name),
          institution: Number(s.institution),
          kind: CHAIN_KINDS[s.kind],
          chainId: Number(s.chainId),
          gateway: s.gateway,
        };
      }),
    );
    const apps = await Promise.all(
      this._events("chains", "AppRegistered").map(async (e) => {
        const id = str(e.args.appId) as Hex;
        const a = await this._read<{ key: Address; institution: number; subchain: Hex }>("chains", "app", [id]);
        return { id, name: str(e.args.name), institution: Number(a.institution), subchain: a.subchain, key: a.key };
      }),
    );
    const attestations = this._events("chains", "ContractAttested");
    const contracts = this._events("chains", "ContractRegistered").map((e) => {
      const address = str(e.args.contractAddress);
      const att = attestations.filter((a) => str(a.args.contractAddress).toLowerCase() === address.toLowerCase());
      return {
        name: str(e.args.name),
        version: Number(str(e.args.version)),
        institution: Number(str(e.args.institution)),
        subchain: str(e.args.subchain),
        address,
        reportHash: str(e.args.reportHash),
        attestations: att.map((a) => ({
          auditor: str(a.args.auditor),
          institution: Number(str(a.args.institution)),
          reportHash: str(a.args.reportHash),
        })),
      };
    });
    const pipes = await Promise.all(
      this._events("pipes", "PipeApplied").map(async (e) => {
        const id = str(e.args.pipeId) as Hex;
        const spec = e.args.spec as Record<string, JsonValue>;
        const r = await this._read<{
          status: number;
          operations: number;
          sourceSubchain: Hex;
          targetSubchain: Hex;
          ratePerMinute: number;
          maxPayloadBytes: number;
          timeoutSeconds: number;
        }>("pipes", "route", [id]);
        const contract = contracts.find(
          (c) =>
            c.subchain.toLowerCase() === r.targetSubchain.toLowerCase() &&
            keccakName(c.name) === str(spec.contractName),
        );
        return {
          id,
          sourceInstitution: Number(str(e.args.sourceInstitution)),
          targetInstitution: Number(str(e.args.targetInstitution)),
          sourceSubchain: r.sourceSubchain,
          targetSubchain: r.targetSubchain,
          contract: contract?.name ?? str(spec.contractName),
          operations: [r.operations & 1 ? "read" : null, r.operations & 2 ? "write" : null].filter((o) => o !== null),
          selectors: (spec.selectors as JsonValue[]).map(str),
          ratePerMinute: Number(r.ratePerMinute),
          maxPayloadBytes: Number(r.maxPayloadBytes),
          timeoutSeconds: Number(r.timeoutSeconds),
          status: PIPE_STATUSES[r.status],
        };
      }),
    );
    return { subchains, apps, contracts, pipes };
  }
}

const keccakName = (name: string): string => keccak256(toBytes(name));
