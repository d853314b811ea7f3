import type { BenchModule } from "./lib/report";
import { governanceBench } from "./governance";

/** Every benchmark module, in the order they run. Add new modules here. */
export const modules: BenchModule[] = [governanceBench];
