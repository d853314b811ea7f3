/**
 * What the transaction driver, the app intake and the peer endpoint use of one running relayer: the parts the
 * composition root (`relayer.ts`) builds and hands down. Functions that need only a few of them take a `Pick`.
 */
import type { AttestationsAhead } from "../attest/ahead";
import type { AttesterEndpoints } from "../attest/endpoints";
import type { Hex, LocalAccount } from "viem";
import type { ChainPlugin } from "../../../lib/chain/types";
import type { RelayerConfig } from "../config/schema";
import { CcgpError } from "../../../lib/infra/errors";
import type { Backlog, FlowControl, TokenBucket } from "../flow";
import type { GovernanceContracts } from "../governance/contracts";
import type { LogReader } from "../governance/logs";
import type { GovernanceView, ServiceEntry } from "../governance/view";
import type { LedgerWriter } from "../governance/writer";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { RelayerStore } from "../store";
import type { Refusals } from "../crosschain/refusal";
import type { TlsMaterial } from "../server/tls";
import type { Gateway } from "../crosschain/gateway";
import type { Journal } from "./journal";
import type { Worker } from "./worker";

/** The sub-chain this relayer fronts, as registered (`subchainId`) and as configured (`name`). */
export interface SubchainBinding {
  subchainId: Hex;
  name: string;
  chain: ChainPlugin;
  gateway: Gateway;
  logs: LogReader;
  confirmations: number;
}

/** An app key held for the chain-initiated mode. */
export interface HeldAppKey {
  appId: Hex;
  account: LocalAccount;
  /** keccak256 of the allowed contract names; `undefined`: any the institution registered on the app's sub-chain. */
  contracts?: Set<Hex>;
}

export interface TxContext {
  config: RelayerConfig;
  log: Logger;
  /** The relayer's root logger, for modules that add their own `module` field. */
  rootLog: Logger;
  metrics: RelayerMetrics;
  store: RelayerStore;
  journal: Journal;
  view: GovernanceView;
  gov: GovernanceContracts;
  govLogs: LogReader;
  writer: LedgerWriter;
  worker: Worker;
  refusals: Refusals;
  flow: FlowControl;
  /** Back-pressure at the intake and the peer endpoint (`limits.maxQueue`). */
  backlog: Backlog;
  /** One bucket per pipe at the pipe's own `ratePerMinute`. */
  pipeRates: Map<Hex, TokenBucket>;
  /** This relayer: its institution, its registered service and the service's signer (business account). */
  me: { institution: number; service: ServiceEntry; signer: LocalAccount };
  subchain: SubchainBinding;
  /** This relayer's certificate and key, and the consortium CA, for calls to peers. */
  tls: TlsMaterial;
  apps: Map<Hex, HeldAppKey>;
  /** Where the gateway's attesters serve their signatures (the service registry). */
  attesterEndpoints: AttesterEndpoints;
  /** Attestation collections started when a packet was accepted, taken by its step. */
  attestationsAhead: AttestationsAhead;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/** Unix seconds, as packets and the ledger count time. */
export const nowSeconds = (rt: Pick<TxContext, "clock">): bigint => BigInt(Math.floor(rt.clock() / 1000));

/** The sub-chain a route side needs, which must be this relayer's. */
export function requireSubchain(rt: Pick<TxContext, "subchain">, subchainId: Hex): SubchainBinding {
  if (rt.subchain.subchainId.toLowerCase() !== subchainId.toLowerCase())
    throw new CcgpError(
      "SUBCHAIN_NOT_FRONTED",
      `this relayer fronts sub-chain ${rt.subchain.subchainId}, not ${subchainId}`,
      {
        subchainId,
        fronted: rt.subchain.subchainId,
      },
    );
  return rt.subchain;
}
