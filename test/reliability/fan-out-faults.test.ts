/**
 * Suite 4, fan-out (pattern E) under faults: 1,000 generated runs against DynamoDB Local. Each
 * run makes fresh groups on one table (so runs are independent and can go four at a time), then
 * delivers a generated sequence of their MSG row INSERT records (duplicates, replays, any order,
 * several groups per batch, messages of the same millisecond) in batches, through Powertools'
 * BatchProcessor as the function does, retried as Lambda retries (partial batch response: again
 * from the lowest failed record; a crashed invocation: the whole batch again). Faults are injected
 * at every DynamoDB call of the fan-out:
 *
 * - throttling (ThrottlingException, ProvisionedThroughputExceededException) of the group read or
 *   of the transaction;
 * - a crash between the group read and the transaction (the read succeeded, then the run dies);
 * - a transaction conflict (TransactionCanceledException / TransactionConflict);
 * - a crash after the transaction succeeded but before the function answered;
 * - an invocation that dies between the groups of one batch (some groups done, no answer at all).
 *
 * A summary move is ONE TransactWriteItems (group item update + puts + deletes), so there is no
 * crash point between its writes; the points above are all the others. After every failed or
 * crashed invocation and after the last one, each member has exactly one GRP row per group, never
 * older than before; after the deliveries, it shows the newest message delivered.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { failedIdentifiersResponse, firstFailedIndex } from "../../local/batch-delivery";
import { insertRecord } from "../../local/stream-records";
import { applyNewestMessage, createBatchFanOut, type FanOutDeps, MOVE_BOOKKEEPING } from "../../shared/fan-out";
import { messageGroupUuidFor } from "../../shared/ids";
import { type MessageItem, messageItem } from "../../shared/items/message";
import { messageGroupItem } from "../../shared/items/message-group";
import { type MessageGroupSummaryItem, summaryItems } from "../../shared/items/message-group-summary";
import type { UserProfile } from "../../shared/items/profile";
import { currentSummaries, getMessageGroup } from "../../shared/messages";
import { GSI, grpPk, grpSk } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import { faultyClient } from "../support/faulty-client";
import { generatedRuns } from "../support/runs";
import { useTestTable } from "../support/table";
import { makeUser } from "../support/users";

/** How many properties run the runs side by side, and generated runs in all (1,000 under `npm run test:full`). */
const PARALLEL = 4;
const RUNS = generatedRuns(1000, PARALLEL);

const FAULTS = [
  "none",
  "throttle",
  "throughput_exceeded",
  "crash_before_write",
  "crash_after_write",
  "invocation_crash",
  "race",
] as const;
type Fault = (typeof FAULTS)[number];

const table = useTestTable();

const lambdaContext = { awsRequestId: "reliability", functionName: "fan-out-messages" } as Context;
const START_MS = Date.parse("2026-11-01T00:00:00.000Z");

interface Conversation {
  groupUuid: string;
  members: UserProfile[];
  messages: MessageItem[];
}

/**
 * Fresh groups as pattern D leaves them (group item, both GRP rows and the first MSG row, from
 * the same row builders, at START_MS), written in one BatchWriteItem for speed, each with later
 * messages at the given ms offsets (ties allowed).
 */
async function conversations(offsetsPerGroup: number[][]): Promise<Conversation[]> {
  const convos: Conversation[] = [];
  const items: object[] = [];
  for (const offsets of offsetsPerGroup) {
    const members = [makeUser(`a${convos.length}`), makeUser(`b${convos.length}`)] as const;
    const groupUuid = messageGroupUuidFor(members[0].uuid, members[1].uuid);
    const message = (sender: UserProfile, text: string, atMs: number) =>
      messageItem({
        messageGroupUuid: groupUuid,
        messageUuid: crypto.randomUUID(),
        sender,
        text,
        createdAt: toTimestamp(atMs),
      });
    const first = message(members[0], "first", START_MS);
    const group = messageGroupItem({ messageGroupUuid: groupUuid, members, shown: first, createdAt: first.created_at });
    items.push(group, ...summaryItems(groupUuid, group.members, first), first);
    const messages = offsets.map((offset, i) =>
      message(members[(i + 1) % 2] as UserProfile, `message ${i}`, START_MS + 1 + offset),
    );
    convos.push({ groupUuid, members: [...members], messages });
  }
  await table.ddb.send(
    new BatchWriteCommand({ RequestItems: { [table.tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }),
  );
  return convos;
}

const error = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });

/** Counts of what the runs did, for docs/reliability.md. */
const stats = { runs: 0, records: 0, invocations: 0, retries: 0, faults: {} as Record<string, number> };

/** The steps of a move that write (shared/fan-out.ts); every fault is injected at each. */
const WRITE_STEPS = new Set<string>(["start", "put", "delete", "finish", "cleanup"]);

/**
 * A DocumentClient on the test table whose writes fail as `plan` says (one entry per write, then
 * none, per step); set a new plan and conversations for each run. `crashed` tells whether the invocation
 * died (no answer: Lambda retries the whole batch). A `race` runs, before the write, the whole
 * move of the group's newest message on the plain client (another invocation: a redrive, a
 * rename completing a move, a duplicate delivery), and records it in `raced`.
 */
function faultyDeps() {
  const state = {
    crashed: false,
    plan: {} as Partial<Record<string, Fault[]>>,
    convos: [] as Conversation[],
    raced: [] as MessageItem[],
  };
  const plain = { ddb: table.ddb, tableName: table.tableName };
  const { ddb } = faultyClient(table.ddb, async (call, send) => {
    if (!WRITE_STEPS.has(call.kind)) return send();
    const fault = state.plan[call.kind]?.shift() ?? "none";
    if (fault !== "none") stats.faults[`${fault} (${call.kind})`] = (stats.faults[`${fault} (${call.kind})`] ?? 0) + 1;
    if (fault === "throttle") throw error("ThrottlingException");
    if (fault === "throughput_exceeded") throw error("ProvisionedThroughputExceededException");
    if (fault === "crash_before_write") throw error("Crash");
    if (fault === "race") {
      const c = state.convos.find((x) => x.groupUuid === call.groupUuid);
      const newest = c?.messages.reduce((a, m) => (m.sk > a.sk ? m : a));
      if (c !== undefined && newest !== undefined) {
        await applyNewestMessage(plain, { messageGroupUuid: c.groupUuid, item: newest });
        state.raced.push(newest);
      }
    }
    const out = await send();
    if (fault === "crash_after_write") throw error("Crash");
    if (fault === "invocation_crash") {
      state.crashed = true;
      throw error("InvocationCrash");
    }
    return out;
  });
  return { deps: { ddb, tableName: table.tableName } satisfies FanOutDeps, state };
}

type Faulty = ReturnType<typeof faultyDeps>;

/** One invocation as the function runs it. @returns the failed sequence numbers, or "crashed". */
async function invoke(deps: FanOutDeps, state: { crashed: boolean }, records: DynamoDBRecord[]) {
  stats.invocations += 1;
  state.crashed = false;
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  let failed: string[];
  try {
    const response = await processPartialResponse({ Records: records }, createBatchFanOut(deps, records), processor, {
      context: lambdaContext,
    });
    failed = response.batchItemFailures.map((f) => f.itemIdentifier);
  } catch {
    failed = records.map((r) => r.dynamodb?.SequenceNumber ?? "");
  }
  return state.crashed ? "crashed" : failed;
}

/** Each member's GRP rows of each group (one GSI query per group: the index holds GRP rows only). */
async function observe(convos: Conversation[]) {
  const rows = new Map<string, { count: number; at: string; uuid: string; listed: number }>();
  for (const c of convos) {
    const out = await table.ddb.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: GSI.indexName,
        KeyConditionExpression: `${GSI.partitionKey} = :g`,
        ExpressionAttributeValues: { ":g": c.groupUuid },
      }),
    );
    const summaries = (out.Items ?? []) as MessageGroupSummaryItem[];
    for (const m of c.members) {
      const mine = summaries.filter((s) => s.pk === grpPk(m.uuid)).sort((a, b) => (a.sk < b.sk ? 1 : -1));
      rows.set(`${c.groupUuid}/${m.uuid}`, {
        count: mine.length,
        // What pattern B makes of these rows on its first page (no call: no cursor).
        listed: (await currentSummaries({ ddb: table.ddb, tableName: table.tableName }, mine, undefined)).length,
        at: mine[0]?.last_message_at ?? "",
        uuid: mine[0]?.last_message_uuid ?? "",
      });
      expect(mine[0]?.sk).toBe(grpSk(mine[0]?.last_message_at ?? "", c.groupUuid));
    }
  }
  return { rows };
}

const runArbitrary = fc.record({
  // Offsets of each group's messages, ms after the first: small range, so ties happen.
  groups: fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }), {
    minLength: 1,
    maxLength: 3,
  }),
  order: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
  batchSize: fc.integer({ min: 1, max: 10 }),
  // Faults per step of a move (start, puts, delete, finish, cleanup), each step drawing from its
  // own list, so every step sees every fault kind whatever the steps before it drew.
  faults: fc.record({
    start: fc.array(fc.constantFrom<Fault>(...FAULTS, "none"), { maxLength: 3 }),
    put: fc.array(fc.constantFrom<Fault>(...FAULTS, "none"), { maxLength: 3 }),
    delete: fc.array(fc.constantFrom<Fault>(...FAULTS, "none"), { maxLength: 3 }),
    finish: fc.array(fc.constantFrom<Fault>(...FAULTS, "none"), { maxLength: 3 }),
    cleanup: fc.array(fc.constantFrom<Fault>(...FAULTS, "none"), { maxLength: 2 }),
  }),
});

type Run = typeof runArbitrary extends fc.Arbitrary<infer T> ? T : never;

/**
 * Runs that once failed, replayed first every time. 1: a put still in flight when its sibling put
 * failed landed after the retry had cleaned up the move (a stray GRP row); the fan-out now
 * settles both puts before it fails.
 */
const FOUND: [Run][] = [
  [
    {
      groups: [[0, 4]],
      order: [529967702, 1109593979, 1998234574],
      batchSize: 1,
      faults: {
        start: ["crash_after_write", "throttle"],
        put: ["race", "throughput_exceeded"],
        delete: ["none", "crash_after_write", "throughput_exceeded", "throttle"],
        finish: ["throughput_exceeded", "none", "throughput_exceeded", "none"],
        cleanup: [],
      },
    },
  ],
];

async function oneRun({ deps, state }: Faulty, { groups, order, batchSize, faults }: Run): Promise<void> {
  stats.runs += 1;
  const convos = await conversations(groups);
  const all = convos.flatMap((c) => c.messages);
  const delivered = order.map((i) => all[i % all.length] as MessageItem);
  const records = delivered.map((m) => insertRecord(m));
  stats.records += records.length;
  state.plan = Object.fromEntries(Object.entries(faults).map(([step, list]) => [step, [...list]]));
  state.convos = convos;
  state.raced = [];

  let seen = await observe(convos);
  /** After a failed invocation a move may be half done: nothing lost, never older, B shows one. */
  const check = async (final: boolean) => {
    const now = await observe(convos);
    for (const [key, row] of now.rows) {
      if (final) expect(row.count, `${key}: one summary`).toBe(1);
      else expect(row.count, `${key}: a summary`).toBeGreaterThanOrEqual(1);
      expect(row.at >= (seen.rows.get(key)?.at ?? ""), `${key}: never older`).toBe(true);
    }
    // Pattern B's first page shows each group once (every user here is in one group).
    for (const [key, row] of now.rows) expect(row.listed, `${key}: pattern B lists it once`).toBe(1);
    seen = now;
  };

  // The stream, as Lambda reads it: batches in order; a failed batch is retried before the next.
  let position = 0;
  let retries = 0;
  while (position < records.length) {
    const batch = records.slice(position, position + batchSize);
    const failed = await invoke(deps, state, batch);
    if (failed !== "crashed" && failed.length === 0) {
      position += batch.length;
      continue;
    }
    // After every failed or crashed invocation: nothing lost, nothing moved backwards.
    await check(false);
    retries += 1;
    stats.retries += 1;
    if (retries > 100) throw new Error("delivery did not converge");
    // A crashed invocation answered nothing: the whole batch again.
    if (failed !== "crashed") position += firstFailedIndex(batch, failedIdentifiersResponse(failed));
  }

  await check(true);
  for (const c of convos) {
    const newest = [...delivered, ...state.raced]
      .filter((m) => c.messages.includes(m))
      .reduce<MessageItem | undefined>((a, m) => (a === undefined || m.sk > a.sk ? m : a), undefined);
    for (const m of c.members) {
      const row = seen.rows.get(`${c.groupUuid}/${m.uuid}`);
      if (newest === undefined) expect(row?.at).toBe(toTimestamp(START_MS));
      else
        expect(row, "shows the newest message delivered").toEqual({
          count: 1,
          at: newest.created_at,
          uuid: newest.message_uuid,
          listed: 1,
        });
    }
    // The group item, the fan-out's lock point, names the same message.
    const group = await getMessageGroup({ ddb: table.ddb, tableName: table.tableName }, c.groupUuid);
    expect(group?.last_message_at).toBe(newest?.created_at ?? toTimestamp(START_MS));
    if (newest !== undefined) expect(group?.last_message_sk).toBe(newest.sk);
    // Every move finished and every stale key forgotten.
    for (const a of MOVE_BOOKKEEPING) expect(group?.[a], a).toBeUndefined();
  }
}

describe("pattern E under injected faults (generated)", () => {
  it(`holds every invariant in ${RUNS} runs with faults at every step, retried as Lambda retries`, async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => {
        const faulty = faultyDeps();
        return fc.assert(
          fc.asyncProperty(runArbitrary, (run) => oneRun(faulty, run)),
          { numRuns: RUNS / PARALLEL, ...(i === 0 ? { examples: FOUND } : {}) },
        );
      }),
    );
    expect(stats.runs).toBeGreaterThanOrEqual(RUNS);
    for (const fault of FAULTS.filter((f) => f !== "none")) {
      expect(
        Object.keys(stats.faults).some((k) => k.startsWith(fault)),
        fault,
      ).toBe(true);
    }
    // The new steps of a move without a transaction each saw a crash and a racing move.
    for (const step of ["start", "put", "delete", "finish"]) {
      for (const fault of ["crash_before_write", "crash_after_write", "race"]) {
        expect(
          stats.faults[`${fault} (${step})`] ?? 0,
          `${fault} at ${step}: ${JSON.stringify(stats.faults)}`,
        ).toBeGreaterThan(0);
      }
    }
    if (process.env.RELIABILITY_REPORT === "1") {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.info(`fan-out under faults: ${JSON.stringify(stats)} in ${seconds} s`);
    }
  }, 600_000);
});
