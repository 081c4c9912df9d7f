/**
 * Runs in a fresh Node process (bundled like a function): imports one function bundle, serves one
 * request (an HTTP event, a batch of stream records or a Cognito trigger event) and prints what it took as one JSON line, then exits. Inputs from the environment:
 * BENCH_BUNDLE (path of index.mjs), BENCH_FUNCTION (name), BENCH_EVENT (the event, JSON).
 * Times are ms since this process started (`performance.timeOrigin`).
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { lambdaContext } from "../local/lambda-context";

/** What the runner prints. */
export interface ColdRunnerResult {
  /** When the bundle had been imported (module scope run), ms since process start. */
  loadedMs: number;
  /** When the first request had been answered, ms since process start. */
  answeredMs: number;
  /**
   * HTTP status; for the fan-out the number of failed records; for a Cognito trigger 0 when it
   * answered its event (a trigger that throws refuses the sign-up: the runner then exits non-zero).
   */
  status: number;
}

const bundle = process.env.BENCH_BUNDLE ?? "";
const fn = process.env.BENCH_FUNCTION ?? "bench";
const event: unknown = JSON.parse(process.env.BENCH_EVENT ?? "{}");
const module = (await import(pathToFileURL(bundle).href)) as {
  handler: (event: unknown, context: unknown) => Promise<Record<string, unknown>>;
};
const loadedMs = performance.now();
const answer = await module.handler(event, lambdaContext(fn, randomUUID(), process.env.AWS_REGION ?? "us-east-1"));
const answeredMs = performance.now();
const failures = answer.batchItemFailures;
const status = Array.isArray(failures)
  ? failures.length
  : typeof answer.triggerSource === "string"
    ? 0
    : Number(answer.statusCode);
const result: ColdRunnerResult = { loadedMs, answeredMs, status };
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
