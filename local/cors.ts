/**
 * CORS of the emulated HTTP API for the web frontend's origin, as the HTTP API's CORS
 * configuration answers: preflights answered by the API itself, the origin allowed on every
 * answer, and the paging cursor header exposed to the browser.
 */
import { CORS } from "../shared/api-contract";
import { ROUTES } from "../shared/routes";

/** The methods of the routes, and OPTIONS (as the CDK stack derives them). */
export const CORS_ALLOW_METHODS: readonly string[] = [...new Set(ROUTES.map((r) => r.method)), "OPTIONS"];

/** Headers added to every answer. */
export function corsHeaders(frontendOrigin: string): Record<string, string> {
  return {
    "access-control-allow-origin": frontendOrigin,
    "access-control-expose-headers": CORS.exposeHeaders.join(","),
    vary: "Origin",
  };
}

/** Headers of the 204 answer to a preflight (OPTIONS) request. */
export function preflightHeaders(frontendOrigin: string): Record<string, string> {
  return {
    ...corsHeaders(frontendOrigin),
    "access-control-allow-methods": CORS_ALLOW_METHODS.join(","),
    "access-control-allow-headers": CORS.allowHeaders.join(","),
    "access-control-max-age": String(CORS.maxAgeSeconds),
  };
}
