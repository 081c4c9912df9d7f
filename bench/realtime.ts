/**
 * Real-time delivery on the local AppSync Events emulator: how many events per second one local
 * server sustains with 100 subscribers. A local stack (as `npm start` runs it, on free ports,
 * with the per-user connection limit raised to 100) gets 100 WebSocket connections of one seeded
 * user, each subscribed to that user's channel; then IAM-signed publishes of 5 events each (the
 * SDK's SigV4 signer, a few in flight at a time) go to that channel, and every `data` frame is
 * counted at the subscribers. The subscribers run in this process, on the same cores as the
 * server: the figure is a floor of the server alone.
 */
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import pLimit from "p-limit";
import { WebSocket } from "ws";
import { freeStackPorts } from "../local/free-port";
import { signIn } from "../local/sign-in";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../local/stack";
import { LOCAL_CREDENTIALS } from "../local/state";
import { MAX_EVENTS_PER_PUBLISH, userChannel } from "../shared/realtime";
import { UNLIMITED_SEND_LIMITS } from "./fixture";
import { percentile } from "./stats";

/** One run's figures. */
export interface RealtimeFigures {
  subscribers: number;
  /** Events published (each delivered to every subscriber). */
  events: number;
  batchSize: number;
  /** Publish requests in flight at once. */
  concurrency: number;
  /** From the first publish to the last `data` frame received, ms. */
  elapsedMs: number;
  /** Events published per second. */
  publishedPerSecond: number;
  /** `data` frames received per second, all subscribers together. */
  deliveredPerSecond: number;
  /** Answer time of one publish request (5 events), ms. */
  publishP50Ms: number;
  publishP99Ms: number;
}

/** Connects, does `connection_init`, subscribes `channel`; `onData` is called per data frame. */
async function subscriber(realtimeUrl: string, token: string, channel: string, onData: () => void): Promise<WebSocket> {
  const header = Buffer.from(JSON.stringify({ Authorization: token, host: new URL(realtimeUrl).host })).toString(
    "base64url",
  );
  const ws = new WebSocket(realtimeUrl, ["aws-appsync-event-ws", `header-${header}`]);
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (data) => {
      const text = data.toString();
      // Data frames are counted, not parsed: the subscribers share the cores with the server.
      if (text.startsWith('{"type":"data"')) return onData();
      const frame = JSON.parse(text) as { type: string };
      if (frame.type === "connection_ack") {
        ws.send(JSON.stringify({ type: "subscribe", id: "bench", channel, authorization: { Authorization: token } }));
      } else if (frame.type === "subscribe_success") {
        resolve();
      } else if (frame.type !== "ka") {
        reject(new Error(`bench subscriber: unexpected ${text}`));
      }
    });
    ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init" })));
  });
  return ws;
}

/** A quiet local stack on free ports (a temp state dir of its own unless `options` names one). */
async function startQuietStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    ...(await freeStackPorts()),
    quiet: true,
    ...options,
  });
}

/**
 * Measures `events` events (rounded up to whole batches of 5) published to 100 subscribers.
 * @throws Error when the stack cannot start, a subscriber cannot subscribe, a publish is not
 *   answered 200 with every event successful, or the deliveries do not all arrive within 60 s.
 */
export async function measureEventsThroughput(
  events: number,
  subscribers = 100,
  concurrency = 4,
): Promise<RealtimeFigures> {
  const stack = await startQuietStack({ eventsLimits: { connectionsPerUser: subscribers } });
  const sockets: WebSocket[] = [];
  try {
    const user = stack.users[0];
    if (user === undefined) throw new Error("no seeded user");
    const { accessToken } = await signIn(stack, user.username, user.password);
    const channel = userChannel(user.uuid);
    const batches = Math.ceil(events / MAX_EVENTS_PER_PUBLISH);
    const expected = batches * MAX_EVENTS_PER_PUBLISH * subscribers;
    let received = 0;
    let allReceived: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    const onData = () => {
      received += 1;
      if (received === expected) allReceived();
    };
    for (let i = 0; i < subscribers; i++)
      sockets.push(await subscriber(stack.events.realtimeUrl, accessToken, channel, onData));

    const url = new URL(stack.events.httpUrl);
    const signer = new SignatureV4({
      credentials: LOCAL_CREDENTIALS,
      region: stack.region,
      service: "appsync",
      sha256: Sha256,
    });
    const publishMs: number[] = [];
    const publish = async (batch: number) => {
      const body = JSON.stringify({
        channel,
        events: Array.from({ length: MAX_EVENTS_PER_PUBLISH }, (_, i) =>
          JSON.stringify({ type: "message.new", id: `bench-${batch}-${i}`, message: { message: "x".repeat(200) } }),
        ),
      });
      const signed = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { host: url.host, "content-type": "application/json" },
        body,
      });
      const started = performance.now();
      const response = await fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body });
      const answer = (await response.json()) as { successful?: unknown[] };
      publishMs.push(performance.now() - started);
      if (response.status !== 200 || answer.successful?.length !== MAX_EVENTS_PER_PUBLISH) {
        throw new Error(`bench publish: HTTP ${response.status} ${JSON.stringify(answer)}`);
      }
    };
    const limit = pLimit(concurrency);
    const started = performance.now();
    await Promise.all(Array.from({ length: batches }, (_, batch) => limit(() => publish(batch))));
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`bench: ${received} of ${expected} deliveries after 60 s`)), 60_000).unref(),
    );
    await Promise.race([done, timeout]);
    const elapsedMs = performance.now() - started;
    const published = batches * MAX_EVENTS_PER_PUBLISH;
    return {
      subscribers,
      events: published,
      batchSize: MAX_EVENTS_PER_PUBLISH,
      concurrency,
      elapsedMs,
      publishedPerSecond: (published * 1000) / elapsedMs,
      deliveredPerSecond: (expected * 1000) / elapsedMs,
      publishP50Ms: percentile(publishMs, 50),
      publishP99Ms: percentile(publishMs, 99),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stack.stop();
  }
}

/** Post-to-event latency figures, ms. */
export interface PostToEventFigures {
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Post-to-event latency on the local stack: the seeded conversation's second member subscribes
 * to their channel; the first member posts `messages` messages to the conversation one after the
 * other (POST /api/messages); each latency is from just before the POST to the arrival of its
 * `message.new` event at the subscriber (the stream, the poller, the publish function, the signed
 * publish and the emulator in between). The seeded messages' events are let through first.
 * @throws Error when a POST is not answered 200 or an event does not arrive within 10 s.
 */
export async function measurePostToEvent(messages: number): Promise<PostToEventFigures> {
  // One sender posts `messages` in a row: far past the default send limits (30 a minute).
  const stack = await startQuietStack({ sendLimits: UNLIMITED_SEND_LIMITS });
  let ws: WebSocket | undefined;
  try {
    const [sender, receiver] = stack.users;
    if (sender === undefined || receiver === undefined) throw new Error("no seeded users");
    const senderToken = (await signIn(stack, sender.username, sender.password)).accessToken;
    const receiverToken = (await signIn(stack, receiver.username, receiver.password)).accessToken;
    const waiting = new Map<string, (at: number) => void>();
    const arrived = new Map<string, number>();
    ws = await subscriber(stack.events.realtimeUrl, receiverToken, userChannel(receiver.uuid), () => {});
    ws.on("message", (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString()) as { type: string; event?: string };
      if (frame.type !== "data" || frame.event === undefined) return;
      const id = (JSON.parse(frame.event) as { id: string }).id;
      arrived.set(id, at);
      waiting.get(id)?.(at);
    });
    const groups = (await (
      await fetch(`${stack.apiUrl}/api/message_groups`, { headers: { authorization: `Bearer ${senderToken}` } })
    ).json()) as { uuid: string }[];
    const group = groups[0]?.uuid;
    if (group === undefined) throw new Error("no seeded conversation");

    const postAndWait = async (text: string): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${stack.apiUrl}/api/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${senderToken}`, "content-type": "application/json" },
        body: JSON.stringify({ message: text, message_group_uuid: group }),
      });
      if (response.status !== 200) throw new Error(`bench post: HTTP ${response.status}`);
      const { uuid } = (await response.json()) as { uuid: string };
      const at =
        arrived.get(uuid) ??
        (await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`bench: no event for ${uuid} within 10 s`)), 10_000);
          waiting.set(uuid, (t) => {
            clearTimeout(timer);
            resolve(t);
          });
        }));
      waiting.delete(uuid);
      return at - started;
    };
    await postAndWait("warm-up: after the seeded messages' events");
    const latencies: number[] = [];
    for (let i = 0; i < messages; i++) latencies.push(await postAndWait(`bench message ${i}`));
    return {
      messages,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
    };
  } finally {
    ws?.terminate();
    await stack.stop();
  }
}
