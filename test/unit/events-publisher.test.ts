/**
 * The AppSync Events HTTP publisher: SigV4 signing (recomputed with the SDK's signer, and checked
 * by a signature-checking endpoint over real HTTP), the request it sends, what it refuses before
 * sending, and how it reads the service's answers.
 */
import type { HttpRequest } from "@smithy/core/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appsyncSigner,
  checkPublishInput,
  createEventsPublisher,
  type HttpTransport,
  MAX_EVENT_BYTES,
  nodeHttpTransport,
  PublishRequestError,
  parsePublishResponse,
  publishRequest,
} from "../../shared/events-publisher";
import { MAX_EVENTS_PER_PUBLISH, userChannel } from "../../shared/realtime";
import { type EventsServer, startEventsServer } from "../support/events-server";

const REGION = "eu-west-1";
const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const channel = userChannel("9e821e92-134a-45f0-bbc2-4f6fde79682d");
const event = (n: number) => JSON.stringify({ type: "message.new", id: `m${n}` });

/** A transport that keeps the signed request and answers `answer`. */
function capturing(answer = { statusCode: 200, body: '{"successful":[{"identifier":"x","index":0}],"failed":[]}' }) {
  const sent: HttpRequest[] = [];
  const transport: HttpTransport = async (request) => {
    sent.push(request);
    return answer;
  };
  return { sent, transport };
}

describe("signing", () => {
  const signingDate = new Date("2026-11-21T14:05:09.000Z");

  it("signs POST /event with SigV4 for service appsync, as the SDK's signer computes it", async () => {
    const { sent, transport } = capturing();
    const publisher = createEventsPublisher({
      httpUrl: "https://abc.appsync-api.eu-west-1.amazonaws.com",
      region: REGION,
      credentials: CREDENTIALS,
      transport,
      now: () => signingDate,
    });
    await publisher.publish(channel, [event(1)]);
    const signed = sent[0];
    expect(signed?.method).toBe("POST");
    expect(signed?.path).toBe("/event");
    expect(signed?.hostname).toBe("abc.appsync-api.eu-west-1.amazonaws.com");
    expect(JSON.parse(String(signed?.body))).toEqual({ channel, events: [event(1)] });
    const authorization = signed?.headers.authorization ?? "";
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261121\/eu-west-1\/appsync\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(signed?.headers["x-amz-date"]).toBe("20261121T140509Z");

    // Recomputed independently from the unsigned request: the same signature.
    const recomputed = await appsyncSigner(REGION, CREDENTIALS).sign(
      publishRequest("https://abc.appsync-api.eu-west-1.amazonaws.com", channel, [event(1)]),
      { signingDate },
    );
    expect(recomputed.headers.authorization).toBe(authorization);
    // And any change to what was signed changes it.
    const tampered = await appsyncSigner(REGION, CREDENTIALS).sign(
      publishRequest("https://abc.appsync-api.eu-west-1.amazonaws.com", channel, [event(2)]),
      { signingDate },
    );
    expect(tampered.headers.authorization).not.toBe(authorization);
  });

  it("signs the host with its port when the URL has one (the local emulator)", () => {
    const request = publishRequest("http://127.0.0.1:4580", channel, [event(1)]);
    expect(request.headers.host).toBe("127.0.0.1:4580");
    expect(request.port).toBe(4580);
    expect(request.protocol).toBe("http:");
  });
});

describe("against a signature-checking endpoint over HTTP", () => {
  let server: EventsServer;
  beforeAll(async () => {
    server = await startEventsServer({ region: REGION, credentials: CREDENTIALS });
  });
  afterAll(() => server.close());

  it("is accepted with the right credentials and reads the per-event answer", async () => {
    const publisher = createEventsPublisher({ httpUrl: server.url, region: REGION, credentials: CREDENTIALS });
    server.fault = () => ({ failedIndexes: [1] });
    const response = await publisher.publish(channel, [event(1), event(2), event(3)]);
    server.fault = () => undefined;
    expect(response.successful.map((s) => s.index)).toEqual([0, 2]);
    expect(response.failed).toMatchObject([{ index: 1, code: "InternalFailure" }]);
    expect(server.received).toEqual([
      { channel, event: event(1) },
      { channel, event: event(3) },
    ]);
  });

  it("is refused (403, not retryable) with other credentials or another region", async () => {
    for (const [region, credentials] of [
      [REGION, { ...CREDENTIALS, secretAccessKey: "wrong" }],
      ["us-east-1", CREDENTIALS],
    ] as const) {
      const publisher = createEventsPublisher({ httpUrl: server.url, region, credentials });
      const error = await publisher.publish(channel, [event(1)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishRequestError);
      expect(error).toMatchObject({ status: 403, retryable: false });
    }
    expect(server.badSignatures).toBe(2);
  });

  it("answers 5xx and 429 as retryable errors", async () => {
    const publisher = createEventsPublisher({ httpUrl: server.url, region: REGION, credentials: CREDENTIALS });
    for (const status of [429, 500, 503]) {
      server.fault = () => ({ status });
      await expect(publisher.publish(channel, [event(1)])).rejects.toMatchObject({ status, retryable: true });
    }
    server.fault = () => undefined;
  });
});

describe("what is refused before sending", () => {
  it("a channel outside the namespace, no event, more than 5, a non-JSON or oversized event", async () => {
    const { sent, transport } = capturing();
    const publisher = createEventsPublisher({
      httpUrl: "https://x",
      region: REGION,
      credentials: CREDENTIALS,
      transport,
    });
    const cases: [string, string[]][] = [
      ["/default/abc", [event(1)]],
      [channel, []],
      [channel, Array.from({ length: MAX_EVENTS_PER_PUBLISH + 1 }, (_, i) => event(i))],
      [channel, ["{not json"]],
      [channel, [JSON.stringify("x".repeat(MAX_EVENT_BYTES))]],
    ];
    for (const [c, events] of cases) {
      expect(() => checkPublishInput(c, events)).toThrow(RangeError);
      await expect(publisher.publish(c, events)).rejects.toThrow(RangeError);
    }
    expect(sent).toHaveLength(0);
    expect(() =>
      checkPublishInput(
        channel,
        Array.from({ length: MAX_EVENTS_PER_PUBLISH }, (_, i) => event(i)),
      ),
    ).not.toThrow();
  });
});

describe("parsePublishResponse", () => {
  it("reads the successful and failed lists (either may be absent)", () => {
    expect(
      parsePublishResponse({
        statusCode: 200,
        body: '{"successful":[{"identifier":"a","index":0}],"failed":[{"identifier":"b","index":1,"code":"X","message":"y"}]}',
      }),
    ).toEqual({
      successful: [{ identifier: "a", index: 0 }],
      failed: [{ identifier: "b", index: 1, code: "X", message: "y" }],
    });
    expect(parsePublishResponse({ statusCode: 200, body: '{"successful":[{"identifier":"a","index":0}]}' })).toEqual({
      successful: [{ identifier: "a", index: 0 }],
      failed: [],
    });
  });

  it("retries 429, 5xx and an unreadable 2xx; not other 4xx", () => {
    const outcome = (statusCode: number, body = "{}") => {
      try {
        parsePublishResponse({ statusCode, body });
        return "ok";
      } catch (error) {
        return error instanceof PublishRequestError ? error.retryable : "other";
      }
    };
    expect(outcome(200, "{}")).toBe("ok");
    expect([429, 500, 502, 503, 504].map((s) => outcome(s))).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 413].map((s) => outcome(s))).toEqual([false, false, false, false, false]);
    expect(outcome(200, "<html>")).toBe(true);
    expect(outcome(200, '{"successful":[{"index":-1}]}')).toBe(true);
  });
});

describe("nodeHttpTransport", () => {
  it("turns a refused connection into a retryable error with status 0", async () => {
    const publisher = createEventsPublisher({
      httpUrl: "http://127.0.0.1:9",
      region: REGION,
      credentials: CREDENTIALS,
      transport: nodeHttpTransport(500),
    });
    await expect(publisher.publish(channel, [event(1)])).rejects.toMatchObject({
      name: "PublishRequestError",
      status: 0,
      retryable: true,
    });
  });
});
