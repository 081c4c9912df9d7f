/**
 * Real-time push (shared/publish-events.ts) against DynamoDB Local: members read from the group
 * item, one event per message and member built from the row only, requests of at most 5 events to
 * one channel, bounded jittered retries, and per-record failures for the partial batch response.
 * The publisher is a fake (faults a real endpoint cannot be made to produce on demand), except in
 * the last block: the function itself, signing for a signature-checking endpoint over HTTP.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LOCAL_CREDENTIALS } from "../../local/state";
import { insertRecord } from "../../local/stream-records";
import { type EventsPublisher, PublishRequestError, type PublishResponse } from "../../shared/events-publisher";
import type { MessageItem } from "../../shared/items/message";
import type { UserProfile } from "../../shared/items/profile";
import {
  backoffMs,
  createBatchPublish,
  EventsNotDeliveredError,
  type PublishEventsDeps,
} from "../../shared/publish-events";
import { MAX_EVENTS_PER_PUBLISH, messageNewEvent, messageNewEventSchema, userChannel } from "../../shared/realtime";
import { type Conversation, orphanMessage, startedConversation, TEST_START_MS } from "../support/conversations";
import { type EventsServer, startEventsServer } from "../support/events-server";
import { useTestTable } from "../support/table";

const table = useTestTable();

const START_MS = TEST_START_MS;

/** A group created by pattern D, plus `count` later messages one second apart. */
const conversation = (count: number): Promise<Conversation> => startedConversation(table, count);

type Fault = "throttle" | "server_error" | "forbidden" | "no_answer" | { failedIndexes: number[] };

/** A publisher that records each request and answers by `plan` (one fault per request, then none). */
function fakePublisher(plan: (channel: string, attempt: number) => Fault | undefined = () => undefined) {
  const requests: { channel: string; events: string[] }[] = [];
  const accepted: { channel: string; event: string }[] = [];
  const attempts = new Map<string, number>();
  const publisher: EventsPublisher = {
    async publish(channel, events): Promise<PublishResponse> {
      requests.push({ channel, events: [...events] });
      const attempt = (attempts.get(channel) ?? 0) + 1;
      attempts.set(channel, attempt);
      const fault = plan(channel, attempt);
      if (fault === "throttle") throw new PublishRequestError("publish answered 429", 429, true);
      if (fault === "server_error") throw new PublishRequestError("publish answered 503", 503, true);
      if (fault === "no_answer") throw new PublishRequestError("no answer", 0, true);
      if (fault === "forbidden") throw new PublishRequestError("publish answered 403", 403, false);
      const failed = new Set(typeof fault === "object" ? fault.failedIndexes : []);
      const response: PublishResponse = { successful: [], failed: [] };
      events.forEach((event, index) => {
        if (failed.has(index)) response.failed.push({ identifier: `f${index}`, index, code: "InternalFailure" });
        else {
          accepted.push({ channel, event });
          response.successful.push({ identifier: `s${index}`, index });
        }
      });
      return response;
    },
  };
  return { publisher, requests, accepted };
}

const noSleep = async () => {};
const depsWith = (publisher: EventsPublisher, extra: Partial<PublishEventsDeps> = {}): PublishEventsDeps => ({
  ddb: table.ddb,
  tableName: table.tableName,
  publisher,
  sleep: noSleep,
  ...extra,
});

/** Runs one batch through Powertools' BatchProcessor, as the function does. */
async function runBatch(deps: PublishEventsDeps, records: DynamoDBRecord[]) {
  const batch = createBatchPublish(deps, records);
  const response = await processPartialResponse(
    { Records: records },
    batch.handler,
    new BatchProcessor(EventType.DynamoDBStreams),
    { context: { awsRequestId: "test", functionName: "publish-events" } as Context, throwOnFullBatchFailure: false },
  );
  return { failed: response.batchItemFailures.map((f) => f.itemIdentifier), report: batch.report() };
}

const seq = (r: DynamoDBRecord) => r.dynamodb?.SequenceNumber ?? "";

describe("events", () => {
  it("publishes one message.new per message and member, built from the row, on the members' channels", async () => {
    const c = await conversation(3);
    const { publisher, accepted } = fakePublisher();
    const { failed, report } = await runBatch(
      depsWith(publisher),
      c.messages.map((m) => insertRecord(m)),
    );
    expect(failed).toEqual([]);
    expect(report).toMatchObject({ messages: 3, events: 6, eventsPublished: 6, eventsNotDelivered: 0 });
    for (const member of c.members) {
      const mine = accepted.filter((a) => a.channel === userChannel(member.uuid)).map((a) => JSON.parse(a.event));
      // In stream order, each exactly the event the row makes.
      expect(mine).toEqual(c.messages.map((m) => messageNewEvent(c.groupUuid, m)));
      for (const e of mine) expect(messageNewEventSchema.parse(e)).toEqual(e);
    }
    // Nobody else's channel.
    const channels = new Set(accepted.map((a) => a.channel));
    expect(channels).toEqual(new Set(c.members.map((m) => userChannel(m.uuid))));
  });

  it("sends at most 5 events per request, one channel per request", async () => {
    const c = await conversation(12);
    const other = await conversation(2);
    const { publisher, requests } = fakePublisher();
    const records = [...c.messages, ...other.messages].map((m) => insertRecord(m));
    const { failed, report } = await runBatch(depsWith(publisher), records);
    expect(failed).toEqual([]);
    for (const r of requests) {
      expect(r.events.length).toBeGreaterThan(0);
      expect(r.events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_PUBLISH);
      for (const e of r.events) {
        const event = messageNewEventSchema.parse(JSON.parse(e));
        const group = event.message_group_uuid === c.groupUuid ? c : other;
        expect(group.members.map((m) => userChannel(m.uuid))).toContain(r.channel);
      }
    }
    // 12 messages to each of 2 channels in 3 requests each; 2 messages to each of 2 others in 1.
    expect(requests).toHaveLength(2 * 3 + 2);
    expect(report.requests).toBe(8);
  });

  it("publishes a duplicated or replayed record's event once per batch, and the same event again in a later batch", async () => {
    const c = await conversation(1);
    const m = c.messages[0] as MessageItem;
    const { publisher, accepted } = fakePublisher();
    const first = await runBatch(depsWith(publisher), [insertRecord(m), insertRecord(m)]);
    expect(first.failed).toEqual([]);
    expect(first.report.events).toBe(2);
    const replay = await runBatch(depsWith(publisher), [insertRecord(m)]);
    expect(replay.failed).toEqual([]);
    expect(accepted).toHaveLength(4);
    const [a, b] = c.members.map((member) => accepted.filter((x) => x.channel === userChannel(member.uuid)));
    // Byte for byte the same event every time.
    expect(new Set(a?.map((x) => x.event)).size).toBe(1);
    expect(new Set(b?.map((x) => x.event)).size).toBe(1);
  });

  it("ignores records that are not MSG row inserts", async () => {
    const c = await conversation(1);
    const m = c.messages[0] as MessageItem;
    const { publisher, requests } = fakePublisher();
    const { failed } = await runBatch(depsWith(publisher), [
      insertRecord(m, "MODIFY"),
      insertRecord({ pk: "GRP#x", sk: "y" }),
    ]);
    expect(failed).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});

describe("failures", () => {
  it("retries throttling, 5xx, no answer and failed entries, with jittered backoff, and then succeeds", async () => {
    const c = await conversation(2);
    const [a] = c.members.map((m) => userChannel(m.uuid));
    const faults: Fault[] = ["throttle", "server_error"];
    const { publisher, accepted } = fakePublisher((channel, attempt) =>
      channel === a ? faults[attempt - 1] : attempt === 1 ? { failedIndexes: [1] } : undefined,
    );
    const sleeps: number[] = [];
    const { failed, report } = await runBatch(
      depsWith(publisher, { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 }),
      c.messages.map((m) => insertRecord(m)),
    );
    expect(failed).toEqual([]);
    expect(report.eventsPublished).toBe(4);
    expect(accepted).toHaveLength(4);
    // Full jitter: below base * 2^(n-1) (50, 100 ms by default).
    expect(sleeps.every((ms) => ms >= 0 && ms < 100)).toBe(true);
    expect(sleeps).toHaveLength(3);
  });

  it("bounds the attempts, then fails only the records whose events were not accepted", async () => {
    const c1 = await conversation(1);
    const c2 = await conversation(1);
    const broken = userChannel((c1.members[1] as UserProfile).uuid);
    const { publisher, requests } = fakePublisher((channel) => (channel === broken ? "throttle" : undefined));
    const records = [...c1.messages, ...c2.messages].map((m) => insertRecord(m));
    const { failed, report } = await runBatch(depsWith(publisher, { maxAttempts: 4 }), records);
    expect(failed).toEqual([seq(records[0] as DynamoDBRecord)]);
    expect(requests.filter((r) => r.channel === broken)).toHaveLength(4);
    expect(report.eventsNotDelivered).toBe(1);
    expect(report.undelivered).toEqual([
      {
        channel: broken,
        message_uuid: c1.messages[0]?.message_uuid,
        message_group_uuid: c1.groupUuid,
        reason: expect.stringContaining("429"),
      },
    ]);
  });

  it("does not retry a refusal (4xx) within the invocation", async () => {
    const c = await conversation(1);
    const { publisher, requests } = fakePublisher(() => "forbidden");
    const records = c.messages.map((m) => insertRecord(m));
    const batch = createBatchPublish(depsWith(publisher), records);
    await expect(batch.handler(records[0] as DynamoDBRecord)).rejects.toBeInstanceOf(EventsNotDeliveredError);
    expect(requests).toHaveLength(2);
    expect(batch.report()).toMatchObject({ eventsNotDelivered: 2, eventsPublished: 0, failedRecords: 1 });
  });

  it("fails a record whose group is missing or cannot be read, and one that is malformed, alone", async () => {
    const good = await conversation(1);
    const orphan = orphanMessage("nobody", "hello?", START_MS);
    const malformed = insertRecord({ pk: "MSG#x", sk: "not-a-key", message: 1 });
    const records = [insertRecord(orphan), malformed, ...good.messages.map((m) => insertRecord(m))];
    const { publisher, accepted } = fakePublisher();
    const { failed, report } = await runBatch(depsWith(publisher), records);
    expect(new Set(failed)).toEqual(new Set([seq(records[0] as DynamoDBRecord), seq(malformed)]));
    expect(accepted).toHaveLength(2);
    expect(report).toMatchObject({ unplannedMessages: 1, eventsNotDelivered: 2 });

    // A read that throws (throttled after the SDK's retries) fails that group's records only.
    const unreadable = { ...table.ddb, send: vi.fn().mockRejectedValue(new Error("ThrottlingException")) };
    const again = await runBatch(
      depsWith(fakePublisher().publisher, { ddb: unreadable as unknown as PublishEventsDeps["ddb"] }),
      good.messages.map((m) => insertRecord(m)),
    );
    expect(again.failed).toHaveLength(1);
  });

  it("backoffMs is full jitter below min(max, base * 2^(n-1))", () => {
    expect(backoffMs(1, 50, 1000, () => 0)).toBe(0);
    expect(backoffMs(1, 50, 1000, () => 0.999)).toBe(49);
    expect(backoffMs(3, 50, 1000, () => 0.5)).toBe(100);
    expect(backoffMs(10, 50, 1000, () => 0.999)).toBe(999);
  });
});

describe("the function (functions/publish-events.ts) against a signature-checking endpoint", () => {
  let server: EventsServer;
  let handler: typeof import("../../functions/publish-events").handler;
  beforeAll(async () => {
    server = await startEventsServer({ region: "us-east-1", credentials: LOCAL_CREDENTIALS });
    vi.stubEnv("TABLE_NAME", table.tableName);
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("DYNAMODB_ENDPOINT", table.endpoint);
    vi.stubEnv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
    vi.stubEnv("EVENTS_HTTP_URL", server.url);
    ({ handler } = await import("../../functions/publish-events"));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it("signs with the environment's credentials and delivers both members' events", async () => {
    const c = await conversation(7);
    const records = c.messages.map((m) => insertRecord(m));
    const context = { awsRequestId: "t", functionName: "publish-events" } as Context;
    const response = await handler({ Records: records }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(server.badSignatures).toBe(0);
    for (const member of c.members) {
      const mine = server.received.filter((r) => r.channel === userChannel(member.uuid));
      expect(mine.map((r) => JSON.parse(r.event).id)).toEqual(c.messages.map((m) => m.message_uuid));
    }
    // 7 events per channel: 2 requests each.
    expect(server.requests).toBe(4);
  });

  it("answers a partial batch response when the endpoint keeps failing one channel", async () => {
    const c = await conversation(2);
    const broken = userChannel((c.members[0] as UserProfile).uuid);
    server.fault = (channel) => (channel === broken ? { status: 500 } : undefined);
    const records = c.messages.map((m) => insertRecord(m));
    const response = await handler({ Records: records }, { awsRequestId: "t", functionName: "f" } as Context);
    server.fault = () => undefined;
    // Both records have an event on the broken channel.
    expect(new Set(response.batchItemFailures.map((f) => f.itemIdentifier))).toEqual(new Set(records.map(seq)));
  });
});
