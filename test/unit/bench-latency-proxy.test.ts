import { createServer as createHttpServer, type Server } from "node:http";
import { createConnection, createServer, type Server as NetServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_PROXY_RTT_MS, proxyRttFromEnv, startLatencyProxy } from "../../bench/latency-proxy";

/** Listens on a free port of 127.0.0.1; the URL of `server`. */
async function listen(server: Server | NetServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, () => resolve()));
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("bench latency proxy (bench/latency-proxy.ts)", () => {
  it("carries HTTP requests and answers unchanged, on kept-alive connections", async () => {
    const server = createHttpServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      request.on("end", () => response.end(`${request.method} ${request.url} ${body}`));
    });
    const upstream = await listen(server);
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const proxy = await startLatencyProxy(upstream, 2);
    cleanups.push(() => proxy.stop());
    expect(proxy.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answers = await Promise.all(
      ["a", "b", "c".repeat(200_000)].map(async (body) => {
        const response = await fetch(`${proxy.endpoint}/x`, { method: "POST", body });
        return response.text();
      }),
    );
    expect(answers).toEqual(["POST /x a", "POST /x b", `POST /x ${"c".repeat(200_000)}`]);
  });

  it("keeps byte order and forwards a half-close after the data", async () => {
    const echo = createServer({ allowHalfOpen: true }, (socket) => {
      socket.pipe(socket);
    });
    const upstream = await listen(echo);
    cleanups.push(() => new Promise((resolve) => echo.close(() => resolve())));
    const proxy = await startLatencyProxy(upstream, 1);
    cleanups.push(() => proxy.stop());
    const { port } = new URL(proxy.endpoint);
    const received = await new Promise<string>((resolve, reject) => {
      const client = createConnection({ host: "127.0.0.1", port: Number(port), allowHalfOpen: true });
      let text = "";
      client.on("data", (chunk) => {
        text += chunk.toString("utf8");
      });
      client.on("end", () => resolve(text));
      client.on("error", reject);
      for (let i = 0; i < 50; i++) client.write(`${i},`);
      client.end();
    });
    expect(received).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(""));
  });

  it("reads BENCH_PROXY_RTT_MS: default when unset, a number of ms >= 0, else an error naming it", () => {
    expect(proxyRttFromEnv({})).toBe(DEFAULT_PROXY_RTT_MS);
    expect(proxyRttFromEnv({ BENCH_PROXY_RTT_MS: "" })).toBe(DEFAULT_PROXY_RTT_MS);
    expect(proxyRttFromEnv({ BENCH_PROXY_RTT_MS: "12.5" })).toBe(12.5);
    expect(proxyRttFromEnv({ BENCH_PROXY_RTT_MS: "0" })).toBe(0);
    expect(() => proxyRttFromEnv({ BENCH_PROXY_RTT_MS: "-1" })).toThrow(/BENCH_PROXY_RTT_MS/);
    expect(() => proxyRttFromEnv({ BENCH_PROXY_RTT_MS: "fast" })).toThrow(/BENCH_PROXY_RTT_MS/);
  });
});
