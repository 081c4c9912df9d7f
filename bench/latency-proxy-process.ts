/**
 * The latency proxy in a process of its own (`node --import tsx bench/latency-proxy-process.ts
 * <upstream URL> <round trip ms>`), so that its timers do not wait on the event loop of the code
 * it measures. Prints one JSON line `{"endpoint": …}` once listening; on a line `stop` on stdin
 * (or stdin's end) it prints `{"chunks": …, "meanMs": …}` ({@link LatencyProxy.held}), stops
 * and exits. Started by {@link spawnLatencyProxy} of `bench/latency-proxy.ts`.
 */
import { createInterface } from "node:readline";
import { type LatencyProxy, startLatencyProxy } from "./latency-proxy";

const [upstream, rtt] = process.argv.slice(2);
if (upstream === undefined || rtt === undefined)
  throw new Error("usage: latency-proxy-process <upstream URL> <round trip ms>");
const proxy: LatencyProxy = await startLatencyProxy(upstream, Number(rtt));
process.stdout.write(`${JSON.stringify({ endpoint: proxy.endpoint })}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const held = proxy.held();
  await proxy.stop();
  process.stdout.write(`${JSON.stringify(held)}\n`, () => process.exit(0));
};
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "stop") void stop();
});
lines.on("close", () => void stop());
