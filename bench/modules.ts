import type { BenchModule } from "./lib/report";
import { subchainGatewayBench } from "./subchain";

/** Every benchmark module, in the order they run. Add new modules here. */
export const modules: BenchModule[] = [subchainGatewayBench];
