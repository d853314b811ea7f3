/** Cross-chain control: sub-chains, apps, contracts and pipes, and the graph of sub-chains joined by pipes. */
import { Background, ReactFlow, type Edge, type Node } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useApi, useT } from "../app";
import { Hash, Load, Section, Status, Table } from "../ui";

interface Topology {
  subchains: { id: string; name: string; institution: number; kind: string; chainId: number; gateway: string }[];
  apps: { id: string; name: string; institution: number; subchain: string; key: string }[];
  contracts: { name: string; version: number; institution: number; subchain: string; address: string; reportHash: string; attestations: { auditor: string; institution: number }[] }[];
  pipes: {
    id: string;
    sourceInstitution: number;
    targetInstitution: number;
    sourceSubchain: string;
    targetSubchain: string;
    contract: string;
    operations: string[];
    selectors: string[];
    ratePerMinute: number;
    maxPayloadBytes: number;
    timeoutSeconds: number;
    status: string;
  }[];
}

/** The sub-chains on a circle, the pipes as arrows between them: readable at a glance for a handful of chains. */
function Graph({ topo }: { topo: Topology }) {
  const t = useT();
  const n = topo.subchains.length;
  const nodes: Node[] = topo.subchains.map((s, i) => ({
    id: s.id.toLowerCase(),
    position: { x: 260 + 220 * Math.cos((2 * Math.PI * i) / Math.max(n, 1) + Math.PI), y: 120 + 90 * Math.sin((2 * Math.PI * i) / Math.max(n, 1) + Math.PI) },
    data: { label: `${s.name} (${s.chainId})` },
    className: "graph-node",
  }));
  const edges: Edge[] = topo.pipes.map((p, i) => ({
    id: p.id,
    source: p.sourceSubchain.toLowerCase(),
    target: p.targetSubchain.toLowerCase(),
    label: `${p.contract} · ${p.operations.join("+")} · ${p.status}`,
    animated: p.status === "Active",
    type: "default",
    style: { strokeWidth: 2 },
    labelStyle: { fontSize: 12 },
    ...(i % 2 ? { sourceHandle: null } : {}),
  }));
  return (
    <figure className="graph" aria-label={t("topology")}>
      <div style={{ height: 280 }}>
        <ReactFlow nodes={nodes} edges={edges} fitView nodesDraggable={false} nodesConnectable={false} elementsSelectable={false} proOptions={{ hideAttribution: true }}>
          <Background />
        </ReactFlow>
      </div>
      <figcaption className="sr-only">
        {topo.pipes.map((p) => `${topo.subchains.find((s) => s.id.toLowerCase() === p.sourceSubchain.toLowerCase())?.name} → ${topo.subchains.find((s) => s.id.toLowerCase() === p.targetSubchain.toLowerCase())?.name}: ${p.contract}`).join("; ")}
      </figcaption>
    </figure>
  );
}

export function TopologyPage() {
  const t = useT();
  const topo = useApi<Topology>("/topology");
  const chainName = (d: Topology, id: string) => d.subchains.find((s) => s.id.toLowerCase() === id.toLowerCase())?.name ?? id;
  return (
    <Load loaded={topo}>
      {(d) => (
        <>
          <Section title={t("topology")}>
            <Graph topo={d} />
          </Section>
          <Section title={t("subchains")}>
            <Table caption={t("subchains")} head={[t("name"), t("institution"), t("kind"), t("chainId"), t("gateway")]} rows={d.subchains.map((s) => [s.name, s.institution, s.kind, s.chainId, <Hash value={s.gateway} />])} />
          </Section>
          <Section title={t("apps")}>
            <Table caption={t("apps")} head={[t("name"), t("institution"), t("subchains"), t("key")]} rows={d.apps.map((a) => [a.name, a.institution, chainName(d, a.subchain), <Hash value={a.key} />])} />
          </Section>
          <Section title={t("contracts")}>
            <Table
              caption={t("contracts")}
              head={[t("name"), t("version"), t("institution"), t("subchains"), t("address"), t("attestations")]}
              rows={d.contracts.map((c) => [c.name, c.version, c.institution, chainName(d, c.subchain), <Hash value={c.address} />, c.attestations.length ? c.attestations.map((a) => `${a.institution}: ${a.auditor.slice(0, 8)}`).join(", ") : "—"])}
            />
          </Section>
          <Section title={t("pipes")}>
            <Table
              testId="pipes"
              caption={t("pipes")}
              head={[t("pipe"), t("parties"), t("contracts"), t("operations"), t("selectors"), t("limits"), t("status")]}
              rows={d.pipes.map((p) => [
                <Hash value={p.id} />,
                `${p.sourceInstitution} → ${p.targetInstitution} (${chainName(d, p.sourceSubchain)} → ${chainName(d, p.targetSubchain)})`,
                p.contract,
                p.operations.join(", "),
                <code className="small">{p.selectors.join(" ")}</code>,
                `${p.ratePerMinute}${t("perMinute")}, ${p.maxPayloadBytes} B, ${p.timeoutSeconds} s`,
                <Status value={p.status} />,
              ])}
            />
          </Section>
        </>
      )}
    </Load>
  );
}

