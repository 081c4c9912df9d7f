/**
 * Defaults of the local stack. Table, routes, user pool and stream delivery come from `shared/`;
 * only what exists locally alone is defined here.
 */
import { isIP, isIPv4, isIPv6 } from "node:net";
import { fileURLToPath } from "node:url";

/** Root of the repository (the parent of `local/`). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the Lambda entry files are (`functions/<fn>.ts`, see `shared/routes.ts`). */
export const FUNCTIONS_DIR = fileURLToPath(new URL("../functions", import.meta.url));

/**
 * Default ports: DynamoDB Local, cognito-local, the emulated HTTP API, the Lambda Invoke endpoint
 * of cognito-local's triggers, the AppSync Events emulator (HTTP publish and WebSocket), the web client.
 */
export const DEFAULT_PORTS = {
  dynamodb: 8000,
  cognito: 9229,
  api: 4567,
  lambda: 9231,
  events: 4568,
  web: 4569,
} as const;
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

/**
 * Where the local servers listen (the emulated HTTP API, DynamoDB Local, cognito-local, the
 * Lambda Invoke endpoint of the triggers, and any other local server), and how this machine's
 * clients reach them.
 */
export interface LocalHost {
  /** Address the servers listen on: env `HOST`, default `127.0.0.1` (this machine only). */
  listen: string;
  /** Host of the URLs the stack advertises (`.local/stack.json`) and its own clients use. */
  connect: string;
  /** True when `listen` is not a loopback address: other machines can reach the servers. */
  widened: boolean;
}

/** The default listen address: IPv4 loopback, reachable from this machine only. */
export const DEFAULT_HOST = "127.0.0.1";

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || (isIPv4(host) && host.startsWith("127."));

/**
 * The {@link LocalHost} of a `HOST` value: unset or empty is `127.0.0.1`; otherwise an IP
 * address (`0.0.0.0` or `::` for every interface, or one interface's address) or `localhost`.
 * The wildcard addresses are reached through loopback (`127.0.0.1`, `::1`); any other address
 * through itself.
 * @throws Error naming HOST when the value is neither an IP address nor `localhost` (a host name
 *   some environments export in HOST would otherwise widen the stack by accident).
 */
export function localHostFrom(value: string | undefined): LocalHost {
  const listen = value === undefined || value.trim() === "" ? DEFAULT_HOST : value.trim();
  if (listen !== "localhost" && isIP(listen) === 0) {
    throw new Error(
      `HOST must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::, or one interface's address) or localhost, ` +
        `got "${value}"; unset it to listen on ${DEFAULT_HOST} only`,
    );
  }
  const connect = listen === "0.0.0.0" ? "127.0.0.1" : listen === "::" ? "::1" : listen;
  return { listen, connect, widened: !isLoopback(listen) };
}

let fromEnv: LocalHost | undefined;

/**
 * The host settings of this process: env `HOST`, read once, on first use (see
 * {@link localHostFrom}), so that a bad HOST fails the start of a server, not every import.
 * @throws Error when HOST is set to something else than an IP address or `localhost`.
 */
export function localHost(): LocalHost {
  fromEnv ??= localHostFrom(process.env.HOST);
  return fromEnv;
}

/** `http://<host>:<port>`, an IPv6 address in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}
