/** What the figures were taken on: printed with every run and copied into docs/performance.md. */
import { availableParallelism, cpus, totalmem } from "node:os";

/** CPU, memory and Node version of this machine, and the date of the run (UTC). */
export function describeMachine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; date: string } {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    date: new Date().toISOString(),
  };
}
