import type { BenchModule } from "./lib/report";
import { relayerStoreBench } from "./relayer-store";

/** Every benchmark module, in the order they run. Add new modules here. */
export const modules: BenchModule[] = [relayerStoreBench];
