/**
 * CORS of the emulated HTTP API for the web frontend's origin, as the HTTP API's CORS
 * configuration answers: preflights answered by the API itself, the origin allowed on every
 * answer, and the paging cursor header exposed to the browser.
 */
import { CORS } from "../shared/api-contract";
import { ROUTES } from "../shared/routes";

/** The methods of the routes, and OPTIONS (as the CDK stack derives them). */
export const CORS_ALLOW_METHODS: readonly string[] = [...new Set(ROUTES.map((r) => r.method)), "OPTIONS"];

/**
 * The origin to allow on an answer: the request's `Origin` when it is one of `allowed` (the
 * Cruddur frontend's, the local web client's), else the first allowed one (so a browser at any
 * other origin is refused, as the cloud API's CORS refuses it).
 */
export function allowedOrigin(allowed: string | readonly string[], requestOrigin?: string): string {
  const origins = typeof allowed === "string" ? [allowed] : allowed;
  if (requestOrigin !== undefined && origins.includes(requestOrigin)) return requestOrigin;
  return origins[0] ?? "";
}

/** Headers added to every answer, for a request from `requestOrigin` (see {@link allowedOrigin}). */
export function corsHeaders(allowed: string | readonly string[], requestOrigin?: string): Record<string, string> {
  return {
    "access-control-allow-origin": allowedOrigin(allowed, requestOrigin),
    "access-control-expose-headers": CORS.exposeHeaders.join(","),
    vary: "Origin",
  };
}

/** Headers of the 204 answer to a preflight (OPTIONS) request. */
export function preflightHeaders(allowed: string | readonly string[], requestOrigin?: string): Record<string, string> {
  return {
    ...corsHeaders(allowed, requestOrigin),
    "access-control-allow-methods": CORS_ALLOW_METHODS.join(","),
    "access-control-allow-headers": CORS.allowHeaders.join(","),
    "access-control-max-age": String(CORS.maxAgeSeconds),
  };
}
