/**
 * `npm run bench:seed [-- --quick] [-- --out <file>]`: only the fan-out against the seed's
 * algorithm (section 4b of `npm run bench`), on its own DynamoDB Local and cognito-local, with
 * the load averages at its start and end (the machine is shared). `BENCH_PROXY_RTT_MS` sets the
 * proxy's round trip (ms, default 5). Reports; never fails on a figure.
 */
import "../local/sdk-warning";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startFixture } from "./fixture";
import { proxyRttFromEnv } from "./latency-proxy";
import { describeMachine } from "./machine";
import { SEED_SECTION_NOTE, seedSection } from "./report";
import { measureSeedComparison } from "./seed-comparison";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, out: { type: "string" } },
});
const quick = values.quick === true;
const proxyRttMs = proxyRttFromEnv();
/** Batches of 100 per spread and implementation: as `npm run bench` (bench/run.ts, `seedBatches`). */
const batches = quick ? 1 : 5;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");

const started = performance.now();
const loadAtStart = load();
process.stderr.write(
  `bench: fan-out against the seed's algorithm (${batches} batch(es) per spread, direct and +${proxyRttMs} ms)...\n`,
);
const fixture = await startFixture();
let comparison: Awaited<ReturnType<typeof measureSeedComparison>>;
try {
  comparison = await measureSeedComparison(fixture, { batches, proxyRttMs });
} finally {
  await fixture.stop();
}
const m = describeMachine();
const report = [
  `# npm run bench:seed (${quick ? "quick" : "full"}) — ${m.date}`,
  "",
  `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}. Runtime ${((performance.now() - started) / 1000).toFixed(0)} s. Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${load()}.`,
  "",
  "## 4b. Fan-out against the seed's algorithm (BatchSize 1), directly and through a latency proxy",
  seedSection(comparison),
  "",
  SEED_SECTION_NOTE,
  "",
].join("\n");
process.stdout.write(`${report}\n`);
if (values.out !== undefined) await writeFile(values.out, `${report}\n`);
