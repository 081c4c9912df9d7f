/**
 * Errors the domain raises on purpose. Each carries the HTTP status and the snake_case error
 * codes of the API contract (DESIGN.md "HTTP API"): the body of every non-2xx answer is the
 * JSON array of codes. Anything else that escapes a handler is answered 500 `["internal_error"]`
 * (or 429 `["throttled"]` for DynamoDB/Cognito throttling), never with its message.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 500;

export class AppError extends Error {
  override name = "AppError";
  /**
   * @param status HTTP status of the answer.
   * @param codes every error code that applies, e.g. `["message_blank"]`.
   * @param headers response headers the answer carries (e.g. `retry-after` on a 429).
   */
  constructor(
    readonly status: ErrorStatus,
    readonly codes: readonly string[],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(codes.join(","));
  }
}

/** 400: the request cannot be read (malformed JSON, body not an object, bad cursor). */
export const badRequest = (...codes: string[]): AppError => new AppError(400, codes);
/** 401: missing, malformed, expired or wrong-kind token. */
export const unauthorized = (): AppError => new AppError(401, ["unauthorized"]);
/** 404: unknown handle, or a group that does not exist or that the caller is not in. */
export const notFound = (...codes: string[]): AppError => new AppError(404, codes);
/** 422: the request is readable but its fields fail validation. */
export const unprocessable = (...codes: string[]): AppError => new AppError(422, codes);

/** Error names the AWS SDK uses for throttling (DynamoDB and Cognito). */
const THROTTLING_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "LimitExceededException",
]);

/** True when `error` is an AWS SDK throttling error (after the SDK's own retries). */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_NAMES.has(error.name);
}

/**
 * The per-item cancellation codes of a DynamoDB TransactionCanceledException, in the order of
 * the transaction's items (`"None"` for items that did not cause it), e.g.
 * `["ConditionalCheckFailed", "None"]`; `undefined` for any other error.
 */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? "None");
}

/**
 * True when `error` says an optimistic write lost a race: a conditional write whose condition
 * failed (`ConditionalCheckFailedException`), or a transaction cancelled because one of its
 * conditions failed or another transaction touched an item (`ConditionalCheckFailed`,
 * `TransactionConflict` among its cancellation reasons). The caller reads again and retries.
 */
export function isLostRace(error: unknown): boolean {
  if (error instanceof Error && error.name === "ConditionalCheckFailedException") return true;
  return cancellationCodes(error)?.some((c) => c === "ConditionalCheckFailed" || c === "TransactionConflict") ?? false;
}
