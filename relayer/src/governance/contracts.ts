/** The governance-chain contracts a relayer talks to, bound to the governance chain plugin. */
import { zeroAddress, type AbiEvent, type AbiItem, type Address } from "viem";
import { packetDomain, type AmdpDomain } from "../../../lib/amdp";
import type { ChainPlugin, KeptWatch } from "../../../lib/chain/types";
import type { RelayerConfig } from "../config/schema";
import { ICreditRegistryAbi } from "../../../lib/abi/interfaces.generated";
import {
  chainRegistryAbi,
  ledgerAbi,
  membershipAbi,
  pipeRegistryAbi,
  serviceRegistryAbi,
} from "../../../lib/abi/contracts";
import { Contract } from "./contract";

export interface GovernanceContracts {
  membership: Contract<typeof membershipAbi>;
  services: Contract<typeof serviceRegistryAbi>;
  /** Sub-chains (`registries.subChains`). */
  subchains: Contract<typeof chainRegistryAbi>;
  /** Apps and their reserved keys (`registries.applications`). */
  apps: Contract<typeof chainRegistryAbi>;
  /** The contract name service (`registries.businessContracts`). */
  names: Contract<typeof chainRegistryAbi>;
  pipes: Contract<typeof pipeRegistryAbi>;
  ledger: Contract<typeof ledgerAbi>;
  /** The AMDP EIP-712 domain: the governance chain and its ledger. */
  domain: AmdpDomain;
}

/**
 * What ends a kept read of the registries' views (`Contract.readKept`): any log of the registries (every change of a
 * pipe's grants, a party's standing, a key, a contract name or an attestation is logged by one of them), and the
 * credit score's restrictions and parameters, which `checkOperation` reads live (its restriction test is computed
 * from the score and the parameters; a score that crosses the threshold logs `CreditRestricted` or
 * `CreditRestored`). The ledger is not among them. The credit score's address is read once, from the pipe registry.
 */
export function registryWatch(c: RegistryContracts): Promise<readonly KeptWatch[]> {
  let known = watchOf.get(c);
  if (known === undefined) {
    const all = [c.membership, c.services, c.subchains, c.apps, c.names, c.pipes].map((x) => x.address.toLowerCase());
    const registries: KeptWatch = { address: [...new Set(all)] as Address[] };
    known = c.pipes
      .read("registries", [])
      .then(([, , , credit]) =>
        credit === zeroAddress ? [registries] : [registries, { address: [credit], events: CREDIT_EVENTS }],
      );
    watchOf.set(c, known);
    known.catch(() => watchOf.delete(c));
  }
  return known;
}

const CREDIT_EVENTS = (ICreditRegistryAbi as readonly AbiItem[]).filter(
  (item): item is AbiEvent =>
    item.type === "event" && ["CreditRestricted", "CreditRestored", "CreditParamsChanged"].includes(item.name),
);

export type RegistryContracts = Pick<
  GovernanceContracts,
  "membership" | "services" | "subchains" | "apps" | "names" | "pipes"
>;
const watchOf = new WeakMap<RegistryContracts, Promise<readonly KeptWatch[]>>();

export function governanceContracts(chain: ChainPlugin, config: RelayerConfig["governance"]): GovernanceContracts {
  const c = config.contracts;
  const r = c.registries;
  return {
    membership: new Contract(chain, c.membership as Address, membershipAbi, "Membership"),
    services: new Contract(chain, r.services as Address, serviceRegistryAbi, "ServiceRegistry"),
    subchains: new Contract(chain, r.subChains as Address, chainRegistryAbi, "ChainRegistry"),
    apps: new Contract(chain, r.applications as Address, chainRegistryAbi, "ChainRegistry"),
    names: new Contract(chain, r.businessContracts as Address, chainRegistryAbi, "ChainRegistry"),
    pipes: new Contract(chain, r.pipes as Address, pipeRegistryAbi, "PipeRegistry"),
    ledger: new Contract(chain, c.ledger as Address, ledgerAbi, "TransactionLedger"),
    domain: packetDomain(config.chainId, c.ledger as Address),
  };
}
