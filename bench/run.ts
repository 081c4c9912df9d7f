/**
 * `npm run bench [-- --quick] [-- --out <file>]`: every benchmark in one run, side by side, so
 * that the ratios hold on a noisy machine; prints the report (markdown) and optionally writes it
 * to a file. Benchmarks report; they never fail on a figure. `--quick` runs fewer iterations.
 */
import "../local/sdk-warning";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildFunctionBundles } from "./bundles";
import { measureRouteCapacity } from "./capacity";
import { measureColdStarts } from "./cold-start";
import { measureFanOut, measureLocalWriteCeiling } from "./fan-out";
import { startFixture } from "./fixture";
import { proxyRttFromEnv } from "./latency-proxy";
import { measureLocalStackStart } from "./local-stack";
import { describeMachine } from "./machine";
import { measureEventsThroughput, measurePostToEvent } from "./realtime";
import { type BenchResults, renderReport } from "./report";
import { measureSeedComparison } from "./seed-comparison";
import { measureWarmOverhead } from "./warm";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, out: { type: "string" } },
});
const quick = values.quick === true;
/** Round trip the latency proxy of the seed comparison adds, ms (`BENCH_PROXY_RTT_MS`, default 5). */
const proxyRttMs = proxyRttFromEnv();
/** Iterations per benchmark: full (default) and `--quick`. */
const ITERATIONS = quick
  ? {
      coldRuns: 5,
      warmRequests: 200,
      fanOutBatches: 5,
      meteredBatches: 1,
      seedBatches: 1,
      capacityRuns: 2,
      localStackRuns: 1,
      realtimeRuns: 1,
      realtimeEvents: 500,
      postToEventMessages: 500,
    }
  : {
      coldRuns: 20,
      warmRequests: 1000,
      fanOutBatches: 20,
      meteredBatches: 3,
      seedBatches: 5,
      capacityRuns: 5,
      localStackRuns: 3,
      realtimeRuns: 3,
      realtimeEvents: 2000,
      postToEventMessages: 1000,
    };

const step = (what: string) => process.stderr.write(`bench: ${what}...\n`);
const started = performance.now();
const outDir = await mkdtemp(join(tmpdir(), "cruddur-bench-bundles-"));
try {
  step("bundling the functions");
  const bundles = await buildFunctionBundles(outDir);
  step("starting DynamoDB Local and cognito-local");
  const fixture = await startFixture();
  let measured: Pick<BenchResults, "coldStarts" | "warm" | "fanOut" | "writeCeiling" | "seedComparison" | "capacity">;
  try {
    step(`cold starts (${ITERATIONS.coldRuns} interleaved runs each)`);
    const coldStarts = await measureColdStarts(fixture, bundles, outDir, ITERATIONS.coldRuns);
    step(`warm overhead (${ITERATIONS.warmRequests} requests each)`);
    const warm = await measureWarmOverhead(fixture, bundles, ITERATIONS.warmRequests);
    step(`fan-out (${ITERATIONS.fanOutBatches} batches per spread)`);
    const fanOut = await measureFanOut(fixture, bundles, ITERATIONS.fanOutBatches, ITERATIONS.meteredBatches);
    const writeCeiling = await measureLocalWriteCeiling(fixture);
    step(
      `fan-out against the seed's algorithm (${ITERATIONS.seedBatches} batch(es) per spread, direct and +${proxyRttMs} ms)`,
    );
    const seedComparison = await measureSeedComparison(fixture, { batches: ITERATIONS.seedBatches, proxyRttMs });
    step("capacity per route");
    const capacity = await measureRouteCapacity(fixture, ITERATIONS.capacityRuns);
    measured = { coldStarts, warm, fanOut, writeCeiling, seedComparison, capacity };
  } finally {
    await fixture.stop();
  }
  const localStack = [];
  for (let i = 0; i < ITERATIONS.localStackRuns; i++) {
    step(`npm start, run ${i + 1} of ${ITERATIONS.localStackRuns}`);
    localStack.push(await measureLocalStackStart());
  }
  const realtime = [];
  for (let i = 0; i < ITERATIONS.realtimeRuns; i++) {
    step(
      `real-time: ${ITERATIONS.realtimeEvents} events to 100 subscribers, run ${i + 1} of ${ITERATIONS.realtimeRuns}`,
    );
    realtime.push(await measureEventsThroughput(ITERATIONS.realtimeEvents));
  }
  step(`real-time: post-to-event latency over ${ITERATIONS.postToEventMessages} messages`);
  const postToEvent = await measurePostToEvent(ITERATIONS.postToEventMessages);
  const report = renderReport({
    mode: quick ? "quick" : "full",
    machine: describeMachine(),
    bundles,
    ...measured,
    localStack,
    realtime,
    postToEvent,
    runtimeMs: performance.now() - started,
  });
  process.stdout.write(`${report}\n`);
  if (values.out !== undefined) await writeFile(values.out, `${report}\n`);
} finally {
  await rm(outDir, { recursive: true, force: true });
}
