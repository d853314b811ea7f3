/** The governance chain, institutions and accounts, proposals (open, with votes; history) and proposing. */
import { useContext, useMemo, useState } from "react";
import { encodeFunctionData, type AbiFunction, type Hex } from "viem";
import { AppContext, useApi, useT } from "../app";
import { Action, duration, Hash, Load, Section, Status, Table, time } from "../ui";

interface Overview {
  head: { number: number; timestamp: number };
  services: {
    id: string;
    institution: number;
    signer: string;
    endpoint: string;
    status: string;
    lastSeen: number;
    secondsSinceHeartbeat: number | null;
  }[];
  relayers: { name: string; url: string; ok: boolean; status: number; body: unknown }[];
  index: { checkpoint: { height: number } | null; events: number; transactions: number };
}

export function ChainPage() {
  const t = useT();
  const { live } = useContext(AppContext);
  const overview = useApi<Overview>("/overview");
  const head = live.head ?? overview.data?.head ?? null;
  return (
    <>
      <Section title={t("navChain")}>
        <dl className="facts">
          <div>
            <dt>{t("height")}</dt>
            <dd data-testid="head-number">{head?.number ?? "—"}</dd>
          </div>
          <div>
            <dt>{t("time")}</dt>
            <dd>{time(head?.timestamp)}</dd>
          </div>
          <div>
            <dt>{t("indexAt")}</dt>
            <dd>
              {overview.data?.index.checkpoint?.height ?? "—"} ({overview.data?.index.events ?? 0} {t("events")},{" "}
              {overview.data?.index.transactions ?? 0} {t("transactions")})
            </dd>
          </div>
        </dl>
      </Section>
      <Section title={t("nodes")}>
        <Load loaded={overview}>
          {(o) => (
            <Table
              caption={t("nodes")}
              head={[t("id"), t("institution"), t("endpoint"), t("signer"), t("status"), t("heartbeat")]}
              rows={o.services.map((s) => [
                <Hash value={s.id} />,
                s.institution,
                s.endpoint,
                <Hash value={s.signer} />,
                <Status value={s.status} />,
                s.secondsSinceHeartbeat === null ? t("never") : `${s.secondsSinceHeartbeat} ${t("secondsAgo")}`,
              ])}
            />
          )}
        </Load>
      </Section>
      <Section title={t("relayers")}>
        <Load loaded={overview}>
          {(o) => (
            <Table
              caption={t("relayers")}
              head={[t("name"), "/health", t("status"), t("details")]}
              rows={o.relayers.map((r) => [
                r.name,
                <a href={r.url}>{r.url}</a>,
                <Status value={r.ok ? t("healthy") : t("unhealthy")} />,
                <code className="small">{JSON.stringify(r.body).slice(0, 160)}</code>,
              ])}
            />
          )}
        </Load>
      </Section>
    </>
  );
}

export interface Institution {
  id: number;
  name: string;
  kind: string;
  status: string;
  weight: number;
  unifiedId: string;
  credit: number;
  restricted: boolean;
}

export function InstitutionsPage() {
  const t = useT();
  const data = useApi<{
    institutions: Institution[];
    accounts: { address: string; institution: number; role: string; status: string }[];
  }>("/institutions");
  return (
    <>
      <Section title={t("institutions")}>
        <Load loaded={data}>
          {(d) => (
            <Table
              testId="institutions"
              caption={t("institutions")}
              head={[t("id"), t("name"), t("kind"), t("status"), t("weight"), t("credit"), t("unifiedId")]}
              rows={d.institutions.map((i) => [
                i.id,
                i.name,
                i.kind,
                <Status value={i.status} />,
                i.weight,
                `${i.credit}${i.restricted ? ` (${t("restricted")})` : ""}`,
                <code className="small">{i.unifiedId}</code>,
              ])}
            />
          )}
        </Load>
      </Section>
      <Section title={t("accounts")}>
        <Load loaded={data}>
          {(d) => (
            <Table
              caption={t("accounts")}
              head={[t("address"), t("institution"), t("role"), t("status")]}
              rows={d.accounts.map((a) => [
                <Hash value={a.address} />,
                `${a.institution} ${d.institutions.find((i) => i.id === a.institution)?.name ?? ""}`,
                a.role,
                <Status value={a.status} />,
              ])}
            />
          )}
        </Load>
      </Section>
    </>
  );
}

interface Proposal {
  id: number;
  description: string;
  contract: string;
  call: string;
  rule: string;
  thresholdBps: number;
  deadline: number;
  secondsLeft: number;
  state: string;
  votes: { institution: number; name: string; vote: string }[];
}

export function ProposalsPage() {
  const t = useT();
  const proposals = useApi<Proposal[]>("/proposals");
  const open = (p: Proposal) => p.state === "Active" || p.state === "Passed" || p.state === "Rejected";
  const voteText = (v: string) => (v === "for" ? t("for") : v === "against" ? t("against") : t("notVoted"));
  return (
    <>
      <ProposeForm onDone={proposals.reload} />
      <Section title={t("openProposals")}>
        <Load loaded={proposals}>
          {(list) => (
            <Table
              testId="open-proposals"
              caption={t("openProposals")}
              head={[t("proposal"), t("call"), t("rule"), t("votes"), t("timeLeft"), t("state"), ""]}
              rows={list.filter(open).map((p) => [
                <span data-proposal={p.id}>
                  #{p.id} {p.description}
                </span>,
                <code className="small">
                  {p.contract}.{p.call}
                </code>,
                `${p.rule}${p.rule !== "UnanimousGenesis" && p.thresholdBps ? ` > ${p.thresholdBps / 100}%` : ""}`,
                <ul className="votes">
                  {p.votes.map((v) => (
                    <li key={v.institution} data-vote={v.vote}>
                      {v.name}: {voteText(v.vote)}
                    </li>
                  ))}
                </ul>,
                duration(p.secondsLeft),
                <Status value={p.state} />,
                <span className="actions">
                  <Action
                    label={t("voteFor")}
                    testId={`vote-for-${p.id}`}
                    contract="voting"
                    fn="vote"
                    args={() => [BigInt(p.id), true]}
                    onDone={proposals.reload}
                  />
                  <Action
                    label={t("voteAgainst")}
                    testId={`vote-against-${p.id}`}
                    contract="voting"
                    fn="vote"
                    args={() => [BigInt(p.id), false]}
                    onDone={proposals.reload}
                  />
                  <Action
                    label={t("execute")}
                    testId={`execute-${p.id}`}
                    contract="voting"
                    fn="execute"
                    args={() => [BigInt(p.id)]}
                    onDone={proposals.reload}
                  />
                </span>,
              ])}
            />
          )}
        </Load>
      </Section>
      <Section title={t("history")}>
        <Load loaded={proposals}>
          {(list) => (
            <Table
              caption={t("history")}
              head={[t("proposal"), t("call"), t("rule"), t("votes"), t("state")]}
              rows={list
                .filter((p) => !open(p))
                .map((p) => [
                  `#${p.id} ${p.description}`,
                  <code className="small">
                    {p.contract}.{p.call}
                  </code>,
                  p.rule,
                  p.votes
                    .filter((v) => v.vote !== "none")
                    .map((v) => `${v.name}: ${voteText(v.vote)}`)
                    .join("; "),
                  <Status value={p.state} />,
                ])}
            />
          )}
        </Load>
      </Section>
    </>
  );
}

/** Propose a governed call: pick a contract and one of its functions, give the arguments as JSON. */
function ProposeForm({ onDone }: { onDone(): void }) {
  const t = useT();
  const { meta } = useContext(AppContext);
  const [contract, setContract] = useState("membership");
  const [fn, setFn] = useState("setWeight");
  const [args, setArgs] = useState("[]");
  const [description, setDescription] = useState("");
  const functions = useMemo(
    () =>
      (meta?.abis[contract] ?? []).filter(
        (i): i is AbiFunction => i.type === "function" && i.stateMutability !== "view" && i.stateMutability !== "pure",
      ),
    [meta, contract],
  );
  const encode = (): Hex => {
    const chosen = functions.find((f) => f.name === fn);
    if (chosen === undefined) throw new Error(`${t("function")}: ${fn}`);
    let parsed: unknown[];
    try {
      parsed = JSON.parse(args) as unknown[];
    } catch {
      throw new Error(`${t("args")}: ${args}`);
    }
    return encodeFunctionData({ abi: [chosen], functionName: fn, args: parsed });
  };
  if (meta === null) return null;
  return (
    <Section title={t("propose")}>
      <form className="form" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t("target")}
          <select value={contract} onChange={(e) => setContract(e.target.value)} data-testid="propose-contract">
            {Object.keys(meta.contracts)
              .filter((k) => meta.abis[k] !== undefined)
              .map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
          </select>
        </label>
        <label>
          {t("function")}
          <select value={fn} onChange={(e) => setFn(e.target.value)} data-testid="propose-function">
            {functions.map((f) => (
              <option key={f.name} value={f.name}>
                {f.name}({f.inputs.map((i) => `${i.type} ${i.name ?? ""}`.trim()).join(", ")})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("args")}
          <input value={args} onChange={(e) => setArgs(e.target.value)} data-testid="propose-args" />
        </label>
        <label>
          {t("description")}
          <input
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            data-testid="propose-description"
          />
        </label>
        <Action
          label={t("propose")}
          testId="propose-submit"
          contract="voting"
          fn="propose"
          args={() => [meta.contracts[contract], encode(), description]}
          onDone={onDone}
        />
      </form>
    </Section>
  );
}
