/**
 * HTTP glue for the route functions (API Gateway HTTP API, payload format 2.0): reading the
 * caller from the JWT authorizer's claims, JSON answers, and the one place where errors become
 * answers. Bodies of non-2xx answers are JSON arrays of error codes (DESIGN.md "HTTP API");
 * a 500 never carries the error's message or stack, which go to the log only.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { NEXT_CURSOR_HEADER, responseHeaders } from "./api-contract";
import { AppError, isThrottling, unauthorized } from "./errors";
import type { Page } from "./model";
import type { CallerClaims } from "./users";

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** A JSON answer. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** 200 with a page's items as the body (the array the frontend expects) and its cursor in a header. */
export function pageResponse<T>(page: Page<T>): HttpResult {
  return json(200, page.items, page.cursor === undefined ? {} : { [NEXT_CURSOR_HEADER]: page.cursor });
}

/**
 * The caller's identity from the JWT authorizer's claims. API Gateway (or the local emulator)
 * has already verified the access token; this only reads it.
 * @throws AppError 401 when the claims are missing or are not an access token's.
 */
export function callerClaims(event: HttpEvent): CallerClaims {
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const sub = claims.sub;
  const username = claims.username ?? claims["cognito:username"];
  if (typeof sub !== "string" || sub === "" || typeof username !== "string" || claims.token_use !== "access") {
    throw unauthorized();
  }
  return { sub, username };
}

/** The request body as text (API Gateway base64-encodes binary bodies). */
export function bodyText(event: HttpEvent): string | undefined {
  if (event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

/** How a route's answers are served. */
export interface HttpHandlerOptions {
  /**
   * True for a route with `auth: false` (`shared/routes.ts`): its 2xx answers may be cached for a
   * short time (`responseHeaders`). Default false: `cache-control: no-store`.
   */
  publicRoute?: boolean;
}

/**
 * Wraps a route's logic: adds the Lambda context to the logger, maps AppError to its status and
 * codes, throttling to 429 `["throttled"]`, and anything else to 500 `["internal_error"]`, sets
 * the headers of every answer (`responseHeaders` of `shared/api-contract.ts`: nosniff and the
 * cache policy, over any the route set), and logs one line per request (route, status, duration
 * ms). Keys a route appends with `logger.appendKeys` last until the end of its request.
 */
export function httpHandler(
  logger: Logger,
  route: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  options: HttpHandlerOptions = {},
): HttpHandler {
  return async (event, context) => {
    const started = performance.now();
    logger.addContext(context);
    logger.appendKeys({ api_request_id: event.requestContext.requestId, route: event.routeKey });
    let result: HttpResult;
    try {
      result = await route(event, context);
    } catch (error) {
      if (error instanceof AppError) {
        result = json(error.status, error.codes, { ...error.headers });
      } else if (isThrottling(error)) {
        logger.warn("throttled", { error: error as Error });
        result = json(429, ["throttled"], { "retry-after": "1" });
      } else {
        logger.error("unhandled error", { error: error as Error });
        result = json(500, ["internal_error"]);
      }
    }
    result = {
      ...result,
      headers: {
        ...result.headers,
        ...responseHeaders({ statusCode: result.statusCode ?? 200, publicRoute: options.publicRoute === true }),
      },
    };
    logger.info("request", { status: result.statusCode, duration_ms: Math.round(performance.now() - started) });
    // Drops every key appended during the request (these two, and any a route added, such as
    // message_group_uuid). Powertools 2.35 resetKeys clears only the temporary keys: the service
    // name, the Lambda context of addContext and persistent keys stay.
    logger.resetKeys();
    return result;
  };
}
