/**
 * The browser side of the console tests: Debian's chromium driven by playwright-core (never a downloaded browser),
 * an injected EIP-1193 provider whose keys stay in the test process (it signs with the consortium's test keys and
 * sends to the real governance chain), and axe-core run inside the page.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";
import { createWalletClient, defineChain, http, type Hex, type PrivateKeyAccount } from "viem";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A wallet in the page (`window.ethereum`) for one account at a time; `use` switches accounts as a wallet would. */
export class InjectedWallet {
  private _account: PrivateKeyAccount;

  constructor(
    private readonly _rpc: string,
    private readonly _chainId: number,
    account: PrivateKeyAccount,
  ) {
    this._account = account;
  }

  get address(): Hex {
    return this._account.address;
  }

  async attach(page: Page): Promise<void> {
    await page.exposeFunction("__ccgpWallet", (method: string, params: unknown[]) => this._request(method, params));
    await page.addInitScript(() => {
      const listeners: Record<string, ((...a: unknown[]) => void)[]> = {};
      const bridge = (window as unknown as { __ccgpWallet(m: string, p: unknown[]): Promise<RpcAnswer> }).__ccgpWallet;
      (window as unknown as { ethereum: unknown }).ethereum = {
        async request({ method, params }: { method: string; params?: unknown[] }) {
          const answer = await bridge(method, params ?? []);
          if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error);
          return answer.result;
        },
        on(event: string, fn: (...a: unknown[]) => void) {
          (listeners[event] ??= []).push(fn);
        },
        removeListener(event: string, fn: (...a: unknown[]) => void) {
          listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
        },
        emit(event: string, ...args: unknown[]) {
          for (const fn of listeners[event] ?? []) fn(...args);
        },
      };
    });
  }

  /** Switches the wallet to another account and tells the page, as MetaMask does. */
  async use(account: PrivateKeyAccount, pages: Page[]): Promise<void> {
    this._account = account;
    for (const page of pages)
      await page.evaluate(
        (a) =>
          (window as unknown as { ethereum: { emit(e: string, v: unknown): void } }).ethereum.emit("accountsChanged", [
            a,
          ]),
        account.address,
      );
  }

  private async _request(method: string, params: unknown[]): Promise<RpcAnswer> {
    try {
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return { result: [this._account.address] };
        case "eth_chainId":
          return { result: `0x${this._chainId.toString(16)}` };
        case "eth_sendTransaction": {
          const tx = params[0] as { to: Hex; data?: Hex; value?: Hex; gas?: Hex };
          const chain = defineChain({
            id: this._chainId,
            name: "governance",
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
            rpcUrls: { default: { http: [this._rpc] } },
          });
          const wallet = createWalletClient({ account: this._account, chain, transport: http(this._rpc) });
          const hash = await wallet.sendTransaction({
            to: tx.to,
            data: tx.data,
            value: tx.value ? BigInt(tx.value) : undefined,
            gas: tx.gas ? BigInt(tx.gas) : undefined,
          });
          return { result: hash };
        }
        case "eth_signTypedData_v4": {
          const typed = JSON.parse(params[1] as string) as {
            domain: Record<string, unknown>;
            types: Record<string, unknown>;
            primaryType: string;
            message: Record<string, unknown>;
          };
          const { EIP712Domain: _domain, ...types } = typed.types;
          return {
            result: await this._account.signTypedData({
              domain: typed.domain,
              types,
              primaryType: typed.primaryType,
              message: typed.message,
            } as never),
          };
        }
        default:
          return this._forward(method, params);
      }
    } catch (error) {
      return { error: { code: -32603, message: (error as Error).message } };
    }
  }

  private async _forward(method: string, params: unknown[]): Promise<RpcAnswer> {
    const res = await fetch(this._rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await res.json()) as RpcAnswer;
  }
}

const axeSource = readFileSync(createRequire(__filename).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}
