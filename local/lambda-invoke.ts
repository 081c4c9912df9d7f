/**
 * A local Lambda Invoke endpoint: the `Invoke` operation of the Lambda API
 * (`POST /2015-03-31/functions/<FunctionName>/invocations`) in front of handlers that run in this
 * process. cognito-local invokes its Lambda triggers this way (an aws-sdk v2 `Lambda` client at
 * `LambdaClient.endpoint` of its config, `InvocationType: RequestResponse`, the trigger event as
 * the payload), so a sign-up against cognito-local runs our real trigger functions.
 *
 * Answers as Lambda does (Lambda API reference, "Invoke"):
 * - 200 with the handler's result as JSON (`null` for none), `X-Amz-Executed-Version: $LATEST`;
 * - 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}` when the
 *   handler throws (cognito-local then refuses the request with UserLambdaValidationException
 *   "<FunctionName> failed with error <errorMessage>.");
 * - 204 for `InvocationType: DryRun` of a known function;
 * - 404 ResourceNotFoundException for an unknown function, 404 UnknownOperationException for
 *   another path or method, 400 InvalidRequestContentException for a payload that is not JSON,
 *   400 InvalidParameterValueException for `InvocationType: Event` (not emulated), 413
 *   RequestTooLargeException over 6 MB, 500 ServiceException when the endpoint cannot run
 *   functions (see `ready`). Errors carry `x-amzn-ErrorType` and `{Type, Message}` like Lambda's.
 *
 * Requests are not authenticated (no SigV4 check): it listens on 127.0.0.1 only, unless HOST
 * widens the local stack (`local/settings.ts`).
 */

import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InvokableHandler } from "./functions";
import { closeGracefully, trackInFlight } from "./in-flight";
import { lambdaContext } from "./lambda-context";
import type { LocalLogger } from "./logger";
import { readBody } from "./request-body";
import { httpUrl, type LocalHost, localHost } from "./settings";

/** Largest payload of a synchronous invocation, bytes (Lambda's quota: 6 MB). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Account id in the ARNs the endpoint shows. */
const LOCAL_ACCOUNT_ID = "000000000000";

export interface LambdaInvokeOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Where to listen, and the host of `url` (default `localHost()`: env HOST, else 127.0.0.1 only). */
  host?: LocalHost;
  /** The handlers by function name. */
  handlers: ReadonlyMap<string, InvokableHandler>;
  /** Region of the ARNs and of the Lambda context. */
  region: string;
  logger: LocalLogger;
  /**
   * Invocations wait for this before a handler runs (the local stack: until the table exists),
   * so that the endpoint can listen before its functions can work. When it rejects, every
   * invocation is answered 500 ServiceException. Default: ready at once.
   */
  ready?: Promise<unknown>;
}

export interface LambdaInvokeEndpoint {
  /** `http://<host.connect>:<port>` (`http://127.0.0.1:<port>` by default): the `endpoint` of a Lambda client. */
  url: string;
  port: number;
  /** Stops listening, waits (at most `graceMs`, default 10,000 ms) for the invocations in flight, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** An answer ready to write. */
export interface InvokeAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The answer of a Lambda API error (`x-amzn-ErrorType` header, `{Type, Message}` body). */
export function lambdaApiError(statusCode: number, errorType: string, message: string): InvokeAnswer {
  return {
    statusCode,
    headers: { "content-type": "application/json", "x-amzn-errortype": errorType },
    body: JSON.stringify({ Type: statusCode >= 500 ? "Service" : "User", Message: message }),
  };
}

/**
 * The payload of a function error, as the Node.js runtime reports a thrown value:
 * `{errorType: name, errorMessage: message, trace: stack lines}`.
 */
export function functionErrorPayload(thrown: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (thrown instanceof Error) {
    return { errorType: thrown.name, errorMessage: thrown.message, trace: (thrown.stack ?? "").split("\n") };
  }
  return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
}

/**
 * The function name of the `FunctionName` of an Invoke request: a name (`my-function`), a name
 * with a qualifier (`my-function:v1`), a partial ARN (`123456789012:function:my-function`) or an
 * ARN (`arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]`). Qualifiers
 * are ignored: every function is `$LATEST`.
 */
export function functionNameOf(functionName: string): string {
  const parts = functionName.split(":");
  const at = parts.indexOf("function");
  return (at === -1 ? parts[0] : parts[at + 1]) ?? "";
}

/** The `FunctionName` path segment of an Invoke request (URL-decoded), or `undefined`. */
export function invokeTarget(method: string, url: string | undefined): string | undefined {
  const path = (url ?? "/").split("?")[0] ?? "/";
  const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
  if (method !== "POST" || match?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

const arnOf = (region: string, name: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`;

/** What one invocation did, for its log line. */
interface Outcome {
  fn?: string;
  result?: "ok" | "function_error";
}

/** The ready gate: its settled value, and whether it has settled yet. */
interface ReadyGate {
  promise: Promise<true | { failed: unknown }>;
  settled: boolean;
}

async function answerInvoke(
  options: LambdaInvokeOptions,
  ready: ReadyGate,
  request: IncomingMessage,
  requestId: string,
  outcome: Outcome,
): Promise<InvokeAnswer> {
  const target = invokeTarget(request.method ?? "GET", request.url);
  if (target === undefined) {
    return lambdaApiError(404, "UnknownOperationException", `Unknown operation ${request.method} ${request.url}`);
  }
  const bytes = await readBody(request, MAX_PAYLOAD_BYTES);
  if (bytes === "too_large") {
    return lambdaApiError(413, "RequestTooLargeException", `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  const body = bytes.toString("utf8");
  const name = functionNameOf(target);
  outcome.fn = name;
  const handler = options.handlers.get(name);
  if (handler === undefined) {
    return lambdaApiError(404, "ResourceNotFoundException", `Function not found: ${arnOf(options.region, name)}`);
  }
  const invocationType = request.headers["x-amz-invocation-type"] ?? "RequestResponse";
  if (invocationType === "DryRun") return { statusCode: 204, headers: {}, body: "" };
  if (invocationType !== "RequestResponse") {
    return lambdaApiError(
      400,
      "InvalidParameterValueException",
      `InvocationType ${invocationType} is not emulated locally: use RequestResponse`,
    );
  }
  let event: unknown;
  try {
    event = body === "" ? {} : JSON.parse(body);
  } catch (error) {
    return lambdaApiError(400, "InvalidRequestContentException", `Could not parse request body into json: ${error}`);
  }
  if (!ready.settled) options.logger.debug("lambda invoke: held until the functions can run", { fn: name });
  const readiness = await ready.promise;
  if (readiness !== true) {
    options.logger.error("lambda invoke: functions cannot run", { fn: name, error: readiness.failed });
    return lambdaApiError(500, "ServiceException", "The local functions cannot run: the local stack failed to start");
  }
  const headers = {
    "content-type": "application/json",
    "x-amz-executed-version": "$LATEST",
  };
  try {
    const result = await handler(event, lambdaContext(name, requestId, options.region));
    outcome.result = "ok";
    return { statusCode: 200, headers, body: JSON.stringify(result ?? null) };
  } catch (error) {
    outcome.result = "function_error";
    const payload = functionErrorPayload(error);
    options.logger.info("lambda invoke: function error", {
      fn: name,
      error_type: payload.errorType,
      error_message: payload.errorMessage,
    });
    return {
      statusCode: 200,
      headers: { ...headers, "x-amz-function-error": "Unhandled" },
      body: JSON.stringify(payload),
    };
  }
}

/**
 * Starts the endpoint on `options.host` (127.0.0.1 by default).
 * @throws Error when the port cannot be bound (e.g. EADDRINUSE).
 */
export async function startLambdaInvokeEndpoint(options: LambdaInvokeOptions): Promise<LambdaInvokeEndpoint> {
  // Settled into a value at once, so that a rejection is never unhandled while no one invokes.
  const ready: ReadyGate = {
    settled: false,
    promise: (options.ready ?? Promise.resolve()).then(
      () => true as const,
      (failed: unknown) => ({ failed }),
    ),
  };
  void ready.promise.then(() => {
    ready.settled = true;
  });
  const inFlight = trackInFlight();

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    inFlight.begin();
    const requestId = randomUUID();
    const outcome: Outcome = {};
    void answerInvoke(options, ready, request, requestId, outcome)
      .catch((error: unknown) => {
        options.logger.error("lambda invoke failed", { request_id: requestId, error });
        return lambdaApiError(500, "ServiceException", "internal error of the local Lambda endpoint");
      })
      .then((answer) => {
        response.writeHead(answer.statusCode, {
          ...answer.headers,
          "x-amzn-requestid": requestId,
          "content-length": String(Buffer.byteLength(answer.body)),
        });
        response.end(answer.body);
        options.logger.info("lambda invoke", {
          fn: outcome.fn ?? null,
          status: answer.statusCode,
          result: outcome.result ?? null,
          duration_ms: Math.round(performance.now() - started),
          request_id: requestId,
        });
      })
      .finally(inFlight.settled);
  });
  const host = options.host ?? localHost();
  server.listen(options.port, host.listen);
  await once(server, "listening"); // rejects on an "error" event first
  const port = (server.address() as AddressInfo).port;
  return {
    url: httpUrl(host.connect, port),
    port,
    close: (graceMs = 10_000) => closeGracefully(server, inFlight, graceMs),
  };
}
