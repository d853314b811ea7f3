/** Cross-chain control: sub-chains, apps, contracts and pipes, and the graph of sub-chains joined by pipes. */
import {
  Background,
  BaseEdge,
  EdgeLabelRenderer,
  MarkerType,
  Position,
  ReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useApi, useT } from "../app";
import { Hash, Load, Section, Status, Table } from "../ui";

interface Topology {
  subchains: { id: string; name: string; institution: number; kind: string; chainId: number; gateway: string }[];
  apps: { id: string; name: string; institution: number; subchain: string; key: string }[];
  contracts: {
    name: string;
    version: number;
    institution: number;
    subchain: string;
    address: string;
    reportHash: string;
    attestations: { auditor: string; institution: number }[];
  }[];
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

/**
 * A pipe as a curve bowed to its left: the two pipes of a pair of sub-chains (A -> B, B -> A) bow to opposite
 * sides, so both stay visible with their labels apart.
 */
function PipeEdge({ id, sourceX, sourceY, targetX, targetY, label, markerEnd, style }: EdgeProps) {
  const dx = targetX - sourceX;
  const dy = targetY - sourceY;
  const length = Math.hypot(dx, dy) || 1;
  const bow = 60;
  const cx = (sourceX + targetX) / 2 + (dy / length) * bow;
  const cy = (sourceY + targetY) / 2 - (dx / length) * bow;
  // The curve's midpoint, where its label goes.
  const lx = (sourceX + 2 * cx + targetX) / 4;
  const ly = (sourceY + 2 * cy + targetY) / 4;
  return (
    <>
      <BaseEdge
        id={id}
        path={`M ${sourceX},${sourceY} Q ${cx},${cy} ${targetX},${targetY}`}
        markerEnd={markerEnd}
        style={style}
      />
      <EdgeLabelRenderer>
        <div className="edge-label" style={{ transform: `translate(-50%, -50%) translate(${lx}px, ${ly}px)` }}>
          {label}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

const EDGE_TYPES = { pipe: PipeEdge };

/** The side of a node that faces the centre of the circle: where its pipes attach. */
function facing(dx: number, dy: number): Position {
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? Position.Right : Position.Left;
  return dy > 0 ? Position.Bottom : Position.Top;
}

/** The sub-chains on a circle, the pipes as arrows between them: readable at a glance for a handful of chains. */
function Graph({ topo }: { topo: Topology }) {
  const t = useT();
  const n = Math.max(topo.subchains.length, 1);
  const nodes: Node[] = topo.subchains.map((s, i) => {
    const angle = (2 * Math.PI * i) / n + Math.PI;
    const side = facing(-Math.cos(angle), -Math.sin(angle));
    return {
      id: s.id.toLowerCase(),
      position: { x: 300 * Math.cos(angle), y: 140 * Math.sin(angle) },
      data: { label: `${s.name} (${s.chainId})` },
      sourcePosition: side,
      targetPosition: side,
      className: "graph-node",
    };
  });
  const edges: Edge[] = topo.pipes.map((p) => ({
    id: p.id,
    type: "pipe",
    source: p.sourceSubchain.toLowerCase(),
    target: p.targetSubchain.toLowerCase(),
    label: `${p.contract} · ${p.operations.join("+")} · ${p.status}`,
    animated: p.status === "Active",
    markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    style: { strokeWidth: 2 },
  }));
  return (
    <figure className="graph" aria-label={t("topology")}>
      <div style={{ height: 280 }}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          edgeTypes={EDGE_TYPES}
          fitView
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
        </ReactFlow>
      </div>
      <figcaption className="sr-only">
        {topo.pipes
          .map(
            (p) =>
              `${topo.subchains.find((s) => s.id.toLowerCase() === p.sourceSubchain.toLowerCase())?.name} → ${topo.subchains.find((s) => s.id.toLowerCase() === p.targetSubchain.toLowerCase())?.name}: ${p.contract}`,
          )
          .join("; ")}
      </figcaption>
    </figure>
  );
}

export function TopologyPage() {
  const t = useT();
  const topo = useApi<Topology>("/topology");
  const chainName = (d: Topology, id: string) =>
    d.subchains.find((s) => s.id.toLowerCase() === id.toLowerCase())?.name ?? id;
  return (
    <Load loaded={topo}>
      {(d) => (
        <>
          <Section title={t("topology")}>
            <Graph topo={d} />
          </Section>
          <Section title={t("subchains")}>
            <Table
              caption={t("subchains")}
              head={[t("name"), t("institution"), t("kind"), t("chainId"), t("gateway")]}
              rows={d.subchains.map((s) => [s.name, s.institution, s.kind, s.chainId, <Hash value={s.gateway} />])}
            />
          </Section>
          <Section title={t("apps")}>
            <Table
              caption={t("apps")}
              head={[t("name"), t("institution"), t("subchains"), t("key")]}
              rows={d.apps.map((a) => [a.name, a.institution, chainName(d, a.subchain), <Hash value={a.key} />])}
            />
          </Section>
          <Section title={t("contracts")}>
            <Table
              caption={t("contracts")}
              head={[t("name"), t("version"), t("institution"), t("subchains"), t("address"), t("attestations")]}
              rows={d.contracts.map((c) => [
                c.name,
                c.version,
                c.institution,
                chainName(d, c.subchain),
                <Hash value={c.address} />,
                c.attestations.length
                  ? c.attestations.map((a) => `${a.institution}: ${a.auditor.slice(0, 8)}`).join(", ")
                  : "—",
              ])}
            />
          </Section>
          <Section title={t("pipes")}>
            <Table
              testId="pipes"
              caption={t("pipes")}
              head={[
                t("pipe"),
                t("parties"),
                t("contracts"),
                t("operations"),
                t("selectors"),
                t("limits"),
                t("status"),
              ]}
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
