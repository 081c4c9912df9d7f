/**
 * The AWS AppSync Events protocol as the local emulator speaks it: the frames of the WebSocket
 * protocol (AWS AppSync Events developer guide, "Understanding the Event API WebSocket
 * protocol"), the authorization subprotocol, channel paths, and the body and answer of the HTTP
 * publish API ("Publish events via HTTP"). Pure functions: no sockets, no clocks.
 *
 * Frames, client to server: `connection_init`, `subscribe {id, channel, authorization}`,
 * `unsubscribe {id}`, `publish {id, channel, events, authorization}`. Server to client:
 * `connection_ack {connectionTimeoutMs}`, `connection_error {errors}`, `ka`,
 * `subscribe_success {id}`, `subscribe_error {id, errors}`, `data {id, event}` (the event as
 * the JSON string it was published as), `unsubscribe_success {id}`, `unsubscribe_error {id,
 * errors}`, `publish_error {id, errors}`, and `error {errors}` for a frame that names no
 * operation. Every `errors` is `[{errorType, message}]`.
 */
import { EVENTS_NAMESPACE, MAX_EVENTS_PER_PUBLISH } from "../shared/realtime";

/** The WebSocket subprotocol of the Event API; a client must offer it. */
export const EVENTS_SUBPROTOCOL = "aws-appsync-event-ws";
/** The prefix of the subprotocol that carries the connection's authorization, base64url JSON. */
export const HEADER_SUBPROTOCOL_PREFIX = "header-";
/** The path of the real-time (WebSocket) endpoint. */
export const REALTIME_PATH = "/event/realtime";
/** The path of the HTTP publish endpoint: the publisher's own (`shared/events-publisher.ts`). */
export { PUBLISH_PATH } from "../shared/events-publisher";

/** Largest event, bytes of UTF-8 (240 KB, AWS AppSync Events quotas). */
export const MAX_EVENT_BYTES = 240 * 1024;
/**
 * What `connection_ack` announces: a client closes the connection when no `ka` came for this
 * long, ms (the service announces 300,000).
 */
export const CONNECTION_TIMEOUT_MS = 300_000;
/** Longest subscription or publish `id` accepted, characters. */
export const MAX_OPERATION_ID_CHARS = 128;
/** Most segments of a channel path, the namespace included (AWS AppSync Events channels). */
export const MAX_CHANNEL_SEGMENTS = 5;
/** Longest segment of a channel path, characters. */
export const MAX_SEGMENT_CHARS = 50;

/**
 * The error types the emulator answers with, as the AppSync real-time endpoints name them.
 * - `UnauthorizedException`: missing, malformed, expired, tampered or ID token; a channel the
 *   caller may not subscribe to; any client publish; a publish not signed with the stack's IAM
 *   credentials.
 * - `BadRequestException`: a frame or body that is not what the protocol defines.
 * - `UnsupportedOperation`: a frame of a type the server does not take from a client.
 * - `MaxSubscriptionsReachedError`: the connection holds the most subscriptions allowed.
 * - `DuplicatedOperationError`: a subscription id already in use on the connection.
 * - `UnknownOperationError`: unsubscribe of an id with no subscription.
 * - `LimitExceededError`: the caller holds the most connections allowed.
 */
export type EventsErrorType =
  | "UnauthorizedException"
  | "BadRequestException"
  | "UnsupportedOperation"
  | "MaxSubscriptionsReachedError"
  | "DuplicatedOperationError"
  | "UnknownOperationError"
  | "LimitExceededError"
  | "InternalFailureError";

/** One error of an `errors` array. */
export interface EventsError {
  errorType: EventsErrorType;
  message: string;
}

/** The one error as an `errors` array. */
export const eventsErrors = (errorType: EventsErrorType, message: string): EventsError[] => [{ errorType, message }];

/** Message of every authorization refusal (the client learns nothing about why). */
export const UNAUTHORIZED_MESSAGE = "You are not authorized to make this call.";

/** What a client may send and the server acts on. */
export type ClientFrame =
  | { type: "connection_init" }
  | { type: "subscribe"; id: string; channel: unknown; authorization: unknown }
  | { type: "unsubscribe"; id: string }
  | { type: "publish"; id: string };

/** A server frame, serialized by {@link serializeFrame}. */
export type ServerFrame =
  | { type: "connection_ack"; connectionTimeoutMs: number }
  | { type: "connection_error"; errors: EventsError[] }
  | { type: "ka" }
  | { type: "subscribe_success"; id: string }
  | { type: "subscribe_error"; id: string; errors: EventsError[] }
  | { type: "unsubscribe_success"; id: string }
  | { type: "unsubscribe_error"; id: string; errors: EventsError[] }
  | { type: "publish_error"; id: string; errors: EventsError[] }
  | { type: "data"; id: string; event: string }
  | { type: "error"; errors: EventsError[] };

/** The JSON text of a server frame. */
export const serializeFrame = (frame: ServerFrame): string => JSON.stringify(frame);

/** The `error` frame of `errorType`. */
export const errorFrame = (errorType: EventsErrorType, message: string): ServerFrame => ({
  type: "error",
  errors: eventsErrors(errorType, message),
});

/** A frame parsed, or the answer to a frame that is not one. */
export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; reply: ServerFrame };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A valid operation id: 1 to {@link MAX_OPERATION_ID_CHARS} printable ASCII characters. */
export const isOperationId = (value: unknown): value is string =>
  typeof value === "string" &&
  value.length > 0 &&
  value.length <= MAX_OPERATION_ID_CHARS &&
  /^[\x21-\x7e]+$/.test(value);

/** `text` cut to at most `max` characters, for echoing client input in a message. */
const clip = (text: string, max = 64): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Parses one text frame of a client.
 * @returns the frame, or the reply to send instead: `error` BadRequestException for a frame that
 *   is not a JSON object with a string `type` or that lacks a valid `id` where its type needs
 *   one, `error` UnsupportedOperation for a type a client may not send (`ka`, `data`, anything
 *   unknown). The fields `subscribe` needs beyond its `id` are checked by the server, which
 *   answers `subscribe_error` for them.
 */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reply: errorFrame("BadRequestException", "The frame is not valid JSON.") };
  }
  if (!isRecord(value) || typeof value.type !== "string") {
    return { ok: false, reply: errorFrame("BadRequestException", "The frame is not a JSON object with a type.") };
  }
  const { type } = value;
  if (type === "connection_init") return { ok: true, frame: { type } };
  if (type === "subscribe" || type === "unsubscribe" || type === "publish") {
    if (!isOperationId(value.id)) {
      return {
        ok: false,
        reply: errorFrame(
          "BadRequestException",
          `A ${type} frame needs an id of 1 to ${MAX_OPERATION_ID_CHARS} printable ASCII characters.`,
        ),
      };
    }
    if (type === "subscribe") {
      return { ok: true, frame: { type, id: value.id, channel: value.channel, authorization: value.authorization } };
    }
    return { ok: true, frame: { type, id: value.id } };
  }
  return {
    ok: false,
    reply: errorFrame("UnsupportedOperation", `${clip(type)} not supported through the realtime channel`),
  };
}

/** A channel path split into its namespace and the segments after it. */
export interface ChannelPath {
  /** The path as given (`/users/<uuid>`). */
  path: string;
  namespace: string;
  /** The segments after the namespace. */
  segments: string[];
  /** Whether the last segment is the wildcard `*`. */
  wildcard: boolean;
}

/**
 * Parses a channel path: `/<namespace>[/<segment>...]`, 1 to {@link MAX_CHANNEL_SEGMENTS}
 * segments of 1 to {@link MAX_SEGMENT_CHARS} letters, digits and dashes; a `*` only as the last
 * segment after the namespace, and only when `allowWildcard`. A publish names one channel, so it
 * takes no wildcard; the HTTP publish API also takes the path without its leading `/`.
 * @returns the parsed path (with its leading `/`), or `undefined` when it is not one.
 */
export function parseChannel(
  channel: unknown,
  options: { allowWildcard: boolean; leadingSlashOptional?: boolean },
): ChannelPath | undefined {
  if (typeof channel !== "string" || channel.length > 1 + MAX_CHANNEL_SEGMENTS * (MAX_SEGMENT_CHARS + 1)) {
    return undefined;
  }
  const path = channel.startsWith("/") ? channel : options.leadingSlashOptional === true ? `/${channel}` : undefined;
  if (path === undefined) return undefined;
  const parts = path.slice(1).split("/");
  if (parts.length > MAX_CHANNEL_SEGMENTS) return undefined;
  const last = parts.length - 1;
  for (const [i, part] of parts.entries()) {
    const isWildcard = part === "*" && i === last && i > 0 && options.allowWildcard;
    if (!isWildcard && !new RegExp(`^[A-Za-z0-9-]{1,${MAX_SEGMENT_CHARS}}$`).test(part)) return undefined;
  }
  const [namespace = "", ...segments] = parts;
  return { path, namespace, segments, wildcard: parts[last] === "*" };
}

/**
 * The authorization object of the `header-<base64url>` subprotocol a client offered at connect
 * (`{"Authorization": "<token>", "host": "<host>"}` for a Cognito or Lambda authorizer).
 * @returns the object, `"missing"` when no such subprotocol was offered, or `"malformed"` when
 *   it is not base64url of a JSON object.
 */
export function authorizationOfSubprotocols(
  protocols: Iterable<string>,
): Record<string, unknown> | "missing" | "malformed" {
  for (const protocol of protocols) {
    if (!protocol.startsWith(HEADER_SUBPROTOCOL_PREFIX)) continue;
    const encoded = protocol.slice(HEADER_SUBPROTOCOL_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) return "malformed";
    try {
      const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
      return isRecord(value) ? value : "malformed";
    } catch {
      return "malformed";
    }
  }
  return "missing";
}

/** The base64url subprotocol (`header-…`) that carries `authorization`, as a client builds it. */
export const headerSubprotocol = (authorization: Record<string, string>): string =>
  `${HEADER_SUBPROTOCOL_PREFIX}${Buffer.from(JSON.stringify(authorization), "utf8").toString("base64url")}`;

/**
 * The token of an authorization object: its `Authorization` member (any case), a JWT as Amplify
 * sends it; a `Bearer ` prefix is dropped.
 * @returns the token, or `undefined` when there is none.
 */
export function tokenOfAuthorization(authorization: unknown): string | undefined {
  if (!isRecord(authorization)) return undefined;
  for (const [name, value] of Object.entries(authorization)) {
    if (name.toLowerCase() !== "authorization" || typeof value !== "string") continue;
    const token = value.replace(/^Bearer\s+/i, "").trim();
    return token === "" ? undefined : token;
  }
  return undefined;
}

/** One entry of the HTTP publish answer (`successful` or `failed`). */
export interface PublishedEvent {
  /** A uuid the server gave the event. */
  identifier: string;
  /** Its index in the request's `events`. */
  index: number;
}

/** A refused event of the HTTP publish answer: why, as an HTTP status and a message. */
export interface FailedEvent extends PublishedEvent {
  code: number;
  msg: string;
}

/** The body of a 200 answer of the HTTP publish API. */
export interface PublishAnswer {
  successful: PublishedEvent[];
  failed: FailedEvent[];
}

/** The body of every non-2xx answer of the HTTP publish API. */
export interface ErrorsAnswer {
  errors: EventsError[];
}

/** A publish request body, checked. */
export interface PublishRequest {
  /** The channel, with its leading `/`. */
  channel: string;
  /** The events as given: each a string (its validity is judged per event, {@link eventProblem}). */
  events: unknown[];
}

/**
 * Parses the body of `POST /event`: `{"channel": "/users/<uuid>", "events": ["<json>", ...]}`,
 * 1 to {@link MAX_EVENTS_PER_PUBLISH} events, a channel of namespace `users` without wildcard.
 * @returns the request, or the 400 answer (`BadRequestException`) for a body that is not one.
 */
export function parsePublishBody(
  text: string,
): { ok: true; request: PublishRequest } | { ok: false; answer: ErrorsAnswer } {
  const bad = (message: string) => ({
    ok: false as const,
    answer: { errors: eventsErrors("BadRequestException", message) },
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad("The body is not valid JSON.");
  }
  if (!isRecord(value)) return bad("The body is not a JSON object.");
  const channel = parseChannel(value.channel, { allowWildcard: false, leadingSlashOptional: true });
  if (channel === undefined) return bad("channel is not a valid channel path (no wildcard when publishing).");
  if (channel.namespace !== EVENTS_NAMESPACE) return bad(`No channel namespace ${channel.namespace}.`);
  const { events } = value;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_PUBLISH) {
    return bad(`events must be an array of 1 to ${MAX_EVENTS_PER_PUBLISH} JSON strings.`);
  }
  return { ok: true, request: { channel: channel.path, events } };
}

/**
 * Why one published event cannot be delivered: not a string, over {@link MAX_EVENT_BYTES}, or
 * not valid JSON text.
 * @returns the reason, or `undefined` when it can be delivered.
 */
export function eventProblem(event: unknown): string | undefined {
  if (typeof event !== "string") return "The event is not a string of JSON.";
  if (Buffer.byteLength(event, "utf8") > MAX_EVENT_BYTES) return `The event is over ${MAX_EVENT_BYTES} bytes.`;
  try {
    JSON.parse(event);
  } catch {
    return "The event is not valid JSON.";
  }
  return undefined;
}
