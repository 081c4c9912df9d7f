/**
 * A fresh table on the integration tier's DynamoDB Local, and a DocumentClient for it.
 */
import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, inject } from "vitest";
import { ensureTable } from "../../local/dynamodb-local";
import { localDocumentClient, localDynamoDbClient } from "../../local/state";
import type { MessageGroupSummaryItem } from "../../shared/items/message-group-summary";
import { grpPk } from "../../shared/table";

export interface TestTable {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  endpoint: string;
  /** Every item of the table (a full scan). */
  scanAll(): Promise<Record<string, unknown>[]>;
  /** A user's GRP rows, newest first. */
  summariesOf(userUuid: string): Promise<MessageGroupSummaryItem[]>;
}

/** Creates a uniquely named table from the shared definition. */
export async function createTestTable(): Promise<TestTable> {
  const endpoint = inject("dynamodbEndpoint");
  const ddb = localDocumentClient({ endpoint });
  const tableName = `test-${randomUUID()}`;
  const client = localDynamoDbClient({ endpoint });
  await ensureTable(client, tableName);
  client.destroy();
  return {
    ddb,
    tableName,
    endpoint,
    async scanAll() {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },
    async summariesOf(userUuid) {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": grpPk(userUuid) },
          ScanIndexForward: false,
        }),
      );
      return (out.Items ?? []) as MessageGroupSummaryItem[];
    },
  };
}

/**
 * The calling file's table: a fresh one created before its tests ({@link createTestTable}). The
 * object is filled in by a `beforeAll` hook, so use it inside tests and hooks only.
 */
export function useTestTable(): TestTable {
  const table = {} as TestTable;
  beforeAll(async () => {
    Object.assign(table, await createTestTable());
  });
  return table;
}

/** One DocumentClient call, as an interceptor sees it. */
type DocumentCommand = Parameters<DynamoDBDocumentClient["send"]>[0];

/**
 * `ddb` with every `send` passed through `intercept`, which gets the command and the real `send`
 * and may act before or after calling it (or throw instead): a race or a fault injected at one
 * exact call, on the real DynamoDB Local.
 */
export function interceptSend(
  ddb: DynamoDBDocumentClient,
  intercept: (command: DocumentCommand, send: (command: DocumentCommand) => Promise<unknown>) => Promise<unknown>,
): DynamoDBDocumentClient {
  return new Proxy(ddb, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return (command: DocumentCommand) => intercept(command, (c) => target.send(c as ScanCommand));
    },
  });
}
