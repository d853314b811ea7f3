import { JsonRpcProvider } from "ethers";
import {
  AttesterRegistry__factory,
  ChainRegistry__factory,
  DrugTraceability__factory,
  Membership__factory,
  PipeRegistry__factory,
  ServiceRegistry__factory,
  SubchainGateway__factory,
  TransactionLedger__factory,
} from "../../../typechain-types";
import type { LocalConsortium, SideKey } from "../../../scripts/lib/local-consortium";

/** A read-only provider on one of the consortium's chains (no request cache: tests read right after writes). */
export function providerOf(c: LocalConsortium, chain: "governance" | SideKey): JsonRpcProvider {
  const info = c.chains[chain];
  const provider = new JsonRpcProvider(info.url, info.chainId, { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 50;
  return provider;
}

/** The consortium's contracts, connected read-only to their chains. */
export function contractsOf(c: LocalConsortium) {
  const gov = providerOf(c, "governance");
  const side = (s: SideKey) => {
    const p = providerOf(c, s);
    const { contracts } = c.business[s];
    return {
      provider: p,
      gateway: SubchainGateway__factory.connect(contracts.gateway, p),
      drug: DrugTraceability__factory.connect(contracts.drugTraceability, p),
    };
  };
  return {
    provider: gov,
    membership: Membership__factory.connect(c.governance.membership, gov),
    services: ServiceRegistry__factory.connect(c.governance.services, gov),
    chains: ChainRegistry__factory.connect(c.governance.chains, gov),
    pipes: PipeRegistry__factory.connect(c.governance.pipes, gov),
    ledger: TransactionLedger__factory.connect(c.governance.ledger, gov),
    attesters: AttesterRegistry__factory.connect(c.governance.attesters, gov),
    a: side("a"),
    b: side("b"),
    /** Closes every provider (they poll otherwise). */
    destroy(): void {
      for (const p of [gov, this.a.provider, this.b.provider]) p.destroy();
    },
  };
}

/** Whether a JSON-RPC node answers on `url`. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
