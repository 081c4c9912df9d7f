/**
 * The AWS AppSync Events HTTP publish client: one signed `POST <httpUrl>/event` per call, with one
 * channel and at most {@link MAX_EVENTS_PER_PUBLISH} events (AWS AppSync Events developer guide,
 * "Publish events via HTTP"). Requests are signed with the SDK's SigV4 signer
 * (`@smithy/signature-v4`, service `appsync`, the SDK's own SHA-256) and sent with the SDK's Node
 * HTTP handler, so the `host` header that is signed is the one sent.
 *
 * The request body is `{"channel": "/users/<uuid>", "events": ["<JSON text>", ...]}`; a 2xx
 * answer is `{"successful": [{"identifier", "index"}], "failed": [{"identifier", "index", "code",
 * "message"}]}`, `index` being the event's position in the request. Credentials: the SDK's default
 * provider chain (in Lambda the execution role's, from the environment; on the local stack the
 * local credentials the stack puts in the environment), unless given.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/transport";
import { NodeHttpHandler, streamCollector } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import * as z from "zod/mini";
import { EVENTS_NAMESPACE, MAX_EVENTS_PER_PUBLISH } from "./realtime";

/** SigV4 service name of AppSync (Event API publishing included). */
export const APPSYNC_SIGNING_SERVICE = "appsync";

/** Path of the HTTP publish operation under the API's HTTP endpoint. */
export const PUBLISH_PATH = "/event";

/** Largest event AppSync Events accepts: 240 KB (service quotas, "Event payload size"), bytes of UTF-8. */
export const MAX_EVENT_BYTES = 240 * 1024;

/** The 2xx answer of the HTTP publish operation. */
export const publishResponseSchema = /* @__PURE__ */ (() =>
  z.object({
    successful: z._default(z.array(z.object({ identifier: z.string(), index: z.int().check(z.nonnegative()) })), []),
    failed: z._default(
      z.array(
        z.object({
          identifier: z.optional(z.string()),
          index: z.int().check(z.nonnegative()),
          code: z.optional(z.string()),
          message: z.optional(z.string()),
        }),
      ),
      [],
    ),
  }))();
export type PublishResponse = z.infer<typeof publishResponseSchema>;

/**
 * A publish request that was not answered with a readable 2xx: `status` is the HTTP status (0 when
 * there was no answer: connection error or timeout). `retryable` for throttling (429), 5xx, no
 * answer and an unreadable 2xx body (the events may have gone out: a retry may duplicate them,
 * which the client's de-duplication by `id` absorbs); 4xx otherwise are not.
 */
export class PublishRequestError extends Error {
  override name = "PublishRequestError";
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** True for the statuses a publish is retried on: 429 (throttled) and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Publishes events to AppSync Events. */
export interface EventsPublisher {
  /**
   * Publishes `events` (each a JSON text) to `channel` in one request.
   * @returns the service's per-event answer (`index` = position in `events`).
   * @throws RangeError (nothing sent) for a channel outside the namespace, no event, more than
   *   {@link MAX_EVENTS_PER_PUBLISH}, an event that is not JSON or larger than {@link MAX_EVENT_BYTES};
   *   {@link PublishRequestError} when the request is not answered with a readable 2xx.
   */
  publish(channel: string, events: readonly string[]): Promise<PublishResponse>;
}

/** What the transport answers: status and the body as text. */
export interface TransportResponse {
  statusCode: number;
  body: string;
}

/** Sends a signed request (tests inject one; the default is the SDK's Node HTTP handler). */
export type HttpTransport = (request: HttpRequest) => Promise<TransportResponse>;

export interface EventsPublisherOptions {
  /** The Event API's HTTP endpoint, `https://<http domain>` (no path): see `requireEventsHttpUrl`. */
  httpUrl: string;
  /** Signing region (the API's region). */
  region: string;
  /** Default: the SDK's default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Default: {@link nodeHttpTransport} with {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  transport?: HttpTransport;
  /** Signing time (tests). */
  now?: () => Date;
}

/** How long one publish request may take, ms, before it counts as unanswered (retryable). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 3000;

/**
 * The SDK's Node HTTP handler as a transport (keep-alive, so a warm container reuses its TLS
 * connection).
 * @throws PublishRequestError (status 0, retryable) when the connection fails or times out.
 */
export function nodeHttpTransport(requestTimeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): HttpTransport {
  const handler = new NodeHttpHandler({ connectionTimeout: requestTimeoutMs, requestTimeout: requestTimeoutMs });
  return async (request) => {
    let response: Awaited<ReturnType<NodeHttpHandler["handle"]>>["response"];
    try {
      ({ response } = await handler.handle(request));
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new PublishRequestError(`publish request got no answer (${reason})`, 0, true);
    }
    const bytes = await streamCollector(response.body);
    return { statusCode: response.statusCode, body: new TextDecoder().decode(bytes) };
  };
}

/** Checks what {@link EventsPublisher.publish} refuses before sending. @throws RangeError */
export function checkPublishInput(channel: string, events: readonly string[]): void {
  if (!channel.startsWith(`/${EVENTS_NAMESPACE}/`)) {
    throw new RangeError(`channel ${channel} is not in the namespace ${EVENTS_NAMESPACE}`);
  }
  if (events.length === 0 || events.length > MAX_EVENTS_PER_PUBLISH) {
    throw new RangeError(`a publish request takes 1 to ${MAX_EVENTS_PER_PUBLISH} events, got ${events.length}`);
  }
  for (const event of events) {
    if (Buffer.byteLength(event, "utf8") > MAX_EVENT_BYTES) {
      throw new RangeError(`an event is larger than ${MAX_EVENT_BYTES} bytes`);
    }
    try {
      JSON.parse(event);
    } catch {
      throw new RangeError("an event is not a JSON text");
    }
  }
}

/**
 * The unsigned publish request: `POST <httpUrl>/event`, JSON body, `host` as the URL gives it
 * (with the port when not the default one, as the HTTP client sends it).
 */
export function publishRequest(httpUrl: string, channel: string, events: readonly string[]): HttpRequest {
  const url = new URL(httpUrl);
  const body = JSON.stringify({ channel, events });
  return new HttpRequest({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === "" ? {} : { port: Number(url.port) }),
    path: PUBLISH_PATH,
    headers: { host: url.host, "content-type": "application/json" },
    body,
  });
}

/** A signer for AppSync requests of `region` (the SDK's SigV4 signer and SHA-256). */
export function appsyncSigner(
  region: string,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): SignatureV4 {
  return new SignatureV4({ service: APPSYNC_SIGNING_SERVICE, region, credentials, sha256: Sha256 });
}

/**
 * Reads a publish answer.
 * @throws PublishRequestError for a non-2xx status (retryable on 429 and 5xx) or a 2xx body that
 *   is not a publish response (retryable).
 */
export function parsePublishResponse(response: TransportResponse): PublishResponse {
  const { statusCode, body } = response;
  if (statusCode < 200 || statusCode >= 300) {
    throw new PublishRequestError(
      `publish answered ${statusCode}: ${body.slice(0, 200)}`,
      statusCode,
      isRetryableStatus(statusCode),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PublishRequestError(`publish answered ${statusCode} with a body that is not JSON`, statusCode, true);
  }
  const parsed = publishResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new PublishRequestError(`publish answered ${statusCode} with an unexpected body`, statusCode, true);
  }
  return parsed.data;
}

/** The publisher of {@link EventsPublisherOptions}; build it once per container (module scope). */
export function createEventsPublisher(options: EventsPublisherOptions): EventsPublisher {
  const signer = appsyncSigner(options.region, options.credentials ?? defaultProvider());
  const transport = options.transport ?? nodeHttpTransport();
  return {
    async publish(channel, events) {
      checkPublishInput(channel, events);
      const request = publishRequest(options.httpUrl, channel, events);
      const signed = await signer.sign(request, options.now === undefined ? {} : { signingDate: options.now() });
      return parsePublishResponse(await transport(signed as HttpRequest));
    },
  };
}
