/**
 * A TCP forwarding proxy on 127.0.0.1 that adds a fixed network round trip to everything it
 * carries, so that DynamoDB Local (a same-machine JVM, well under a millisecond away) can be
 * measured as if it were a network hop away, as DynamoDB is from a Lambda function. Bench only.
 *
 * Requests go through at once; each chunk of an answer is held for the whole round trip before it
 * is written on (one timer per wait, not two: timers fire on whole milliseconds, so splitting the
 * wait between the directions would double the error). A request and its answer thus cost one
 * round trip more, whatever their size; bytes keep their order, bandwidth is not limited, and
 * connections are not shared: one upstream connection per client connection, so an HTTP client's
 * keep-alive pool is kept as it is. The bench reports the round trip it measures through it.
 */
import { spawn } from "node:child_process";
import { createConnection, createServer, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Round trip the bench adds when `BENCH_PROXY_RTT_MS` is not set, ms. */
export const DEFAULT_PROXY_RTT_MS = 5;

/** A running proxy. */
export interface LatencyProxy {
  /** `http://127.0.0.1:<port>`: use it as the SDK client's endpoint. */
  endpoint: string;
  /** The round trip added, ms. */
  rttMs: number;
  /** Chunks held so far and their mean hold, ms (arrival to write, as measured here). */
  held(): { chunks: number; meanMs: number };
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
}

/**
 * The round trip of `BENCH_PROXY_RTT_MS` (ms, a number >= 0), or {@link DEFAULT_PROXY_RTT_MS}
 * when unset or empty.
 * @throws Error when set to anything else.
 */
export function proxyRttFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BENCH_PROXY_RTT_MS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_PROXY_RTT_MS;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`BENCH_PROXY_RTT_MS must be a number of ms >= 0, got "${raw}"`);
  return value;
}

/** How early an entry may leave (ms): timers fire on whole milliseconds, so this centres the error on 0. */
const EARLY_TOLERANCE_MS = 0.5;

/**
 * One direction of a connection: what goes in comes out `delayMs` later, in order. Timers fire on
 * whole milliseconds and, on a busy machine, about a millisecond late, so each entry carries its
 * due time (`performance.now()`), the timer for the first one is set that much earlier (a running
 * average of how late the timers of this line fired, 0 to 2 ms), and it releases every entry due
 * within {@link EARLY_TOLERANCE_MS}, then waits for the next.
 */
function delayLine(delayMs: number, onHeld: (ms: number) => void): (action: () => void) => void {
  const queue: { dueMs: number; action: () => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timerDueMs = 0;
  let lateMs = 0;
  const arm = () => {
    const head = queue[0];
    if (head === undefined || timer !== undefined) return;
    timerDueMs = head.dueMs;
    timer = setTimeout(release, Math.max(1, Math.round(head.dueMs - performance.now() - lateMs)));
  };
  const release = () => {
    timer = undefined;
    const firedMs = performance.now();
    lateMs = Math.min(2, Math.max(0, 0.8 * lateMs + 0.2 * (firedMs - timerDueMs + lateMs)));
    while (queue.length > 0 && (queue[0]?.dueMs ?? Number.POSITIVE_INFINITY) <= firedMs + EARLY_TOLERANCE_MS)
      queue.shift()?.action();
    arm();
  };
  return (action) => {
    if (delayMs <= 0) return action();
    const arrivedMs = performance.now();
    queue.push({
      dueMs: arrivedMs + delayMs,
      action: () => {
        onHeld(performance.now() - arrivedMs);
        action();
      },
    });
    arm();
  };
}

/** Forwards `from` to `to`, each chunk, the end and a close `delayMs` later, in order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number, onHeld: (ms: number) => void = () => {}): void {
  const later = delayLine(delayMs, onHeld);
  from.on("data", (chunk) =>
    later(() => {
      if (!to.destroyed) to.write(chunk);
    }),
  );
  from.on("end", () =>
    later(() => {
      if (!to.destroyed) to.end();
    }),
  );
  from.on("close", () => later(() => to.destroy()));
  from.on("error", () => to.destroy());
}

/**
 * Starts a proxy on 127.0.0.1 (a free port) to `upstream` (an `http://host:port` URL, e.g.
 * DynamoDB Local's endpoint) adding `rttMs` (ms, >= 0) to each round trip. A failed upstream
 * connection closes its client connection (the SDK sees a network error); nothing is retried here.
 */
export async function startLatencyProxy(upstream: string, rttMs: number = DEFAULT_PROXY_RTT_MS): Promise<LatencyProxy> {
  if (!(rttMs >= 0)) throw new RangeError(`round trip must be >= 0 ms, got ${rttMs}`);
  const target = new URL(upstream);
  const port = Number(target.port || 80);
  // `localhost` may resolve to ::1 first; DynamoDB Local listens where its URL says, so ask for that host.
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const open = new Set<Socket>();
  let heldChunks = 0;
  let heldMs = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  };
  // Half-open allowed: a FIN is forwarded (delayed) like data, never answered early.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstreamSocket = createConnection({ host, port, allowHalfOpen: true, noDelay: true });
    track(client);
    track(upstreamSocket);
    pipeDelayed(client, upstreamSocket, 0);
    pipeDelayed(upstreamSocket, client, rttMs, (ms) => {
      heldChunks += 1;
      heldMs += ms;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("latency proxy has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    rttMs,
    held: () => ({ chunks: heldChunks, meanMs: heldChunks === 0 ? 0 : heldMs / heldChunks }),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * {@link startLatencyProxy} in a child process (`bench/latency-proxy-process.ts`, run by Node with
 * tsx), so the proxy's timers keep time while the bench process is busy. Same interface; `held()`
 * answers the figures of the last `stop()` (zeros before it). The child ends with the bench
 * (stdin closed).
 * @throws Error when the child exits or says nothing within 10 s.
 */
export async function spawnLatencyProxy(upstream: string, rttMs: number = DEFAULT_PROXY_RTT_MS): Promise<LatencyProxy> {
  if (!(rttMs >= 0)) throw new RangeError(`round trip must be >= 0 ms, got ${rttMs}`);
  const script = fileURLToPath(new URL("./latency-proxy-process.ts", import.meta.url));
  // From the repository root, where `--import tsx` resolves.
  const child = spawn(process.execPath, ["--import", "tsx", script, upstream, String(rttMs)], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("latency proxy process said nothing in 10 s")), 10_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`latency proxy process exited (${code})`));
      };
      child.once("exit", onExit);
      lines.once("line", (line) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  let held = { chunks: 0, meanMs: 0 };
  try {
    const { endpoint } = await next();
    if (typeof endpoint !== "string") throw new Error("latency proxy process gave no endpoint");
    return {
      endpoint,
      rttMs,
      held: () => held,
      stop: async () => {
        if (child.exitCode !== null) return;
        const answer = next();
        child.stdin.write("stop\n");
        const figures = await answer.catch(() => held);
        held = { chunks: Number(figures.chunks ?? 0), meanMs: Number(figures.meanMs ?? 0) };
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}
