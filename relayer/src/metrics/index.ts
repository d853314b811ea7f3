export type { RelayerEvent, RelayerEventType } from "./events";
export { RelayerMetrics, type MetricsOptions } from "./metrics";
