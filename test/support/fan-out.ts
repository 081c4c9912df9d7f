/**
 * The fan-out on a test table as the local stack runs it: the local stream poller reading the
 * table's stream on DynamoDB Local and invoking the fan-out the way the function does (Powertools'
 * BatchProcessor over `createBatchFanOut`), with groups that can be made to fail (throttled
 * transactions), so real batches end in the dead-letter file. Also posting (pattern C's write)
 * and conversations for the fan-out tests.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { localDynamoDbClient, localStreamsClient } from "../../local/state";
import { StreamPoller } from "../../local/stream-poller";
import { createBatchFanOut } from "../../shared/fan-out";
import { type MessageItem, messageItem } from "../../shared/items/message";
import type { UserProfile } from "../../shared/items/profile";
import { messageGroupKey } from "../../shared/table";
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
 * A DocumentClient whose TransactWriteItems of the groups in `broken` throw ThrottlingException
 * (the fan-out's move of those groups fails; every other call goes through).
 */
export function failingGroups(doc: DynamoDBDocumentClient, broken: ReadonlySet<string>): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return async (command: Parameters<DynamoDBDocumentClient["send"]>[0]) => {
        if (command instanceof TransactWriteCommand) {
          const text = JSON.stringify(command.input.TransactItems);
          for (const g of broken) if (text.includes(`"${messageGroupKey(g).pk}"`)) throw throttled();
        }
        return target.send(command as TransactWriteCommand);
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
