/**
 * Loading the Lambda entry files (`functions/<fn>.ts`, export `handler`) into this process.
 * The functions read their configuration from `process.env` when their module is evaluated, so
 * the caller sets the environment first. Each stack start imports fresh copies of the entry
 * modules (a query string makes a new module URL), so a second stack in the same process gets
 * handlers configured for it; modules under `shared/` are shared, as in one warm container.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { CONFIG_ENV } from "../shared/config";
import type { HttpHandler } from "../shared/http";
import { FAN_OUT_FUNCTION, PUBLISH_FUNCTION, ROUTES, TRIGGER_FUNCTIONS } from "../shared/routes";

/** A stream function's handler: the fan-out (pattern E) or the real-time publish function. */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;
/** The fan-out function's handler (pattern E). */
export type FanOutHandler = StreamHandler;

/**
 * A handler invoked through the Lambda Invoke API (`local/lambda-invoke.ts`): its event is the
 * request's JSON payload, its result the answer's.
 */
export type InvokableHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The handlers of one stack start. */
export interface LoadedFunctions {
  /** Route handlers by `RouteDefinition.fn`. */
  routes: Map<string, HttpHandler>;
  fanOut: FanOutHandler;
  /**
   * The real-time publish function, loaded only when EVENTS_HTTP_URL is set (it needs the
   * events endpoint at load: without one it would fail, as in the cloud).
   */
  publishEvents: StreamHandler | undefined;
}

let generation = 0;

/**
 * Imports `functions/<fn>.ts` from `functionsDir` and returns its `handler` export.
 * @param instance the same value reuses loaded modules; a new one imports fresh copies.
 * @throws Error when the file cannot be imported or has no `handler` function.
 */
async function loadHandler<H>(functionsDir: string, fn: string, instance: number): Promise<H> {
  const url = `${pathToFileURL(join(functionsDir, `${fn}.ts`)).href}?instance=${instance}`;
  const module = (await import(url)) as { handler?: unknown };
  if (typeof module.handler !== "function") throw new Error(`functions/${fn}.ts exports no handler function`);
  return module.handler as H;
}

/**
 * Imports fresh copies of every route function of ROUTES, of the fan-out function and, when
 * EVENTS_HTTP_URL is set in `process.env`, of the publish function.
 * @throws Error when one cannot be imported or has no `handler` function; ConfigError when the
 *   publish function finds EVENTS_HTTP_URL malformed.
 */
export async function loadFunctions(functionsDir: string): Promise<LoadedFunctions> {
  generation += 1;
  const instance = generation;
  const withEvents = (process.env[CONFIG_ENV.eventsHttpUrl] ?? "") !== "";
  const [fanOut, publishEvents, ...routeHandlers] = await Promise.all([
    loadHandler<FanOutHandler>(functionsDir, FAN_OUT_FUNCTION.fn, instance),
    withEvents ? loadHandler<StreamHandler>(functionsDir, PUBLISH_FUNCTION.fn, instance) : undefined,
    ...ROUTES.map((route) => loadHandler<HttpHandler>(functionsDir, route.fn, instance)),
  ]);
  return {
    routes: new Map(ROUTES.map((route, i) => [route.fn, routeHandlers[i] as HttpHandler])),
    fanOut: fanOut as FanOutHandler,
    publishEvents: publishEvents as StreamHandler | undefined,
  };
}

/**
 * Imports fresh copies of the Cognito trigger functions of TRIGGER_FUNCTIONS. They need only the
 * table's configuration (not USER_POOL_ID), so the stack loads them before cognito-local starts.
 * @returns the handlers by function name (`fn`).
 * @throws Error when one cannot be imported or has no `handler` function.
 */
export async function loadTriggerFunctions(functionsDir: string): Promise<Map<string, InvokableHandler>> {
  generation += 1;
  const instance = generation;
  const handlers = await Promise.all(
    TRIGGER_FUNCTIONS.map((t) => loadHandler<InvokableHandler>(functionsDir, t.fn, instance)),
  );
  return new Map(TRIGGER_FUNCTIONS.map((t, i) => [t.fn, handlers[i] as InvokableHandler]));
}
