/** Small shared pieces: tables, values, the wallet bar and the action button that shows a refusal by name. */
import { useContext, useEffect, useState, type ReactNode } from "react";
import type { Address } from "viem";
import { AppContext, useT, type Loaded } from "./app";

export const short = (h: string | null | undefined): string =>
  h ? (h.length > 14 ? `${h.slice(0, 8)}…${h.slice(-4)}` : h) : "—";
export const time = (s: number | null | undefined): string =>
  s ? new Date(s * 1000).toISOString().replace("T", " ").slice(0, 19) : "—";
export const duration = (s: number): string =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m ${s % 60}s`
      : `${s}s`;

export function Hash({ value }: { value: string | null | undefined }) {
  return (
    <code title={value ?? undefined} className="hash">
      {short(value)}
    </code>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value.toLowerCase()}`}>{value}</span>;
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section aria-labelledby={id ?? title} className="card">
      <h2 id={id ?? title}>{title}</h2>
      {children}
    </section>
  );
}

export function Table({
  caption,
  head,
  rows,
  testId,
}: {
  caption: string;
  head: string[];
  rows: ReactNode[][];
  testId?: string;
}) {
  const t = useT();
  if (rows.length === 0) return <p>{t("none")}</p>;
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Load<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  const t = useT();
  if (loaded.error !== null && loaded.data === null)
    return (
      <p role="alert" className="error">
        {t("error")}: {loaded.error}
      </p>
    );
  if (loaded.data === null) return <p aria-busy="true">{t("loading")}</p>;
  return <>{children(loaded.data)}</>;
}

/** The connected account, shared by every action on the page. */
let connected: Address | null = null;
const listeners = new Set<(a: Address | null) => void>();
export function setAccount(a: Address | null): void {
  connected = a;
  for (const l of listeners) l(a);
}
export function useAccount(): Address | null {
  const [a, set] = useState(connected);
  useEffect(() => {
    listeners.add(set);
    return () => void listeners.delete(set);
  }, []);
  return a;
}

export function WalletBar() {
  const t = useT();
  const account = useAccount();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // The wallet switches accounts: every action follows it.
    const on = (accounts: readonly Address[]) => setAccount(accounts[0] ?? null);
    window.ethereum?.on?.("accountsChanged", on);
    return () => window.ethereum?.removeListener?.("accountsChanged", on);
  }, []);
  const connect = async () => {
    try {
      setError(null);
      const { connectWallet } = await import("./wallet");
      setAccount(await connectWallet());
    } catch (e) {
      setError((e as Error).message === "no wallet" ? t("noWallet") : (e as Error).message);
    }
  };
  return (
    <div className="wallet">
      {account ? (
        <span data-testid="account">
          {t("connected")}: <Hash value={account} />
        </span>
      ) : (
        <button type="button" onClick={connect}>
          {t("connect")}
        </button>
      )}
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </div>
  );
}

/** A button that sends one contract call from the connected wallet and shows the outcome or the refusal. */
export function Action({
  label,
  contract,
  fn,
  args,
  onDone,
  testId,
}: {
  label: string;
  contract: string;
  fn: string;
  args: () => readonly unknown[] | Promise<readonly unknown[]>;
  onDone?: () => void;
  testId?: string;
}) {
  const t = useT();
  const { meta } = useContext(AppContext);
  const account = useAccount();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string; name?: string } | null>(null);
  const run = async () => {
    if (meta === null) return;
    setBusy(true);
    setOutcome(null);
    const { connectWallet, Refusal, write } = await import("./wallet");
    try {
      const who = account ?? (await connectWallet());
      if (account === null) setAccount(who);
      const hash = await write(meta, who, contract, fn, await args());
      setOutcome({ ok: true, text: `${t("sent")} ${hash}` });
      onDone?.();
    } catch (e) {
      if (e instanceof Refusal) setOutcome({ ok: false, text: `${t("refused")}: ${e.message}`, name: e.errorName });
      else setOutcome({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="action">
      <button type="button" onClick={run} disabled={busy} data-testid={testId}>
        {label}
      </button>
      {busy && <span aria-live="polite">{t("sending")}</span>}
      {outcome && (
        <span
          role={outcome.ok ? "status" : "alert"}
          className={outcome.ok ? "ok" : "error"}
          data-error-name={outcome.name}
        >
          {outcome.text}
        </span>
      )}
    </span>
  );
}
