/** The errors the client throws: typed, carrying the API's error codes. */
import type { OperationId } from "./operations";
import type { ErrorCode } from "./types";

/**
 * A non-2xx answer of the API. `codes` is the answer's array of error codes (README "Errors");
 * an answer API Gateway gives itself in the cloud (`{"message": ...}`, no codes) gets the code its
 * status implies (401 `unauthorized`, 429 `throttled`, 5xx `internal_error`), others none.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly operation: OperationId,
    readonly status: number,
    readonly codes: readonly ErrorCode[],
    /** `Retry-After` of the answer, seconds, when it had one. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`${operation}: HTTP ${status} ${codes.length > 0 ? codes.join(", ") : "(no code)"}`);
  }

  /** True when the answer carried `code`. */
  has(code: ErrorCode): boolean {
    return this.codes.includes(code);
  }
}

/** The API could not be reached (no answer: refused, reset, DNS, CORS refused), after the retries. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`${operation}: no answer (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

/** Cognito refused a sign-in or a refresh: `code` is its `__type` (e.g. `NotAuthorizedException`). */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The codes of an error answer's body (see {@link ApiError}). */
export function errorCodesOf(status: number, body: unknown): ErrorCode[] {
  if (Array.isArray(body) && body.every((c) => typeof c === "string")) return body as ErrorCode[];
  if (status === 401) return ["unauthorized"];
  if (status === 429) return ["throttled"];
  if (status >= 500) return ["internal_error"];
  return [];
}
