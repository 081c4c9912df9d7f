/**
 * Real-time events of one user over the AWS AppSync Events WebSocket protocol (AWS AppSync Events
 * developer guide, "Understanding the Event API WebSocket protocol"; README "Real-time"), spoken
 * directly, with no Amplify:
 *
 * - connect with the subprotocols `aws-appsync-event-ws` and `header-<base64url JSON of
 *   {Authorization: <access token>, host: <the Event API's HTTP host>}>`, send `connection_init`,
 *   wait for `connection_ack`, then `subscribe` to `/users/<uuid>` with the same authorization;
 * - a `data` frame carries one event as a JSON string: it is delivered once per `id` (a retry of
 *   the service may send an event twice; a bounded set of the last ids seen drops the repeats);
 * - a connection that closes, errs, gets no `connection_ack` within `connectTimeoutMs` or no frame
 *   within the `connectionTimeoutMs` the ack announced (the service sends `ka` about every
 *   minute), is opened again after a jittered exponential backoff, with a fresh token, and the
 *   subscription made again;
 * - after a reconnect, the gap is filled from the REST routes (when `api` is given): the messages
 *   created since a little before the newest event seen (`gapSlackMs`), of every conversation
 *   active since then, are delivered as `message.new` events (origin `gap`), in time order per
 *   conversation, and the other member's read marker as a `message_group.read`; the fill runs
 *   once at re-subscribe and once more `gapRecheckMs` later (a conversation's summary moves with
 *   the stream fan-out, a little after its message). Duplicates by id are dropped there too.
 *
 * Uses only `WebSocket`, `TextEncoder`, `btoa` and timers (browsers, workers, Node 22+; in Node 20
 * pass the `ws` package's `WebSocket`).
 */
import type { CruddurClient } from "./api";
import { backoffDelay } from "./backoff";
import type { MessageView, RealtimeEvent } from "./types";

/** The part of the WHATWG `WebSocket` the client uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** `connecting` (first connection), `live` (subscribed), `reconnecting` (waiting or connecting again), `closed` (by `close()`). */
export type RealtimeStatus = "connecting" | "live" | "reconnecting" | "closed";

/** Where an event came from: the channel, or the REST routes filling a gap. */
export type EventOrigin = "live" | "gap";

export interface RealtimeOptions {
  /** `wss://<realtime domain>/event/realtime` (`EventsRealtimeUrl`), locally `events.realtimeUrl` of stack.json. */
  realtimeUrl: string;
  /** The Event API's HTTP host (`new URL(events.httpUrl).host`), sent as `host` in the authorization. */
  httpHost: string;
  /** The signed-in user's uuid (the token's `sub`): the channel is `/users/<userUuid>`. */
  userUuid: string;
  /** The user's Cognito access token, asked for each connection (so a refreshed one is used). */
  accessToken: () => string | Promise<string>;
  /** Each event, once per id. */
  onEvent: (event: RealtimeEvent, origin: EventOrigin) => void;
  onStatus?: (status: RealtimeStatus) => void;
  /** Errors that do not stop the subscription (refusals, a failed gap fill): it retries. */
  onError?: (error: Error) => void;
  /** The REST client that fills gaps after a reconnect; without it no gap is filled. */
  api?: CruddurClient;
  /** The WebSocket to use (default `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff: ceiling of the first delay and the largest, ms (default 500 and 15,000). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** A number in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
  /** How far before the newest event seen a gap fill starts, ms (default 30,000). */
  gapSlackMs?: number;
  /** Delay of the second fill after a reconnect, ms (default 3,000; 0: none). */
  gapRecheckMs?: number;
  /** No `connection_ack` and `subscribe_success` within this: the connection is given up and retried, ms (default 10,000). */
  connectTimeoutMs?: number;
  /** Ids remembered to drop duplicates (default 10,000; the oldest are forgotten first). */
  seenCapacity?: number;
}

/** The WebSocket subprotocol of the Event API. */
export const EVENTS_SUBPROTOCOL = "aws-appsync-event-ws";

/** base64url (no padding) of the UTF-8 of `text`. */
export function base64Url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The `header-…` subprotocol carrying a connection's authorization. */
export const headerSubprotocol = (authorization: Record<string, string>): string =>
  `header-${base64Url(JSON.stringify(authorization))}`;

const OPEN = 1;

/** The event of a data frame's `event` string, or undefined when it is not one of ours. */
function parseEvent(text: unknown): RealtimeEvent | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const event = JSON.parse(text) as Partial<RealtimeEvent>;
    if (typeof event.id !== "string" || typeof event.message_group_uuid !== "string") return undefined;
    if (event.type === "message.new" && typeof event.message === "object") return event as RealtimeEvent;
    if (event.type === "message_group.read" && typeof event.last_read_at === "string") return event as RealtimeEvent;
    return undefined;
  } catch {
    return undefined;
  }
}

/** The time an event speaks of (ISO 8601 UTC): a message's creation, the message a marker reached. */
const eventTime = (event: RealtimeEvent): string =>
  event.type === "message.new" ? event.message.created_at : event.last_read_at;

/**
 * A live subscription to the user's channel; see the module. Starts connecting when made; runs
 * until {@link close}.
 */
export class RealtimeSubscription {
  private statusNow: RealtimeStatus = "connecting";
  private ws: WebSocketLike | undefined;
  private attempt = 0;
  private closed = false;
  private everLive = false;
  private readonly startedAt = Date.now();
  /** Newest event time seen (ISO), the base of a gap. */
  private newest: string | undefined;
  /** Start (ISO) of a gap not yet filled. */
  private gapSince: string | undefined;
  private readonly seen = new Set<string>();
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private liveWaiters: (() => void)[] = [];
  private counter = 0;

  constructor(private readonly options: RealtimeOptions) {
    void this.open();
  }

  /** The state of the connection now. */
  get status(): RealtimeStatus {
    return this.statusNow;
  }

  /** Resolves once subscribed (at once when it is). */
  whenLive(): Promise<void> {
    if (this.statusNow === "live") return Promise.resolve();
    return new Promise((resolve) => this.liveWaiters.push(resolve));
  }

  /** Marks ids as already seen (e.g. the messages the app listed), so that their events are dropped. */
  markSeen(ids: Iterable<string>): void {
    for (const id of ids) this.remember(id);
  }

  /** Drops the connection and reconnects as after a network loss (e.g. on the browser's `online` event). */
  reconnect(): void {
    const ws = this.ws;
    if (ws !== undefined) this.lost(ws, "reconnect asked");
  }

  /** Unsubscribes and closes; no event is delivered after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, "client closed");
      } catch {
        // already closing
      }
    }
    this.setStatus("closed");
  }

  // -- connection ----------------------------------------------------------------------------

  private later(ms: number, run: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: ReturnType<typeof setTimeout> | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private setStatus(status: RealtimeStatus): void {
    if (this.statusNow === status) return;
    this.statusNow = status;
    if (status === "live") {
      const waiters = this.liveWaiters;
      this.liveWaiters = [];
      for (const wake of waiters) wake();
    }
    this.options.onStatus?.(status);
  }

  private error(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    this.setStatus(this.everLive || this.attempt > 0 ? "reconnecting" : "connecting");
    let token: string;
    try {
      token = await this.options.accessToken();
    } catch (error) {
      this.error(error);
      this.retry();
      return;
    }
    if (this.closed) return;
    const Socket = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Socket === undefined) {
      this.error(new Error("no WebSocket in this runtime: pass options.WebSocket"));
      this.close();
      return;
    }
    const authorization = { Authorization: token, host: this.options.httpHost };
    this.counter += 1;
    const subscriptionId = `sub-${this.counter}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    let ws: WebSocketLike;
    try {
      ws = new Socket(this.options.realtimeUrl, [EVENTS_SUBPROTOCOL, headerSubprotocol(authorization)]);
    } catch (error) {
      this.error(error);
      this.retry();
      return;
    }
    this.ws = ws;
    let keepAlive: ReturnType<typeof setTimeout> | undefined;
    let timeoutMs = 0;
    const connectTimer = this.later(this.options.connectTimeoutMs ?? 10_000, () =>
      this.lost(ws, "no connection_ack or subscribe_success in time"),
    );
    const armKeepAlive = () => {
      this.cancel(keepAlive);
      if (timeoutMs > 0) keepAlive = this.later(timeoutMs, () => this.lost(ws, "no keep-alive in time"));
    };
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init" }));
    ws.onerror = () => {};
    ws.onclose = (event) => {
      this.cancel(keepAlive);
      this.cancel(connectTimer);
      this.lost(ws, `closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    };
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      let frame: { type?: string; id?: string; event?: unknown; connectionTimeoutMs?: unknown; errors?: unknown };
      try {
        frame = JSON.parse(typeof message.data === "string" ? message.data : String(message.data));
      } catch {
        return;
      }
      armKeepAlive();
      switch (frame.type) {
        case "connection_ack":
          timeoutMs = typeof frame.connectionTimeoutMs === "number" ? frame.connectionTimeoutMs : 300_000;
          armKeepAlive();
          ws.send(
            JSON.stringify({
              type: "subscribe",
              id: subscriptionId,
              channel: `/users/${this.options.userUuid}`,
              authorization,
            }),
          );
          return;
        case "subscribe_success":
          if (frame.id !== subscriptionId) return;
          this.cancel(connectTimer);
          this.attempt = 0;
          this.everLive = true;
          this.setStatus("live");
          if (this.gapSince !== undefined) this.fill(ws);
          return;
        case "data": {
          if (frame.id !== subscriptionId) return;
          const event = parseEvent(frame.event);
          if (event !== undefined) this.deliver(event, "live");
          return;
        }
        case "ka":
          return;
        case "connection_error":
        case "subscribe_error":
        case "error":
          this.error(new Error(`real-time ${frame.type}: ${JSON.stringify(frame.errors ?? [])}`));
          if (frame.type !== "error") this.lost(ws, frame.type);
          return;
        default:
          return;
      }
    };
  }

  /** The connection `ws` is gone (or given up): reconnect after the backoff, and mark the gap. */
  private lost(ws: WebSocketLike, _reason: string): void {
    if (this.ws !== ws || this.closed) return;
    this.ws = undefined;
    ws.onclose = null;
    ws.onmessage = null;
    if (ws.readyState === OPEN || ws.readyState === 0) {
      try {
        ws.close(4000, "reconnecting");
      } catch {
        // closing already
      }
    }
    if (this.gapSince === undefined) {
      const base = this.newest !== undefined ? Date.parse(this.newest) : this.startedAt;
      this.gapSince = new Date(base - (this.options.gapSlackMs ?? 30_000)).toISOString();
    }
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    this.setStatus(this.everLive || this.attempt > 0 ? "reconnecting" : "connecting");
    const delay = backoffDelay(this.attempt, {
      baseMs: this.options.backoff?.baseMs ?? 500,
      maxMs: this.options.backoff?.maxMs ?? 15_000,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
    this.attempt += 1;
    this.later(delay, () => void this.open());
  }

  // -- events --------------------------------------------------------------------------------

  private remember(id: string): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    if (this.seen.size > (this.options.seenCapacity ?? 10_000)) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private deliver(event: RealtimeEvent, origin: EventOrigin): void {
    if (this.closed || this.seen.has(event.id)) return;
    this.remember(event.id);
    const time = eventTime(event);
    if (this.newest === undefined || time > this.newest) this.newest = time;
    try {
      this.options.onEvent(event, origin);
    } catch (error) {
      this.error(error);
    }
  }

  /** Fills the pending gap while `ws` stays the connection; then once more after `gapRecheckMs`. */
  private fill(ws: WebSocketLike, recheck = false): void {
    const api = this.options.api;
    const since = this.gapSince;
    if (api === undefined || since === undefined) {
      this.gapSince = undefined;
      return;
    }
    void this.fillFrom(api, since).then(
      () => {
        if (this.ws !== ws) return; // lost again while filling: the pending gap stays, filled after the next reconnect
        const recheckMs = this.options.gapRecheckMs ?? 3000;
        if (!recheck && recheckMs > 0) this.later(recheckMs, () => this.fill(ws, true));
        else if (this.gapSince === since) this.gapSince = undefined;
      },
      (error: unknown) => {
        this.error(error);
        if (this.ws === ws) this.later(1000, () => this.fill(ws, recheck));
      },
    );
  }

  private async fillFrom(api: CruddurClient, since: string): Promise<void> {
    for await (const group of api.messageGroups({ limit: 50 })) {
      if (group.created_at < since) break;
      const fresh: MessageView[] = [];
      for await (const page of api.messagePages(group.uuid, { limit: 50 })) {
        for (const message of page.items) if (message.created_at >= since) fresh.push(message);
        if ((page.items[0]?.created_at ?? "") < since) break;
      }
      fresh.sort((a, b) =>
        a.created_at === b.created_at ? (a.uuid < b.uuid ? -1 : 1) : a.created_at < b.created_at ? -1 : 1,
      );
      for (const message of fresh) {
        this.deliver({ type: "message.new", id: message.uuid, message_group_uuid: group.uuid, message }, "gap");
      }
      if (group.other_last_read_at !== null && group.other_last_read_at >= since) {
        this.deliver(
          {
            type: "message_group.read",
            id: `${group.uuid}:${group.user_uuid}:at:${group.other_last_read_at}`,
            message_group_uuid: group.uuid,
            user_uuid: group.user_uuid,
            last_read_at: group.other_last_read_at,
          },
          "gap",
        );
      }
    }
  }
}

/** Subscribes to the user's channel: {@link RealtimeSubscription}. */
export function subscribeToUser(options: RealtimeOptions): RealtimeSubscription {
  return new RealtimeSubscription(options);
}
