/**
 * CORS of the emulated HTTP API for the web frontend's origin, as the HTTP API's CORS
 * configuration answers: preflights answered by the API itself, the origin allowed on every
 * answer, and the paging cursor header exposed to the browser.
 */
import { NEXT_CURSOR_HEADER } from "../shared/http";
import { ROUTES } from "../shared/routes";

/** The methods of the routes, and OPTIONS (as the CDK stack derives them). */
export const CORS_ALLOW_METHODS: readonly string[] = [...new Set(ROUTES.map((r) => r.method)), "OPTIONS"];
export const CORS_ALLOW_HEADERS = ["Authorization", "Content-Type"] as const;
export const CORS_EXPOSE_HEADERS = [NEXT_CURSOR_HEADER] as const;
/** How long a browser may cache a preflight answer, seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

/** Headers added to every answer. */
export function corsHeaders(frontendOrigin: string): Record<string, string> {
  return {
    "access-control-allow-origin": frontendOrigin,
    "access-control-expose-headers": CORS_EXPOSE_HEADERS.join(","),
    vary: "Origin",
  };
}

/** Headers of the 204 answer to a preflight (OPTIONS) request. */
export function preflightHeaders(frontendOrigin: string): Record<string, string> {
  return {
    ...corsHeaders(frontendOrigin),
    "access-control-allow-methods": CORS_ALLOW_METHODS.join(","),
    "access-control-allow-headers": CORS_ALLOW_HEADERS.join(","),
    "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
  };
}
