/**
 * Table administration: create the table from the shared definition, list tables, drop one.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { createTableInput } from "../../shared/table";
import { OpsError } from "./errors";

/** How waiting for a table's status goes. */
export interface WaitOptions {
  /** Give up after this long, ms (default 10 minutes: a cloud table with a GSI takes a while). */
  timeoutMs?: number;
  /** Pause between two DescribeTable calls, ms (default 2000). */
  intervalMs?: number;
  /** Called after each poll (for progress). */
  onPoll?: (status: string) => void;
}

/** What `schemaLoad` did. */
export interface SchemaLoadResult {
  status: "created" | "exists";
  description: TableDescription;
  /** Where an existing table differs from the shared definition (empty when it matches). */
  differences: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when the table and every GSI of it are ACTIVE. */
function isActive(description: TableDescription | undefined): boolean {
  return (
    description?.TableStatus === "ACTIVE" &&
    (description.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === "ACTIVE")
  );
}

/**
 * Polls DescribeTable until the table and its indexes are ACTIVE.
 * @throws OpsError after `timeoutMs`.
 */
export async function waitUntilActive(
  ddb: DynamoDBClient,
  tableName: string,
  options: WaitOptions = {},
): Promise<TableDescription> {
  const { timeoutMs = 600_000, intervalMs = 2000 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    options.onPoll?.(Table?.TableStatus ?? "UNKNOWN");
    if (Table !== undefined && isActive(Table)) return Table;
    if (Date.now() >= deadline) {
      throw new OpsError(
        `table ${tableName} is still ${Table?.TableStatus ?? "not ACTIVE"} after ${Math.round(timeoutMs / 1000)} s`,
        "check it in the DynamoDB console, then run the command again",
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * Compares a table with the shared definition (`createTableInput`): key schema, the GSI (keys
 * and projection) and the stream. Billing mode and throughput are not compared.
 * @returns one line per difference; empty when it matches.
 */
export function tableDifferences(description: TableDescription): string[] {
  const expected = createTableInput(description.TableName);
  const keys = (schema: { AttributeName?: string | undefined; KeyType?: string | undefined }[] | undefined) =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  const differences: string[] = [];
  if (keys(description.KeySchema) !== keys(expected.KeySchema)) {
    differences.push(`key schema is ${keys(description.KeySchema)}, expected ${keys(expected.KeySchema)}`);
  }
  for (const index of expected.GlobalSecondaryIndexes ?? []) {
    const actual = description.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName);
    if (actual === undefined) differences.push(`GSI ${index.IndexName} is missing`);
    else {
      if (keys(actual.KeySchema) !== keys(index.KeySchema)) {
        differences.push(
          `GSI ${index.IndexName} keys are ${keys(actual.KeySchema)}, expected ${keys(index.KeySchema)}`,
        );
      }
      if (actual.Projection?.ProjectionType !== index.Projection?.ProjectionType) {
        differences.push(
          `GSI ${index.IndexName} projection is ${actual.Projection?.ProjectionType}, expected ${index.Projection?.ProjectionType}`,
        );
      }
    }
  }
  const stream = description.StreamSpecification;
  const wanted = expected.StreamSpecification;
  if (stream?.StreamEnabled !== true || stream.StreamViewType !== wanted?.StreamViewType) {
    differences.push(
      `stream is ${stream?.StreamEnabled === true ? stream.StreamViewType : "disabled"}, expected ${wanted?.StreamViewType}`,
    );
  }
  return differences;
}

/**
 * Creates the table from the shared definition (keys, GSI `message-group-sk-index`, stream
 * NEW_IMAGE, on-demand) and waits until it is ACTIVE. An existing table is left as it is and
 * compared with the definition.
 * @throws AWS SDK errors (no credentials, access denied, ...); OpsError when it never gets ACTIVE.
 */
export async function schemaLoad(
  ddb: DynamoDBClient,
  tableName: string,
  wait: WaitOptions = {},
): Promise<SchemaLoadResult> {
  try {
    await ddb.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table === undefined) throw error;
    return { status: "exists", description: Table, differences: tableDifferences(Table) };
  }
  const description = await waitUntilActive(ddb, tableName, wait);
  return { status: "created", description, differences: [] };
}

/** Every table name of the account and region (ListTables, paginated), in DynamoDB's order (by name). */
export async function listTables(ddb: DynamoDBClient): Promise<string[]> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const out = await ddb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    names.push(...(out.TableNames ?? []));
    start = out.LastEvaluatedTableName;
  } while (start !== undefined);
  return names;
}

/**
 * Deletes a table and waits until it is gone. The caller decides whether the operator
 * confirmed (the `drop` command refuses a cloud table without `--yes-delete-cloud-table`).
 * @throws OpsError when the table does not exist, or has deletion protection on.
 */
export async function dropTable(ddb: DynamoDBClient, tableName: string, wait: WaitOptions = {}): Promise<void> {
  try {
    await ddb.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new OpsError(`table "${tableName}" does not exist`, "list the tables with `npm run ddb -- list-tables`");
    }
    if (error instanceof Error && /deletion protection/i.test(error.message)) {
      throw new OpsError(
        `table "${tableName}" has deletion protection on`,
        "turn it off first (DynamoDB console or `aws dynamodb update-table --no-deletion-protection-enabled`)",
      );
    }
    throw error;
  }
  const { timeoutMs = 600_000, intervalMs = 2000 } = wait;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
      wait.onPoll?.(Table?.TableStatus ?? "UNKNOWN");
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
    if (Date.now() >= deadline) {
      throw new OpsError(`table ${tableName} is still being deleted after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(intervalMs);
  }
}
