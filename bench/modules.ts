import { auditSandbox } from "./audit";
import type { BenchModule } from "./lib/report";

/** Every benchmark module, in the order they run. Add new modules here. */
export const modules: BenchModule[] = [auditSandbox];
