/**
 * What every measurement runs against: the local stack's services (`startLocalServices` of
 * local/services.ts) on free ports, with the seeded users and conversation, and a second
 * conversation for the rename route's user (`renamer`, the third seeded user, who has exactly
 * that one conversation). No HTTP emulator and no stream poller: the bench drives the handlers
 * itself, so nothing runs in the background while it measures.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { freePort } from "../local/free-port";
import type { SeededUser } from "../local/seed";
import { startLocalServices } from "../local/services";
import { localDocumentClient } from "../local/state";
import { CONFIG_ENV, type SendLimitSettings } from "../shared/config";
import { messageGroupUuidFor } from "../shared/ids";
import { seedConversation } from "../shared/seed";
import { SEED_CONVERSATION } from "../shared/seed-data";

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

/** Send limits no benchmark meets (the defaults, 30 messages a minute, would refuse its posts). */
export const UNLIMITED_SEND_LIMITS: SendLimitSettings = {
  messagesPerMinute: 1_000_000,
  messageBurst: 1_000_000,
  newGroupsPerHour: 1_000_000,
};

/** What a {@link Fixture} is without its functions: what a child process of the bench gets (JSON). */
export type FixtureData = Omit<Fixture, "newDocumentClient" | "stop">;

/** The serializable part of `fixture`. */
export function fixtureData(fixture: Fixture): FixtureData {
  const { newDocumentClient: _client, stop: _stop, ...data } = fixture;
  return data;
}

/**
 * A fixture in a child process from the {@link FixtureData} of the parent's: the same services
 * and data; its `stop()` does nothing (the parent stops the services).
 */
export function attachFixture(data: FixtureData): Fixture {
  return {
    ...data,
    newDocumentClient: () => localDocumentClient({ endpoint: data.dynamodbEndpoint, region: data.region }),
    stop: async () => {},
  };
}

/**
 * Starts the services with the local stack's own start (`startLocalServices`: DynamoDB Local,
 * cognito-local, the trigger endpoint, the seeded users, profiles and conversation) on free
 * ports in a temporary state directory, quiet, in about 4 s; then seeds the renamer's
 * conversation (at least three users: see {@link Fixture}).
 */
export async function startFixture(): Promise<Fixture> {
  const stateDir = await mkdtemp(join(tmpdir(), "cruddur-bench-"));
  let services: Awaited<ReturnType<typeof startLocalServices>> | undefined;
  const stop = async () => {
    await services?.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    services = await startLocalServices({
      dynamodbPort: await freePort(),
      cognitoPort: await freePort(),
      lambdaPort: await freePort(),
      eventsPort: await freePort(),
      stateDir,
      quiet: true,
    });
    const { region, tableName, dynamodbEndpoint, users } = services;
    const newDocumentClient = () => localDocumentClient({ endpoint: dynamodbEndpoint, region });
    const [a, b, renamer] = users as [SeededUser, SeededUser, SeededUser];
    const doc = newDocumentClient();
    const renamerGroup = await seedConversation(doc, tableName, {
      a: renamer,
      b,
      messages: SEED_CONVERSATION.slice(0, 4),
      endAtMs: Date.now() - 60_000,
      stepMs: 60_000,
    }).finally(() => doc.destroy());
    return {
      region,
      tableName,
      dynamodbEndpoint,
      cognitoEndpoint: services.cognitoEndpoint,
      userPoolId: services.userPoolId,
      users,
      groupUuid: messageGroupUuidFor(a.uuid, b.uuid),
      renamer,
      renamerGroupUuid: renamerGroup.message_group_uuid,
      // The publish function's endpoint too: the local events emulator of these services.
      functionEnv: { ...services.functionEnv, [CONFIG_ENV.eventsHttpUrl]: new URL(services.events.httpUrl).origin },
      newDocumentClient,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
