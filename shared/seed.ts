/**
 * Seeding a conversation with history: the message group item, both GRP rows (agreeing with
 * the last message) and every MSG row. {@link seedDemoConversation} writes the demo conversation
 * of `shared/seed-data.ts`, for both the local stack (`npm start`) and `ddb seed`.
 */
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { v5 as uuidv5 } from "uuid";
import { cancellationCodes } from "./errors";
import { messageGroupUuidFor } from "./ids";
import { type MessageItem, messageItem } from "./items/message";
import { messageGroupItem } from "./items/message-group";
import { summaryItems } from "./items/message-group-summary";
import type { UserProfile } from "./items/profile";
import { SEED_CONVERSATION, SEED_LAST_MESSAGE_AGE_MS, SEED_MESSAGE_STEP_MS } from "./seed-data";
import { messageGroupKey } from "./table";
import { toTimestamp } from "./time";

export interface SeedConversationInput {
  a: UserProfile;
  b: UserProfile;
  /** Oldest first. */
  messages: readonly { from: "a" | "b"; text: string }[];
  /** Epoch ms of the last message. */
  endAtMs: number;
  /** Gap between two messages, ms. */
  stepMs: number;
}

export interface SeedConversationResult {
  message_group_uuid: string;
  /** Items written (0 when skipped). */
  written: number;
  /** True when the pair already had a message group: nothing is written, so seeding twice leaves one copy. */
  skipped: boolean;
}

/** BatchWriteItem takes at most 25 requests (AWS DynamoDB API reference). */
const BATCH_WRITE_MAX = 25;

/**
 * Writes a conversation between `a` and `b`: message i is at `endAtMs - (n-1-i)*stepMs`.
 * Message uuids are derived from the group and the index. The group item and both GRP rows are
 * written first, in one transaction conditioned on the group not existing, so a repeated or
 * concurrent seed never writes a second copy; the MSG rows follow. A seed interrupted during the
 * MSG rows leaves a group with part of its history, and a rerun skips it: drop the table to redo.
 * @throws Error when `messages` is empty; AWS SDK errors from DynamoDB.
 */
export async function seedConversation(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  input: SeedConversationInput,
): Promise<SeedConversationResult> {
  if (input.messages.length === 0) throw new Error("seedConversation needs at least one message");
  const messageGroupUuid = messageGroupUuidFor(input.a.uuid, input.b.uuid);
  const existing = await ddb.send(
    new GetCommand({ TableName: tableName, Key: messageGroupKey(messageGroupUuid), ConsistentRead: true }),
  );
  if (existing.Item !== undefined) return { message_group_uuid: messageGroupUuid, written: 0, skipped: true };

  const n = input.messages.length;
  const rows: MessageItem[] = input.messages.map((m, i) =>
    messageItem({
      messageGroupUuid,
      messageUuid: uuidv5(`${messageGroupUuid}:${i}`, messageGroupUuid),
      sender: m.from === "a" ? input.a : input.b,
      text: m.text,
      createdAt: toTimestamp(input.endAtMs - (n - 1 - i) * input.stepMs),
    }),
  );
  // Claim the pair first: the group item (conditional) and both GRP rows in one transaction, so
  // of two seeds racing exactly one writes, and the summaries always agree with the last message.
  const last = rows[n - 1] as MessageItem;
  const group = messageGroupItem({
    messageGroupUuid,
    members: [input.a, input.b],
    shown: last,
    createdAt: (rows[0] as MessageItem).created_at, // the group began with its oldest message
  });
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: group, ConditionExpression: "attribute_not_exists(pk)" } },
          ...summaryItems(messageGroupUuid, group.members, last).map((Item) => ({
            Put: { TableName: tableName, Item },
          })),
        ],
      }),
    );
  } catch (error) {
    if (cancellationCodes(error)?.[0] === "ConditionalCheckFailed") {
      return { message_group_uuid: messageGroupUuid, written: 0, skipped: true };
    }
    throw error;
  }
  // Then the history. The fan-out ignores these inserts: none is newer than the group's last message.
  for (let i = 0; i < rows.length; i += BATCH_WRITE_MAX) {
    let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]["RequestItems"]> = {
      [tableName]: rows.slice(i, i + BATCH_WRITE_MAX).map((Item) => ({ PutRequest: { Item } })),
    };
    // BatchWriteItem may leave some requests unprocessed under load: resend them.
    for (let attempt = 0; Object.keys(requests).length > 0; attempt++) {
      if (attempt > 10) throw new Error("seedConversation: unprocessed items after 10 retries");
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: requests }));
      requests = out.UnprocessedItems ?? {};
    }
  }
  return { message_group_uuid: messageGroupUuid, written: n + 3, skipped: false };
}

/**
 * Writes the demo conversation (`SEED_CONVERSATION` of `shared/seed-data.ts`) between `a` and
 * `b`: one message a minute (`SEED_MESSAGE_STEP_MS`), the last one `SEED_LAST_MESSAGE_AGE_MS`
 * before `nowMs` (epoch ms). The one seeding of both `npm start` and `ddb seed`; idempotent like
 * {@link seedConversation} (a pair that already has a group is skipped).
 * @throws AWS SDK errors from DynamoDB.
 */
export function seedDemoConversation(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  members: { a: UserProfile; b: UserProfile },
  nowMs: number,
): Promise<SeedConversationResult> {
  return seedConversation(ddb, tableName, {
    ...members,
    messages: SEED_CONVERSATION,
    endAtMs: nowMs - SEED_LAST_MESSAGE_AGE_MS,
    stepMs: SEED_MESSAGE_STEP_MS,
  });
}
