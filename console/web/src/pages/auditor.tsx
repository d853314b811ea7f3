/** Auditor sign-in and exports: every request signed by the wallet (EIP-712), checked by the auditor API. */
import { useContext, useState } from "react";
import type { Address } from "viem";
import { AppContext, useT } from "../app";
import { connectWallet, signAuditorRequest } from "../wallet";
import { Hash, Section, setAccount, useAccount } from "../ui";

export function AuditorPage() {
  const t = useT();
  const { meta } = useContext(AppContext);
  const account = useAccount();
  const [signedIn, setSignedIn] = useState<{ account: Address; transactions: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (meta === null) return null;
  if (meta.auditorApi === null) return <Section title={t("auditor")}>{<p>{t("noAuditorApi")}</p>}</Section>;
  const base = meta.auditorApi;

  const signedGet = async (path: string): Promise<Response> => {
    const who = account ?? (await connectWallet());
    if (account === null) setAccount(who);
    const url = `${base}${path}`;
    const res = await fetch(url, { headers: await signAuditorRequest(meta, who, url) });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new Error(`${res.status} ${body.error?.code ?? ""}: ${body.error?.message ?? ""}`);
    }
    return res;
  };
  const run = (fn: () => Promise<void>) => async () => {
    try {
      setError(null);
      await fn();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const signIn = run(async () => {
    const status = (await (await signedGet("/v1/status")).json()) as { transactions: number };
    setSignedIn({ account: account ?? (await connectWallet()), transactions: status.transactions });
  });
  const download = (path: string, name: string) =>
    run(async () => {
      const blob = await (await signedGet(path)).blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name;
      a.click();
      URL.revokeObjectURL(a.href);
    });
  return (
    <Section title={t("auditor")}>
      <p>{t("auditorHelp")}</p>
      {signedIn ? (
        <p role="status" data-testid="auditor-signed-in">
          {t("signedInAs")} <Hash value={signedIn.account} /> · {signedIn.transactions} {t("transactions")}
        </p>
      ) : (
        <button type="button" onClick={signIn}>
          {t("signIn")}
        </button>
      )}
      <div className="actions">
        <button
          type="button"
          onClick={download("/v1/transactions?format=csv&limit=100000", "transactions.csv")}
          data-testid="export-csv"
        >
          {t("exportCsv")}
        </button>
        <button
          type="button"
          onClick={download("/v1/transactions?format=json&limit=100000", "transactions.json")}
          data-testid="export-json"
        >
          {t("exportJson")}
        </button>
        <button type="button" onClick={download("/v1/events?format=csv&limit=100000", "events.csv")}>
          {t("exportEvents")}
        </button>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="auditor-error">
          {error}
        </p>
      )}
    </Section>
  );
}
