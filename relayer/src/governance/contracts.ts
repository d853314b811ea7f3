/** The governance-chain contracts a relayer talks to, bound to the governance chain plugin. */
import type { Address } from "viem";
import { packetDomain, type AmdpDomain } from "../../../lib/amdp";
import type { ChainPlugin } from "../../../lib/chain/types";
import type { RelayerConfig } from "../config/schema";
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
 * The registries: every change of a pipe's grants, a party's standing, a key, a contract name or an attestation is
 * logged by one of them (the ledger is not among them: its state is not what they answer). Reads of their views are
 * kept while none of them logs (`Contract.readKept`).
 */
export function registryAddresses(c: RegistryContracts): readonly Address[] {
  let known = registriesOf.get(c);
  if (known === undefined) {
    const all = [c.membership, c.services, c.subchains, c.apps, c.names, c.pipes].map((x) => x.address.toLowerCase());
    registriesOf.set(c, (known = [...new Set(all)] as Address[]));
  }
  return known;
}

export type RegistryContracts = Pick<
  GovernanceContracts,
  "membership" | "services" | "subchains" | "apps" | "names" | "pipes"
>;
const registriesOf = new WeakMap<RegistryContracts, readonly Address[]>();

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
