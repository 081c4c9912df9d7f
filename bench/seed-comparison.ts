/**
 * Pattern E side by side with the seed's algorithm (issue 14, point 4): the same stream of MSG
 * row inserts, spread round-robin over 1, 10 and 100 groups per batch of 100, through our fan-out
 * (whatever `shared/fan-out.ts` does, through the public entry point the function uses:
 * `createBatchFanOut` under Powertools' BatchProcessor, one batch of 100 at a time) and through
 * the seed's reference (`bench/seed-reference.ts`: BatchSize 1, one invocation per record, in
 * stream order), on the same DynamoDB Local, directly and through a latency proxy
 * (`bench/latency-proxy.ts`) that adds a network round trip to every call.
 *
 * Each implementation gets its own fresh groups (the seed keeps no group item, so the two must
 * not share rows), the same number of records, and a metered client (`bench/capacity-meter.ts`)
 * whose totals give calls and billed write units per message; after the run every group is
 * checked: correct when each member has exactly one GRP row for it and that row shows the
 * group's newest message (DESIGN.md pattern E, invariant 2).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import type { SeededUser } from "../local/seed";
import { localDocumentClient } from "../local/state";
import { insertRecord } from "../local/stream-records";
import { createBatchFanOut } from "../shared/fan-out";
import type { MessageItem } from "../shared/items/message";
import { grpPk, grpSk, messageGroupKey } from "../shared/table";
import { type CapacityMeter, meterCapacity } from "./capacity-meter";
import { BATCH_SIZE, GROUP_COUNTS } from "./fan-out";
import type { Fixture } from "./fixture";
import { spawnLatencyProxy } from "./latency-proxy";
import { benchConversation, newMessageItem } from "./requests";
import { runSeedReference } from "./seed-reference";
import { median } from "./stats";

/** What one implementation did on one spread and path. */
export interface ImplementationFigures {
  /** Records handled per second: records / summed handler (invocation) time. */
  recordsPerSecond: number;
  /** DynamoDB calls per message, all operations. */
  callsPerMessage: number;
  /** DynamoDB calls per message, by operation (`Query`, `TransactWriteItems`, ...). */
  callsByOperation: Record<string, number>;
  /** Read units per message, as DynamoDB Local reports them. */
  readUnitsPerMessage: number;
  /** Write units per message as DynamoDB bills them (`CapacityTotals.cloudWriteUnits`). */
  billedWriteUnitsPerMessage: number;
  /** Groups whose summaries were right at the end, of {@link SeedComparisonRow.groups}. */
  correctGroups: number;
}

/** One spread on one path, ours against the seed's. */
export interface SeedComparisonRow {
  /** `direct`: the SDK talks to DynamoDB Local; `proxy`: through the latency proxy. */
  path: "direct" | "proxy";
  /** Round trip added to each call, ms (0 for `direct`). */
  addedRttMs: number;
  groups: number;
  /** Records each implementation handled (timed), in batches of {@link BATCH_SIZE}. */
  records: number;
  ours: ImplementationFigures;
  seed: ImplementationFigures;
}

/** The whole comparison. */
export interface SeedComparison {
  /** Round trip the proxy was told to add, ms. */
  proxyRttMs: number;
  /** Median of {@link CALL_SAMPLES} sequential GetItems, ms: what one call took on each path. */
  getItemMs: { direct: number; proxy: number };
  /** Mean time the proxy held a chunk of an answer, ms, over the whole run (what it adds, as it measured it). */
  proxyMeanHoldMs: number;
  /** Batches of {@link BATCH_SIZE} per spread and implementation. */
  batches: number;
  rows: SeedComparisonRow[];
}

/** The ratio the issue asks of ours over the seed's, records/s, at every spread through the proxy. */
export const SEED_RATIO_GOAL = 10;

/** Sequential GetItems timed per path to show the round trip the proxy really adds. */
const CALL_SAMPLES = 50;

/** Median time of {@link CALL_SAMPLES} sequential GetItems of the seeded group item (after 5 untimed), ms. */
async function medianGetItemMs(ddb: DynamoDBDocumentClient, tableName: string, key: Record<string, string>) {
  const times: number[] = [];
  for (let i = 0; i < CALL_SAMPLES + 5; i++) {
    const started = performance.now();
    await ddb.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    if (i >= 5) times.push(performance.now() - started);
  }
  return median(times);
}

/** A group of two new users and the newest message the bench sent to it. */
interface BenchGroup {
  uuid: string;
  sender: SeededUser;
  memberUuids: [string, string];
  newest?: MessageItem;
}

let groupSerial = 0;

/** Creates `count` groups of new users (group item + both GRP rows, a first message 60 s ago). */
async function createGroups(ddb: DynamoDBDocumentClient, tableName: string, count: number): Promise<BenchGroup[]> {
  const groups: BenchGroup[] = [];
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    groupSerial += 1;
    const { uuid, sender, memberUuids, first, items } = benchConversation(`seedcmp${groupSerial}`);
    for (const Item of items) puts.push(ddb.send(new PutCommand({ TableName: tableName, Item })));
    groups.push({ uuid, sender, memberUuids, newest: first });
  }
  await Promise.all(puts);
  return groups;
}

/** Epoch ms of the last message made: every record is newer than every one before. */
let clockMs = 0;

/** `batches` batches of {@link BATCH_SIZE} inserts round-robin over `groups`; notes each group's newest. */
function streamOver(groups: BenchGroup[], batches: number): DynamoDBRecord[][] {
  clockMs = Math.max(clockMs, Date.now());
  const out: DynamoDBRecord[][] = [];
  for (let b = 0; b < batches; b++) {
    const records: DynamoDBRecord[] = [];
    for (let i = 0; i < BATCH_SIZE; i++) {
      const group = groups[i % groups.length];
      if (group === undefined) throw new Error("no groups");
      clockMs += 1;
      const item = newMessageItem(group.uuid, group.sender, clockMs);
      group.newest = item;
      records.push(insertRecord(item));
    }
    out.push(records);
  }
  return out;
}

/**
 * Groups of `groups` whose summaries are right: each member has exactly one GRP row of the group
 * (strongly consistent Query of the member's GRP partition; bench users have one group each),
 * under the newest message's sort key, showing its uuid and text.
 */
export async function countCorrectGroups(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  groups: readonly BenchGroup[],
): Promise<number> {
  const verdicts = await Promise.all(
    groups.map(async (group) => {
      const newest = group.newest;
      if (newest === undefined) return false;
      for (const member of group.memberUuids) {
        const answer = await ddb.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": grpPk(member) },
            ConsistentRead: true,
          }),
        );
        const rows = (answer.Items ?? []).filter((row) => row.message_group_uuid === group.uuid);
        const [row] = rows;
        if (
          rows.length !== 1 ||
          row?.sk !== grpSk(newest.created_at, group.uuid) ||
          row.last_message_uuid !== newest.message_uuid ||
          row.message !== newest.message
        )
          return false;
      }
      return true;
    }),
  );
  return verdicts.filter(Boolean).length;
}

/** Turns a meter's totals and a time into per-message figures. */
function figuresOf(
  meter: CapacityMeter,
  records: number,
  elapsedMs: number,
  correctGroups: number,
): ImplementationFigures {
  const used = meter.snapshot();
  const calls = Object.values(used.calls).reduce((x, y) => x + y, 0);
  return {
    recordsPerSecond: records / (elapsedMs / 1000),
    callsPerMessage: calls / records,
    callsByOperation: Object.fromEntries(Object.entries(used.calls).map(([op, n]) => [op, n / records])),
    readUnitsPerMessage: used.readUnits / records,
    billedWriteUnitsPerMessage: used.cloudWriteUnits / records,
    correctGroups,
  };
}

/** Our fan-out: each batch through `createBatchFanOut` under a BatchProcessor, as the function runs it. */
async function runOurs(ddb: DynamoDBDocumentClient, tableName: string, batches: readonly DynamoDBRecord[][]) {
  let elapsedMs = 0;
  for (const Records of batches) {
    const started = performance.now();
    const response = await processPartialResponse(
      { Records: [...Records] },
      createBatchFanOut({ ddb, tableName }, Records),
      new BatchProcessor(EventType.DynamoDBStreams),
    );
    elapsedMs += performance.now() - started;
    if (response.batchItemFailures.length > 0)
      throw new Error(`fan-out failed ${response.batchItemFailures.length} records`);
  }
  return elapsedMs;
}

/** The seed's reference: one invocation per record, in stream order. */
async function runSeed(ddb: DynamoDBDocumentClient, tableName: string, batches: readonly DynamoDBRecord[][]) {
  const records = batches.flat();
  const started = performance.now();
  await runSeedReference({ ddb, tableName }, records);
  return performance.now() - started;
}

/**
 * Measures every spread of {@link GROUP_COUNTS} directly and through a latency proxy of
 * `proxyRttMs` (started here on a free port of 127.0.0.1 and stopped before returning):
 * `batches` batches of {@link BATCH_SIZE} per spread and implementation, after one uncounted
 * warm-up per path and implementation on groups of their own.
 * @throws Error when our fan-out fails a record (a seed error propagates as the SDK threw it).
 */
export async function measureSeedComparison(
  fixture: Fixture,
  options: { batches: number; proxyRttMs: number },
): Promise<SeedComparison> {
  const { tableName, region } = fixture;
  const proxy = await spawnLatencyProxy(fixture.dynamodbEndpoint, options.proxyRttMs);
  const setup = fixture.newDocumentClient();
  const rows: SeedComparisonRow[] = [];
  const getItemMs = { direct: 0, proxy: 0 };
  try {
    for (const path of ["direct", "proxy"] as const) {
      const endpoint = path === "direct" ? fixture.dynamodbEndpoint : proxy.endpoint;
      const ddb = localDocumentClient({ endpoint, region });
      const meter = meterCapacity(ddb);
      try {
        getItemMs[path] = await medianGetItemMs(ddb, tableName, messageGroupKey(fixture.groupUuid));
        // Warm-up (connections, JIT): a batch over 10 groups each, not counted.
        await runOurs(ddb, tableName, streamOver(await createGroups(setup, tableName, 10), 1));
        await runSeed(ddb, tableName, [streamOver(await createGroups(setup, tableName, 10), 1)[0]?.slice(0, 10) ?? []]);
        for (const count of GROUP_COUNTS) {
          const measure = async (run: typeof runOurs) => {
            const groups = await createGroups(setup, tableName, count);
            const batches = streamOver(groups, options.batches);
            meter.reset();
            const elapsedMs = await run(ddb, tableName, batches);
            const correct = await countCorrectGroups(setup, tableName, groups);
            return figuresOf(meter, batches.flat().length, elapsedMs, correct);
          };
          const ours = await measure(runOurs);
          const seed = await measure(runSeed);
          rows.push({
            path,
            addedRttMs: path === "direct" ? 0 : proxy.rttMs,
            groups: count,
            records: options.batches * BATCH_SIZE,
            ours,
            seed,
          });
        }
      } finally {
        ddb.destroy();
      }
    }
  } finally {
    setup.destroy();
    await proxy.stop();
  }
  return { proxyRttMs: proxy.rttMs, proxyMeanHoldMs: proxy.held().meanMs, getItemMs, batches: options.batches, rows };
}
