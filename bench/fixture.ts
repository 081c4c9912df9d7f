/**
 * What every measurement runs against: DynamoDB Local and cognito-local started with the local
 * stack's helpers on free ports, the table and user pool from the shared definitions, the seeded
 * users and conversation, and a second conversation for the rename route's user (`renamer`, the
 * third seeded user, who has exactly that one conversation). No HTTP emulator and no stream poller: the bench drives the handlers
 * itself, so nothing runs in the background while it measures.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ensureUserPool, startCognitoLocal, waitForCognito } from "../local/cognito-local";
import { ensureTable, startDynamoDbLocal, waitForDynamoDb } from "../local/dynamodb-local";
import { freePort } from "../local/free-port";
import { type SeededUser, seedDirectory, seedLocalConversation, seedUsers } from "../local/seed";
import { SEED_CONVERSATION, SEED_USERS } from "../local/seed-data";
import { DEFAULT_REGION, LOCAL_CREDENTIALS } from "../local/settings";
import { CONFIG_ENV, SERVICE_NAME } from "../shared/config";
import { messageGroupUuidFor } from "../shared/ids";
import { seedConversation } from "../shared/seed";
import { TABLE_NAME } from "../shared/table";

/** The running services and the seeded data. */
export interface Fixture {
  region: string;
  tableName: string;
  dynamodbEndpoint: string;
  cognitoEndpoint: string;
  userPoolId: string;
  /** Seeded users; `users[0]` and `users[1]` share {@link Fixture.groupUuid}. */
  users: SeededUser[];
  /** The seeded conversation's message_group_uuid. */
  groupUuid: string;
  /**
   * The user that PATCH /api/users/me requests rename (`users[2]`), whose one conversation is
   * with `users[1]`; the other benchmarks never act as this user.
   */
  renamer: SeededUser;
  /** The renamer's one conversation. */
  renamerGroupUuid: string;
  /** The functions' environment (shared/config.ts names), logs off. */
  functionEnv: Record<string, string>;
  /** A plain DocumentClient on DynamoDB Local (the baselines' client: no middleware). */
  newDocumentClient(): DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** A DocumentClient configured as `shared/clients.ts` configures the functions' client. */
function documentClient(endpoint: string, region: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Starts the services (about 4 s) and seeds them (at least three users: see {@link Fixture}). */
export async function startFixture(): Promise<Fixture> {
  const region = DEFAULT_REGION;
  const tableName = TABLE_NAME;
  const dir = await mkdtemp(join(tmpdir(), "cruddur-bench-"));
  const [dynamodbPort, cognitoPort] = [await freePort(), await freePort()];
  const dynamodbEndpoint = `http://127.0.0.1:${dynamodbPort}`;
  const cognitoEndpoint = `http://127.0.0.1:${cognitoPort}`;
  const dynamodb = await startDynamoDbLocal({ port: dynamodbPort });
  const cognito = await startCognitoLocal({ port: cognitoPort, dir, fresh: true });
  const stop = async () => {
    await Promise.all([dynamodb.stop(), cognito.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ddbProbe = new DynamoDBClient({
      endpoint: dynamodbEndpoint,
      region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const cognitoClient = new CognitoIdentityProviderClient({
      endpoint: cognitoEndpoint,
      region,
      credentials: LOCAL_CREDENTIALS,
    });
    await Promise.all([waitForDynamoDb(ddbProbe, dynamodb), waitForCognito(cognitoClient, cognito)]);
    await ensureTable(ddbProbe, tableName);
    const pool = await ensureUserPool(cognitoClient);
    const users = await seedUsers(cognitoClient, pool.userPoolId, SEED_USERS);
    const doc = documentClient(dynamodbEndpoint, region);
    // The routes read identity from the directory only: the seeded users need their profiles.
    await seedDirectory({ ddb: doc, tableName }, users, Date.now());
    await seedLocalConversation(doc, tableName, users, Date.now());
    const [a, b, renamer] = users as [SeededUser, SeededUser, SeededUser];
    const renamerGroup = await seedConversation(doc, tableName, {
      a: renamer,
      b,
      messages: SEED_CONVERSATION.slice(0, 4),
      endAtMs: Date.now() - 60_000,
      stepMs: 60_000,
    });
    for (const client of [ddbProbe, cognitoClient, doc]) client.destroy();
    return {
      region,
      tableName,
      dynamodbEndpoint,
      cognitoEndpoint,
      userPoolId: pool.userPoolId,
      users,
      groupUuid: messageGroupUuidFor(a.uuid, b.uuid),
      renamer,
      renamerGroupUuid: renamerGroup.message_group_uuid,
      functionEnv: {
        [CONFIG_ENV.tableName]: tableName,
        [CONFIG_ENV.region]: region,
        [CONFIG_ENV.dynamodbEndpoint]: dynamodbEndpoint,
        [CONFIG_ENV.cognitoEndpoint]: cognitoEndpoint,
        [CONFIG_ENV.userPoolId]: pool.userPoolId,
        [CONFIG_ENV.serviceName]: SERVICE_NAME,
        [CONFIG_ENV.logLevel]: "SILENT",
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      newDocumentClient: () => documentClient(dynamodbEndpoint, region),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
