/**
 * The local AWS AppSync Events emulator: one HTTP server (on 127.0.0.1 by default) with the
 * real-time endpoint `GET /event/realtime` (WebSocket, the protocol of `local/events-protocol.ts`,
 * on the `ws` package) and the HTTP publish endpoint `POST /event`.
 *
 * As the cloud's Event API is configured for this project (namespace `users`):
 * - connect and subscribe are authorized with Cognito **access** tokens, verified like the local
 *   HTTP API verifies them (`local/jwt.ts`: signature, expiry, issuer, client id, token_use), and
 *   a subscription is allowed only when `maySubscribe(channel, sub)` holds (`shared/realtime.ts`);
 * - clients can never publish: a `publish` frame is answered `publish_error`;
 * - the HTTP publish endpoint accepts only requests IAM-signed (SigV4, service `appsync`) with the
 *   local stack's credentials (`local/events-sigv4.ts`), and delivers each event to every
 *   subscription of its channel as a `data` frame.
 *
 * Bounds (the local limits, {@link DEFAULT_EVENTS_LIMITS}): connections per user, subscriptions per
 * connection, frames queued per connection (reading pauses past it, so a flood of frames waits in
 * the socket, not in memory), bytes queued to a client that does not read (the connection is
 * closed past it), frame and body sizes.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { MAX_EVENTS_PER_PUBLISH, maySubscribe } from "../shared/realtime";
import {
  authorizationOfSubprotocols,
  CONNECTION_TIMEOUT_MS,
  type ErrorsAnswer,
  EVENTS_SUBPROTOCOL,
  type EventsErrorType,
  errorFrame,
  eventProblem,
  eventsErrors,
  MAX_EVENT_BYTES,
  PUBLISH_PATH,
  type PublishAnswer,
  parseChannel,
  parseClientFrame,
  parsePublishBody,
  REALTIME_PATH,
  type ServerFrame,
  serializeFrame,
  tokenOfAuthorization,
  UNAUTHORIZED_MESSAGE,
} from "./events-protocol";
import { verifySigV4 } from "./events-sigv4";
import { trackInFlight } from "./in-flight";
import type { AccessTokenVerifier } from "./jwt";
import type { LocalLogger } from "./logger";
import { readBody } from "./request-body";

/** The local limits. */
export interface EventsLimits {
  /** Open connections of one user (by token `sub`). */
  connectionsPerUser: number;
  /** Open connections in all. */
  connections: number;
  /** Subscriptions of one connection. */
  subscriptionsPerConnection: number;
  /** Frames received and not yet handled, per connection: reading pauses past it. */
  queuedFramesPerConnection: number;
  /** Bytes sent to a client and not yet written to its socket: the connection is closed past it. */
  bufferedBytesPerConnection: number;
  /** Largest frame a client may send, bytes (a larger one closes the connection, code 1009). */
  frameBytes: number;
}

/**
 * The local limits unless told otherwise. The cloud's (AWS AppSync Events quotas): 240 KB per
 * event and 5 events per publish (both enforced here too); connections and subscriptions are
 * bounded there per API and per connection by adjustable quotas, not per user.
 */
export const DEFAULT_EVENTS_LIMITS: EventsLimits = {
  connectionsPerUser: 10,
  connections: 1000,
  subscriptionsPerConnection: 100,
  queuedFramesPerConnection: 64,
  bufferedBytesPerConnection: 16 * 1024 * 1024,
  frameBytes: MAX_EVENTS_PER_PUBLISH * MAX_EVENT_BYTES + 64 * 1024,
};

/** Largest body of `POST /event`, bytes: five events of the largest size, and the JSON around them. */
export const MAX_PUBLISH_BODY_BYTES = MAX_EVENTS_PER_PUBLISH * (MAX_EVENT_BYTES + 1024) + 64 * 1024;

/** Default interval of the `ka` frames, ms (the service sends one about every minute). */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 60_000;

export interface EventsServerOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Verifies Cognito access tokens (`createAccessTokenVerifier` of `local/jwt.ts`). */
  verifyAccessToken: AccessTokenVerifier;
  /** The credentials a publish must be signed with (the local stack's). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The region a publish must be signed for. */
  region: string;
  logger: LocalLogger;
  limits?: Partial<EventsLimits>;
  /** Interval of the `ka` frames, ms (default {@link DEFAULT_KEEP_ALIVE_INTERVAL_MS}). */
  keepAliveIntervalMs?: number;
}

/** What the server holds now (for tests, the bench and logs). */
export interface EventsServerStats {
  connections: number;
  subscriptions: number;
  /** `data` frames sent since the start. */
  delivered: number;
}

/** A running emulator. */
export interface EventsServer {
  /** `http://<host>:<port>/event`: the HTTP publish endpoint (Amplify's `API.Events.endpoint`). */
  httpUrl: string;
  /** `ws://<host>:<port>/event/realtime`: the real-time endpoint. */
  realtimeUrl: string;
  port: number;
  stats(): EventsServerStats;
  /**
   * Stops listening, answers the publishes in flight (at most `graceMs`, default 5,000 ms), closes
   * every WebSocket with code 1001 (going away), then every socket left.
   */
  close(graceMs?: number): Promise<void>;
}

/** One subscription of one connection. */
interface Subscription {
  id: string;
  channel: string;
  connection: Connection;
}

/** One WebSocket connection. */
interface Connection {
  id: string;
  ws: WebSocket;
  /** The `sub` of the connect token, once verified. */
  sub: string | undefined;
  subscriptions: Map<string, Subscription>;
  /** Frames received, not yet handled. */
  queue: RawData[];
  queueBinary: boolean[];
  working: boolean;
  closed: boolean;
  keepAlive: NodeJS.Timeout | undefined;
}

/** The host part of a URL for `host` (a wildcard address is reached on loopback). */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** Writes a JSON answer. */
function answerJson(response: ServerResponse, status: number, body: PublishAnswer | ErrorsAnswer): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

const errorsAnswer = (errorType: EventsErrorType, message: string): ErrorsAnswer => ({
  errors: eventsErrors(errorType, message),
});

/** Refuses an upgrade request with a plain HTTP status before any WebSocket exists. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Starts the emulator and resolves once it listens.
 * @throws Error when the port cannot be bound.
 */
export async function startEventsServer(options: EventsServerOptions): Promise<EventsServer> {
  const limits: EventsLimits = { ...DEFAULT_EVENTS_LIMITS, ...options.limits };
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_INTERVAL_MS;
  const { logger } = options;
  const connections = new Set<Connection>();
  const connectionsBySub = new Map<string, number>();
  const subscriptionsByChannel = new Map<string, Set<Subscription>>();
  let subscriptionCount = 0;
  let delivered = 0;
  const inFlight = trackInFlight();

  const send = (connection: Connection, frame: ServerFrame | string): void => {
    if (connection.closed || connection.ws.readyState !== WebSocket.OPEN) return;
    connection.ws.send(typeof frame === "string" ? frame : serializeFrame(frame));
    if (connection.ws.bufferedAmount > limits.bufferedBytesPerConnection) {
      logger.warn("events: closing a connection that does not read", { connection_id: connection.id });
      closeConnection(connection, 1008, "client does not read");
    }
  };

  const removeSubscription = (subscription: Subscription): void => {
    const { connection } = subscription;
    if (connection.subscriptions.get(subscription.id) !== subscription) return;
    connection.subscriptions.delete(subscription.id);
    subscriptionCount -= 1;
    const set = subscriptionsByChannel.get(subscription.channel);
    set?.delete(subscription);
    if (set?.size === 0) subscriptionsByChannel.delete(subscription.channel);
  };

  /** Forgets a connection (idempotent): its subscriptions, its count, its timer. */
  const forget = (connection: Connection): void => {
    if (connection.closed) return;
    connection.closed = true;
    clearInterval(connection.keepAlive);
    for (const subscription of [...connection.subscriptions.values()]) removeSubscription(subscription);
    connection.queue = [];
    connection.queueBinary = [];
    connections.delete(connection);
    if (connection.sub !== undefined) {
      const left = (connectionsBySub.get(connection.sub) ?? 1) - 1;
      if (left <= 0) connectionsBySub.delete(connection.sub);
      else connectionsBySub.set(connection.sub, left);
    }
  };

  const closeConnection = (connection: Connection, code: number, reason: string): void => {
    forget(connection);
    if (connection.ws.readyState === WebSocket.OPEN) connection.ws.close(code, reason);
  };

  /** Refuses the connection: `connection_error` then close (4401 unauthorized, 4429 over a limit). */
  const refuseConnection = (connection: Connection, errorType: EventsErrorType, message: string): void => {
    if (connection.ws.readyState === WebSocket.OPEN) {
      connection.ws.send(serializeFrame({ type: "connection_error", errors: eventsErrors(errorType, message) }));
    }
    closeConnection(connection, errorType === "LimitExceededError" ? 4429 : 4401, errorType);
  };

  /** The verified `sub` of an authorization object, or `undefined` when it is not acceptable. */
  const verifiedSub = async (authorization: unknown): Promise<string | undefined> => {
    const token = tokenOfAuthorization(authorization);
    if (token === undefined) return undefined;
    try {
      const claims = await options.verifyAccessToken(token);
      return typeof claims.sub === "string" && claims.sub !== "" ? claims.sub : undefined;
    } catch {
      return undefined;
    }
  };

  const handleSubscribe = async (
    connection: Connection,
    frame: { id: string; channel: unknown; authorization: unknown },
  ): Promise<void> => {
    const refuse = (errorType: EventsErrorType, message: string) =>
      send(connection, { type: "subscribe_error", id: frame.id, errors: eventsErrors(errorType, message) });
    if (connection.subscriptions.has(frame.id)) {
      return refuse("DuplicatedOperationError", `Subscription id ${frame.id} is already in use on this connection.`);
    }
    if (connection.subscriptions.size >= limits.subscriptionsPerConnection) {
      return refuse(
        "MaxSubscriptionsReachedError",
        `Max number of ${limits.subscriptionsPerConnection} subscriptions reached on this connection.`,
      );
    }
    const channel = parseChannel(frame.channel, { allowWildcard: true });
    if (channel === undefined) return refuse("BadRequestException", "channel is not a valid channel path.");
    const sub = await verifiedSub(frame.authorization);
    if (connection.closed) return;
    if (sub === undefined || !maySubscribe(channel.path, sub))
      return refuse("UnauthorizedException", UNAUTHORIZED_MESSAGE);
    const subscription: Subscription = { id: frame.id, channel: channel.path, connection };
    connection.subscriptions.set(frame.id, subscription);
    subscriptionCount += 1;
    let set = subscriptionsByChannel.get(channel.path);
    if (set === undefined) {
      set = new Set();
      subscriptionsByChannel.set(channel.path, set);
    }
    set.add(subscription);
    send(connection, { type: "subscribe_success", id: frame.id });
  };

  const handleFrame = async (connection: Connection, data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) {
      return send(connection, errorFrame("BadRequestException", "Binary frames are not part of the protocol."));
    }
    const parsed = parseClientFrame(data.toString());
    if (!parsed.ok) return send(connection, parsed.reply);
    const { frame } = parsed;
    switch (frame.type) {
      case "connection_init":
        send(connection, { type: "connection_ack", connectionTimeoutMs: CONNECTION_TIMEOUT_MS });
        if (connection.keepAlive === undefined) {
          send(connection, { type: "ka" });
          connection.keepAlive = setInterval(() => send(connection, { type: "ka" }), keepAliveIntervalMs);
          connection.keepAlive.unref();
        }
        return;
      case "subscribe":
        return handleSubscribe(connection, frame);
      case "unsubscribe": {
        const subscription = connection.subscriptions.get(frame.id);
        if (subscription === undefined) {
          return send(connection, {
            type: "unsubscribe_error",
            id: frame.id,
            errors: eventsErrors("UnknownOperationError", `No subscription with id ${frame.id} on this connection.`),
          });
        }
        removeSubscription(subscription);
        return send(connection, { type: "unsubscribe_success", id: frame.id });
      }
      case "publish":
        return send(connection, {
          type: "publish_error",
          id: frame.id,
          errors: eventsErrors("UnauthorizedException", UNAUTHORIZED_MESSAGE),
        });
    }
  };

  /** Handles the queued frames of `connection` one at a time, in order; reading resumes when drained. */
  const work = async (connection: Connection): Promise<void> => {
    if (connection.working) return;
    connection.working = true;
    try {
      while (!connection.closed && connection.queue.length > 0) {
        const data = connection.queue.shift() as RawData;
        const isBinary = connection.queueBinary.shift() ?? false;
        if (connection.ws.isPaused && connection.queue.length < limits.queuedFramesPerConnection / 2) {
          connection.ws.resume();
        }
        try {
          await handleFrame(connection, data, isBinary);
        } catch (error) {
          logger.error("events: frame failed", { connection_id: connection.id, error });
          send(connection, errorFrame("InternalFailureError", "Internal failure."));
        }
      }
    } finally {
      connection.working = false;
    }
  };

  const onConnection = (ws: WebSocket, request: IncomingMessage, authorization: unknown): void => {
    const connection: Connection = {
      id: randomUUID(),
      ws,
      sub: undefined,
      subscriptions: new Map(),
      queue: [],
      queueBinary: [],
      working: false,
      closed: false,
      keepAlive: undefined,
    };
    connections.add(connection);
    ws.on("error", (error) => logger.warn("events: connection error", { connection_id: connection.id, error }));
    ws.on("close", () => forget(connection));
    ws.on("message", (data, isBinary) => {
      if (connection.closed) return;
      connection.queue.push(data);
      connection.queueBinary.push(isBinary);
      if (connection.queue.length >= limits.queuedFramesPerConnection) ws.pause();
      if (connection.sub !== undefined) void work(connection);
    });

    void (async () => {
      const sub = authorization === undefined ? undefined : await verifiedSub(authorization);
      if (connection.closed) return;
      if (sub === undefined) {
        logger.info("events: connection refused", { connection_id: connection.id, reason: "unauthorized" });
        return refuseConnection(connection, "UnauthorizedException", UNAUTHORIZED_MESSAGE);
      }
      const open = connectionsBySub.get(sub) ?? 0;
      if (open >= limits.connectionsPerUser || connections.size > limits.connections) {
        logger.info("events: connection refused", { connection_id: connection.id, reason: "limit", sub });
        return refuseConnection(
          connection,
          "LimitExceededError",
          open >= limits.connectionsPerUser
            ? `Max number of ${limits.connectionsPerUser} connections per user reached.`
            : `Max number of ${limits.connections} connections reached.`,
        );
      }
      connection.sub = sub;
      connectionsBySub.set(sub, open + 1);
      logger.info("events: connected", {
        connection_id: connection.id,
        sub,
        remote: request.socket.remoteAddress ?? null,
      });
      void work(connection);
    })();
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.frameBytes,
    handleProtocols: (protocols) => (protocols.has(EVENTS_SUBPROTOCOL) ? EVENTS_SUBPROTOCOL : false),
  });

  const server: Server = createServer((request, response) => {
    inFlight.begin();
    void handlePublish(request, response)
      .catch((error: unknown) => {
        logger.error("events: publish failed", { error });
        if (!response.headersSent) answerJson(response, 500, errorsAnswer("InternalFailureError", "Internal failure."));
      })
      .finally(inFlight.settled);
  });

  const deliver = (channel: string, events: readonly string[]): void => {
    const subscribers = subscriptionsByChannel.get(channel);
    if (subscribers === undefined) return;
    // Each event is escaped once; only the subscription id differs between the frames.
    const escaped = events.map((event) => JSON.stringify(event));
    for (const subscription of [...subscribers]) {
      const prefix = `{"type":"data","id":${JSON.stringify(subscription.id)},"event":`;
      for (const event of escaped) {
        send(subscription.connection, `${prefix}${event}}`);
        delivered += 1;
      }
    }
  };

  const handlePublish = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const [path = "/", rawQuery = ""] = (request.url ?? "/").split("?", 2);
    if (path !== PUBLISH_PATH) {
      return answerJson(response, 404, errorsAnswer("BadRequestException", `No route ${request.method} ${path}.`));
    }
    if (request.method !== "POST") {
      response.setHeader("allow", "POST");
      return answerJson(response, 405, errorsAnswer("BadRequestException", "Publishing (POST) is the only action."));
    }
    const body = await readBody(request, MAX_PUBLISH_BODY_BYTES);
    if (body === "too_large") {
      return answerJson(
        response,
        413,
        errorsAnswer("BadRequestException", `The request body is over ${MAX_PUBLISH_BODY_BYTES} bytes.`),
      );
    }
    const signature = await verifySigV4(
      { method: "POST", path, rawQuery, headers: request.headers, body },
      { credentials: options.credentials, region: options.region },
    );
    if (!signature.ok) {
      logger.info("events: publish refused", { reason: signature.reason });
      return answerJson(response, 401, errorsAnswer("UnauthorizedException", UNAUTHORIZED_MESSAGE));
    }
    const parsed = parsePublishBody(body.toString("utf8"));
    if (!parsed.ok) return answerJson(response, 400, parsed.answer);
    const answer: PublishAnswer = { successful: [], failed: [] };
    const accepted: string[] = [];
    parsed.request.events.forEach((event, index) => {
      const identifier = randomUUID();
      const problem = eventProblem(event);
      if (problem === undefined) {
        answer.successful.push({ identifier, index });
        accepted.push(event as string);
      } else {
        answer.failed.push({ identifier, index, code: 400, msg: problem });
      }
    });
    deliver(parsed.request.channel, accepted);
    logger.info("events: published", {
      channel: parsed.request.channel,
      successful: answer.successful.length,
      failed: answer.failed.length,
      subscribers: subscriptionsByChannel.get(parsed.request.channel)?.size ?? 0,
    });
    answerJson(response, 200, answer);
  };

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path !== REALTIME_PATH) return refuseUpgrade(socket, 404, "Not Found");
    const offered = (request.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (!offered.includes(EVENTS_SUBPROTOCOL)) return refuseUpgrade(socket, 400, "Bad Request");
    const authorization = authorizationOfSubprotocols(offered);
    wss.handleUpgrade(request, socket, head, (ws) =>
      onConnection(ws, request, typeof authorization === "string" ? undefined : authorization),
    );
  });

  const host = options.host ?? "127.0.0.1";
  server.listen(options.port, host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const base = `${urlHost(host)}:${port}`;
  logger.info("events: listening", { http_url: `http://${base}${PUBLISH_PATH}` });

  return {
    httpUrl: `http://${base}${PUBLISH_PATH}`,
    realtimeUrl: `ws://${base}${REALTIME_PATH}`,
    port,
    stats: () => ({ connections: connections.size, subscriptions: subscriptionCount, delivered }),
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const grace = AbortSignal.timeout(graceMs);
      await Promise.race([inFlight.idle(), once(grace, "abort")]);
      for (const connection of [...connections]) closeConnection(connection, 1001, "server stopping");
      const sockets = [...wss.clients];
      await Promise.race([
        Promise.all(sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? undefined : once(ws, "close")))),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      wss.close();
      await closed;
    },
  };
}
