/**
 * Defaults of the local stack. Table, routes, user pool and stream delivery come from `shared/`;
 * only what exists locally alone is defined here.
 */
import { fileURLToPath } from "node:url";

/** Root of the repository (the parent of `local/`). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the Lambda entry files are (`functions/<fn>.ts`, see `shared/routes.ts`). */
export const FUNCTIONS_DIR = fileURLToPath(new URL("../functions", import.meta.url));

/**
 * Default ports: DynamoDB Local, cognito-local, the emulated HTTP API, the Lambda Invoke endpoint
 * of cognito-local's triggers, the AppSync Events emulator (HTTP publish and WebSocket).
 */
export const DEFAULT_PORTS = { dynamodb: 8000, cognito: 9229, api: 4567, lambda: 9231, events: 4568 } as const;
export const DEFAULT_FRONTEND_URL = "http://localhost:3000";

/**
 * The port in env variable `name`, or `fallback` when it is unset or empty.
 * @throws Error when it is set but not an integer in 1-65535.
 */
export function envPort(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number, got "${text}"`);
  }
  return port;
}
