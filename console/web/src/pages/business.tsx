/** Cross-chain business: the ledger, one transaction, what needs attention, credit. */
import { useState, type FormEvent } from "react";
import { ENUM_NAMES } from "../../../../lib/domain/enums.generated";
import { useApi, useT } from "../app";
import { Action, Hash, Load, Section, Status, Table, time } from "../ui";

export interface TxSummary {
  txId: string;
  number: number;
  pipeId: string;
  sourceInstitution: number | null;
  targetInstitution: number | null;
  state: string;
  reason: string;
  stepCount: number;
  stepsDone: number;
  openedAt: number;
  updatedAt: number;
  writesInEffect: number[];
}

/** Every state but None, in the ledger's order. */
const STATES = ENUM_NAMES["ITransactionLedgerTypes.TxState"].slice(1);

export function TxTable({ rows, caption, testId }: { rows: TxSummary[]; caption: string; testId?: string }) {
  const t = useT();
  return (
    <Table
      testId={testId}
      caption={caption}
      head={["#", t("txId"), t("pipe"), t("parties"), t("state"), t("steps"), t("opened")]}
      rows={rows.map((r) => [
        r.number,
        <a href={`#/tx/${r.txId}`} data-tx={r.txId}>
          <code className="hash">{`${r.txId.slice(0, 10)}…${r.txId.slice(-4)}`}</code>
        </a>,
        <Hash value={r.pipeId} />,
        `${r.sourceInstitution ?? "?"} → ${r.targetInstitution ?? "?"}`,
        <span data-state-of={r.txId}>
          <Status value={r.state} />
          {r.reason !== "None" ? ` (${r.reason})` : ""}
        </span>,
        `${r.stepsDone}/${r.stepCount}`,
        time(r.openedAt),
      ])}
    />
  );
}

export function LedgerPage({ params }: { params: URLSearchParams }) {
  const t = useT();
  const offset = Number(params.get("offset") ?? 0);
  const query = new URLSearchParams(params);
  const page = useApi<{ rows: TxSummary[]; hasMore: boolean; limit: number }>(`/transactions?${query.toString()}`);
  const go = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) v === null || v === "" ? next.delete(k) : next.set(k, v);
    location.hash = `#/ledger?${next.toString()}`;
  };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const toSeconds = (v: FormDataEntryValue | null) =>
      v ? String(Math.floor(new Date(String(v)).getTime() / 1000)) : null;
    go({
      institution: String(f.get("institution") ?? ""),
      pipe: String(f.get("pipe") ?? ""),
      state: String(f.get("state") ?? ""),
      from: toSeconds(f.get("from")),
      to: toSeconds(f.get("to")),
      offset: null,
    });
  };
  const limit = page.data?.limit ?? 50;
  return (
    <Section title={t("ledger")}>
      <form className="form filters" onSubmit={submit} aria-label={t("filters")}>
        <label>
          {t("institution")}
          <input name="institution" inputMode="numeric" defaultValue={params.get("institution") ?? ""} />
        </label>
        <label>
          {t("pipe")}
          <input name="pipe" defaultValue={params.get("pipe") ?? ""} placeholder="0x…" />
        </label>
        <label>
          {t("state")}
          <select name="state" defaultValue={params.get("state") ?? ""}>
            <option value="">{t("anyState")}</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {t("from")}
          <input name="from" type="datetime-local" />
        </label>
        <label>
          {t("to")}
          <input name="to" type="datetime-local" />
        </label>
        <button type="submit">{t("apply")}</button>
      </form>
      <Load loaded={page}>{(d) => <TxTable rows={d.rows} caption={t("ledger")} testId="ledger" />}</Load>
      <nav className="pager" aria-label={t("page")}>
        <button
          type="button"
          disabled={offset === 0}
          onClick={() => go({ offset: String(Math.max(0, offset - limit)) })}
        >
          {t("previous")}
        </button>
        <span>
          {t("page")} {Math.floor(offset / limit) + 1}
        </span>
        <button type="button" disabled={!page.data?.hasMore} onClick={() => go({ offset: String(offset + limit) })}>
          {t("next")}
        </button>
      </nav>
    </Section>
  );
}

interface Trace {
  txId: string;
  state: string;
  reason: string;
  pipeId: string;
  sourceInstitution: number | null;
  targetInstitution: number | null;
  stepCount: number;
  packets: { sequence: string; packetHash: string; appSigner: string; proxySigner: string; signaturesValid: boolean }[];
  results: { step: number; recorder: string; subchainTx: string; block: string | number; success: boolean }[];
  endorsements: { verifier: string; weight: number; agrees?: boolean }[];
  transitions: { from: string; to: string; actor: string; block: number; at: number }[];
  receipts?: {
    step: number;
    kind?: string;
    chainId?: number;
    subchainTx?: string;
    ok: boolean;
    problems?: { code: string; message?: string }[];
  }[];
}

export function TxPage({ txId }: { txId: string }) {
  const t = useT();
  const trace = useApi<Trace>(`/transactions/${txId}`);
  const [reason, setReason] = useState("");
  return (
    <Load loaded={trace}>
      {(d) => (
        <>
          <Section title={`${t("txId")} ${d.txId}`} id="tx-title">
            <p>
              <span data-testid="tx-state">
                <Status value={d.state} />
              </span>
              {d.reason !== "None" ? ` (${d.reason})` : ""} · {t("pipe")} <Hash value={d.pipeId} /> ·{" "}
              {d.sourceInstitution} → {d.targetInstitution}
            </p>
            {d.state === "Manual" && (
              <form className="form" onSubmit={(e) => e.preventDefault()}>
                <label>
                  {t("reason")}
                  <input value={reason} onChange={(e) => setReason(e.target.value)} data-testid="resolve-reason" />
                </label>
                <Action
                  label={t("resolve")}
                  testId="resolve"
                  contract="ledger"
                  fn="resolve"
                  args={() => [d.txId, reason]}
                  onDone={trace.reload}
                />
              </form>
            )}
          </Section>
          <Section title={t("timeline")}>
            <ol className="timeline" data-testid="timeline">
              {d.transitions.map((s, i) => (
                <li key={i}>
                  <Status value={s.to} /> {time(s.at)} · {t("block")} {s.block} · {t("actor")} <Hash value={s.actor} />
                </li>
              ))}
            </ol>
          </Section>
          <Section title={t("receipts")}>
            <Table
              testId="receipts"
              caption={t("receipts")}
              head={[t("steps"), t("chainId"), t("txId"), t("status")]}
              rows={(d.receipts ?? []).map((r) => [
                r.step,
                r.chainId ?? "—",
                <Hash value={r.subchainTx} />,
                <span data-receipt-ok={String(r.ok)}>
                  {r.ok
                    ? `✓ ${t("receiptOk")}`
                    : `✗ ${t("receiptBad")}: ${(r.problems ?? []).map((p) => p.code).join(", ")}`}
                </span>,
              ])}
            />
          </Section>
          <Section title={t("packets")}>
            <Table
              caption={t("packets")}
              head={["seq", t("appSigner"), t("proxySigner"), t("signaturesValid")]}
              rows={d.packets.map((p) => [
                p.sequence,
                <Hash value={p.appSigner} />,
                <Hash value={p.proxySigner} />,
                p.signaturesValid ? "✓" : "✗",
              ])}
            />
          </Section>
          <Section title={t("endorsements")}>
            <Table
              caption={t("endorsements")}
              head={[t("signer"), t("weight")]}
              rows={d.endorsements.map((e) => [<Hash value={e.verifier} />, e.weight])}
            />
          </Section>
        </>
      )}
    </Load>
  );
}

export function AttentionPage() {
  const t = useT();
  const data = useApi<{ pending: TxSummary[]; failed: TxSummary[]; manual: TxSummary[]; compensation: TxSummary[] }>(
    "/attention",
  );
  return (
    <Load loaded={data}>
      {(d) => (
        <>
          <Section title={t("manual")}>
            <TxTable rows={d.manual} caption={t("manual")} testId="manual" />
          </Section>
          <Section title={t("pending")}>
            <TxTable rows={d.pending} caption={t("pending")} />
          </Section>
          <Section title={t("failed")}>
            <TxTable rows={d.failed} caption={t("failed")} />
          </Section>
          <Section title={t("compensation")}>
            <TxTable rows={d.compensation} caption={t("compensation")} />
          </Section>
        </>
      )}
    </Load>
  );
}

export function CreditPage() {
  const t = useT();
  const data = useApi<{
    institutions: { id: number; name: string; credit: number; restricted: boolean }[];
    history: { block: number; timestamp: number; event: string; args: Record<string, unknown>; txHash: string }[];
  }>("/credit");
  return (
    <Load loaded={data}>
      {(d) => (
        <>
          <Section title={t("credit")}>
            <Table
              caption={t("credit")}
              head={[t("id"), t("name"), t("credit")]}
              rows={d.institutions.map((i) => [
                i.id,
                i.name,
                `${i.credit}${i.restricted ? ` (${t("restricted")})` : ""}`,
              ])}
            />
          </Section>
          <Section title={t("creditHistory")}>
            <Table
              caption={t("creditHistory")}
              head={[t("time"), t("block"), t("event"), t("details")]}
              rows={d.history.map((h) => [
                time(h.timestamp),
                h.block,
                h.event,
                <code className="small">{JSON.stringify(h.args)}</code>,
              ])}
            />
          </Section>
        </>
      )}
    </Load>
  );
}
