/** Requests in flight on a local HTTP server (the emulated API, the Lambda Invoke endpoint), and closing it gracefully. */
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** A count of requests in flight. */
export interface InFlight {
  /** Requests begun and not settled. */
  readonly count: number;
  /** One more request in flight. */
  begin(): void;
  /** One request settled (answered, or failed). */
  settled(): void;
  /** Resolves once no request is in flight (at once when none is). */
  idle(): Promise<void>;
}

/** A new count of requests in flight, at 0. */
export function trackInFlight(): InFlight {
  let count = 0;
  let idleWaiters: (() => void)[] = [];
  return {
    get count() {
      return count;
    },
    begin: () => {
      count += 1;
    },
    settled: () => {
      count -= 1;
      if (count > 0) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    },
    idle: () => (count === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
  };
}

/**
 * Stops `server` accepting connections, waits for the requests in flight (at most `graceMs`
 * milliseconds), then closes every connection left.
 * @throws the error of `server.close` (e.g. ERR_SERVER_NOT_RUNNING).
 */
export async function closeGracefully(server: Server, inFlight: InFlight, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve, reject) =>
    server.close((error) => (error === undefined ? resolve() : reject(error))),
  );
  const grace = new AbortController();
  await Promise.race([inFlight.idle(), sleep(graceMs, undefined, { signal: grace.signal }).catch(() => {})]);
  grace.abort();
  server.closeAllConnections();
  await closed;
}
