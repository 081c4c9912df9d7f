/**
 * The parts of the HTTP API contract (DESIGN.md "HTTP API") that are neither a route nor a body:
 * the paging header and the CORS the Cruddur frontend relies on. Read by the Lambda glue
 * (`shared/http.ts`), the CDK API (`infra/constructs/http-api.ts`), the local emulator
 * (`local/cors.ts`) and the tests, so that none of them spells a header name again. The route
 * table itself is `shared/routes.ts`.
 */

/** Response header carrying the opaque cursor of the next (older) page of a list route. */
export const NEXT_CURSOR_HEADER = "x-next-cursor";

/**
 * CORS of the HTTP API for the frontend's origins (the CDK stack's `corsPreflight` and the local
 * emulator both read this). Methods are those of the route table, plus OPTIONS. The cursor
 * header is exposed, or a browser could not read it.
 */
export const CORS = {
  allowHeaders: ["Authorization", "Content-Type"],
  exposeHeaders: [NEXT_CURSOR_HEADER],
  /** How long a browser may cache a preflight answer, seconds. */
  maxAgeSeconds: 600,
} as const;
