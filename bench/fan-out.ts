/**
 * Fan-out (pattern E): stream records per second through the deployed fan-out handler for
 * batches of 100 MSG row inserts spread over 1, 10 and 100 groups, and the DynamoDB calls,
 * item writes and capacity units per message, from a second pass of the same batches through
 * the same domain code (`shared/fan-out.ts` under Powertools' BatchProcessor) on a metered client.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { lambdaContext } from "../local/lambda-context";
import type { SeededUser } from "../local/seed";
import { insertRecord } from "../local/stream-records";
import { createBatchFanOut } from "../shared/fan-out";
import { FAN_OUT_FUNCTION } from "../shared/routes";
import type { BundleFigures } from "./bundles";
import { type CapacityTotals, meterCapacity } from "./capacity-meter";
import type { Fixture } from "./fixture";
import { benchConversation, newMessageItem } from "./requests";

/** Records per batch (the stack's batch size is at most this; see shared/stream.ts). */
export const BATCH_SIZE = 100;

/** Group spreads measured: a batch of 100 over 1, 10 and 100 groups. */
export const GROUP_COUNTS = [1, 10, 100] as const;

/** One group spread. */
export interface FanOutFigures {
  groups: number;
  batches: number;
  /** Records handled per second by the handler (records / total handler time). */
  recordsPerSecond: number;
  /** Median handler time of one batch, ms. */
  batchMs: number;
  /** Per message, from the metered pass. */
  perMessage: {
    /** Summary moves per message: one per group of a batch (only its newest message is applied). */
    moves: number;
    /** DynamoDB calls per message, by operation (`UpdateItem`, `PutItem`, `BatchWriteItem`, ...). */
    calls: Record<string, number>;
    itemWrites: number;
    readUnits: number;
    localWriteUnits: number;
    cloudWriteUnits: number;
  };
}

type FanOutHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

/** Creates `count` groups between new users (group item + both GRP rows); returns their senders. */
async function createGroups(fixture: Fixture, count: number): Promise<{ uuid: string; sender: SeededUser }[]> {
  const ddb = fixture.newDocumentClient();
  const groups: { uuid: string; sender: SeededUser }[] = [];
  for (let i = 0; i < count; i++) {
    const conversation = benchConversation(`bench${i}`);
    for (const Item of conversation.items) await ddb.send(new PutCommand({ TableName: fixture.tableName, Item }));
    groups.push({ uuid: conversation.uuid, sender: conversation.sender });
  }
  ddb.destroy();
  return groups;
}

/** Epoch ms of the last message made: every batch is newer than the one before. */
let clockMs = 0;

/** A batch of {@link BATCH_SIZE} inserts round-robin over `groups`, each newer than all before. */
function batchOver(groups: readonly { uuid: string; sender: SeededUser }[]): DynamoDBStreamEvent {
  const Records = [];
  // Newer than every message so far, and than the groups' first message (created "now - 60 s").
  clockMs = Math.max(clockMs, Date.now());
  for (let i = 0; i < BATCH_SIZE; i++) {
    const group = groups[i % groups.length];
    if (group === undefined) throw new Error("no groups");
    clockMs += 1;
    Records.push(insertRecord(newMessageItem(group.uuid, group.sender, clockMs)));
  }
  return { Records };
}

const per = (value: number, messages: number) => value / messages;

/**
 * Measures each spread of {@link GROUP_COUNTS}: `batches` batches through the bundled handler,
 * then `meteredBatches` through the metered domain code.
 */
export async function measureFanOut(
  fixture: Fixture,
  bundles: readonly BundleFigures[],
  batches: number,
  meteredBatches: number,
): Promise<FanOutFigures[]> {
  const file = bundles.find((b) => b.name === FAN_OUT_FUNCTION.fn)?.file;
  if (file === undefined) throw new Error("no fan-out bundle");
  Object.assign(process.env, fixture.functionEnv);
  const module = (await import(`${pathToFileURL(file).href}?fan-out-${randomUUID()}`)) as { handler: FanOutHandler };
  const metered = fixture.newDocumentClient();
  const meter = meterCapacity(metered);
  const deps = { ddb: metered, tableName: fixture.tableName };
  const figures: FanOutFigures[] = [];
  for (const count of GROUP_COUNTS) {
    const groups = await createGroups(fixture, count);
    // Warm-up batch, not counted.
    await module.handler(batchOver(groups), lambdaContext(FAN_OUT_FUNCTION.fn, randomUUID(), fixture.region));
    const times: number[] = [];
    for (let i = 0; i < batches; i++) {
      const event = batchOver(groups);
      const context = lambdaContext(FAN_OUT_FUNCTION.fn, randomUUID(), fixture.region);
      const started = performance.now();
      const response = await module.handler(event, context);
      times.push(performance.now() - started);
      if (response.batchItemFailures.length > 0)
        throw new Error(`fan-out failed ${response.batchItemFailures.length} records`);
    }
    meter.reset();
    for (let i = 0; i < meteredBatches; i++) {
      const event = batchOver(groups);
      const processor = new BatchProcessor(EventType.DynamoDBStreams);
      const response = await processPartialResponse(event, createBatchFanOut(deps, event.Records), processor);
      if (response.batchItemFailures.length > 0) throw new Error("metered fan-out failed");
    }
    const used: CapacityTotals = meter.snapshot();
    // Not a timing check: a spread whose messages moved nothing would measure nothing.
    // A move starts with an UpdateItem of the group item and ends with another.
    if ((used.calls.UpdateItem ?? 0) < 2 * meteredBatches * count) throw new Error("the fan-out moved no summary");
    const messages = meteredBatches * BATCH_SIZE;
    const total = times.reduce((x, y) => x + y, 0);
    figures.push({
      groups: count,
      batches,
      recordsPerSecond: (batches * BATCH_SIZE) / (total / 1000),
      batchMs: [...times].sort((x, y) => x - y)[Math.floor(times.length / 2)] ?? 0,
      perMessage: {
        moves: per(meteredBatches * count, messages),
        calls: Object.fromEntries(Object.entries(used.calls).map(([op, n]) => [op, per(n, messages)])),
        itemWrites: per(used.itemWrites, messages),
        readUnits: per(used.readUnits, messages),
        localWriteUnits: per(used.writeUnits, messages),
        cloudWriteUnits: per(used.cloudWriteUnits, messages),
      },
    });
  }
  metered.destroy();
  return figures;
}

/** How DynamoDB Local takes 100 concurrent writes, ms for all 100: the ceiling of the fan-out here. */
export interface LocalWriteCeiling {
  /** 100 concurrent PutItem. */
  putsMs: number;
  /** 100 concurrent TransactWriteItems of 5 puts each (the size of a fan-out move). */
  transactionsMs: number;
}

/**
 * Times 100 concurrent PutItem and 100 concurrent 5-item transactions on scratch keys (a
 * partition no pattern reads), after a warm-up round of each.
 */
export async function measureLocalWriteCeiling(fixture: Fixture): Promise<LocalWriteCeiling> {
  const ddb = fixture.newDocumentClient();
  let n = 0;
  const item = () => ({ pk: "BENCH#scratch", sk: String(n++) });
  const put = () => ddb.send(new PutCommand({ TableName: fixture.tableName, Item: item() }));
  const transaction = () =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: Array.from({ length: 5 }, () => ({ Put: { TableName: fixture.tableName, Item: item() } })),
      }),
    );
  const timeAll = async (write: () => Promise<unknown>) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: 100 }, write));
    return performance.now() - started;
  };
  await timeAll(put);
  await timeAll(transaction);
  const figures = { putsMs: await timeAll(put), transactionsMs: await timeAll(transaction) };
  ddb.destroy();
  return figures;
}
