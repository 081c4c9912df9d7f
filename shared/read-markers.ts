/**
 * Unread counts, read markers and read receipts (issue "Conversation controls"; DESIGN.md
 * vocabulary). Each member of a group has one read marker (`shared/items/read-marker.ts`) naming
 * the MSG row read up to; it only moves forward.
 *
 * The unread count is never stored: it is counted from the MSG rows themselves, as the other
 * member's messages after the caller's marker (a key condition on the MSG partition, filtered on
 * the sender), so it is exact whatever the stream does: replays, duplicates, reordering, batching
 * and crashes of the fan-out never touch it, and a concurrent read or post changes only the marker,
 * by one conditional write. Counting stops at {@link UNREAD_COUNT_CAP}.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import { batchGetAll } from "./batch-get";
import { notFound } from "./errors";
import type { MessageItem } from "./items/message";
import type { MessageGroupSummaryItem } from "./items/message-group-summary";
import { type ReadMarkerItem, readMarkerItem } from "./items/read-marker";
import { msgPk, READ_MARKER_PREFIX, readMarkerKey } from "./table";
import { type Clock, systemClock, toTimestamp } from "./time";

export interface ReadMarkerDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

/**
 * Unread counts are exact from 0 to 99; 100 means "100 or more" (the count stops there, so a long
 * unread history costs a bounded read: at most about 100 rows per group).
 */
export const UNREAD_COUNT_CAP = 100;

/** Counts of one page of pattern B run at most this many at once. */
const COUNT_CONCURRENCY = 8;

/** The read state of one group for one member, as the API shows it. */
export interface ReadState {
  unread_count: number;
  /** The caller's marker: created_at of the message read up to, or null (nothing read yet). */
  last_read_at: string | null;
  /** The other member's marker (the read receipt), or null. */
  other_last_read_at: string | null;
}

/** A member's marker in a group, strongly consistent. @returns `undefined` when none yet. */
export async function getReadMarker(
  deps: ReadMarkerDeps,
  messageGroupUuid: string,
  userUuid: string,
): Promise<ReadMarkerItem | undefined> {
  const out = await deps.ddb.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: readMarkerKey(messageGroupUuid, userUuid),
      ConsistentRead: true,
    }),
  );
  return out.Item as ReadMarkerItem | undefined;
}

/**
 * Moves `userUuid`'s marker in a group forward to `message`, never back: one conditional
 * UpdateItem (`last_read_sk < :sk` or no marker yet). Safe to call concurrently and repeatedly.
 * @param message a MSG row of the group.
 * @returns the marker after the call: `message`'s, or a newer one that was already there.
 * @throws AWS SDK errors (throttling included) after the SDK's retries.
 */
export async function moveReadMarker(
  deps: ReadMarkerDeps,
  input: {
    messageGroupUuid: string;
    userUuid: string;
    otherUserUuid: string;
    message: Pick<MessageItem, "sk" | "created_at" | "message_uuid">;
  },
): Promise<ReadMarkerItem> {
  const item = readMarkerItem({ ...input, updatedAt: toTimestamp((deps.clock ?? systemClock)()) });
  try {
    const out = await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: readMarkerKey(input.messageGroupUuid, input.userUuid),
        UpdateExpression:
          "SET user_uuid = :user, other_user_uuid = :other, last_read_sk = :sk, last_read_at = :at, last_read_message_uuid = :uuid, updated_at = :now",
        ConditionExpression: "attribute_not_exists(last_read_sk) OR last_read_sk < :sk",
        ExpressionAttributeValues: {
          ":user": item.user_uuid,
          ":other": item.other_user_uuid,
          ":sk": item.last_read_sk,
          ":at": item.last_read_at,
          ":uuid": item.last_read_message_uuid,
          ":now": item.updated_at,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return (out.Attributes as ReadMarkerItem | undefined) ?? item;
  } catch (error) {
    if (!(error instanceof Error) || error.name !== "ConditionalCheckFailedException") throw error;
    // Already at this message or past it: forward only.
    const current = await getReadMarker(deps, input.messageGroupUuid, input.userUuid);
    if (current === undefined) throw error;
    return current;
  }
}

/**
 * The number of messages of the group sent by anyone but `userUuid` whose sort key is after
 * `afterSk` (all of them when `afterSk` is undefined), up to {@link UNREAD_COUNT_CAP}. Eventually
 * consistent Query pages of the MSG partition (`Select: COUNT`, a filter on the sender), oldest first.
 */
export async function countUnread(
  deps: ReadMarkerDeps,
  messageGroupUuid: string,
  userUuid: string,
  afterSk: string | undefined,
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: afterSk === undefined ? "pk = :pk" : "pk = :pk AND sk > :after",
        FilterExpression: "user_uuid <> :me",
        ExpressionAttributeValues: {
          ":pk": msgPk(messageGroupUuid),
          ":me": userUuid,
          ...(afterSk === undefined ? {} : { ":after": afterSk }),
        },
        Select: "COUNT",
        Limit: UNREAD_COUNT_CAP,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start !== undefined && count < UNREAD_COUNT_CAP);
  return Math.min(count, UNREAD_COUNT_CAP);
}

/**
 * The markers of many (group, member) pairs, with BatchGetItem (`batchGetAll`: 100 keys a
 * request, unprocessed keys retried), eventually consistent.
 * @returns markers by `"<message_group_uuid> <user uuid>"`; pairs with none are absent.
 */
export async function getReadMarkers(
  deps: ReadMarkerDeps,
  pairs: readonly { messageGroupUuid: string; userUuid: string }[],
): Promise<Map<string, ReadMarkerItem>> {
  const found = new Map<string, ReadMarkerItem>();
  const keys = [...new Map(pairs.map((p) => [pairKey(p.messageGroupUuid, p.userUuid), p])).values()].map((p) =>
    readMarkerKey(p.messageGroupUuid, p.userUuid),
  );
  for (const item of await batchGetAll<ReadMarkerItem>(deps.ddb, deps.tableName, keys)) {
    found.set(pairKey(item.pk.slice(READ_MARKER_PREFIX.length), item.user_uuid), item);
  }
  return found;
}

const pairKey = (messageGroupUuid: string, userUuid: string): string => `${messageGroupUuid} ${userUuid}`;

/**
 * The read state of each GRP row of one page of pattern B for its owner `callerUuid`: one
 * BatchGetItem for both members' markers of the page, then one count per group. The count is
 * taken from the MSG rows even when the GRP row shows a message the caller has read: the row may
 * lag behind the stream (the fan-out is asynchronous), the MSG rows never do, so a count is
 * never stale.
 * @returns one {@link ReadState} per row, in the rows' order.
 */
export async function readStatesOf(
  deps: ReadMarkerDeps,
  callerUuid: string,
  rows: readonly MessageGroupSummaryItem[],
): Promise<ReadState[]> {
  if (rows.length === 0) return [];
  const markers = await getReadMarkers(
    deps,
    rows.flatMap((r) => [
      { messageGroupUuid: r.message_group_uuid, userUuid: callerUuid },
      { messageGroupUuid: r.message_group_uuid, userUuid: r.user_uuid },
    ]),
  );
  const limit = pLimit(COUNT_CONCURRENCY);
  return Promise.all(
    rows.map((row) =>
      limit(async (): Promise<ReadState> => {
        const mine = markers.get(pairKey(row.message_group_uuid, callerUuid));
        const theirs = markers.get(pairKey(row.message_group_uuid, row.user_uuid));
        return {
          unread_count: await countUnread(deps, row.message_group_uuid, callerUuid, mine?.last_read_sk),
          last_read_at: mine?.last_read_at ?? null,
          other_last_read_at: theirs?.last_read_at ?? null,
        };
      }),
    ),
  );
}

/** Finds the MSG row `messageUuid` of a group among the rows with sk after / up to `sk`. */
async function findMessage(
  deps: ReadMarkerDeps,
  messageGroupUuid: string,
  messageUuid: string,
  range: { after: string } | { upTo: string } | undefined,
): Promise<MessageItem | undefined> {
  let start: Record<string, unknown> | undefined;
  const condition =
    range === undefined ? "pk = :pk" : "after" in range ? "pk = :pk AND sk > :edge" : "pk = :pk AND sk <= :edge";
  const edge = range === undefined ? undefined : "after" in range ? range.after : range.upTo;
  do {
    const out = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: condition,
        FilterExpression: "message_uuid = :uuid",
        ExpressionAttributeValues: {
          ":pk": msgPk(messageGroupUuid),
          ":uuid": messageUuid,
          ...(edge === undefined ? {} : { ":edge": edge }),
        },
        // Newest first from the edge: a client marks what it just showed, near the newest.
        ScanIndexForward: range !== undefined && "after" in range,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    const item = out.Items?.[0] as MessageItem | undefined;
    if (item !== undefined) return item;
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return undefined;
}

/** The newest MSG row of a group (consistent), or `undefined` for a group with no message. */
async function newestMessage(deps: ReadMarkerDeps, messageGroupUuid: string): Promise<MessageItem | undefined> {
  const out = await deps.ddb.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": msgPk(messageGroupUuid) },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return out.Items?.[0] as MessageItem | undefined;
}

/** What POST /api/message_groups/{message_group_uuid}/read answers. */
export interface MarkReadView {
  message_group_uuid: string;
  last_read_at: string | null;
  unread_count: number;
}

/**
 * Marks a group read by `callerUuid` up to `messageUuid` (default: the group's newest message),
 * forward only: a message at or before the caller's marker changes nothing. Membership is the
 * caller's business to check first (`shared/messages.ts` `markGroupRead`).
 * @param otherUuid the other member (named in the marker for the read receipt's event).
 * @returns the marker after the call and the caller's unread count after it.
 * @throws AppError 404 `["message_not_found"]` when `messageUuid` is not a message of the group.
 */
export async function markRead(
  deps: ReadMarkerDeps,
  input: { messageGroupUuid: string; callerUuid: string; otherUuid: string; messageUuid: string | undefined },
): Promise<MarkReadView> {
  const { messageGroupUuid, callerUuid } = input;
  const current = await getReadMarker(deps, messageGroupUuid, callerUuid);
  let target: MessageItem | undefined;
  if (input.messageUuid === undefined) {
    target = await newestMessage(deps, messageGroupUuid);
  } else {
    target = await findMessage(
      deps,
      messageGroupUuid,
      input.messageUuid,
      current === undefined ? undefined : { after: current.last_read_sk },
    );
    if (target === undefined && current !== undefined) {
      // At or before the marker (nothing to move), or not in this group at all.
      const older = await findMessage(deps, messageGroupUuid, input.messageUuid, { upTo: current.last_read_sk });
      if (older === undefined) throw notFound("message_not_found");
    } else if (target === undefined) {
      throw notFound("message_not_found");
    }
  }
  const marker =
    target === undefined || (current !== undefined && current.last_read_sk >= target.sk)
      ? current
      : await moveReadMarker(deps, {
          messageGroupUuid,
          userUuid: callerUuid,
          otherUserUuid: input.otherUuid,
          message: target,
        });
  return {
    message_group_uuid: messageGroupUuid,
    last_read_at: marker?.last_read_at ?? null,
    unread_count: await countUnread(deps, messageGroupUuid, callerUuid, marker?.last_read_sk),
  };
}
