/**
 * Building the API Gateway HTTP API event (payload format 2.0, JWT authorizer) that the route
 * functions receive in the cloud, from a plain HTTP request. Pure: no I/O.
 * AWS doc "Working with AWS Lambda proxy integrations for HTTP APIs" describes the format:
 * lowercase headers, repeated headers and query parameters joined with commas, cookies moved to
 * `cookies`, optional fields absent when empty, and the JWT claims as strings. A route with no
 * authorizer (a public route) gets an event without `requestContext.authorizer`.
 */

import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { HttpEvent } from "../shared/http";

/** The event of a route with no authorizer: API Gateway sends no `requestContext.authorizer`. */
export type PublicHttpEvent = APIGatewayProxyEventV2;

/** What the emulator read from one request. */
export interface HttpApiRequest {
  /** Upper case, e.g. `GET`. */
  method: string;
  /** Path as received (percent-encoded), without the query string. */
  rawPath: string;
  /** Query string as received, without `?` (empty when none). */
  rawQueryString: string;
  /** Lowercase header names, every value of repeated headers (Node's `headersDistinct`). */
  headers: Record<string, string[] | undefined>;
  /** Body as UTF-8 text, `undefined` when empty. */
  body: string | undefined;
  sourceIp: string;
  /** e.g. `HTTP/1.1`. */
  protocol: string;
  /** Local port the request arrived on (for `x-forwarded-port`). */
  port: number;
}

/** The matched route and what the authorizer and the emulator add to the event. */
export interface HttpApiEventContext {
  /** `METHOD /path/{template}`. */
  routeKey: string;
  pathParameters: Record<string, string>;
  /**
   * Payload of the verified access token; `undefined` for a route with no authorizer (`auth:
   * false`), whose event then has no `requestContext.authorizer`.
   */
  claims?: JwtPayload | undefined;
  requestId: string;
  /** When the request arrived, epoch ms. */
  timeEpochMs: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `requestContext.time` format of API Gateway: `21/Nov/2026:14:05:09 +0000` (UTC). */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/**
 * JWT claims as the HTTP API JWT authorizer passes them: every value a string (numbers and
 * booleans as text, arrays as `[a b]`, objects as JSON).
 */
export function authorizerClaims(payload: JwtPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string") claims[name] = value;
    else if (Array.isArray(value)) claims[name] = `[${value.join(" ")}]`;
    else if (typeof value === "object") claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  const params = new URLSearchParams(rawQueryString);
  const joined: Record<string, string> = {};
  for (const [name, value] of params) joined[name] = name in joined ? `${joined[name]},${value}` : value;
  return Object.keys(joined).length === 0 ? undefined : joined;
}

/**
 * The payload format 2.0 event of `request` for the route and caller in `context`: with the
 * JWT authorizer's claims when `context.claims` is given, else without `requestContext.authorizer`
 * (a public route).
 */
export function buildHttpApiEvent(
  request: HttpApiRequest,
  context: HttpApiEventContext & { claims: JwtPayload },
): HttpEvent;
export function buildHttpApiEvent(request: HttpApiRequest, context: HttpApiEventContext): HttpEvent | PublicHttpEvent;
export function buildHttpApiEvent(request: HttpApiRequest, context: HttpApiEventContext): HttpEvent | PublicHttpEvent {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(request.headers)) {
    if (values === undefined) continue;
    if (name === "cookie") cookies = values.flatMap((v) => v.split(/;\s*/)).filter((c) => c !== "");
    else headers[name] = values.join(",");
  }
  headers["x-forwarded-for"] = request.sourceIp;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-port"] = String(request.port);
  const domainName = headers.host ?? `localhost:${request.port}`;
  const queryStringParameters = queryParameters(request.rawQueryString);
  const requestContext: PublicHttpEvent["requestContext"] = {
    accountId: "000000000000",
    apiId: "local",
    domainName,
    domainPrefix: domainName.split(/[.:]/)[0] ?? domainName,
    http: {
      method: request.method,
      path: request.rawPath,
      protocol: request.protocol,
      sourceIp: request.sourceIp,
      userAgent: headers["user-agent"] ?? "",
    },
    requestId: context.requestId,
    routeKey: context.routeKey,
    stage: "$default",
    time: formatRequestTime(context.timeEpochMs),
    timeEpoch: context.timeEpochMs,
  };
  const event: PublicHttpEvent = {
    version: "2.0",
    routeKey: context.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(queryStringParameters === undefined ? {} : { queryStringParameters }),
    ...(Object.keys(context.pathParameters).length === 0 ? {} : { pathParameters: context.pathParameters }),
    ...(request.body === undefined ? {} : { body: request.body }),
    isBase64Encoded: false,
    requestContext,
  };
  if (context.claims === undefined) return event;
  const scope = context.claims.scope;
  return {
    ...event,
    requestContext: {
      ...requestContext,
      authorizer: {
        jwt: {
          claims: authorizerClaims(context.claims),
          scopes: typeof scope === "string" && scope !== "" ? scope.split(" ") : null,
        },
      },
    },
  };
}
