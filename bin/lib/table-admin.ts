/**
 * Table administration: create the table from the shared definition (and turn its TTL on),
 * list tables, drop one. Waiting for a table's status uses the SDK waiters
 * (`waitUntilTableExists`, `waitUntilTableNotExists`: DescribeTable with exponential back-off).
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  paginateListTables,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from "@aws-sdk/client-dynamodb";
import { createTableInput, TTL_ATTRIBUTE } from "../../shared/table";
import { OpsError } from "./ops-errors";

/** How waiting for a table's status goes. */
export interface WaitOptions {
  /** Give up after this long, ms (default 10 minutes: a cloud table with a GSI takes a while). */
  timeoutMs?: number;
  /** Least pause between two DescribeTable calls, ms (default 2000; the waiter backs off up to 20 s). */
  intervalMs?: number;
  /** Called about once a second while waiting, with the seconds waited so far (for progress). */
  onWaiting?: (secondsWaited: number) => void;
}

/** What `schemaLoad` did. */
export interface SchemaLoadResult {
  status: "created" | "exists";
  description: TableDescription;
  /** Where an existing table differs from the shared definition (empty when it matches). */
  differences: string[];
  /**
   * The TTL attribute of the table when it is on (`expires_at` after a creation), else
   * undefined. Not a difference: the code never relies on TTL deletion (an expired claim counts
   * as absent), it only keeps the table from filling with dead claims.
   */
  ttlAttribute: string | undefined;
}

/** Longest pause of the waiters between two polls, s. */
const MAX_POLL_DELAY_S = 20;

/**
 * Runs an SDK waiter with the options' timing, calling `onWaiting` every second meanwhile.
 * @throws OpsError `timeoutMessage` when the waiter times out.
 */
async function runWaiter(
  wait: WaitOptions,
  timeoutMessage: string,
  waiter: (config: { minDelay: number; maxDelay: number; maxWaitTime: number }) => Promise<unknown>,
): Promise<void> {
  const { timeoutMs = 600_000, intervalMs = 2000 } = wait;
  const minDelay = Math.max(intervalMs / 1000, 0.05);
  const started = Date.now();
  const ticker = setInterval(() => wait.onWaiting?.(Math.round((Date.now() - started) / 1000)), 1000);
  try {
    await waiter({
      minDelay,
      maxDelay: Math.max(minDelay, MAX_POLL_DELAY_S),
      maxWaitTime: Math.max(timeoutMs / 1000, minDelay + 1),
    });
  } catch (error) {
    // The waiters throw a TimeoutError (whose name also reads as a network timeout) when time is up.
    if (error instanceof Error && error.name === "TimeoutError") {
      throw new OpsError(
        `${timeoutMessage} after ${Math.round(timeoutMs / 1000)} s`,
        "check it in the DynamoDB console, then run the command again",
      );
    }
    throw error;
  } finally {
    clearInterval(ticker);
  }
}

/** True when every GSI of the table is ACTIVE. */
const indexesActive = (description: TableDescription): boolean =>
  (description.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === "ACTIVE");

/**
 * Waits until the table is ACTIVE (`waitUntilTableExists`, which looks at the table's status
 * only), then until its GSIs are ACTIVE too (indexes declared in CreateTable are built with the
 * table, so this normally answers at once).
 * @returns the table's description.
 * @throws OpsError after `timeoutMs`.
 */
export async function waitUntilActive(
  ddb: DynamoDBClient,
  tableName: string,
  options: WaitOptions = {},
): Promise<TableDescription> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  await runWaiter(options, `table ${tableName} is still not ACTIVE`, (config) =>
    waitUntilTableExists({ client: ddb, ...config }, { TableName: tableName }),
  );
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table === undefined) throw new OpsError(`table ${tableName} vanished while it was being created`);
    if (indexesActive(Table)) return Table;
    if (Date.now() >= deadline) {
      throw new OpsError(
        `the indexes of table ${tableName} are still not ACTIVE`,
        "check it in the DynamoDB console, then run the command again",
      );
    }
    await sleep(options.intervalMs ?? 2000);
  }
}

/**
 * The table's TTL attribute when TTL is on (or being turned on), else undefined.
 * @throws AWS SDK errors.
 */
export async function ttlAttributeOf(ddb: DynamoDBClient, tableName: string): Promise<string | undefined> {
  const { TimeToLiveDescription: ttl } = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  return ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING" ? ttl.AttributeName : undefined;
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
 * NEW_IMAGE, on-demand), waits until it is ACTIVE, then turns TTL on for {@link TTL_ATTRIBUTE}
 * (UpdateTimeToLive needs an ACTIVE table). An existing table is left as it is and compared with
 * the definition; its TTL is reported, never changed (in AWS the CDK stack owns the stack's table).
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
    return {
      status: "exists",
      description: Table,
      differences: tableDifferences(Table),
      ttlAttribute: await ttlAttributeOf(ddb, tableName),
    };
  }
  const description = await waitUntilActive(ddb, tableName, wait);
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return { status: "created", description, differences: [], ttlAttribute: TTL_ATTRIBUTE };
}

/**
 * Every table name of the account and region (the SDK's `paginateListTables`), in DynamoDB's
 * order (by name).
 */
export async function listTables(ddb: DynamoDBClient): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListTables({ client: ddb }, {})) names.push(...(page.TableNames ?? []));
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
  await runWaiter(wait, `table ${tableName} is still being deleted`, (config) =>
    waitUntilTableNotExists({ client: ddb, ...config }, { TableName: tableName }),
  );
}
