/**
 * The auditor-only query API inside a relayer: the relayer keeps an index of every governance-chain event
 * (`auditor/`), and its ops listener answers auditors' queries under `/auditor`, each request signed by an
 * active auditor account (checked on chain at every request, so a suspended auditor is refused at once).
 *
 * Loaded only when `config.auditor` is set, so a relayer without it does not load the auditor's modules.
 */
import { JsonRpcProvider } from "ethers";
import type { Address, PublicClient } from "viem";
import { evmReadClient } from "../chains";
import {
  AuditorAuthenticator,
  AuditorQueries,
  createAuditorHandler,
  GOVERNANCE_CONTRACTS,
  GovernanceIndexer,
  IndexStore,
  loadAbi,
  SubchainReader,
  type AuditorHandler,
  type ContractKey,
} from "../../../auditor/src";
import { TransactionLedger__factory } from "../../../typechain-types";
import type { AuditorConfig, RelayerConfig } from "../config/schema";
import { moduleLogger, type Logger } from "../../../lib/infra/log";

/** Where the API is mounted on the ops listener. */
export const AUDITOR_PREFIX = "/auditor";

export interface MountedAuditor {
  /** Where the ops listener serves it. */
  prefix: string;
  handler: AuditorHandler;
  /** Follows the governance chain into the index until `signal` aborts (returns at once when `index` is false). */
  run(signal: AbortSignal): Promise<void>;
  close(): void;
}

/** The governance contracts in the auditor's keys, from the relayer's config. */
function contractsOf(config: RelayerConfig): Partial<Record<ContractKey, Address>> {
  const c = config.governance.contracts;
  return {
    membership: c.membership,
    voting: c.voting,
    services: c.registries.services,
    chains: c.registries.subChains,
    pipes: c.registries.pipes,
    ledger: c.ledger,
    ...(c.credit ? { credit: c.credit } : {}),
  };
}

export async function mountAuditor(
  config: RelayerConfig & { auditor: AuditorConfig },
  log: Logger,
): Promise<MountedAuditor> {
  const a = config.auditor;
  const g = config.governance;
  const govClient = evmReadClient(g.rpcUrl);
  // Without `index`, another process writes the index: open it for queries only.
  const store = IndexStore.open({ path: a.db, readonly: !a.index });
  try {
    // Binds the index to this chain and these contracts; an index built for others is refused here, at start.
    const indexer = !a.index
      ? undefined
      : await GovernanceIndexer.create({
          client: govClient,
          store,
          contracts: contractsOf(config),
          fromBlock: a.fromBlock,
          confirmations: g.confirmations,
          pollIntervalMs: g.pollIntervalMs,
          logger: moduleLogger(log, "auditor.index"),
        });
    const rpcs = new Map<number, PublicClient>();
    for (const chain of Object.values(config.chains)) rpcs.set(chain.chainId, evmReadClient(chain.rpcUrl));
    for (const chain of a.subchains) rpcs.set(chain.chainId, evmReadClient(chain.rpcUrl));
    const queries = new AuditorQueries({
      store,
      reader: new SubchainReader(rpcs),
      ledger: TransactionLedger__factory.connect(
        g.contracts.ledger,
        new JsonRpcProvider(g.rpcUrl, undefined, { staticNetwork: true }),
      ),
    });
    const auth = new AuditorAuthenticator({
      client: govClient,
      membership: g.contracts.membership,
      chainId: g.chainId,
      membershipAbi: loadAbi(GOVERNANCE_CONTRACTS.membership),
      windowSeconds: a.windowSeconds,
    });
    return {
      prefix: AUDITOR_PREFIX,
      handler: createAuditorHandler({
        queries,
        auth,
        prefix: AUDITOR_PREFIX,
        logger: moduleLogger(log, "auditor.api"),
      }),
      run: async (signal) => {
        await indexer?.follow(signal);
      },
      close: () => store.close(),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
