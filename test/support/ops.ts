/**
 * Helpers of the operator command tests: cognito-local on a free port in a temp dir (with the
 * user pool from the shared definition), a `stack.json` pointing the commands at the test's
 * DynamoDB Local table and cognito-local, and running a command line with captured output.
 */
import { rm } from "node:fs/promises";
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  type CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { type CliEnv, type Program, runCli } from "../../bin/lib/cli";
import type { ManagedProcess } from "../../local/child-process";
import { ensureUser, ensureUserPool, startCognitoLocal, waitForCognito } from "../../local/cognito-local";
import { freePort } from "../../local/free-port";
import { DEFAULT_REGION, localCognitoClient, writeStackFile } from "../../local/state";
import type { UserProfile } from "../../shared/model";
import { createTestTable, type TestTable } from "./table";
import { tempDir } from "./temp-dir";

/** A throwaway directory under the OS temp dir. */

export interface TestCognito {
  endpoint: string;
  userPoolId: string;
  userPoolClientId: string;
  client: CognitoIdentityProviderClient;
  /** Creates a user (username = handle) and answers its profile (uuid = sub). */
  createUser(handle: string, displayName: string): Promise<UserProfile>;
  /**
   * Creates a user whose username is not its handle, with exactly `attributes` (any of them may
   * be missing or break the identity rules: cognito-local checks none), as an existing pool may
   * hold them.
   * @returns its `sub`.
   */
  createRawUser(username: string, attributes: Record<string, string>): Promise<string>;
  /** Sets a user's preferred_username and name, as a user renaming themselves would. */
  rename(username: string, handle: string, displayName: string): Promise<void>;
  stop(): Promise<void>;
}

/** A password that satisfies PASSWORD_POLICY (test only). */
const PASSWORD = "Test-password-1";

/** Starts cognito-local (about 1 s) with the pool and client of the shared definition. */
export async function startTestCognito(): Promise<TestCognito> {
  const dir = await tempDir("cruddur-ops-cognito-");
  const port = await freePort();
  const child: ManagedProcess = await startCognitoLocal({ port, dir, fresh: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localCognitoClient({ endpoint, region: DEFAULT_REGION });
  try {
    await waitForCognito(client, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  const { userPoolId, userPoolClientId } = await ensureUserPool(client);
  return {
    endpoint,
    userPoolId,
    userPoolClientId,
    client,
    async createUser(handle, displayName) {
      const uuid = await ensureUser(client, userPoolId, {
        handle,
        display_name: displayName,
        email: `${handle}@example.com`,
        password: PASSWORD,
      });
      return { uuid, handle, display_name: displayName };
    },
    async createRawUser(username, attributes) {
      await client.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: username,
          MessageAction: "SUPPRESS",
          UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        }),
      );
      const out = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
      const sub = out.UserAttributes?.find((a) => a.Name === "sub")?.Value;
      if (sub === undefined) throw new Error(`cognito-local: user ${username} has no sub`);
      return sub;
    },
    async rename(username, handle, displayName) {
      await client.send(
        new AdminUpdateUserAttributesCommand({
          UserPoolId: userPoolId,
          Username: username,
          UserAttributes: [
            { Name: "preferred_username", Value: handle },
            { Name: "name", Value: displayName },
          ],
        }),
      );
    },
    async stop() {
      client.destroy();
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A state directory whose `stack.json` points the commands at `dynamodbEndpoint`/`tableName`
 * and at cognito-local (or at a port where nothing listens when `cognito` is absent).
 */
export async function stateDirFor(options: {
  dynamodbEndpoint: string;
  tableName: string;
  cognito?: Pick<TestCognito, "endpoint" | "userPoolId" | "userPoolClientId">;
}): Promise<string> {
  const dir = await tempDir("cruddur-ops-state-");
  await writeStackFile(dir, {
    apiUrl: "http://localhost:9",
    webUrl: "http://localhost:9",
    cognitoEndpoint: options.cognito?.endpoint ?? `http://localhost:${await freePort()}`,
    region: DEFAULT_REGION,
    userPoolId: options.cognito?.userPoolId ?? "local_none",
    userPoolClientId: options.cognito?.userPoolClientId ?? "none",
    tableName: options.tableName,
    dynamodbEndpoint: options.dynamodbEndpoint,
    events: { httpUrl: "http://localhost:9/event", realtimeUrl: "ws://localhost:9/event/realtime" },
    users: [],
  });
  return dir;
}

/** cognito-local, a fresh table, and a state directory that points the commands at both. */
export interface OpsTarget {
  cognito: TestCognito;
  table: TestTable;
  stateDir: string;
}

/**
 * Starts an {@link OpsTarget}. Call it from a `beforeAll` and stop its cognito-local in a
 * top-level `afterAll` of the test file (`afterAll(() => cognito?.stop())`): an `afterAll`
 * registered inside a running `beforeAll` never runs, and the detached cognito-local outlived
 * every run of the file.
 */
export async function startOpsTarget(): Promise<OpsTarget> {
  const [cognito, table] = await Promise.all([startTestCognito(), createTestTable()]);
  const stateDir = await stateDirFor({ dynamodbEndpoint: table.endpoint, tableName: table.tableName, cognito });
  return { cognito, table, stateDir };
}

/** What a command line did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout split into lines (without the last empty one). */
  lines: string[];
}

/** A captured output stream, as a TTY or not. */
function capture(isTTY: boolean) {
  let text = "";
  return {
    stream: {
      write(chunk: string) {
        text += chunk;
      },
      isTTY,
      columns: 200,
    },
    text: () => text,
  };
}

/**
 * Runs `program` with `args` against the stack described by `stateDir`.
 * @param options.stderrTTY pretend stderr is a terminal (progress on).
 * @param options.env environment for `--prod` (default: empty, so no TABLE_NAME/USER_POOL_ID).
 */
export async function runOps(
  program: Program,
  args: readonly string[],
  stateDir: string,
  options: { stderrTTY?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const stdout = capture(false);
  const stderr = capture(options.stderrTTY ?? false);
  const env: CliEnv = { stdout: stdout.stream, stderr: stderr.stream, stateDir, env: options.env ?? {} };
  const code = await runCli(program, args, env);
  const out = stdout.text();
  return { code, stdout: out, stderr: stderr.text(), lines: out === "" ? [] : out.replace(/\n$/, "").split("\n") };
}
