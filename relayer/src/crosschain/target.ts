/**
 * The business contract a pipe calls on this relayer's sub-chain, checked before anything runs: the CNS names it
 * (and, while governance requires it, an auditor attested it), the gateway calls the same contract under the name,
 * and its runtime code is still the code the auditor attested (EXTCODEHASH through this relayer's own node). An
 * attestation binds a report to code, so code changed under the same address (a re-deployment, a self-destruct and
 * re-create, a node's setCode) is refused: `CONTRACT_CODE_MISMATCH`.
 */
import { zeroAddress, zeroHash, type Address, type Hex } from "viem";
import type { ChainPlugin, KeptWatch } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import type { chainRegistryAbi } from "../../../lib/abi/contracts";
import { isRevert, type Contract } from "../governance/contract";

export interface TargetParts {
  names: Contract<typeof chainRegistryAbi>;
  /** What ends a kept CNS answer (`registryWatch`). */
  watch: readonly KeptWatch[] | Promise<readonly KeptWatch[]>;
  /** The sub-chain gateway's contract under a name (`Gateway.businessContract`). */
  gateway: { businessContract(contractName: Hex): Promise<Address> };
  chain: ChainPlugin;
}

/**
 * The checked target's address; throws `CONTRACT_NOT_ATTESTED`, `CONTRACT_NOT_REGISTERED` or `CONTRACT_CODE_MISMATCH`.
 */
export async function checkTarget(parts: TargetParts, subchainId: Hex, contractName: Hex): Promise<Address> {
  // The gateway's address for the name is read first, so its attestation and code are read beside the CNS lookup.
  const atGateway = parts.gateway.businessContract(contractName);
  const [[address], [attested, code]] = await Promise.all([
    parts.names.readKept("resolve", [subchainId, contractName], parts.watch).catch((err: unknown) => {
      // Governance requires an audit attestation and this contract has none now: it is not executed.
      if (isRevert(err, "ContractNotAttested"))
        throw new CcgpError(
          "CONTRACT_NOT_ATTESTED",
          `contract ${contractName} on ${subchainId} has no audit attestation, which governance requires`,
          {
            contractName,
          },
        );
      throw err;
    }),
    atGateway.then((target) =>
      Promise.all([
        parts.names.readKept("attestation", [subchainId, target], parts.watch),
        parts.chain.codeHash(target),
      ]),
    ),
  ]);
  const target = await atGateway;
  if (address === zeroAddress || target.toLowerCase() !== address.toLowerCase())
    throw new CcgpError(
      "CONTRACT_NOT_REGISTERED",
      `contract ${contractName}: the CNS says ${address} on ${subchainId}, the gateway ${target}`,
      {
        contractName,
      },
    );
  // An attestation counts for the code it was given for, whether or not governance requires one now.
  if (attested.codeHash !== zeroHash && attested.codeHash.toLowerCase() !== code.toLowerCase())
    throw new CcgpError(
      "CONTRACT_CODE_MISMATCH",
      `contract ${contractName} at ${address}: its code hash on the sub-chain is ${code}, the audit attested ` +
        `${attested.codeHash}; not executed`,
      { contractName, address, codeHash: code, attestedCodeHash: attested.codeHash },
    );
  return address;
}
