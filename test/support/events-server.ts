/**
 * A small stand-in for the AppSync Events HTTP publish endpoint, for tests of the publisher and
 * the publish function: `POST /event` only, every request's SigV4 signature checked by signing the
 * received request again with the SDK's signer and the expected credentials (service `appsync`),
 * the body checked (one channel of the namespace, 1 to 5 events, each a JSON text), and the answer
 * in the service's shape (`successful` / `failed` by index). Faults are injected per request.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest } from "@smithy/core/transport";
import type { AwsCredentialIdentity } from "@smithy/types";
import { appsyncSigner, PUBLISH_PATH } from "../../shared/events-publisher";
import { EVENTS_NAMESPACE, MAX_EVENTS_PER_PUBLISH } from "../../shared/realtime";

/** What a fault makes of one request: an HTTP status instead of an answer, or events reported failed. */
export type PublishFault = { status: number } | { failedIndexes: number[] } | undefined;

export interface ReceivedEvent {
  channel: string;
  /** The event as published (a JSON text). */
  event: string;
}

export interface EventsServer {
  /** `http://127.0.0.1:<port>`: the publisher's `httpUrl`. */
  url: string;
  /** Events accepted, in the order they arrived. */
  received: ReceivedEvent[];
  /** Requests answered, any status. */
  requests: number;
  /** Requests refused for their signature. */
  badSignatures: number;
  /** Decides the fault of each request (default none). */
  fault: (channel: string, events: readonly string[]) => PublishFault;
  close(): Promise<void>;
}

/** `20260101T000000Z` -> Date. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  return new Date(Date.UTC(+(m[1] ?? 0), +(m[2] ?? 1) - 1, +(m[3] ?? 1), +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)));
}

/**
 * True when `authorization` is the signature the SDK's signer computes for this request with
 * `credentials` in `region` (the headers it names, the body, the time of `x-amz-date`).
 */
export async function signatureMatches(
  req: { method: string; path: string; headers: Record<string, string>; body: string },
  region: string,
  credentials: AwsCredentialIdentity,
): Promise<boolean> {
  const authorization = req.headers.authorization ?? "";
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const date = parseAmzDate(req.headers["x-amz-date"] ?? "");
  if (date === undefined || signedHeaders.length === 0) return false;
  const [hostname, port] = (req.headers.host ?? "").split(":");
  const headers = Object.fromEntries(
    // The signer sets these two itself: the date from `signingDate`, the payload hash from the body
    // received (so a body changed after signing no longer matches its signature).
    signedHeaders
      .filter((h) => h !== "x-amz-date" && h !== "x-amz-content-sha256")
      .map((h) => [h, req.headers[h] ?? ""]),
  );
  const unsigned = new HttpRequest({
    method: req.method,
    protocol: "http:",
    hostname: hostname ?? "",
    ...(port === undefined ? {} : { port: Number(port) }),
    path: req.path,
    headers,
    body: req.body,
  });
  const resigned = await appsyncSigner(region, credentials).sign(unsigned, { signingDate: date });
  return resigned.headers.authorization === authorization;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startEventsServer(options: {
  region: string;
  credentials: AwsCredentialIdentity;
}): Promise<EventsServer> {
  const state: EventsServer = {
    url: "",
    received: [],
    requests: 0,
    badSignatures: 0,
    fault: () => undefined,
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const answer = (status: number, body: unknown) => {
      state.requests += 1;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const body = await readBody(req);
    if (req.method !== "POST" || req.url !== PUBLISH_PATH) return answer(404, { errors: [{ errorType: "NotFound" }] });
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
    );
    if (
      !(await signatureMatches(
        { method: req.method, path: req.url, headers, body },
        options.region,
        options.credentials,
      ))
    ) {
      state.badSignatures += 1;
      return answer(403, { errors: [{ errorType: "UnauthorizedException", message: "signature mismatch" }] });
    }
    let parsed: { channel?: unknown; events?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return answer(400, { errors: [{ errorType: "BadRequestException" }] });
    }
    const { channel, events } = parsed;
    if (
      typeof channel !== "string" ||
      !channel.startsWith(`/${EVENTS_NAMESPACE}/`) ||
      !Array.isArray(events) ||
      events.length === 0 ||
      events.length > MAX_EVENTS_PER_PUBLISH ||
      !events.every((e) => typeof e === "string")
    ) {
      return answer(400, { errors: [{ errorType: "BadRequestException" }] });
    }
    const fault = state.fault(channel, events as string[]);
    if (fault !== undefined && "status" in fault) return answer(fault.status, { errors: [{ errorType: "Fault" }] });
    const failed = new Set(fault?.failedIndexes ?? []);
    const successful: { identifier: string; index: number }[] = [];
    const failures: { identifier: string; index: number; code: string; message: string }[] = [];
    (events as string[]).forEach((event, index) => {
      if (failed.has(index)) {
        failures.push({ identifier: randomUUID(), index, code: "InternalFailure", message: "injected" });
      } else {
        state.received.push({ channel, event });
        successful.push({ identifier: randomUUID(), index });
      }
    });
    return answer(200, { successful, failed: failures });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
