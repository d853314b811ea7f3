/**
 * `ccgp attesters`: the attester set on the sub-chains.
 *
 * `ccgp attesters endpoint <url>` publishes where the signing key (an attester) serves its signatures, in the
 * service registry; relayers and `sync` find it there.
 *
 * `ccgp attesters sync` moves every sub-chain gateway to the set the vote made current on the governance chain
 * (`AttesterRegistry.attesterSet`: epoch, threshold, attesters). For each gateway behind the voted epoch it asks the
 * attesters of the gateway's current set, at their published endpoints and in parallel, to sign the change under
 * that gateway's domain, keeps the signatures that recover to each asked attester, and submits `updateAttesters`
 * with `threshold` of them (any key may submit: the signatures are the authority). A gateway already at the voted
 * epoch with the voted set is left alone; one at another set for that epoch, or ahead of the vote, is reported.
 */
import type { Command } from "commander";
import { JsonRpcProvider, Network, type Provider } from "ethers";
import type { Address, Hex } from "viem";
import { attesterSetChangeSigner, packAttestations, type AttesterSetChange } from "../attest/attestation";
import { collectSignatures } from "../attest/collect";
import { RegistryAttesterEndpoints } from "../attest/endpoints";
import type { SubchainGateway } from "../../../typechain-types";
import { ARTIFACT, connect } from "./artifacts";
import { chainIdOf, localRun, session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { failed, usage } from "./errors";
import { DEFAULT_SCAN, eventsNamed } from "./names";
import { idArg } from "./parse";
import { read, submit } from "./submit";

/** `IChainRegistry.ChainKind.Evm`: the only kind with a gateway contract to move. */
const EVM = 1n;

interface SyncOptions extends CommonOptions {
  subchain: string[];
  subchainRpc: string[];
  timeoutMs: string;
  retries: string;
}

interface Synced {
  subchainId: string;
  chainId: number;
  gateway: string;
  status: "updated" | "in step";
  fromEpoch: bigint;
  epoch: bigint;
  signers?: string[];
  tx?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase());

/** A node for each given URL, by the chain id it serves (the running `npm start`'s chains by default). */
async function nodes(opts: SyncOptions, env: NodeJS.ProcessEnv): Promise<Map<number, string>> {
  const byChain = new Map<number, string>();
  if (opts.subchainRpc.length === 0) {
    for (const c of localRun(opts, env)?.chains ?? []) byChain.set(c.chainId, c.url);
    return byChain;
  }
  for (const url of opts.subchainRpc) byChain.set(await chainIdOf(url, "--subchain-rpc"), url);
  return byChain;
}

async function subchainIds(s: Session, opts: SyncOptions): Promise<string[]> {
  if (opts.subchain.length > 0) return opts.subchain;
  const events = await eventsNamed(s, s.record.chains!, ["SubchainRegistered"], DEFAULT_SCAN);
  return [...new Set(events.map((e) => e.args.subchainId as string))];
}

function positive(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw usage(flag, `"${value}" is not an integer 0..${max}`);
  return n;
}

async function syncOne(
  s: Session & { signer: NonNullable<Session["signer"]> },
  subchainId: string,
  voted: AttesterSetChange,
  node: Provider,
  endpoints: RegistryAttesterEndpoints,
  o: { timeoutMs: number; retries: number },
): Promise<Synced> {
  const registered = await read("sub-chain lookup", () => s.gov.chains.subchain(subchainId));
  const chainId = Number(registered.chainId);
  const gateway = connect<SubchainGateway>(ARTIFACT.gateway, registered.gateway, node);
  const [epoch, threshold, attesters] = await read(`gateway ${registered.gateway} set`, () => gateway.attesterSet());
  const base = { subchainId, chainId, gateway: registered.gateway, fromEpoch: epoch, epoch: voted.epoch };
  if (epoch === voted.epoch && threshold === BigInt(voted.threshold) && sameSet(attesters, voted.attesters))
    return { ...base, status: "in step" };
  if (epoch >= voted.epoch)
    throw failed(
      `sub-chain ${subchainId}: the gateway ${registered.gateway} is at epoch ${epoch} with another set than the ` +
        `vote's epoch ${voted.epoch}: it was changed outside the vote`,
      { subchainId, gatewayEpoch: epoch, votedEpoch: voted.epoch },
    );
  const recover = (signature: Hex) => attesterSetChangeSigner(chainId, registered.gateway as Address, voted, signature);
  let signatures: Hex[];
  try {
    signatures = await collectSignatures(
      "/v1/attester-set",
      JSON.stringify({ subchain: subchainId }),
      recover,
      { threshold: Number(threshold), attesters: attesters as Address[] },
      endpoints,
      o,
    );
  } catch (err) {
    throw failed(`sub-chain ${subchainId}: ${(err as Error).message}`, { subchainId }, err);
  }
  const signers = await Promise.all(signatures.map(recover));
  const submitter = gateway.connect(s.signer.connect(node));
  const sent = await submit(s.out, `updateAttesters on sub-chain ${subchainId}`, () =>
    submitter.updateAttesters(voted.epoch, [...voted.attesters], voted.threshold, packAttestations(signatures)),
  );
  return { ...base, status: "updated", signers, tx: sent.receipt.hash };
}

async function sync(opts: SyncOptions, ctx: Env): Promise<void> {
  const o = {
    timeoutMs: positive(opts.timeoutMs, "--timeout-ms", 600_000),
    retries: positive(opts.retries, "--retries", 10),
  };
  const s = await session(opts, ctx, true);
  const [epoch, threshold, attesters] = await read("attester set", () => s.gov.attesters.attesterSet());
  if (epoch === 0n) throw failed("no attester set was voted on the governance chain yet: nothing to sync");
  const voted: AttesterSetChange = { epoch, threshold: Number(threshold), attesters: attesters as Address[] };
  const byChain = await nodes(opts, ctx.env);
  const endpoints = new RegistryAttesterEndpoints((a) => s.gov.services.attesterEndpoint(a), 60_000);
  const synced: Synced[] = [];
  const problems: string[] = [];
  for (const id of await subchainIds(s, opts)) {
    const registered = await read("sub-chain lookup", () => s.gov.chains.subchain(id));
    if (registered.institution === 0n) throw usage("--subchain", `sub-chain ${id} is not registered`);
    if (registered.kind !== EVM) continue;
    const url = byChain.get(Number(registered.chainId));
    if (url === undefined) {
      problems.push(`sub-chain ${id}: no node of chain ${registered.chainId} given (--subchain-rpc <url>)`);
      continue;
    }
    const node = new JsonRpcProvider(url, Network.from(Number(registered.chainId)), { staticNetwork: true });
    try {
      synced.push(await syncOne(s, id, voted, node, endpoints, o));
    } catch (err) {
      problems.push((err as Error).message);
    } finally {
      node.destroy();
    }
  }
  const line = (r: Synced) =>
    r.status === "updated"
      ? `sub-chain ${r.subchainId} (chain ${r.chainId}, gateway ${r.gateway}): epoch ${r.fromEpoch} -> ${r.epoch}, ` +
        `signed by ${r.signers!.join(", ")}, tx ${r.tx}`
      : `sub-chain ${r.subchainId} (chain ${r.chainId}, gateway ${r.gateway}): in step at epoch ${r.epoch}`;
  s.out.result(
    [
      `voted attester set: epoch ${epoch}, ${threshold} of ${attesters.length} (${attesters.join(", ")})`,
      ...synced.map(line),
    ],
    { epoch, threshold: Number(threshold), attesters, gateways: synced, problems },
  );
  if (problems.length > 0)
    throw failed(`${problems.length} gateway(s) not in step: ${problems.join("; ")}`, { problems });
}

async function publish(url: string, opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "setAttesterEndpoint", () => s.gov.services.setAttesterEndpoint(url));
  const attester = await s.signer.getAddress();
  s.out.result(
    [
      url === ""
        ? `attester ${attester}: endpoint withdrawn`
        : `attester ${attester}: signatures served at ${url} (published in the service registry)`,
    ],
    { attester, url, tx: sent.receipt.hash },
  );
}

export function addAttestersCommands(root: Command, ctx: Env): void {
  const group = root
    .command("attesters")
    .description("the attester set on the sub-chain gateways, and where each attester serves its signatures");
  withCommon(
    group
      .command("endpoint")
      .description(
        "publish where the signing key (an attester) serves its signatures, in the service registry (an empty URL " +
          "withdraws it)",
      )
      .argument("<url>", "http(s)://host:port of the attester's endpoint"),
  ).action((url: string, opts: CommonOptions) => publish(url, opts, ctx));
  withCommon(
    group
      .command("sync")
      .description(
        "move every sub-chain gateway to the attester set voted on the governance chain, with the signatures of its " +
          "current attesters (from their published endpoints)",
      )
      .option(
        "--subchain <id>",
        "only this sub-chain (repeatable; default: every registered EVM sub-chain)",
        (v, acc: string[]) => [...acc, idArg(v)],
        [] as string[],
      )
      .option(
        "--subchain-rpc <url>",
        "a node of a sub-chain, matched by chain id (repeatable; default: the running npm start's chains)",
        collect,
        [] as string[],
      )
      .option("--timeout-ms <ms>", "how long to wait for each attester, each time", "5000")
      .option("--retries <n>", "how many more times to ask an attester after a fault", "2"),
  ).action((opts: SyncOptions) => sync(opts, ctx));
}
