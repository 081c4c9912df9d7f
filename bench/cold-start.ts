/**
 * Cold start: a fresh Node process imports one function bundle and serves its first request
 * against DynamoDB Local (and cognito-local for update-profile, the one function that calls
 * Cognito), every function of the stack including the two Cognito triggers, next to a
 * baseline fresh process that only creates the SDK client and makes one DynamoDB call (built as
 * the SDK builds by default, and again with environment-only credentials). Runs are
 * interleaved (baseline, every function, baseline, ...) so that noise hits all alike.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { FUNCTION_ENV } from "../infra/constructs/messaging-function";
import { OPERATIONS } from "../shared/api-schemas";
import { ROUTES } from "../shared/routes";
import type { BundleFigures } from "./bundles";
import { buildBundle } from "./bundles";
import type { ColdRunnerResult } from "./cold-runner";
import type { Fixture } from "./fixture";
import { type BenchEvent, typicalEvent } from "./requests";
import { median } from "./stats";

/**
 * Name of the baseline in the results: issue 14's "SDK-only bundle", the client as the SDK builds
 * it by default (its default credential chain included: built without our `SDK_ALIASES`), with
 * the functions' other esbuild settings, making one call.
 */
export const BASELINE = "baseline (SDK client as built by default + 1 Query)";
/** The same baseline built with our `SDK_ALIASES` (environment credentials only), for reference. */
export const BASELINE_ENV_CREDENTIALS = "baseline with environment-only credentials (+ 1 Query)";

/**
 * Suffix of the subject run with NODE_OPTIONS=--enable-source-maps, as the stack deployed before
 * stacks were mapped when an error is logged (shared/source-maps.ts).
 */
export const WITH_SOURCE_MAPS = "(with --enable-source-maps)";

/** Medians of one function's cold runs, ms. */
export interface ColdStartFigures {
  name: string;
  runs: number;
  /** Spawn of the process to the first answer, as the parent saw it (median, ms). */
  wallMs: number;
  /** Process start to bundle imported (median, ms). */
  loadedMs: number;
  /** Bundle imported to first answer (median, ms). */
  firstRequestMs: number;
}

/** One process measured: a bundle, its request, and the status the runner reports on success. */
export interface ColdSubject {
  name: string;
  file: string;
  event: () => Promise<BenchEvent>;
  /** 200 for a route (and the baseline), 0 for the fan-out and the triggers (see ColdRunnerResult). */
  okStatus: number;
  env?: Record<string, string>;
}

/**
 * The status the runner reports for function `fn` when its request succeeded: the route's success
 * status in the API contract (`OPERATIONS` of shared/api-schemas.ts: 200, or 204 for DELETE of a
 * block); 0 for a function that is not a route (the stream functions, the Cognito triggers).
 */
export function okStatusOf(fn: string): number {
  const route = ROUTES.find((r) => r.fn === fn);
  if (route === undefined) return 0;
  const statuses = Object.keys(OPERATIONS[`${route.method} ${route.path}`]?.responses ?? {}).map(Number);
  return statuses[0] ?? 200;
}

/** Runs `runner` once in a fresh `node` for `subject`; resolves with the wall time (ms) and its report. */
async function runOnce(
  runner: string,
  subject: ColdSubject,
  env: Record<string, string>,
): Promise<{ wallMs: number; result: ColdRunnerResult }> {
  const { name, file: bundleFile, okStatus } = subject;
  // Made before the clock starts: the post-confirmation event claims its handle first.
  const event = await subject.event();
  return await new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner], {
      env: {
        PATH: process.env.PATH ?? "",
        ...env,
        BENCH_BUNDLE: bundleFile,
        BENCH_FUNCTION: name,
        BENCH_EVENT: JSON.stringify(event),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let wallMs: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (wallMs === undefined && out.includes("\n")) wallMs = performance.now() - started;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = out.split("\n")[0] ?? "";
      if (code !== 0 || wallMs === undefined) {
        reject(new Error(`cold run of ${name} exited ${code}: ${err.slice(-2000)}`));
        return;
      }
      const result = JSON.parse(line) as ColdRunnerResult;
      if (result.status !== okStatus) reject(new Error(`cold run of ${name} answered ${result.status}`));
      else resolve({ wallMs, result });
    });
  });
}

/**
 * Cold-starts each bundle (and the baseline) `runs` times, interleaved.
 * @param outDir where the runner and baseline bundles are built.
 * @returns the baseline first, then each function in the order of `bundles`.
 */
export async function measureColdStarts(
  fixture: Fixture,
  bundles: readonly BundleFigures[],
  outDir: string,
  runs: number,
): Promise<ColdStartFigures[]> {
  const runner = (await buildBundle("cold-runner", join(import.meta.dirname, "cold-runner.ts"), outDir)).file;
  const baselineEntry = join(import.meta.dirname, "cold-baseline.ts");
  const baseline = await buildBundle("cold-baseline", baselineEntry, outDir, { alias: {} });
  const baselineEnv = await buildBundle("cold-baseline-env-credentials", baselineEntry, outDir);
  // As deployed (infra/constructs/messaging-function.ts): no NODE_OPTIONS, USER_CACHE_TTL_MS default.
  const env = { ...fixture.functionEnv };
  const subjects: ColdSubject[] = [
    { name: BASELINE, file: baseline.file, event: () => typicalEvent("list-message-groups", fixture), okStatus: 200 },
    {
      name: BASELINE_ENV_CREDENTIALS,
      file: baselineEnv.file,
      event: () => typicalEvent("list-message-groups", fixture),
      okStatus: 200,
    },
    ...bundles.map((b) => ({
      name: b.name,
      file: b.file,
      event: () => typicalEvent(b.name, fixture),
      okStatus: okStatusOf(b.name),
    })),
  ];
  // What `--enable-source-maps` (deployed before) would cost: the first function again with it.
  const first = bundles[0];
  if (first !== undefined) {
    subjects.push({
      name: `${first.name} ${WITH_SOURCE_MAPS}`,
      file: first.file,
      event: () => typicalEvent(first.name, fixture),
      okStatus: okStatusOf(first.name),
      env: { ...env, [FUNCTION_ENV.nodeOptions]: "--enable-source-maps" },
    });
  }
  return await measureSubjects(runner, subjects, env, runs);
}

/**
 * Cold-starts each subject `runs` times with `cold-runner` bundle `runner`, interleaved
 * round-robin with a rotating start after one uncounted warm-up round; `env` unless the subject
 * has its own.
 * @returns one figure per subject, in the order given.
 */
export async function measureSubjects(
  runner: string,
  subjects: readonly ColdSubject[],
  env: Record<string, string>,
  runs: number,
): Promise<ColdStartFigures[]> {
  const samples = new Map(subjects.map((s) => [s.name, [] as { wallMs: number; result: ColdRunnerResult }[]]));
  // One warm-up round (file cache, DynamoDB Local's JIT), not counted.
  for (const s of subjects) await runOnce(runner, s, s.env ?? env);
  for (let i = 0; i < runs; i++) {
    // Rotate the order each round so no subject always follows the same neighbour.
    for (let j = 0; j < subjects.length; j++) {
      const s = subjects[(i + j) % subjects.length];
      if (s === undefined) continue;
      samples.get(s.name)?.push(await runOnce(runner, s, s.env ?? env));
    }
  }
  return subjects.map((s) => {
    const runsOf = samples.get(s.name) ?? [];
    return {
      name: s.name,
      runs: runsOf.length,
      wallMs: median(runsOf.map((r) => r.wallMs)),
      loadedMs: median(runsOf.map((r) => r.result.loadedMs)),
      firstRequestMs: median(runsOf.map((r) => r.result.answeredMs - r.result.loadedMs)),
    };
  });
}
