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
import type { HttpHandler } from "../shared/http";
import { FAN_OUT_FUNCTION, ROUTES } from "../shared/routes";

/** The fan-out function's handler (pattern E). */
export type FanOutHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

/** The handlers of one stack start. */
export interface LoadedFunctions {
  /** Route handlers by `RouteDefinition.fn`. */
  routes: Map<string, HttpHandler>;
  fanOut: FanOutHandler;
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
 * Imports fresh copies of every route function of ROUTES and of the fan-out function.
 * @throws Error when one cannot be imported or has no `handler` function.
 */
export async function loadFunctions(functionsDir: string): Promise<LoadedFunctions> {
  generation += 1;
  const instance = generation;
  const [fanOut, ...routeHandlers] = await Promise.all([
    loadHandler<FanOutHandler>(functionsDir, FAN_OUT_FUNCTION.fn, instance),
    ...ROUTES.map((route) => loadHandler<HttpHandler>(functionsDir, route.fn, instance)),
  ]);
  return {
    routes: new Map(ROUTES.map((route, i) => [route.fn, routeHandlers[i] as HttpHandler])),
    fanOut: fanOut as FanOutHandler,
  };
}
