/**
 * The parts of the HTTP API contract (DESIGN.md "HTTP API") that are neither a route nor a body:
 * the paging header, the CORS the Cruddur frontend relies on, and the headers every answer carries
 * (content sniffing off, caching). Read by the Lambda glue
 * (`shared/http.ts`), the CDK API (`infra/constructs/http-api.ts`), the local emulator
 * (`local/cors.ts`) and the tests, so that none of them spells a header name again. The route
 * table itself is `shared/routes.ts`.
 */

/** Response header carrying the opaque cursor of the next (older) page of a list route. */
export const NEXT_CURSOR_HEADER = "x-next-cursor";

/** Request header of an idempotent POST /api/messages (IETF httpapi draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/**
 * CORS of the HTTP API for the frontend's origins (the CDK stack's `corsPreflight` and the local
 * emulator both read this). Methods are those of the route table, plus OPTIONS. The cursor
 * header and the send limits' fields are exposed, or a browser could not read them; a browser may
 * send `Idempotency-Key`.
 */
export const CORS = {
  allowHeaders: ["Authorization", "Content-Type", IDEMPOTENCY_KEY_HEADER],
  exposeHeaders: [NEXT_CURSOR_HEADER, "RateLimit", "RateLimit-Policy", "Retry-After"],
  /** How long a browser may cache a preflight answer, seconds. */
  maxAgeSeconds: 600,
} as const;

/** How long a public answer (a 2xx of a route with `auth: false`) may be cached by browsers and shared caches, seconds. */
export const PUBLIC_CACHE_SECONDS = 30;

/** The answer {@link responseHeaders} is for. */
export interface AnswerKind {
  statusCode: number;
  /** True for a route served without a token (`auth: false` in `shared/routes.ts`). */
  publicRoute: boolean;
}

/**
 * The headers every answer of the API carries, whoever answers (a route function, or the local
 * emulator itself):
 * - `x-content-type-options: nosniff`: a browser must not guess a type other than the
 *   `content-type` sent (OWASP Secure Headers Project), so a JSON body is never run as script;
 * - `cache-control`: `public, max-age=PUBLIC_CACHE_SECONDS` on a 2xx of a public route (the
 *   public profile: the same for everyone, and a profile changes rarely), `no-store` on every
 *   other answer (RFC 9111, 5.2.2.5): an authenticated answer is one user's data and must stay in
 *   no cache, shared or private; an error is never cached (a new user's profile must not stay 404).
 * Header names are lower case, as the rest of the API writes them.
 */
export function responseHeaders(answer: AnswerKind): Record<string, string> {
  const cacheable = answer.publicRoute && answer.statusCode >= 200 && answer.statusCode < 300;
  return {
    "x-content-type-options": "nosniff",
    "cache-control": cacheable ? `public, max-age=${PUBLIC_CACHE_SECONDS}` : "no-store",
  };
}
