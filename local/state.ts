/**
 * The public surface of the local state: what `bin/`, `bench/` and `test/` need to find and
 * reach a local stack. Its state directory, its `stack.json` (what a client of the running stack
 * needs: written by `npm start`, read by `npm run token` and the operator commands, removed when
 * the stack stops), its dead-letter file, the local credentials with the factory of SDK clients
 * that use them, and the environment of a function run locally.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export {
  DEFAULT_REGION,
  LOCAL_CREDENTIALS,
  type LocalClientOptions,
  localCognitoClient,
  localDocumentClient,
  localDynamoDbClient,
  localStreamsClient,
} from "./clients";
export {
  appendDeadLetters,
  type DeadLetter,
  type LocalFailureDetails,
  readDeadLetterLines,
  readDeadLetters,
  removeDeadLetterLines,
} from "./dead-letter";
export { type LocalFunctionEnvOptions, localFunctionEnv } from "./function-env";

/** Where the local stack keeps its state (`stack.json`, data of `--persist`), unless told otherwise. */
export const DEFAULT_STATE_DIR = fileURLToPath(new URL("../.local", import.meta.url));

/**
 * The state directory in use: `LOCAL_STATE_DIR` when set, else {@link DEFAULT_STATE_DIR}, as an
 * absolute path. `npm start`, `npm run token` and the operator commands all read it, so they agree
 * on where `stack.json` is.
 */
export function stateDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LOCAL_STATE_DIR || DEFAULT_STATE_DIR);
}

/** One seeded user as `stack.json` lists it: enough to sign in. */
export interface StackFileUser {
  username: string;
  handle: string;
  display_name: string;
  password: string;
}

/** The AppSync Events endpoints of a local stack (what a real-time client or a publisher needs). */
export interface StackFileEvents {
  /** `http://127.0.0.1:<port>/event`: the HTTP publish endpoint (IAM-signed with the local credentials). */
  httpUrl: string;
  /** `ws://127.0.0.1:<port>/event/realtime`: the real-time (WebSocket) endpoint. */
  realtimeUrl: string;
}

/** The content of `stack.json`. */
export interface StackFile {
  apiUrl: string;
  /** The web client (`web/`): `http://127.0.0.1:<port>`. */
  webUrl: string;
  cognitoEndpoint: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  tableName: string;
  dynamodbEndpoint: string;
  /** The AppSync Events emulator. */
  events: StackFileEvents;
  users: StackFileUser[];
}

/** Path of `stack.json` in a state directory. */
export const stackFilePath = (stateDir: string): string => join(stateDir, "stack.json");

/**
 * Exactly the fields of {@link StackFile} of a running stack (a `LocalStack`, whose users carry
 * more fields, and which has more fields itself).
 */
export function toStackFile(stack: Omit<StackFile, "users"> & { users: readonly StackFileUser[] }): StackFile {
  return {
    apiUrl: stack.apiUrl,
    webUrl: stack.webUrl,
    cognitoEndpoint: stack.cognitoEndpoint,
    region: stack.region,
    userPoolId: stack.userPoolId,
    userPoolClientId: stack.userPoolClientId,
    tableName: stack.tableName,
    dynamodbEndpoint: stack.dynamodbEndpoint,
    events: { httpUrl: stack.events.httpUrl, realtimeUrl: stack.events.realtimeUrl },
    users: stack.users.map(({ username, handle, display_name, password }) => ({
      username,
      handle,
      display_name,
      password,
    })),
  };
}

/** Writes `content` to `stack.json` of `stateDir` (pretty JSON). @throws file-system errors. */
export async function writeStackFile(stateDir: string, content: StackFile): Promise<void> {
  await writeFile(stackFilePath(stateDir), `${JSON.stringify(content, null, 2)}\n`);
}

/**
 * @returns the stack file, or `undefined` when there is none (no stack running).
 * @throws file-system errors other than ENOENT; SyntaxError when it is not JSON.
 */
export async function readStackFile(stateDir: string): Promise<StackFile | undefined> {
  try {
    return JSON.parse(await readFile(stackFilePath(stateDir), "utf8")) as StackFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Removes `stack.json` of `stateDir`; nothing happens when there is none. */
export async function removeStackFile(stateDir: string): Promise<void> {
  await rm(stackFilePath(stateDir), { force: true });
}

/** The dead-letter file of a local stack's state directory (`.local/dead-letter.jsonl` by default). */
export const deadLetterFilePath = (stateDir: string): string => join(stateDir, "dead-letter.jsonl");

/**
 * The dead-letter file of the real-time publish consumer (`.local/publish-dead-letter.jsonl`):
 * records whose events were not delivered after the retries, apart from the fan-out's.
 */
export const publishDeadLetterFilePath = (stateDir: string): string => join(stateDir, "publish-dead-letter.jsonl");
