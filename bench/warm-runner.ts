/**
 * One subject of the warm-overhead benchmark in a process of its own (one warm container), run
 * by `measureWarmOverhead` of `bench/warm.ts` with `node --import tsx`: reads the job (a
 * {@link WarmJob}, JSON) from `BENCH_WARM_JOB`, measures it against the parent's services and
 * prints its figures as one JSON line on stdout. Exits 1 with the error on stderr.
 */
import "../local/sdk-warning";
import { attachFixture } from "./fixture";
import { measureWarmSubject, WARM_JOB_ENV, type WarmJob } from "./warm";

const raw = process.env[WARM_JOB_ENV];
if (raw === undefined) throw new Error(`${WARM_JOB_ENV} is not set: this script is run by bench/warm.ts`);
const { fixture, ...job } = JSON.parse(raw) as WarmJob;
const figures = await measureWarmSubject(attachFixture(fixture), job);
process.stdout.write(`${JSON.stringify(figures)}\n`);
