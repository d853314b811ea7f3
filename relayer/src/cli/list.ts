/**
 * `ccgp list <what>`: everything the governance chain knows, as tables with names next to ids, or as JSON or CSV.
 * Registries that count their entries are read by index; the others by their registration events, then each entry's
 * current state from its view (a suspended account, a closed pipe show as they are now, not as registered).
 */
import type { Command } from "commander";
import { session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { enumName, PIPE_STATUS, TX_STATE } from "./enums";
import {
  applyFilters,
  fieldFilter,
  printListing,
  withListing,
  type Filter,
  type ListOptions,
  type Row,
} from "./listing";
import { eventsNamed, named, Names, short } from "./names";
import { when } from "./output";
import { read } from "./submit";

type Loader = (s: Session, names: Names, opts: ListOptions, now: bigint) => Promise<Row[]>;

export interface ListKind {
  name: string;
  description: string;
  filters: Filter[];
  columns: [string, (row: Row) => string][];
  load: Loader;
}

const str = (v: unknown): string => (v === undefined || v === null || v === "" ? "-" : String(v));
const institutionFilter = (help = "institution id or name") =>
  fieldFilter("--institution <ids>", help, "institution", "institutionName");
const statusFilter = (help: string) => fieldFilter("--status <names>", help, "status");
const inst = (r: Row, key = "institution") =>
  r[`${key}Name`] ? `${r[`${key}Name`] as string} (${r[key] as number})` : str(r[key]);

const institutions: ListKind = {
  name: "institutions",
  description: "institutions with their kind, status, unified id and weight",
  filters: [
    fieldFilter("--kind <kinds>", "Genesis, Business, Audit", "kind"),
    statusFilter("Applied, Active, Suspended, Expelled"),
    fieldFilter("--name <names>", "exact names", "name"),
  ],
  columns: [
    ["id", (r) => str(r.id)],
    ["name", (r) => str(r.name)],
    ["kind", (r) => str(r.kind)],
    ["status", (r) => str(r.status)],
    ["did", (r) => str(r.did)],
    ["weight", (r) => str(r.weight)],
  ],
  load: async (s) => {
    const m = s.gov.membership;
    const count = Number(await read("institutionCount", () => m.institutionCount()));
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const [x, did] = await Promise.all([m.institution(i + 1), m.didOf(i + 1)]);
        return {
          id: i + 1,
          name: x.name,
          kind: enumName("IMembership.InstitutionKind", x.kind),
          status: enumName("IMembership.InstitutionStatus", x.status),
          did,
          weight: Number(x.weight),
          admin: x.admin,
        };
      }),
    );
  },
};

const accounts: ListKind = {
  name: "accounts",
  description: "accounts with their institution, role and status (requested, active, suspended, revoked)",
  filters: [
    institutionFilter(),
    fieldFilter("--role <roles>", "Governor, Operator, Business, Auditor", "role"),
    statusFilter("Pending, Active, Suspended, Revoked"),
  ],
  columns: [
    ["account", (r) => str(r.account)],
    ["institution", (r) => inst(r)],
    ["role", (r) => str(r.role)],
    ["status", (r) => str(r.status)],
  ],
  load: async (s, names, opts) => {
    const events = await eventsNamed(s, s.record.membership!, ["AccountRequested", "AccountActivated"], opts);
    const addresses = [...new Set(events.map((e) => e.args.account as string))];
    return Promise.all(
      addresses.map(async (account) => {
        const a = await s.gov.membership.account(account);
        return {
          account,
          institution: Number(a.institution),
          institutionName: await names.institution(a.institution),
          role: enumName("IMembership.Role", a.role),
          status: enumName("IMembership.AccountStatus", a.status),
        };
      }),
    );
  },
};

const services: ListKind = {
  name: "services",
  description: "collaboration services (the relayers): endpoint, signer, sub-chain, status, last heartbeat",
  filters: [institutionFilter(), statusFilter("Registered, Enabled, Disabled")],
  columns: [
    ["service", (r) => short(r.serviceId as string)],
    ["institution", (r) => inst(r)],
    ["sub-chain", (r) => named(r.subchainName as string | undefined, r.subchain as string)],
    ["endpoint", (r) => `${r.host as string}:${r.port as number}`],
    ["signer", (r) => str(r.signer)],
    ["status", (r) => str(r.status)],
    ["last heartbeat", (r) => str(r.lastSeenText)],
  ],
  load: async (s, names, _opts, now) => {
    const reg = s.gov.services;
    const count = Number(await read("serviceCount", () => reg.serviceCount()));
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const serviceId = await reg.serviceAt(i + 1);
        const x = await reg.service(serviceId);
        return {
          serviceId,
          institution: Number(x.institution),
          institutionName: await names.institution(x.institution),
          subchain: x.subchain,
          subchainName: await names.of(x.subchain),
          host: x.host,
          port: Number(x.port),
          signer: x.signer,
          tlsFingerprint: x.tlsFingerprint,
          status: enumName("IServiceRegistry.ServiceStatus", x.status),
          lastSeen: Number(x.lastSeen),
          lastSeenText: x.lastSeen === 0n ? "never" : when(x.lastSeen, now),
        };
      }),
    );
  },
};

const nodes: ListKind = {
  name: "nodes",
  description: "governance-chain nodes: kind, institution, endpoint, status",
  filters: [
    institutionFilter(),
    fieldFilter("--kind <kinds>", "Genesis, Governance, Audit", "kind"),
    statusFilter("Registered, Enabled, Disabled"),
  ],
  columns: [
    ["node", (r) => short(r.nodeId as string)],
    ["institution", (r) => inst(r)],
    ["kind", (r) => str(r.kind)],
    ["endpoint", (r) => `${r.host as string}:${r.port as number}`],
    ["status", (r) => str(r.status)],
  ],
  load: async (s, names, opts) => {
    const events = await eventsNamed(s, s.record.services!, ["NodeRegistered"], opts);
    return Promise.all(
      events.map(async (e) => {
        const nodeId = e.args.nodeId as string;
        const x = await s.gov.services.node(nodeId);
        return {
          nodeId,
          institution: Number(x.institution),
          institutionName: await names.institution(x.institution),
          kind: enumName("IServiceRegistry.NodeKind", x.kind),
          host: x.host,
          port: Number(x.port),
          status: enumName("IServiceRegistry.NodeStatus", x.status),
          publicKey: x.publicKey,
        };
      }),
    );
  },
};

const chains: ListKind = {
  name: "chains",
  description: "sub-chains: name, kind, chain id, gateway, the service that fronts it",
  filters: [institutionFilter(), fieldFilter("--kind <kinds>", "Evm, FiscoBcos, Fabric", "kind")],
  columns: [
    ["sub-chain", (r) => named(r.name as string, r.subchainId as string)],
    ["institution", (r) => inst(r)],
    ["kind", (r) => str(r.kind)],
    ["chain id", (r) => str(r.chainId)],
    ["gateway", (r) => str(r.gateway)],
    ["service", (r) => short(r.service as string)],
  ],
  load: async (s, names, opts) => {
    const events = await eventsNamed(s, s.record.chains!, ["SubchainRegistered"], opts);
    return Promise.all(
      events.map(async (e) => {
        const subchainId = e.args.subchainId as string;
        const x = await s.gov.chains.subchain(subchainId);
        return {
          subchainId,
          name: e.args.name as string,
          institution: Number(x.institution),
          institutionName: await names.institution(x.institution),
          kind: enumName("IChainRegistry.ChainKind", x.kind),
          chainId: x.chainId,
          gateway: x.gateway,
          service: x.service,
        };
      }),
    );
  },
};

const apps: ListKind = {
  name: "apps",
  description: "business apps: institution, sub-chain, the key reserved for their stage-1 signatures",
  filters: [institutionFilter(), fieldFilter("--subchain <ids>", "sub-chain id or name", "subchain", "subchainName")],
  columns: [
    ["app", (r) => named(r.name as string | undefined, r.appId as string)],
    ["institution", (r) => inst(r)],
    ["sub-chain", (r) => named(r.subchainName as string | undefined, r.subchain as string)],
    ["key", (r) => (r.key === "0x0000000000000000000000000000000000000000" ? "none (revoked)" : str(r.key))],
  ],
  load: async (s, names) => {
    const reg = s.gov.chains;
    const count = Number(await read("appCount", () => reg.appCount()));
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const appId = await reg.appAt(i + 1);
        const x = await reg.app(appId);
        return {
          appId,
          name: await names.of(appId),
          institution: Number(x.institution),
          institutionName: await names.institution(x.institution),
          subchain: x.subchain,
          subchainName: await names.of(x.subchain),
          key: x.key,
        };
      }),
    );
  },
};

const contracts: ListKind = {
  name: "contracts",
  description: "business contracts in the name service, one row per version",
  filters: [
    institutionFilter("owner institution id or name"),
    fieldFilter("--name <names>", "contract names", "name"),
    fieldFilter("--subchain <ids>", "sub-chain id or name", "subchain", "subchainName"),
  ],
  columns: [
    ["name", (r) => str(r.name)],
    ["version", (r) => str(r.version)],
    ["institution", (r) => inst(r)],
    ["sub-chain", (r) => named(r.subchainName as string | undefined, r.subchain as string)],
    ["address", (r) => str(r.address)],
    ["audit report", (r) => (/^0x0+$/.test(r.reportHash as string) ? "-" : short(r.reportHash as string))],
  ],
  load: async (s, names, opts) => {
    const events = await eventsNamed(s, s.record.chains!, ["ContractRegistered"], opts);
    return Promise.all(
      events.map(async (e) => ({
        name: e.args.name as string,
        nameHash: e.args.nameHash as string,
        version: Number(e.args.version),
        institution: Number(e.args.institution),
        institutionName: await names.institution(e.args.institution as number),
        subchain: e.args.subchain as string,
        subchainName: await names.of(e.args.subchain as string),
        address: e.args.contractAddress as string,
        reportHash: e.args.reportHash as string,
      })),
    );
  },
};

const OPS = ["", "read", "write", "read,write"];

/** A pipe's (or its transaction's) source or target institution, by id or name. */
const eitherSide = (r: Row, wanted: string): boolean =>
  [r.sourceInstitution, r.targetInstitution, r.sourceInstitutionName, r.targetInstitutionName].some(
    (v) => v !== undefined && String(v).toLowerCase() === wanted,
  );

const pipes: ListKind = {
  name: "pipes",
  description: "pipes: status, source and target institution and app, contract, operations, limits",
  filters: [
    institutionFilter("either side's institution id or name"),
    fieldFilter("--source <ids>", "source institution id or name", "sourceInstitution", "sourceInstitutionName"),
    fieldFilter("--target <ids>", "target institution id or name", "targetInstitution", "targetInstitutionName"),
    statusFilter("Applied, Authorized, Active, Paused, Closed"),
  ],
  columns: [
    ["pipe", (r) => str(r.pipeId)],
    ["status", (r) => str(r.status)],
    ["source", (r) => `${inst(r, "sourceInstitution")} ${str(r.sourceAppName)}`],
    ["target", (r) => `${inst(r, "targetInstitution")} ${str(r.targetAppName)}`],
    ["contract", (r) => str(r.contract)],
    ["ops", (r) => str(r.operations)],
  ],
  load: async (s, names, opts) => {
    const events = await eventsNamed(s, s.record.pipes!, ["PipeApplied"], opts);
    return Promise.all(
      events.map(async (e) => {
        const pipeId = e.args.pipeId as string;
        const route = await s.gov.pipes.route(pipeId);
        return {
          pipeId,
          status: enumName(PIPE_STATUS, route.status),
          sourceInstitution: Number(route.sourceInstitution),
          sourceInstitutionName: await names.institution(route.sourceInstitution),
          sourceApp: route.sourceApp,
          sourceAppName: await names.of(route.sourceApp),
          targetInstitution: Number(route.targetInstitution),
          targetInstitutionName: await names.institution(route.targetInstitution),
          targetApp: route.targetApp,
          targetAppName: await names.of(route.targetApp),
          contractName: route.contractName,
          contract: (await names.of(route.contractName)) ?? short(route.contractName),
          operations: OPS[Number(route.operations)] ?? String(route.operations),
          ratePerMinute: Number(route.ratePerMinute),
          timeoutSeconds: Number(route.timeoutSeconds),
        };
      }),
    );
  },
};
// `--institution` matches either side.
pipes.filters[0] = { ...pipes.filters[0]!, match: (r, w) => eitherSide(r, w) };

const credit: ListKind = {
  name: "credit",
  description: "credit scores of the institutions: score, restriction, last report",
  filters: [
    institutionFilter(),
    fieldFilter("--restricted <yes|no>", "only restricted (yes) or unrestricted (no) institutions", "restrictedText"),
  ],
  columns: [
    ["institution", (r) => inst(r)],
    ["score", (r) => `${r.score as number}/${r.maxScore as number}`],
    ["restricted", (r) => str(r.restrictedText)],
    ["last report", (r) => str(r.lastReportText)],
  ],
  load: async (s, names, _opts, now) => {
    const c = s.gov.credit;
    const params = await read("params", () => c.params());
    const ids = [...(await names.institutionMap()).keys()];
    return Promise.all(
      ids.map(async (id) => {
        const [rec, score] = await Promise.all([c.creditOf(id), c.scoreOf(id)]);
        return {
          institution: id,
          institutionName: await names.institution(id),
          score: Number(score),
          maxScore: Number(params.maxScore),
          restricted: rec.restricted,
          restrictedText: rec.restricted ? "yes" : "no",
          restrictionThreshold: Number(params.restrictionThreshold),
          lastReportAt: Number(rec.lastReportAt),
          lastReportText: rec.lastReportAt === 0n ? "never" : when(rec.lastReportAt, now),
        };
      }),
    );
  },
};

const transactions: ListKind = {
  name: "transactions",
  description: "cross-chain transactions on the ledger, newest first: state, pipe, steps, deadline",
  filters: [
    fieldFilter(
      "--state <states>",
      "Open, Executing, Executed, Confirmed, Failed, Compensating, Compensated, Manual, Resolved, Expired, Committing",
      "state",
    ),
    fieldFilter("--pipe <ids>", "pipe id", "pipeId"),
    { flag: "--institution <ids>", help: "either side's institution id or name", match: (r, w) => eitherSide(r, w) },
  ],
  columns: [
    ["#", (r) => `#${r.number as number}`],
    ["txId", (r) => str(r.txId)],
    ["state", (r) => `${r.state as string}${r.reason && r.reason !== "None" ? ` (${r.reason as string})` : ""}`],
    ["pipe", (r) => str(r.pipe)],
    ["steps", (r) => `${r.stepsDone as number}/${r.stepCount as number}`],
    ["deadline", (r) => str(r.deadlineText)],
  ],
  load: async (s, names, opts, now) => {
    const events = await eventsNamed(s, s.record.ledger!, ["TxOpened"], opts);
    const routes = new Map<string, Promise<Row>>();
    const routeOf = (pipeId: string) => {
      if (!routes.has(pipeId))
        routes.set(
          pipeId,
          (async () => {
            const r = await s.gov.pipes.route(pipeId);
            const [src, tgt] = await Promise.all([
              names.institution(r.sourceInstitution),
              names.institution(r.targetInstitution),
            ]);
            return {
              label: `${src ?? r.sourceInstitution} -> ${tgt ?? r.targetInstitution}`,
              sourceInstitution: Number(r.sourceInstitution),
              sourceInstitutionName: src,
              targetInstitution: Number(r.targetInstitution),
              targetInstitutionName: tgt,
            };
          })(),
        );
      return routes.get(pipeId)!;
    };
    const rows = await Promise.all(
      events.map(async (e) => {
        const txId = e.args.txId as string;
        const [view, status] = await Promise.all([s.gov.ledger.transaction(txId), s.gov.ledger.statusOf(txId)]);
        const { label, ...sides } = await routeOf(view.pipeId);
        return {
          number: Number(e.args.number),
          txId,
          state: enumName(TX_STATE, view.state),
          reason: enumName("ITransactionLedgerTypes.Reason", view.reason),
          pipeId: view.pipeId,
          pipe: `${label as string} (${short(view.pipeId)})`,
          ...sides,
          stepsDone: Number(status.stepsDone),
          stepCount: Number(view.stepCount),
          deadline: Number(view.deadline),
          deadlineText: when(view.deadline, now),
          openedBy: e.args.opener as string,
          block: e.blockNumber,
        };
      }),
    );
    return rows.sort((a, b) => b.number - a.number);
  },
};

export const LIST_KINDS: ListKind[] = [
  institutions,
  accounts,
  services,
  nodes,
  chains,
  apps,
  contracts,
  pipes,
  credit,
  transactions,
];

export async function runList(kind: ListKind, opts: ListOptions & CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx);
  const names = new Names(s, opts);
  const now = BigInt((await s.chain.provider.getBlock("latest"))!.timestamp);
  const rows = applyFilters(await kind.load(s, names, opts, now), kind.filters, opts);
  printListing(s.out, opts, { what: kind.name, columns: kind.columns, rows });
}

/** `ccgp list <what>`, one subcommand per kind; `extra` are kinds listed elsewhere (proposals) added here too. */
export function addListCommands(root: Command, ctx: Env, extra: ListKind[] = []): Command {
  const list = root
    .command("list")
    .description(
      "list institutions, accounts, services, nodes, chains, apps, contracts, pipes, credit, transactions, proposals",
    );
  for (const kind of [...LIST_KINDS, ...extra]) {
    const cmd = withListing(list.command(kind.name).description(kind.description), kind.filters);
    withCommon(cmd).action((opts: ListOptions & CommonOptions) => runList(kind, opts, ctx));
  }
  return list;
}
