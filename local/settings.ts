/**
 * Defaults of the local stack. Table, routes, user pool and stream delivery come from `shared/`;
 * only what exists locally alone is defined here.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the repository (the parent of `local/`). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the local stack keeps its state (`stack.json`, data of `--persist`), unless told otherwise. */
export const DEFAULT_STATE_DIR = fileURLToPath(new URL("../.local", import.meta.url));

/**
 * The state directory in use: `LOCAL_STATE_DIR` when set, else {@link DEFAULT_STATE_DIR}. `npm start`,
 * `npm run token` and the operator commands all read it, so they agree on where `stack.json` is.
 */
export function stateDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LOCAL_STATE_DIR || DEFAULT_STATE_DIR);
}

/** Where the Lambda entry files are (`functions/<fn>.ts`, see `shared/routes.ts`). */
export const FUNCTIONS_DIR = fileURLToPath(new URL("../functions", import.meta.url));

/** Default ports: DynamoDB Local, cognito-local, the emulated HTTP API, the Lambda Invoke endpoint of cognito-local's triggers. */
export const DEFAULT_PORTS = { dynamodb: 8000, cognito: 9229, api: 4567, lambda: 9231 } as const;
export const DEFAULT_REGION = "us-east-1";
export const DEFAULT_FRONTEND_URL = "http://localhost:3000";

/**
 * The one access key of every local client. DynamoDB Local keeps one database per access key and
 * region, so the stack, the in-process handlers and `npm run token` must all use the same one.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
