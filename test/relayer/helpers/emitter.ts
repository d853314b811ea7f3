import { artifacts } from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getAbiItem,
  http,
  type Abi,
  type AbiEvent,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** Hardhat's well-known development keys (accounts #0 and #1 of the default mnemonic). */
export const DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" as const;
export const RELAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;

export const localChain = (url: string) =>
  defineChain({
    id: 31337,
    name: "hardhat-node",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });

export interface Emitter {
  address: Address;
  abi: Abi;
  emittedEvent: AbiEvent;
  deployBlock: bigint;
  /** Sends `emitEvent(id, data)` from the deployer; resolves with the block it was mined in. */
  emit(id: bigint, data?: Hex): Promise<{ blockNumber: bigint; blockHash: Hex }>;
  emitMany(firstId: bigint, count: bigint): Promise<{ blockNumber: bigint; blockHash: Hex }>;
  calldata(functionName: "emitEvent" | "emitMany" | "emittedCount", args?: readonly unknown[]): Hex;
}

/** Deploys `contracts/mocks/EventEmitterMock.sol` (compiled by hardhat) to the node at `url`. */
export async function deployEmitter(url: string): Promise<Emitter> {
  const artifact = await artifacts.readArtifact("EventEmitterMock");
  const abi = artifact.abi as Abi;
  const chain = localChain(url);
  const account = privateKeyToAccount(DEPLOYER_KEY);
  const wallet = createWalletClient({ account, chain, transport: http(url) });
  const client = createPublicClient({ chain, transport: http(url), cacheTime: 0 });
  const deployHash = await wallet.deployContract({ abi, bytecode: artifact.bytecode as Hex });
  const deployed = await client.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 20 });
  const address = deployed.contractAddress!;
  const send = async (data: Hex): Promise<{ blockNumber: bigint; blockHash: Hex }> => {
    const hash = await wallet.sendTransaction({ to: address, data });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    return { blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
  };
  const calldata: Emitter["calldata"] = (functionName, args = []) =>
    encodeFunctionData({ abi, functionName, args: args as unknown[] });
  return {
    address,
    abi,
    emittedEvent: getAbiItem({ abi, name: "Emitted" }) as AbiEvent,
    deployBlock: deployed.blockNumber,
    emit: (id, data = "0x") => send(calldata("emitEvent", [id, data])),
    emitMany: (firstId, count) => send(encodeFunctionData({ abi, functionName: "emitMany", args: [firstId, count] })),
    calldata,
  };
}
