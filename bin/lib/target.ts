/**
 * Where an operator command runs: the local stack (default, from `.local/stack.json`) or AWS
 * (`--prod`: the default credential chain and region; table and user pool from flags or env).
 */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  deadLetterFilePath,
  localCognitoClient,
  localDocumentClient,
  localDynamoDbClient,
  localStreamsClient,
  readStackFile,
  stackFilePath,
} from "../../local/state";
import { CONFIG_ENV } from "../../shared/config";
import { TABLE_NAME } from "../../shared/table";
import { OpsError } from "./ops-errors";

/** A resolved target. */
export interface Target {
  kind: "local" | "cloud";
  /** Undefined in the cloud when the SDK is to resolve it (AWS_REGION, profile). */
  region: string | undefined;
  tableName: string;
  /** Undefined in the cloud when neither `--user-pool-id` nor USER_POOL_ID is given. */
  userPoolId: string | undefined;
  /** Local only. */
  dynamodbEndpoint: string | undefined;
  /** Local only. */
  cognitoEndpoint: string | undefined;
  /** Local only: the stack's dead-letter file (the fan-out's on-failure destination). */
  deadLetterFile: string | undefined;
  /**
   * Cloud only: the fan-out's SQS on-failure queue; undefined when neither `--queue-url` nor
   * FAN_OUT_FAILURE_QUEUE_URL is given.
   */
  failureQueueUrl: string | undefined;
}

/** Environment variable naming the on-failure queue for `--prod` (the stack output FanOutFailureQueueUrl). */
export const FAILURE_QUEUE_URL_ENV = "FAN_OUT_FAILURE_QUEUE_URL";

/** The target options of the command line. */
export interface TargetOptions {
  prod: boolean;
  table: string | undefined;
  userPoolId: string | undefined;
  region: string | undefined;
  /** `--queue-url`, for the commands that take it. */
  queueUrl?: string | undefined;
}

/**
 * Resolves the target.
 * - local: `<stateDir>/stack.json` written by `npm start`; `--table`/`--user-pool-id` override its
 *   values (handy for a second table), `--region` is ignored (DynamoDB Local keeps one database
 *   per access key and region, so the stack's region is the one that holds the data).
 * - cloud: table = `--table` ?? env TABLE_NAME ?? `cruddur-messages`; pool = `--user-pool-id` ??
 *   env USER_POOL_ID (the functions' variables, `CONFIG_ENV` of shared/config.ts, and the stack
 *   outputs TableName and UserPoolId); on-failure queue = `--queue-url` ?? env
 *   FAN_OUT_FAILURE_QUEUE_URL (the stack output FanOutFailureQueueUrl); region = `--region` ?? the SDK's.
 * @throws OpsError when no local stack file exists ("run npm start").
 */
export async function resolveTarget(options: TargetOptions, stateDir: string, env: NodeJS.ProcessEnv): Promise<Target> {
  const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);
  if (options.prod) {
    return {
      kind: "cloud",
      region: nonEmpty(options.region),
      tableName: nonEmpty(options.table) ?? nonEmpty(env[CONFIG_ENV.tableName]) ?? TABLE_NAME,
      userPoolId: nonEmpty(options.userPoolId) ?? nonEmpty(env[CONFIG_ENV.userPoolId]),
      dynamodbEndpoint: undefined,
      cognitoEndpoint: undefined,
      deadLetterFile: undefined,
      failureQueueUrl: nonEmpty(options.queueUrl) ?? nonEmpty(env[FAILURE_QUEUE_URL_ENV]),
    };
  }
  let stack: Awaited<ReturnType<typeof readStackFile>>;
  try {
    stack = await readStackFile(stateDir);
  } catch (error) {
    throw new OpsError(
      `cannot read ${stackFilePath(stateDir)}: ${error instanceof Error ? error.message : String(error)}`,
      "restart the local stack with `npm start`",
    );
  }
  if (stack === undefined) {
    throw new OpsError(
      `no local stack is running (${stackFilePath(stateDir)} not found)`,
      "start it with `npm start` in another terminal, or pass --prod to work on AWS",
    );
  }
  return {
    kind: "local",
    region: stack.region,
    tableName: nonEmpty(options.table) ?? stack.tableName,
    userPoolId: nonEmpty(options.userPoolId) ?? stack.userPoolId,
    dynamodbEndpoint: stack.dynamodbEndpoint,
    cognitoEndpoint: stack.cognitoEndpoint,
    deadLetterFile: deadLetterFilePath(stateDir),
    failureQueueUrl: undefined,
  };
}

/** Where the target is, for the operator: `local stack` or `AWS eu-west-1`. */
export function describeTarget(target: Target): string {
  if (target.kind === "local") return "local stack";
  return target.region === undefined ? "AWS" : `AWS ${target.region}`;
}

/**
 * The user pool id of the target.
 * @throws OpsError (cloud) when neither `--user-pool-id` nor USER_POOL_ID is given.
 */
export function requirePool(target: Target): string {
  if (target.userPoolId === undefined) {
    throw new OpsError(
      "no user pool given",
      `pass --user-pool-id <id> or set ${CONFIG_ENV.userPoolId} (the stack output UserPoolId)`,
    );
  }
  return target.userPoolId;
}

/**
 * The on-failure queue URL of a cloud target.
 * @throws OpsError when neither `--queue-url` nor FAN_OUT_FAILURE_QUEUE_URL is given.
 */
export function requireQueueUrl(target: Target): string {
  if (target.failureQueueUrl === undefined) {
    throw new OpsError(
      "no on-failure queue given",
      `pass --queue-url <url> or set ${FAILURE_QUEUE_URL_ENV} (the stack output FanOutFailureQueueUrl)`,
    );
  }
  return target.failureQueueUrl;
}

/** SDK clients of a target; `destroy()` closes their sockets. */
export interface Clients {
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  cognito: CognitoIdentityProviderClient;
  /** DynamoDB Streams of the table (the fan-out redrive reads it). */
  streams: DynamoDBStreamsClient;
  destroy(): void;
}

/**
 * Builds the clients. Locally they come from the local client factory (the local stack's
 * endpoints and its one access key, so the same database as the stack); in the cloud, the SDK's
 * default credential chain and region.
 * Nothing is contacted until a command is sent.
 */
export function createClients(target: Target): Clients {
  let ddb: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let cognito: CognitoIdentityProviderClient;
  let streams: DynamoDBStreamsClient;
  if (target.kind === "local") {
    // resolveTarget sets both endpoints of a local target (from stack.json).
    const dynamodb = { endpoint: target.dynamodbEndpoint as string, region: target.region };
    ddb = localDynamoDbClient(dynamodb);
    doc = localDocumentClient(dynamodb);
    cognito = localCognitoClient({ endpoint: target.cognitoEndpoint as string, region: target.region });
    streams = localStreamsClient(dynamodb);
  } else {
    const base = target.region === undefined ? {} : { region: target.region };
    ddb = new DynamoDBClient(base);
    doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
    cognito = new CognitoIdentityProviderClient(base);
    streams = new DynamoDBStreamsClient(base);
  }
  return {
    ddb,
    doc,
    cognito,
    streams,
    destroy() {
      doc.destroy();
      ddb.destroy();
      cognito.destroy();
      streams.destroy();
    },
  };
}
