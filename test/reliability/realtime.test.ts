/**
 * Suite 11 (docs/reliability.md), real-time push under faults: 1,000 generated runs against DynamoDB Local. Each run
 * makes fresh groups (group items as pattern D leaves them), then delivers a generated sequence of
 * their MSG row INSERT records (duplicates, replays, any order, several groups per batch) in
 * batches to the publish domain through Powertools' BatchProcessor, as functions/publish-events.ts
 * does, redelivered as the publish mapping would (local/batch-delivery.ts: again from the lowest
 * failed record, a crashed invocation the whole batch, at most PUBLISH_DELIVERY.retryAttempts
 * retries, then given up). Faults are injected at the publisher, one per request from a plan:
 *
 * - throttling (429) and server errors (5xx), retryable;
 * - no answer (timeout): nothing published, retryable;
 * - a lost answer: the events were published, then the answer was lost (retried: duplicates);
 * - failed entries: the service reports some events of the request failed;
 * - a refusal (403): not retried within the invocation;
 * - a crash of the invocation after its requests (no answer at all: the whole batch again).
 *
 * What holds, in every run: every event on a channel is exactly the event its row makes (never a
 * changed one), only on the channels of the message's group's members; every message delivered
 * reaches both members at least once unless its record was given up after the mapping's retries,
 * and such a record is always reported (its events counted as not delivered); and when the plan
 * has no more faults than the mapping has retries, nothing is given up.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deliverBatch } from "../../local/batch-delivery";
import { insertRecord } from "../../local/stream-records";
import { type EventsPublisher, PublishRequestError, type PublishResponse } from "../../shared/events-publisher";
import { messageGroupUuidFor } from "../../shared/ids";
import { type MessageItem, messageItem } from "../../shared/items/message";
import { messageGroupItem } from "../../shared/items/message-group";
import type { UserProfile } from "../../shared/items/profile";
import { createBatchPublish, type PublishEventsDeps } from "../../shared/publish-events";
import { MAX_EVENTS_PER_PUBLISH, messageNewEvent, userChannel } from "../../shared/realtime";
import { PUBLISH_DELIVERY } from "../../shared/stream";
import { toTimestamp } from "../../shared/time";
import { TEST_START_MS } from "../support/conversations";
import { generatedRuns } from "../support/runs";
import { useTestTable } from "../support/table";
import { makeUser } from "../support/users";

const PARALLEL = 4;
/** Generated runs in all (1,000 under `npm run test:full`). */
const RUNS = generatedRuns(1000, PARALLEL);
/** Attempts per request within an invocation (the function's default). */
const MAX_ATTEMPTS = 3;

const FAULTS = [
  "none",
  "throttle",
  "server_error",
  "no_answer",
  "lost_answer",
  "failed_entries",
  "forbidden",
  "invocation_crash",
] as const;
type Fault = (typeof FAULTS)[number];

/** The table of the suite's runs: a fresh one on the integration tier's DynamoDB Local. */
const table = useTestTable();

const START_MS = TEST_START_MS;

interface Conversation {
  groupUuid: string;
  members: UserProfile[];
  messages: MessageItem[];
}

/** Fresh groups (their group items, which name the members), each with `counts[i]` messages. */
async function conversations(counts: number[]): Promise<Conversation[]> {
  const convos: Conversation[] = [];
  for (const count of counts) {
    const members = [makeUser(`a${convos.length}`), makeUser(`b${convos.length}`)] as const;
    const groupUuid = messageGroupUuidFor(members[0].uuid, members[1].uuid);
    const messages = Array.from({ length: count }, (_, i) =>
      messageItem({
        messageGroupUuid: groupUuid,
        messageUuid: crypto.randomUUID(),
        sender: members[i % 2] as UserProfile,
        text: `message ${i} ✓`,
        createdAt: toTimestamp(START_MS + i),
      }),
    );
    convos.push({ groupUuid, members: [...members], messages });
  }
  const items = convos.map((c) =>
    messageGroupItem({
      messageGroupUuid: c.groupUuid,
      members: c.members,
      shown: c.messages[0] as MessageItem,
      createdAt: toTimestamp(START_MS),
    }),
  );
  await table.ddb.send(
    new BatchWriteCommand({ RequestItems: { [table.tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }),
  );
  return convos;
}

/** Counts for docs/reliability.md. */
const stats = {
  runs: 0,
  records: 0,
  invocations: 0,
  requests: 0,
  eventsAccepted: 0,
  duplicateEvents: 0,
  givenUpRecords: 0,
  faults: {} as Record<string, number>,
};

/** A publisher that applies the plan's next fault to each request, and keeps what it accepted. */
function faultyPublisher(state: { plan: Fault[]; crashed: boolean }) {
  const accepted: { channel: string; event: string }[] = [];
  const publisher: EventsPublisher = {
    async publish(channel, events): Promise<PublishResponse> {
      stats.requests += 1;
      // What the service would refuse is a bug of ours, not a fault: fail the run loudly.
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_PUBLISH);
      let fault = state.plan.shift() ?? "none";
      if (fault !== "none") stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      if (fault === "invocation_crash") {
        state.crashed = true;
        fault = "none";
      }
      if (fault === "throttle") throw new PublishRequestError("publish answered 429", 429, true);
      if (fault === "server_error") throw new PublishRequestError("publish answered 503", 503, true);
      if (fault === "no_answer") throw new PublishRequestError("no answer", 0, true);
      if (fault === "forbidden") throw new PublishRequestError("publish answered 403", 403, false);
      const response: PublishResponse = { successful: [], failed: [] };
      events.forEach((event, index) => {
        // Failed entries: every other event of the request, starting with the first.
        if (fault === "failed_entries" && index % 2 === 0) {
          response.failed.push({ identifier: `f${index}`, index, code: "InternalFailure" });
        } else {
          accepted.push({ channel, event });
          response.successful.push({ identifier: `s${index}`, index });
        }
      });
      if (fault === "lost_answer") throw new PublishRequestError("publish answered 200, answer lost", 0, true);
      return response;
    },
  };
  return { publisher, accepted };
}

const runArbitrary = fc.record({
  groups: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  order: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
  batchSize: fc.integer({ min: 1, max: 10 }),
  faults: fc.array(fc.constantFrom<Fault>(...FAULTS, "none", "none"), { maxLength: 14 }),
});
type Run = typeof runArbitrary extends fc.Arbitrary<infer T> ? T : never;

const context = { awsRequestId: "reliability", functionName: "publish-events" } as Context;

async function oneRun({ groups, order, batchSize, faults }: Run): Promise<void> {
  stats.runs += 1;
  const convos = await conversations(groups);
  const all = convos.flatMap((c) => c.messages);
  const delivered = order.map((i) => all[i % all.length] as MessageItem);
  const records = delivered.map((m) => insertRecord(m));
  stats.records += records.length;
  const state = { plan: [...faults], crashed: false };
  const { publisher, accepted } = faultyPublisher(state);
  const deps: PublishEventsDeps = {
    ddb: table.ddb,
    tableName: table.tableName,
    publisher,
    maxAttempts: MAX_ATTEMPTS,
    sleep: async () => {},
  };
  let reportedNotDelivered = 0;

  // The stream, as the mapping reads it: batches in order, each redelivered per the mapping's rule.
  const givenUp: DynamoDBRecord[] = [];
  for (let i = 0; i < records.length; i += batchSize) {
    const outcome = await deliverBatch(
      records.slice(i, i + batchSize),
      async (event) => {
        stats.invocations += 1;
        state.crashed = false;
        const batch = createBatchPublish(deps, event.Records);
        const response = await processPartialResponse(
          event,
          batch.handler,
          new BatchProcessor(EventType.DynamoDBStreams),
          { context, throwOnFullBatchFailure: false },
        );
        if (state.crashed) throw new Error("invocation crashed after its requests");
        const report = batch.report();
        // A record fails only when one of its events was not accepted: they are counted.
        if (response.batchItemFailures.length > 0) expect(report.eventsNotDelivered).toBeGreaterThan(0);
        reportedNotDelivered += report.eventsNotDelivered;
        return response;
      },
      { retryAttempts: PUBLISH_DELIVERY.retryAttempts, backoffMs: () => 0, sleep: async () => {} },
    );
    givenUp.push(...outcome.failed);
  }
  stats.givenUpRecords += givenUp.length;
  stats.eventsAccepted += accepted.length;

  const byUuid = new Map(convos.flatMap((c) => c.messages.map((m) => [m.message_uuid, { c, m }] as const)));
  const seen = new Set<string>();
  for (const { channel, event } of accepted) {
    const parsed = JSON.parse(event) as { id: string; message_group_uuid: string };
    const origin = byUuid.get(parsed.id);
    expect(origin, "an event of a message of the run").toBeDefined();
    if (origin === undefined) continue;
    // Never a changed event: exactly what the row makes, byte for byte.
    expect(event).toBe(JSON.stringify(messageNewEvent(origin.c.groupUuid, origin.m)));
    // Never on a non-member's channel.
    expect(origin.c.members.map((m) => userChannel(m.uuid))).toContain(channel);
    const key = `${channel} ${parsed.id}`;
    if (seen.has(key)) stats.duplicateEvents += 1;
    seen.add(key);
  }

  const givenUpUuids = new Set(givenUp.map((r) => r.dynamodb?.NewImage?.message_uuid?.S));
  for (const m of delivered) {
    if (givenUpUuids.has(m.message_uuid)) continue;
    const c = byUuid.get(m.message_uuid)?.c as Conversation;
    for (const member of c.members) {
      expect(seen.has(`${userChannel(member.uuid)} ${m.message_uuid}`), "reached both members").toBe(true);
    }
  }
  // A record given up was reported as not delivered in its last invocation, or crashed with it.
  if (givenUp.length > 0)
    expect(reportedNotDelivered + faults.filter((f) => f === "invocation_crash").length).toBeGreaterThan(0);
  // With no more faults than the mapping has retries, nothing is given up.
  if (faults.filter((f) => f !== "none").length <= PUBLISH_DELIVERY.retryAttempts) expect(givenUp).toEqual([]);
}

describe("real-time push under injected publish faults (generated)", () => {
  it(`every message reaches both members, unchanged, on members' channels only, in ${RUNS} runs`, async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        fc.assert(
          fc.asyncProperty(runArbitrary, (run) => oneRun(run)),
          { numRuns: RUNS / PARALLEL },
        ),
      ),
    );
    expect(stats.runs).toBeGreaterThanOrEqual(RUNS);
    for (const fault of FAULTS.filter((f) => f !== "none")) {
      expect(stats.faults[fault] ?? 0, fault).toBeGreaterThan(0);
    }
    expect(stats.duplicateEvents, "replays and lost answers duplicate events").toBeGreaterThan(0);
    if (process.env.RELIABILITY_REPORT === "1") {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.info(`real-time under faults: ${JSON.stringify(stats)} in ${seconds} s`);
    }
  });
});
