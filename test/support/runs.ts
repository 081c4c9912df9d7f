/**
 * How many generated runs a reliability suite makes. `npm test` (the README's test command, which
 * CI runs inside its 15-minute budget) makes a quarter of a suite's full count; `npm run
 * test:full` (`RELIABILITY_RUNS=full`) makes the full count the suite is documented with in
 * docs/reliability.md. Both run every property and every fault kind: only the number of
 * generated cases differs.
 */

/** True under `npm run test:full`. */
export const FULL_RUNS = process.env.RELIABILITY_RUNS === "full";

/**
 * The runs to make of a suite whose full count is `full`: `full` under `npm run test:full`, else a
 * quarter of it, rounded up to a multiple of `multipleOf` (a suite's parallel properties) and at
 * least `multipleOf`.
 */
export function generatedRuns(full: number, multipleOf = 1): number {
  if (FULL_RUNS) return full;
  return Math.max(multipleOf, Math.ceil(full / 4 / multipleOf) * multipleOf);
}
