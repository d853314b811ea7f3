import type { BenchModule } from "./lib/report";
import { amdpGas, amdpPerf } from "./amdp";
import { attestationBench } from "./attestation";
import { auditSandbox } from "./audit";
import { auditCorpusBench } from "./audit-corpus";
import { e2eBench } from "./e2e";
import { auditorBench } from "./auditor";
import { consoleBench } from "./console";
import { governanceBench } from "./governance";
import { ledgerBench } from "./ledger";
import { registriesBench } from "./registries";
import { relayerStoreBench } from "./relayer-store";
import { subchainGatewayBench } from "./subchain";
import { twoPhaseBench } from "./two-phase";
import { twoPhaseLatencyBench } from "./two-phase-latency";

/** Every benchmark module, in the order they run. Add new modules here. */
export const modules: BenchModule[] = [
  governanceBench,
  registriesBench,
  ledgerBench,
  subchainGatewayBench,
  twoPhaseBench,
  amdpGas,
  amdpPerf,
  relayerStoreBench,
  auditSandbox,
  auditCorpusBench,
  e2eBench,
  twoPhaseLatencyBench,
  attestationBench,
  auditorBench,
  consoleBench,
];
