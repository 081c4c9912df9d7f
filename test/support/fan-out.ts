/**
 * The fan-out on a test table as the local stack runs it: the local stream poller reading the
 * table's stream on DynamoDB Local and invoking the fan-out the way the function does (Powertools'
 * BatchProcessor over `createBatchFanOut`), with groups that can be made to fail (throttled
 * moves), so real batches end in the dead-letter file. Also posting (pattern C's write)
 * and the check that the summaries are exactly what the fan-out makes.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { localDynamoDbClient, localStreamsClient } from "../../local/state";
import { StreamPoller } from "../../local/stream-poller";
import { createBatchFanOut, MOVE_BOOKKEEPING } from "../../shared/fan-out";
import { type MessageItem, messageItem } from "../../shared/items/message";
import type { MessageGroupItem } from "../../shared/items/message-group";
import { summaryItems } from "../../shared/items/message-group-summary";
import type { UserProfile } from "../../shared/items/profile";
import { GRP_PREFIX, MESSAGE_GROUP_PREFIX, MSG_PREFIX, messageGroupKey } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import type { TestTable } from "./table";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context = { awsRequestId: "test", functionName: "fan-out-messages" } as Context;

/** A throttling error as the SDK throws it after its retries. */
export const throttled = (): Error =>
  Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
    name: "ThrottlingException",
    $metadata: {},
  });

/**
 * A DocumentClient whose summary moves of the groups in `broken` fail with ThrottlingException at
 * their first step (the group item's UpdateItem that starts a move, shared/fan-out.ts), so
 * nothing of the move is written; every other call goes through.
 */
export function failingGroups(doc: DynamoDBDocumentClient, broken: ReadonlySet<string>): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return async (command: Parameters<DynamoDBDocumentClient["send"]>[0]) => {
        if (command instanceof UpdateCommand && command.input.UpdateExpression?.startsWith("SET") === true) {
          for (const g of broken) if (command.input.Key?.pk === messageGroupKey(g).pk) throw throttled();
        }
        return target.send(command as UpdateCommand);
      };
    },
  });
}

export interface TestFanOut {
  /** Group uuids whose moves fail while they are in it. */
  broken: Set<string>;
  /** Batches delivered (invocations included retries). */
  invocations: () => number;
  stop(): Promise<void>;
}

/**
 * Starts the local stream poller on `table`'s stream (from TRIM_HORIZON) with the fan-out as the
 * function runs it; batches still failing after `retryAttempts` retries go to `deadLetterFile`.
 */
export async function startTestFanOut(
  table: TestTable,
  deadLetterFile: string,
  options: { retryAttempts?: number } = {},
): Promise<TestFanOut> {
  const broken = new Set<string>();
  const deps = { ddb: failingGroups(table.ddb, broken), tableName: table.tableName };
  const ddb = localDynamoDbClient({ endpoint: table.endpoint });
  const streams = localStreamsClient({ endpoint: table.endpoint });
  let invocations = 0;
  const poller = new StreamPoller({
    ddb,
    streams,
    tableName: table.tableName,
    region: "us-east-1",
    logger: silent,
    deadLetterFile,
    pollIntervalMs: 20,
    backoffMs: () => 0,
    delivery: { batchSize: 100, retryAttempts: options.retryAttempts ?? 1, maxRecordAgeSeconds: 6 * 3600 },
    invoke: async (event) => {
      invocations += 1;
      const processor = new BatchProcessor(EventType.DynamoDBStreams);
      return processPartialResponse(event, createBatchFanOut(deps, event.Records), processor, { context });
    },
  });
  await poller.start();
  return {
    broken,
    invocations: () => invocations,
    async stop() {
      await poller.stop();
      ddb.destroy();
      streams.destroy();
    },
  };
}

/** Pattern C's write: puts a MSG row from `sender` at `atMs` (the stream does the rest). */
export async function putMessage(
  table: Pick<TestTable, "ddb" | "tableName">,
  sender: UserProfile,
  groupUuid: string,
  text: string,
  atMs: number,
): Promise<MessageItem> {
  const item = messageItem({
    messageGroupUuid: groupUuid,
    messageUuid: crypto.randomUUID(),
    sender,
    text,
    createdAt: toTimestamp(atMs),
  });
  await table.ddb.send(new PutCommand({ TableName: table.tableName, Item: item }));
  return item;
}

/** JSON with object keys sorted, so items compare whatever order DynamoDB returns attributes in. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/** One difference between the table and what the fan-out would have made of its messages. */
export type FanOutMismatch = string;

/**
 * Every way `items` (a full scan) differs from what the fan-out makes: for each message group
 * item, its last message is the group's newest MSG row, and the GRP rows naming the group are
 * exactly `summaryItems(group, members, newest)` (one per member, nothing else), and no summary
 * move is left unfinished on it; no GRP row names a group without a group item.
 * @returns the differences, empty when the summaries are exactly the fan-out's.
 */
export function fanOutMismatches(items: readonly Record<string, unknown>[]): FanOutMismatch[] {
  const problems: FanOutMismatch[] = [];
  const groups = new Map<string, MessageGroupItem>();
  const newest = new Map<string, MessageItem>();
  const rows = new Map<string, Record<string, unknown>[]>();
  for (const item of items) {
    const pk = String(item.pk);
    const sk = String(item.sk);
    if (pk.startsWith(MESSAGE_GROUP_PREFIX))
      groups.set(pk.slice(MESSAGE_GROUP_PREFIX.length), item as MessageGroupItem);
    else if (pk.startsWith(MSG_PREFIX)) {
      const g = pk.slice(MSG_PREFIX.length);
      const current = newest.get(g);
      if (current === undefined || current.sk < sk) newest.set(g, item as MessageItem);
    } else if (pk.startsWith(GRP_PREFIX)) {
      const g = sk.slice(sk.indexOf("#") + 1);
      rows.set(g, [...(rows.get(g) ?? []), item]);
    }
  }
  const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    `${a.pk} ${a.sk}`.localeCompare(`${b.pk} ${b.sk}`);
  for (const [g, group] of groups) {
    const last = newest.get(g);
    if (last === undefined) {
      problems.push(`group ${g}: no MSG row`);
      continue;
    }
    const shown = {
      last_message_sk: group.last_message_sk,
      last_message_uuid: group.last_message_uuid,
      last_message_at: group.last_message_at,
      last_message: group.last_message,
      last_message_user_uuid: group.last_message_user_uuid,
    };
    const want = {
      last_message_sk: last.sk,
      last_message_uuid: last.message_uuid,
      last_message_at: last.created_at,
      last_message: last.message,
      last_message_user_uuid: last.user_uuid,
    };
    if (canonical(shown) !== canonical(want)) {
      problems.push(`group ${g}: group item shows ${group.last_message_sk}, newest is ${last.sk}`);
    }
    const left = MOVE_BOOKKEEPING.filter((a) => group[a] !== undefined);
    if (left.length > 0) problems.push(`group ${g}: a summary move left unfinished (${left.join(", ")})`);
    const actual = [...(rows.get(g) ?? [])].sort(byKey);
    const expected = summaryItems(g, group.members, last).sort(byKey);
    if (canonical(actual) !== canonical(expected)) {
      problems.push(`group ${g}: GRP rows ${canonical(actual)} instead of ${canonical(expected)}`);
    }
  }
  for (const g of rows.keys()) if (!groups.has(g)) problems.push(`group ${g}: GRP rows but no group item`);
  return problems;
}
