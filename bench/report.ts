/** The bench report: markdown tables of every figure, as printed and as copied into docs/performance.md. */
import type { BundleFigures } from "./bundles";
import { dollarsPerMillion, ON_DEMAND_PRICES, type RouteCapacity } from "./capacity";
import type { ColdStartFigures } from "./cold-start";
import type { FanOutFigures, LocalWriteCeiling } from "./fan-out";
import type { LocalStackFigures } from "./local-stack";
import type { describeMachine } from "./machine";
import type { PostToEventFigures, RealtimeFigures } from "./realtime";
import { SEED_RATIO_GOAL, type SeedComparison } from "./seed-comparison";
import { kib, ms, ratio, table } from "./stats";
import type { WarmFigures } from "./warm";

/** Everything one run measured. */
export interface BenchResults {
  mode: "full" | "quick";
  machine: ReturnType<typeof describeMachine>;
  bundles: BundleFigures[];
  coldStarts: ColdStartFigures[];
  warm: WarmFigures[];
  fanOut: FanOutFigures[];
  writeCeiling: LocalWriteCeiling;
  /** Pattern E against the seed's algorithm, directly and through the latency proxy. */
  seedComparison: SeedComparison;
  capacity: RouteCapacity[];
  localStack: LocalStackFigures[];
  /** Real-time delivery on the local AppSync Events emulator, one entry per run. */
  realtime: RealtimeFigures[];
  /** Post-to-event latency at the subscriber on the local stack. */
  postToEvent: PostToEventFigures;
  /** Wall time of the whole run, ms. */
  runtimeMs: number;
}

const num = (value: number, digits = 2) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));

/** DynamoDB calls per message by operation: `0.02× UpdateItem + 0.02× PutItem + ...`. */
const callsText = (calls: Readonly<Record<string, number>>) =>
  Object.entries(calls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${num(n)}× ${op}`)
    .join(" + ");

/** Minimum of the fan-out per group move: update, 2 puts and 2 deletes, GRP rows in the index. */
export const FAN_OUT_MOVE_MINIMUM = {
  readUnits: 0,
  writeUnits: 9,
  why: "group item update, which answers with the item (1, no read); per member a put and a delete of the GRP row, each 1 on the table + 1 on the index (8); no transaction",
} as const;

function bundleSection(bundles: readonly BundleFigures[]): string {
  return table(
    ["function", "minified", "gzip", "largest parts (minified bytes in the bundle)"],
    bundles.map((b) => [
      b.name,
      kib(b.bytes),
      kib(b.gzipBytes),
      b.packages
        .slice(0, 5)
        .map((p) => `${p.name} ${kib(p.bytes)}`)
        .join(", "),
    ]),
  );
}

function coldSection(cold: readonly ColdStartFigures[]): string {
  const base = cold[0];
  return table(
    ["process", "runs", "spawn → first answer (median ms)", "× baseline", "module loaded (ms)", "first request (ms)"],
    cold.map((c) => [
      c.name,
      String(c.runs),
      ms(c.wallMs),
      base === undefined ? "" : ratio(c.wallMs, base.wallMs),
      ms(c.loadedMs),
      ms(c.firstRequestMs),
    ]),
  );
}

function warmSection(warm: readonly WarmFigures[]): string {
  return table(
    ["handler", "bare calls", "n", "handler p50", "bare p50", "p50 ratio", "handler p99", "bare p99", "p99 ratio"],
    warm.map((w) => [
      w.name,
      w.baseline,
      String(w.handler.n),
      ms(w.handler.p50),
      w.bare === undefined ? "–" : ms(w.bare.p50),
      w.bare === undefined ? "–" : ratio(w.handler.p50, w.bare.p50),
      ms(w.handler.p99),
      w.bare === undefined ? "–" : ms(w.bare.p99),
      w.bare === undefined ? "–" : ratio(w.handler.p99, w.bare.p99),
    ]),
  );
}

function fanOutSection(fanOut: readonly FanOutFigures[]): string {
  return table(
    [
      "groups per batch of 100",
      "batches",
      "records/s",
      "batch (median ms)",
      "moves/msg",
      "calls/msg",
      "item writes/msg",
      "RCU/msg",
      "WCU/msg (Local says)",
      "WCU/msg (billed, est.)",
    ],
    fanOut.map((f) => [
      String(f.groups),
      String(f.batches),
      f.recordsPerSecond.toFixed(0),
      ms(f.batchMs),
      num(f.perMessage.moves),
      callsText(f.perMessage.calls),
      num(f.perMessage.itemWrites),
      num(f.perMessage.readUnits),
      num(f.perMessage.localWriteUnits),
      num(f.perMessage.cloudWriteUnits),
    ]),
  );
}

const calls = (byOperation: Record<string, number>) =>
  Object.entries(byOperation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${num(n)} ${op}`)
    .join(" + ");

/** What section 4b measures, printed under its table. */
export const SEED_SECTION_NOTE =
  "Ours: batches of 100 through createBatchFanOut under Powertools' BatchProcessor. Seed: bench/seed-reference.ts, one invocation per record in stream order (per record a GSI Query, then per member a DeleteItem and a PutItem). Fresh groups per implementation and spread; Lambda's own per-invocation overhead is not counted for either.";

/** Section 4b of the report: pattern E against the seed's algorithm, with its verdict on the goal. */
export function seedSection(c: SeedComparison): string {
  const share = (correct: number, groups: number) => `${((100 * correct) / groups).toFixed(0)}% (${correct}/${groups})`;
  const rows = c.rows.map((r) => [
    r.path === "direct" ? "direct" : `proxy +${num(r.addedRttMs)} ms`,
    String(r.groups),
    String(r.records),
    r.ours.recordsPerSecond.toFixed(0),
    r.seed.recordsPerSecond.toFixed(0),
    ratio(r.ours.recordsPerSecond, r.seed.recordsPerSecond),
    `${num(r.ours.callsPerMessage)} (${calls(r.ours.callsByOperation)})`,
    `${num(r.seed.callsPerMessage)} (${calls(r.seed.callsByOperation)})`,
    num(r.ours.billedWriteUnitsPerMessage),
    num(r.seed.billedWriteUnitsPerMessage),
    share(r.ours.correctGroups, r.groups),
    share(r.seed.correctGroups, r.groups),
  ]);
  const proxied = c.rows.filter((r) => r.path === "proxy");
  const short = proxied.filter((r) => r.ours.recordsPerSecond < SEED_RATIO_GOAL * r.seed.recordsPerSecond);
  const verdict =
    short.length === 0
      ? `Goal (at least ${SEED_RATIO_GOAL}× the seed's records/s at every spread through the proxy): met.`
      : `Goal (at least ${SEED_RATIO_GOAL}× the seed's records/s at every spread through the proxy): not met at ${short.map((r) => `${r.groups} group(s) per batch (${ratio(r.ours.recordsPerSecond, r.seed.recordsPerSecond)})`).join(", ")}.`;
  const added = c.getItemMs.proxy - c.getItemMs.direct;
  const measured = `One strongly consistent GetItem (median of sequential calls): ${ms(c.getItemMs.direct)} ms direct, ${ms(c.getItemMs.proxy)} ms through the proxy, a difference of ${ms(added)} ms per call; the proxy held each chunk of an answer ${ms(c.proxyMeanHoldMs)} ms on average (set to ${num(c.proxyRttMs)} ms: BENCH_PROXY_RTT_MS).`;
  return [
    measured,
    "",
    table(
      [
        "path",
        "groups per batch of 100",
        "records",
        "ours records/s",
        "seed records/s",
        "ours ÷ seed",
        "ours calls/msg",
        "seed calls/msg",
        "ours WCU/msg (billed, est.)",
        "seed WCU/msg (billed)",
        "ours groups correct",
        "seed groups correct",
      ],
      rows,
    ),
    "",
    verdict,
  ].join("\n");
}

function capacitySection(capacity: readonly RouteCapacity[], fanOut: readonly FanOutFigures[]): string {
  const rows = capacity.map((c) => [
    c.route,
    c.calls,
    num(c.readUnits),
    c.noCache.calls,
    num(c.noCache.readUnits),
    num(c.localWriteUnits),
    num(c.cloudWriteUnits),
    `${num(c.minimum.readUnits)} / ${num(c.minimum.writeUnits)}`,
    c.minimum.why,
  ]);
  for (const f of fanOut) {
    const movesPerMessage = f.perMessage.moves;
    rows.push([
      `fan-out (E), ${BATCH_LABEL(f.groups)}`,
      callsText(f.perMessage.calls),
      num(f.perMessage.readUnits),
      "(no user lookup)",
      "–",
      num(f.perMessage.localWriteUnits),
      num(f.perMessage.cloudWriteUnits),
      `${num(FAN_OUT_MOVE_MINIMUM.readUnits * movesPerMessage)} / ${num(FAN_OUT_MOVE_MINIMUM.writeUnits * movesPerMessage)}`,
      `per group move: ${FAN_OUT_MOVE_MINIMUM.why}`,
    ]);
  }
  return table(
    [
      "request",
      "DynamoDB calls (user cache warm)",
      "RCU",
      "DynamoDB calls (no user cache)",
      "RCU (no user cache)",
      "WCU (Local says)",
      "WCU (billed, est.)",
      "model minimum RCU / WCU (cache warm)",
      "minimum because",
    ],
    rows,
  );
}

const BATCH_LABEL = (groups: number) => `${100 / groups} message(s) per group per batch`;

function dollarsSection(capacity: readonly RouteCapacity[], fanOut: readonly FanOutFigures[]): string {
  const post = capacity.find((c) => c.route.includes("(C)"));
  if (post === undefined) return "";
  const rows = fanOut.map((f) => {
    const read = post.readUnits + f.perMessage.readUnits;
    const write = post.cloudWriteUnits + f.perMessage.cloudWriteUnits;
    const minRead = post.minimum.readUnits + FAN_OUT_MOVE_MINIMUM.readUnits * f.perMessage.moves;
    const minWrite = post.minimum.writeUnits + FAN_OUT_MOVE_MINIMUM.writeUnits * f.perMessage.moves;
    return [
      `POST (C) + fan-out, ${BATCH_LABEL(f.groups)}`,
      num(read),
      num(write),
      `$${dollarsPerMillion(read, write).toFixed(2)}`,
      `$${dollarsPerMillion(minRead, minWrite).toFixed(2)}`,
    ];
  });
  return table(["per message", "RCU", "WCU (billed, est.)", "USD per million messages", "at the model minimum"], rows);
}

function localStackSection(runs: readonly LocalStackFigures[]): string {
  return table(
    ["run", "stack.json written (ms)", "first authenticated answer (ms)"],
    runs.map((r, i) => [String(i + 1), ms(r.readyMs), ms(r.firstAnswerMs)]),
  );
}

function realtimeSection(runs: readonly RealtimeFigures[]): string {
  return table(
    [
      "run",
      "subscribers",
      "events (batches of 5, in flight)",
      "events published / s",
      "data frames delivered / s",
      "publish p50 (ms)",
      "publish p99 (ms)",
    ],
    runs.map((r, i) => [
      String(i + 1),
      String(r.subscribers),
      `${r.events} (${r.events / r.batchSize}, ${r.concurrency})`,
      num(r.publishedPerSecond, 0),
      num(r.deliveredPerSecond, 0),
      ms(r.publishP50Ms),
      ms(r.publishP99Ms),
    ]),
  );
}

/** The whole report as markdown. */
export function renderReport(r: BenchResults): string {
  const m = r.machine;
  return [
    `# npm run bench (${r.mode}) — ${m.date}`,
    "",
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}. Runtime ${(r.runtimeMs / 1000).toFixed(0)} s.`,
    "",
    "## 1. Bundle size (as deployed: infra/bundling.ts)",
    bundleSection(r.bundles),
    "",
    "## 2. Cold start (fresh node process, first request on DynamoDB Local / cognito-local)",
    coldSection(r.coldStarts),
    "",
    "## 3. Warm overhead (ms per request, one warm container)",
    warmSection(r.warm),
    "",
    "## 4. Fan-out (pattern E), batches of 100 stream records",
    fanOutSection(r.fanOut),
    "",
    `DynamoDB Local on this machine: 100 concurrent PutItem take ${ms(r.writeCeiling.putsMs)} ms, 100 concurrent 5-item TransactWriteItems ${ms(r.writeCeiling.transactionsMs)} ms.`,
    "",
    "## 4b. Fan-out against the seed's algorithm (BatchSize 1), directly and through a latency proxy",
    seedSection(r.seedComparison),
    "",
    SEED_SECTION_NOTE,
    "",
    "## 5. Capacity per request",
    capacitySection(r.capacity, r.fanOut),
    "",
    `Prices: on-demand, ${ON_DEMAND_PRICES.region}, ${ON_DEMAND_PRICES.asOf}: $${ON_DEMAND_PRICES.writePerMillionUnits} per million write request units, $${ON_DEMAND_PRICES.readPerMillionUnits} per million read request units (AWS DynamoDB pricing page as of that date; check before use).`,
    "",
    dollarsSection(r.capacity, r.fanOut),
    "",
    "## 6. Local stack: npm start to the first answered authenticated request",
    localStackSection(r.localStack),
    "",
    "## 7. Real-time: events one local AppSync Events emulator sustains with 100 subscribers",
    realtimeSection(r.realtime),
    "",
    "IAM-signed HTTP publishes of 5 events to one channel, 100 WebSocket subscriptions of it (one per connection); subscribers in the bench process, on the same cores as the server.",
    "",
    "## 8. Real-time: post-to-event latency at the subscriber (local stack)",
    table(
      ["messages (one at a time)", "p50 (ms)", "p99 (ms)", "max (ms)"],
      [[String(r.postToEvent.messages), ms(r.postToEvent.p50Ms), ms(r.postToEvent.p99Ms), ms(r.postToEvent.maxMs)]],
    ),
    "",
    "From just before POST /api/messages to the message.new event at the other member's WebSocket: the stream, the publish consumer's poller, the publish function's signed publish and the emulator.",
    "",
  ].join("\n");
}
