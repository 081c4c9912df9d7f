/** Lambda events for the bench: API Gateway HTTP API events as the emulator builds them. */
import { randomUUID } from "node:crypto";
import { buildHttpApiEvent } from "../local/api-event";
import type { SeededUser } from "../local/seed";
import type { HttpEvent } from "../shared/http";
import { ROUTES, type RouteDefinition } from "../shared/routes";

/** The route of function `fn` in ROUTES. @throws Error when there is none. */
export function routeOf(fn: string): RouteDefinition {
  const route = ROUTES.find((r) => r.fn === fn);
  if (route === undefined) throw new Error(`no route for ${fn}`);
  return route;
}

/**
 * The event API Gateway gives function `fn` for a request of `caller` (claims of a Cognito
 * access token), with the route's path parameters, query and JSON body.
 */
export function httpEvent(
  fn: string,
  caller: SeededUser,
  request: { pathParameters?: Record<string, string>; query?: string; body?: unknown } = {},
): HttpEvent {
  const route = routeOf(fn);
  const params = request.pathParameters ?? {};
  const rawPath = route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
  return buildHttpApiEvent(
    {
      method: route.method,
      rawPath,
      rawQueryString: request.query ?? "",
      headers: { "content-type": ["application/json"], host: ["localhost"] },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      sourceIp: "127.0.0.1",
      protocol: "HTTP/1.1",
      port: 443,
    },
    {
      routeKey: `${route.method} ${route.path}`,
      pathParameters: params,
      claims: {
        sub: caller.uuid,
        username: caller.username,
        token_use: "access",
        client_id: "bench",
        scope: "aws.cognito.signin.user.admin",
      },
      requestId: randomUUID(),
      timeEpochMs: Date.now(),
    },
  );
}
