/**
 * The errors the operator commands throw on purpose: `OpsError` (what is wrong and what to do)
 * and `UsageError` (a wrong command line). A leaf module: `errors.ts` explains them.
 */

/** An error whose message is meant for the operator; `hint` says what to do. */
export class OpsError extends Error {
  override name = "OpsError";
  /**
   * @param message what is wrong, one line, e.g. `table "x" does not exist`.
   * @param hint what to do, one line, e.g. `run npm run ddb -- schema-load`.
   */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A wrong command line: answered with exit code 2 and a pointer to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
}
