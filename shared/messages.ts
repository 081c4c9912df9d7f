/**
 * Patterns A-D of DESIGN.md over a DynamoDB DocumentClient.
 *
 * Membership is read from the message group item with a strongly consistent GetItem (never
 * from the eventually consistent GSI), so a group created a moment ago is already postable and
 * a non-member is told 404 exactly as for a group that does not exist.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { batchGetAll } from "./batch-get";
import { decodeCursor, encodeCursor } from "./cursor";
import { isLostRace, notFound, unauthorized, unprocessable } from "./errors";
import { messageGroupUuidFor, newMessageUuid } from "./ids";
import { type MessageItem, messageItem } from "./items/message";
import { type MessageGroupItem, messageGroupItem } from "./items/message-group";
import { type MessageGroupSummaryItem, summaryItems } from "./items/message-group-summary";
import type { UserProfile } from "./items/profile";
import {
  type CreatedMessageView,
  type MessageGroupView,
  type MessageView,
  type Page,
  toCreatedMessageView,
  toMessageGroupView,
  toMessageView,
} from "./model";
import { type MarkReadView, markRead, type ReadState, readStatesOf } from "./read-markers";
import { grpPk, grpSk, isTimestampedSk, messageGroupKey, msgPk } from "./table";
import { type Clock, systemClock, toTimestamp } from "./time";
import type { UserDirectory } from "./users";
import type { PageRequest } from "./validation";

export interface MessagingDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch ms; injectable for tests. */
  clock?: Clock;
  /** New message_uuid; injectable for tests. */
  newUuid?: () => string;
}

/** Who a post is between, known before anything is written (patterns C and D). */
export interface PostTarget {
  messageGroupUuid: string;
  /** The other member. */
  otherUuid: string;
  /** True when the post creates the group (pattern D, first message of the pair). */
  newGroup: boolean;
}

/**
 * Called once a post's target is known and before anything is written: throws to refuse the post
 * (blocks, send limits: `shared/send.ts`). Patterns C and D call it exactly once per post.
 */
export type AdmitPost = (target: PostTarget) => Promise<void>;

const groupNotFound = () => notFound("message_group_not_found");

/**
 * The message group item, read strongly consistent.
 * @returns `undefined` when the group does not exist.
 */
export async function getMessageGroup(
  deps: MessagingDeps,
  messageGroupUuid: string,
): Promise<MessageGroupItem | undefined> {
  const out = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: messageGroupKey(messageGroupUuid), ConsistentRead: true }),
  );
  return out.Item as MessageGroupItem | undefined;
}

/** The group if `userUuid` is a member, else 404 (not found and not a member look the same). */
async function requireMembership(
  deps: MessagingDeps,
  messageGroupUuid: string,
  userUuid: string,
): Promise<MessageGroupItem> {
  const group = await getMessageGroup(deps, messageGroupUuid);
  if (group === undefined || !group.members.some((m) => m.uuid === userUuid)) throw groupNotFound();
  return group;
}

/**
 * One page of one partition, newest first by default: reads `limit + 1` rows so the cursor is
 * given only when a further row really exists. The cursor is bound to `scope` and must carry a
 * sort key `isValidSk` accepts.
 * @param options.skPrefix only rows whose sort key starts with it (a `begins_with` key condition).
 * @param options.oldestFirst ascending sort key order instead.
 * @returns the page's rows, the cursor of the next page, and `after`: the sort key the page
 *   started below (from `page.cursor`; `undefined` on the first page).
 * @throws AppError 400 `["cursor_invalid"]` for a cursor not made by this query.
 */
export async function queryPage<T extends { sk: string }>(
  deps: Pick<MessagingDeps, "ddb" | "tableName">,
  query: { pk: string; scope: string; isValidSk: (sk: string) => boolean; skPrefix?: string; oldestFirst?: boolean },
  page: PageRequest,
): Promise<{ rows: T[]; cursor: string | undefined; after: string | undefined }> {
  const { pk, scope } = query;
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, scope, query.isValidSk);
  const out = await deps.ddb.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: query.skPrefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": pk, ...(query.skPrefix === undefined ? {} : { ":prefix": query.skPrefix }) },
      ScanIndexForward: query.oldestFirst === true,
      Limit: page.limit + 1,
      ...(after === undefined ? {} : { ExclusiveStartKey: { pk, sk: after } }),
    }),
  );
  const items = (out.Items ?? []) as T[];
  const rows = items.slice(0, page.limit);
  const last = rows[rows.length - 1];
  const more = items.length > page.limit || (out.LastEvaluatedKey !== undefined && rows.length === page.limit);
  return { rows, cursor: more && last !== undefined ? encodeCursor(scope, last.sk) : undefined, after };
}

/** Newest-first page of a partition whose sort keys start with a table timestamp (patterns A and B). */
const queryNewestFirst = <T extends { sk: string }>(
  deps: MessagingDeps,
  pk: string,
  scope: string,
  page: PageRequest,
) => queryPage<T>(deps, { pk, scope, isValidSk: isTimestampedSk }, page);

/**
 * Pattern A: one page of the messages of a group, newest page first, each page oldest first.
 * No date filter: a conversation of any age is listed.
 * @param callerUuid the caller's `sub`.
 * @throws AppError 404 `["message_group_not_found"]` when the group does not exist or the caller
 *   is not a member; 400 `["cursor_invalid"]` for a cursor not made by this query.
 */
export async function listMessages(
  deps: MessagingDeps,
  callerUuid: string,
  messageGroupUuid: string,
  page: PageRequest,
): Promise<Page<MessageView>> {
  const group = await requireMembership(deps, messageGroupUuid, callerUuid);
  const { rows, cursor } = await queryNewestFirst<MessageItem>(
    deps,
    msgPk(messageGroupUuid),
    `messages:${messageGroupUuid}`,
    page,
  );
  // The senders as they are named now (the group item follows renames), not as the rows were written.
  return { items: rows.reverse().map((row) => toMessageView(row, group.members)), cursor };
}

/**
 * Pattern B: one page of the caller's message groups, most recent activity first, each view with
 * the caller's read state (`unread_count` 0-100, 100 meaning "100 or more"; `last_read_at` and
 * `other_last_read_at`, table timestamps or null; `shared/read-markers.ts`). Each group is listed
 * once, also while the fan-out is moving its summary ({@link currentSummaries}); a page may
 * therefore hold fewer than `limit` groups and still have a cursor. Costs one Query of the GRP
 * rows, one BatchGetItem of the page's markers and one COUNT Query per listed group, and on pages
 * after the first one strongly consistent BatchGetItem of the listed groups' items.
 * @throws AppError 400 `["cursor_invalid"]` for a cursor not made by this query for this caller.
 */
export async function listMessageGroups(
  deps: MessagingDeps,
  callerUuid: string,
  page: PageRequest,
): Promise<Page<MessageGroupView & ReadState>> {
  const listed = await queryNewestFirst<MessageGroupSummaryItem>(
    deps,
    grpPk(callerUuid),
    `message_groups:${callerUuid}`,
    page,
  );
  const { cursor } = listed;
  const rows = await currentSummaries(deps, listed.rows, listed.after);
  const states = await readStatesOf(deps, callerUuid, rows);
  return {
    items: rows.map((row, i) => ({ ...toMessageGroupView(row), ...(states[i] as ReadState) })),
    cursor,
  };
}

/**
 * The GRP rows of one page of pattern B that show each group once. Between the fan-out's puts and
 * deletes (`shared/fan-out.ts`) a member has two rows of a group, the newer one above: within a
 * page only the first (newest) row of each group is kept; on a page after the first (`after`, the
 * sort key it starts below) a row is dropped when its group item, read strongly consistent, shows
 * a summary at or above `after`, which is the row the earlier pages listed (or, if it moved there
 * since, the group moved up during the paging, as a newer message moves it in any case).
 * @param rows one page of GRP rows, newest first.
 * @param after the sort key the page starts below (`queryPage`'s `after`), `undefined` on the first page.
 * @returns the rows kept, in the same order. Costs no call on the first page; on later pages one
 *   strongly consistent BatchGetItem (1 RCU per listed group).
 * @throws AWS SDK errors; Error when group items stay unprocessed (`batchGetAll`).
 */
export async function currentSummaries(
  deps: Pick<MessagingDeps, "ddb" | "tableName">,
  rows: readonly MessageGroupSummaryItem[],
  after: string | undefined,
): Promise<MessageGroupSummaryItem[]> {
  const seen = new Set<string>();
  const unique = rows.filter((row) => !seen.has(row.message_group_uuid) && seen.add(row.message_group_uuid));
  if (after === undefined || unique.length === 0) return unique;
  const groups = await batchGetAll<MessageGroupItem>(
    deps.ddb,
    deps.tableName,
    unique.map((row) => messageGroupKey(row.message_group_uuid)),
    { consistentRead: true },
  );
  const lastMessageAt = new Map(groups.map((g) => [g.pk, g.last_message_at]));
  return unique.filter((row) => {
    const at = lastMessageAt.get(messageGroupKey(row.message_group_uuid).pk);
    const sk = at === undefined ? undefined : grpSk(at, row.message_group_uuid);
    return sk === undefined || sk === row.sk || sk < after;
  });
}

/**
 * POST /api/message_groups/{message_group_uuid}/read: moves the caller's read marker forward to
 * `messageUuid` (default the newest message) (`shared/read-markers.ts` {@link markRead}).
 * @throws AppError 404 `["message_group_not_found"]` for a missing group or a non-member (as
 *   pattern A), 404 `["message_not_found"]` for a message not in the group.
 */
export async function markGroupRead(
  deps: MessagingDeps,
  callerUuid: string,
  messageGroupUuid: string,
  messageUuid: string | undefined,
): Promise<MarkReadView> {
  const group = await requireMembership(deps, messageGroupUuid, callerUuid);
  const other = group.members.find((m) => m.uuid !== callerUuid)?.uuid ?? callerUuid;
  return markRead(deps, { messageGroupUuid, callerUuid, otherUuid: other, messageUuid });
}

function newMessage(deps: MessagingDeps, messageGroupUuid: string, sender: UserProfile, text: string): MessageItem {
  return messageItem({
    messageGroupUuid,
    messageUuid: (deps.newUuid ?? newMessageUuid)(),
    sender,
    text,
    createdAt: toTimestamp((deps.clock ?? systemClock)()),
  });
}

/** Writes a MSG row; the fan-out (pattern E) moves the summaries from the stream. */
async function putMessage(deps: MessagingDeps, messageGroupUuid: string, item: MessageItem) {
  await deps.ddb.send(
    new PutCommand({ TableName: deps.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
  );
  return toCreatedMessageView(messageGroupUuid, item);
}

/**
 * Pattern C: posts `text` (already validated) to an existing group of which `sender` is a member.
 * Two posts in the same millisecond are both kept (the sort key carries the message_uuid).
 * `deps.admit` is called once the other member is known, before the write.
 * @throws AppError 404 `["message_group_not_found"]` for a missing group or a non-member; whatever
 *   `deps.admit` throws.
 */
export async function postToGroup(
  deps: MessagingDeps & { admit?: AdmitPost },
  sender: UserProfile,
  messageGroupUuid: string,
  text: string,
): Promise<CreatedMessageView> {
  const group = await requireMembership(deps, messageGroupUuid, sender.uuid);
  const otherUuid = group.members.find((m) => m.uuid !== sender.uuid)?.uuid ?? sender.uuid;
  await deps.admit?.({ messageGroupUuid, otherUuid, newGroup: false });
  return putMessage(deps, messageGroupUuid, newMessage(deps, messageGroupUuid, sender, text));
}

/** Most attempts of pattern D when its transaction races another (conflict, not a lost race). */
const MAX_CREATE_ATTEMPTS = 3;

/**
 * Pattern D: posts `text` to the conversation between `sender` and the user whose handle is
 * `handle`, creating it (message group item, both GRP rows and the first MSG row, in one
 * transaction) when the pair has none. The group id is derived from the pair, so concurrent
 * requests for one pair end with exactly one group: the loser of the conditional create posts
 * into the winner's group. The new group's members are read fresh from the directory (strongly
 * consistent, no cache), since their names are written into the group item and the summaries.
 * `deps.admit` is called once, before the first write (with `newGroup` true when this request
 * creates the group).
 * @throws AppError 404 `["handle_not_found"]` for an unknown handle; 422 `["cannot_message_self"]`;
 *   401 when the sender is no longer active; whatever `deps.admit` throws.
 */
export async function postToHandle(
  deps: MessagingDeps & { users: UserDirectory; admit?: AdmitPost },
  sender: UserProfile,
  handle: string,
  text: string,
): Promise<CreatedMessageView> {
  const other = await deps.users.byHandle(handle);
  if (other === undefined) throw notFound("handle_not_found");
  if (other.uuid === sender.uuid) throw unprocessable("cannot_message_self");
  const messageGroupUuid = messageGroupUuidFor(sender.uuid, other.uuid);

  let admitted = false;
  const admit = async (newGroup: boolean) => {
    if (admitted) return;
    admitted = true;
    await deps.admit?.({ messageGroupUuid, otherUuid: other.uuid, newGroup });
  };
  for (let attempt = 1; ; attempt++) {
    if ((await getMessageGroup(deps, messageGroupUuid)) !== undefined) {
      await admit(false);
      return putMessage(deps, messageGroupUuid, newMessage(deps, messageGroupUuid, sender, text));
    }
    const [me, them] = await Promise.all([
      deps.users.profile(sender.uuid, { fresh: true }),
      deps.users.profile(other.uuid, { fresh: true }),
    ]);
    if (me === undefined) throw unauthorized();
    if (them === undefined) throw notFound("handle_not_found");
    await admit(true);
    const first = newMessage(deps, messageGroupUuid, me, text);
    const group = messageGroupItem({
      messageGroupUuid,
      members: [me, them],
      shown: first,
      createdAt: first.created_at,
    });
    try {
      await deps.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: deps.tableName, Item: group, ConditionExpression: "attribute_not_exists(pk)" } },
            ...summaryItems(messageGroupUuid, group.members, first).map((Item) => ({
              Put: { TableName: deps.tableName, Item },
            })),
            { Put: { TableName: deps.tableName, Item: first, ConditionExpression: "attribute_not_exists(pk)" } },
          ],
        }),
      );
      return toCreatedMessageView(messageGroupUuid, first);
    } catch (error) {
      // A condition failed: another request created the group first; a conflict: one is creating
      // it now. Either way the next attempt finds it and posts into it.
      if (!isLostRace(error) || attempt >= MAX_CREATE_ATTEMPTS) throw error;
      await sleep(20 * attempt);
    }
  }
}
