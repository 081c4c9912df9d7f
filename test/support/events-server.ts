/**
 * A small stand-in for the AppSync Events HTTP publish endpoint, for tests of the publisher and
 * the publish function that need faults the emulator does not make: `POST /event` only, checked
 * with the emulator's own parts (the SigV4 signature recomputed by `local/events-sigv4.ts`, the
 * body by `parsePublishBody`), answered in the service's shape (`successful` / `failed` by
 * index), with a fault injected per request.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AwsCredentialIdentity } from "@smithy/types";
import { PUBLISH_PATH, parsePublishBody } from "../../local/events-protocol";
import { MAX_PUBLISH_BODY_BYTES } from "../../local/events-server";
import { verifySigV4 } from "../../local/events-sigv4";
import { readBody } from "../../local/request-body";

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
    const bytes = await readBody(req, MAX_PUBLISH_BODY_BYTES);
    if (bytes === "too_large") return answer(413, { errors: [{ errorType: "BadRequestException" }] });
    if (req.method !== "POST" || req.url !== PUBLISH_PATH) return answer(404, { errors: [{ errorType: "NotFound" }] });
    // The emulator's own checks: the signature recomputed with the SDK's signer, then the body.
    const signed = await verifySigV4(
      { method: req.method, path: req.url, rawQuery: "", headers: req.headers, body: bytes },
      { credentials: options.credentials, region: options.region },
    );
    if (!signed.ok) {
      state.badSignatures += 1;
      return answer(403, { errors: [{ errorType: "UnauthorizedException", message: signed.reason }] });
    }
    const parsed = parsePublishBody(bytes.toString("utf8"));
    if (!parsed.ok) return answer(400, parsed.answer);
    const { channel, events } = parsed.request;
    if (!events.every((e) => typeof e === "string")) {
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
