/**
 * The emulated HTTP API: serves the routes of `shared/routes.ts` (on 127.0.0.1 unless HOST says otherwise) like API Gateway
 * (HTTP API, `$default` stage, JWT authorizer, CORS configuration) in front of the route
 * functions, which run in this process.
 *
 * Per request: OPTIONS is a CORS preflight (204); a GET of one of `documents` (the API documents,
 * `shared/openapi.ts`) is 200 with it, no token needed; a path or method of no route is 404
 * `["route_not_found"]` (an HTTP API has no 405); a body over the limit is 413
 * `["payload_too_large"]`; on a route with `auth: true`, a missing or unacceptable access token
 * is 401 `["unauthorized"]` (a route with `auth: false` is served with no token and its event
 * has no `requestContext.authorizer`, like an API Gateway route with no authorizer);
 * a handler that throws is 500 `["internal_error"]` (the error goes to the log only). One JSON
 * log line per request.
 *
 * Headers: every answer the emulator gives itself (the preflights and the errors above) carries
 * `responseHeaders` of `shared/api-contract.ts` (`x-content-type-options: nosniff`,
 * `cache-control: no-store`); a handler's answer carries what the handler set (the route functions
 * set the same, through `httpHandler`), as API Gateway passes a Lambda's headers on. Unlike here,
 * API Gateway's own answers (CORS preflights, the JWT authorizer's 401, 404 of no route, 429 of
 * its throttling) carry none of them: an HTTP API cannot add headers to them (docs/deploy.md).
 */

import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { responseHeaders } from "../shared/api-contract";
import type { HttpEvent, HttpHandler, HttpResult } from "../shared/http";
import type { RouteDefinition } from "../shared/routes";
import { bearerToken, buildHttpApiEvent } from "./api-event";
import { corsHeaders, preflightHeaders } from "./cors";
import { closeGracefully, trackInFlight } from "./in-flight";
import type { AccessTokenVerifier } from "./jwt";
import { lambdaContext } from "./lambda-context";
import type { LocalLogger } from "./logger";
import { readBody } from "./request-body";
import { httpUrl, type LocalHost, localHost } from "./settings";

/** Largest request body accepted by default, bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpApiOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Where to listen, and the host of `url` (default `localHost()`: env HOST, else 127.0.0.1 only). */
  host?: LocalHost;
  routes: readonly RouteDefinition[];
  /** The handler of each route, by `RouteDefinition.fn`. */
  handlers: ReadonlyMap<string, HttpHandler>;
  verifyAccessToken: AccessTokenVerifier;
  /** Origin(s) allowed by CORS: the web frontend's, and the local web client's (`local/cors.ts`). */
  frontendOrigin: string | readonly string[];
  /** Region shown in the Lambda context. */
  region: string;
  logger: LocalLogger;
  /** Largest request body, bytes (default {@link DEFAULT_MAX_BODY_BYTES}). */
  maxBodyBytes?: number;
  /**
   * JSON documents the emulator serves itself, by path: a GET of one is answered 200 with it
   * (no token; the local stack serves the API documents at `API_DOCUMENT_PATHS`).
   */
  documents?: Readonly<Record<string, unknown>>;
  /**
   * Called with every answer just before it is written, so it has run when the client reads
   * the answer (the tests' contract check, `test/support/contract.ts`). An error it throws is
   * logged; the answer is written all the same.
   */
  onAnswer?: (answer: AnsweredRequest) => void;
}

/** A request and the answer written to it (see {@link HttpApiOptions.onAnswer}). */
export interface AnsweredRequest {
  method: string;
  /** Path as received (percent-encoded), without the query string. */
  rawPath: string;
  rawQueryString: string;
  /** `METHOD /path/{template}` of the route served, `undefined` when no route matched. */
  routeKey: string | undefined;
  statusCode: number;
  /** Every header written, names in lower case. */
  headers: Readonly<Record<string, string | string[]>>;
  body: Buffer;
}

export interface HttpApi {
  /** `http://<host.connect>:<port>` (`http://127.0.0.1:<port>` by default). */
  url: string;
  port: number;
  /** Requests being answered now. */
  readonly inFlight: number;
  /**
   * Resolves once no request is being answered (at once when none is). A client that hangs up
   * does not stop its handler: its writes still land, and this waits for them.
   */
  idle(): Promise<void>;
  /** Stops listening, waits (at most `graceMs`, default 10,000 ms) for the answers in flight, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Matches a request path against a route path template (`RouteDefinition.path` of `shared/routes.ts`),
 * as API Gateway does: a `{name}` parameter is one whole, non-empty segment.
 * @returns the path parameters (URL-decoded) when it matches, else `undefined`.
 * A parameter that is not valid percent-encoding does not match.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? "";
    const g = got[i] ?? "";
    const name = /^\{([a-z_]+)\}$/.exec(w)?.[1];
    if (name !== undefined) {
      if (g === "") return undefined;
      try {
        params[name] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** A route matched by method and path, with its path parameters (URL-decoded). */
export interface MatchedRoute {
  route: RouteDefinition;
  routeKey: string;
  pathParameters: Record<string, string>;
}

/** The route serving `method` + `rawPath`, or `undefined` (a path of a route with another method too). */
export function resolveRoute(
  routes: readonly RouteDefinition[],
  method: string,
  rawPath: string,
): MatchedRoute | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const pathParameters = matchPath(route.path, rawPath);
    if (pathParameters !== undefined) return { route, routeKey: `${route.method} ${route.path}`, pathParameters };
  }
  return undefined;
}

/** An answer ready to write. */
export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** A JSON answer of the emulator itself (errors: an array of codes), with the headers of every answer. */
export function jsonAnswer(statusCode: number, body: unknown): HttpAnswer {
  return {
    statusCode,
    headers: { "content-type": "application/json", ...responseHeaders({ statusCode, publicRoute: false }) },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/**
 * The HTTP answer of a handler's result, as API Gateway maps payload format 2.0 results: a
 * result without `statusCode` is a 200 JSON body (a string as is, anything else serialized);
 * `cookies` become `set-cookie` headers; a base64 body is decoded.
 */
export function answerOfResult(result: HttpResult | string | undefined): HttpAnswer {
  if (typeof result !== "object" || result.statusCode === undefined) {
    const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) headers["set-cookie"] = result.cookies;
  const body = Buffer.from(result.body ?? "", result.isBase64Encoded === true ? "base64" : "utf8");
  return { statusCode: result.statusCode, headers, body };
}

/** What is known of a request before it is answered. */
interface RequestInfo {
  requestId: string;
  method: string;
  rawPath: string;
  rawQueryString: string;
  matched: MatchedRoute | undefined;
}

/** The answer to one request, per the module's rules; a handler's error is logged, not answered. */
async function answerRequest(
  options: HttpApiOptions,
  request: IncomingMessage,
  info: RequestInfo,
): Promise<HttpAnswer> {
  if (info.method === "OPTIONS") {
    return {
      statusCode: 204,
      headers: {
        ...preflightHeaders(options.frontendOrigin, request.headers.origin),
        ...responseHeaders({ statusCode: 204, publicRoute: false }),
      },
      body: Buffer.alloc(0),
    };
  }
  const document = info.method === "GET" ? options.documents?.[info.rawPath] : undefined;
  if (document !== undefined) return jsonAnswer(200, document);
  const { matched } = info;
  if (matched === undefined) return jsonAnswer(404, ["route_not_found"]);
  const bytes = await readBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (bytes === "too_large") return jsonAnswer(413, ["payload_too_large"]);
  const body = bytes.length === 0 ? undefined : bytes.toString("utf8");
  // A route with `auth: false` has no authorizer: any Authorization header is passed on unread.
  let claims: JwtPayload | undefined;
  if (matched.route.auth) {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return jsonAnswer(401, ["unauthorized"]);
    try {
      claims = await options.verifyAccessToken(token);
    } catch {
      return jsonAnswer(401, ["unauthorized"]);
    }
  }
  const event = buildHttpApiEvent(
    {
      method: info.method,
      rawPath: info.rawPath,
      rawQueryString: info.rawQueryString,
      headers: request.headersDistinct,
      body,
      sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
      protocol: `HTTP/${request.httpVersion}`,
      port: request.socket.localPort ?? 0,
    },
    { ...matched, claims, requestId: info.requestId, timeEpochMs: Date.now() },
  );
  const handler = options.handlers.get(matched.route.fn) as HttpHandler;
  try {
    // The handlers are typed for the JWT authorizer's event; a public route's handler gets the
    // event without `requestContext.authorizer`, as from API Gateway (`callerClaims` reads it
    // as optional and answers 401).
    return answerOfResult(
      await handler(event as HttpEvent, lambdaContext(matched.route.fn, randomUUID(), options.region)),
    );
  } catch (error) {
    options.logger.error("handler threw", { api_request_id: info.requestId, fn: matched.route.fn, error });
    return jsonAnswer(500, ["internal_error"]);
  }
}

/**
 * Starts the emulated API.
 * @throws Error when a route has no handler, or the port cannot be bound.
 */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const missing = options.routes.filter((r) => !options.handlers.has(r.fn)).map((r) => r.fn);
  if (missing.length > 0) throw new Error(`http api: no handler for ${missing.join(", ")}`);

  const inFlight = trackInFlight();

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    inFlight.begin();
    const method = request.method ?? "GET";
    const [rawPath, rawQueryString] = splitUrl(request.url);
    const info: RequestInfo = {
      requestId: randomUUID(),
      method,
      rawPath,
      rawQueryString,
      matched: resolveRoute(options.routes, method, rawPath),
    };
    void answerRequest(options, request, info)
      .catch((error: unknown) => {
        options.logger.error("http api failed", { api_request_id: info.requestId, error });
        return jsonAnswer(500, ["internal_error"]);
      })
      .then((result) => {
        const headers = {
          ...result.headers,
          ...corsHeaders(options.frontendOrigin, request.headers.origin),
          "apigw-requestid": info.requestId,
          "content-length": String(result.body.length),
        };
        try {
          options.onAnswer?.({
            method,
            rawPath,
            rawQueryString,
            routeKey: info.matched?.routeKey,
            statusCode: result.statusCode,
            headers,
            body: result.body,
          });
        } catch (error) {
          options.logger.error("http api answer observer failed", { api_request_id: info.requestId, error });
        }
        response.writeHead(result.statusCode, headers);
        response.end(result.body);
        options.logger.info("request", {
          method,
          path: rawPath,
          route: info.matched?.routeKey ?? null,
          status: result.statusCode,
          duration_ms: Math.round(performance.now() - started),
          api_request_id: info.requestId,
        });
      })
      .finally(inFlight.settled);
  });
  const host = options.host ?? localHost();
  server.listen(options.port, host.listen);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: httpUrl(host.connect, port),
    port,
    get inFlight() {
      return inFlight.count;
    },
    idle: inFlight.idle,
    close: (graceMs = 10_000) => closeGracefully(server, inFlight, graceMs),
  };
}

/** `[path, query]` of a request target (query without `?`). */
function splitUrl(url: string | undefined): [string, string] {
  const target = url ?? "/";
  const q = target.indexOf("?");
  return q === -1 ? [target, ""] : [target.slice(0, q), target.slice(q + 1)];
}
