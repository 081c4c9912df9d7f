/**
 * Pattern E: the stream fan-out. For each message group in a batch, the newest inserted MSG row
 * becomes the last message of both members' GRP rows, holding the invariants of DESIGN.md
 * "Pattern E" without a transaction (issue 14: 10 billed write units per move instead of 18).
 *
 * A move is four steps; the message group item is its single point of ordering and remembers
 * what the move still owes, so a crash anywhere is completed by the retry or by the next move:
 *
 * 1. **Start**: one conditional UpdateItem of the group item sets the new `last_message_*` on the
 *    condition that its `last_message_sk` is older and no move is pending, and records the move:
 *    `summaries_pending` (when it began) and `replaced_message_at` (the rows it replaces). Only
 *    one run can start a move from a given state, so moves are totally ordered; a replayed,
 *    duplicated or older message fails the condition and changes nothing (invariant 3). The
 *    answer (ALL_NEW) gives the members and the bookkeeping: no read is needed (0 read units).
 * 2. **Put** both members' new GRP rows, each conditional on there being no row at that key or
 *    only one of an older message of the same millisecond, so a late or repeated put never
 *    overwrites a newer summary nor a rename applied since.
 * 3. **Delete** the rows it replaced and every stale key the group item lists (one BatchWriteItem).
 *    The puts come first, so a member is never without a row (invariant 4); between steps 2 and 3
 *    a member has two rows, and pattern B shows only the newer (`shared/messages.ts`).
 * 4. **Finish**: UpdateItem removes the bookkeeping on the condition that the move is still the
 *    pending one.
 *
 * A message that finds a move pending (its run crashed, or is still writing) takes it over: the
 * start condition is then the pending move's `summaries_pending`, the rows of both the pending
 * move and the one it replaced become `stale_summary_sks`, and the pending move is listed in
 * `unfinished_moves` until it is known to be over (its finish fails and it deletes its own rows;
 * its record comes back in a later batch; or {@link MOVE_DEADLINE_MS} has passed), because it may
 * still put rows after the new move deleted them. A stale key is forgotten only once its rows are
 * deleted and no move that may still write them is alive. A retry of the pending move's own
 * message completes it (steps 2-4 are idempotent). Several messages to one group in a batch cost
 * one move: only the newest is applied.
 *
 * `fanout repair` (`shared/repair.ts`) still fixes a group in one TransactWriteItems
 * ({@link summaryMoveItems}) and clears the bookkeeping; renames (`shared/renames.ts`) complete a
 * pending move before they rewrite names ({@link completePendingMove}).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { isLostRace } from "./errors";
import { type MessageItem, messageItemSchema } from "./items/message";
import type { MessageGroupItem } from "./items/message-group";
import { summaryItems } from "./items/message-group-summary";
import { FAN_OUT_TIMEOUT_SECONDS, matchesFanOutFilter } from "./stream";
import { grpPk, grpSk, messageGroupKey, messageGroupUuidOfMsgPk, msgSk } from "./table";
import { type Clock, systemClock } from "./time";

export interface FanOutDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  /** Most optimistic-lock attempts per group before the group fails (default 5). */
  maxAttempts?: number;
  /** Epoch ms; injectable for tests (moves record when they began). */
  clock?: Clock;
}

/** What applying a group's newest message did. */
export type FanOutOutcome = "moved" | "already_current";

/** A stream record that cannot be a MSG row insert we wrote: retried, then dead-lettered. */
export class InvalidRecordError extends Error {
  override name = "InvalidRecordError";
}

/** A MSG row whose group has no message group item: retried, then dead-lettered. */
export class MessageGroupMissingError extends Error {
  override name = "MessageGroupMissingError";
}

/** A parsed MSG row insert. */
export interface NewMessage {
  messageGroupUuid: string;
  item: MessageItem;
}

/**
 * Reads a stream record (Lambda event shape).
 * @returns the inserted MSG row, or `undefined` for a record the fan-out does not handle
 *   (not an INSERT of a MSG row: the event-source filter normally keeps those away).
 * @throws InvalidRecordError when a MSG row insert has no NEW_IMAGE or a malformed one.
 */
export function parseMessageRecord(record: DynamoDBRecord): NewMessage | undefined {
  if (!matchesFanOutFilter(record)) return undefined;
  const image = record.dynamodb?.NewImage;
  if (image === undefined)
    throw new InvalidRecordError("MSG insert without NewImage (stream view type must be NEW_IMAGE)");
  const parsed = messageItemSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
  if (!parsed.success) throw new InvalidRecordError(`malformed MSG row: ${parsed.error.issues[0]?.path.join(".")}`);
  const item = parsed.data;
  const messageGroupUuid = messageGroupUuidOfMsgPk(item.pk);
  if (messageGroupUuid === undefined || item.sk !== msgSk(item.created_at, item.message_uuid)) {
    throw new InvalidRecordError("MSG row keys do not match its created_at and message_uuid");
  }
  return { messageGroupUuid, item };
}

/** A GRP row key. */
type RowKey = { pk: string; sk: string };

/** The group item as a move reads it (the answer of its start, or of a refused update). */
type MoveState = Pick<
  MessageGroupItem,
  | "members"
  | "last_message_sk"
  | "last_message_uuid"
  | "last_message_at"
  | "last_message"
  | "summaries_pending"
  | "replaced_message_at"
  | "stale_summary_sks"
  | "unfinished_moves"
>;

/**
 * How long after it began a summary move may still be writing, ms: twice the fan-out function's
 * timeout (`FAN_OUT_TIMEOUT_SECONDS`), since a move runs inside one invocation. A taken-over move
 * older than this is over, so the rows it may have put can be deleted for good.
 */
export const MOVE_DEADLINE_MS = 2 * FAN_OUT_TIMEOUT_SECONDS * 1000;

/** Attempts to write a BatchWriteItem's unprocessed items before the move fails (and is retried). */
const BATCH_WRITE_ATTEMPTS = 8;

/** The bookkeeping attributes of a move on the group item (`shared/items/message-group.ts`). */
export const MOVE_BOOKKEEPING = [
  "summaries_pending",
  "replaced_message_at",
  "stale_summary_sks",
  "unfinished_moves",
] as const;

/** An `unfinished_moves` entry: `"<epoch ms the move began> <GRP sk it puts>"`. */
const unfinishedEntry = (startedAt: number, sk: string) => `${startedAt} ${sk}`;

function parseUnfinished(entry: string): { startedAt: number; sk: string } {
  const space = entry.indexOf(" ");
  return { startedAt: Number(entry.slice(0, space)), sk: entry.slice(space + 1) };
}

/**
 * Every GRP sort key the group item says may hold a stale summary: the rows a pending move
 * replaces, the stale keys, and the keys of unfinished moves; never the current one.
 */
export function owedSummarySks(messageGroupUuid: string, group: Partial<MoveState>): Set<string> {
  const sks = new Set<string>(group.stale_summary_sks ?? []);
  if (group.replaced_message_at !== undefined) sks.add(grpSk(group.replaced_message_at, messageGroupUuid));
  for (const entry of group.unfinished_moves ?? []) sks.add(parseUnfinished(entry).sk);
  if (group.last_message_at !== undefined) sks.delete(grpSk(group.last_message_at, messageGroupUuid));
  return sks;
}

/** The fields of the message a group item shows. */
const shownOf = (group: MoveState) => ({
  message_uuid: group.last_message_uuid,
  message: group.last_message,
  created_at: group.last_message_at,
});

/** SET of the `last_message_*` attributes to `item` (values `:sk :uuid :at :text :sender`). */
const SET_LAST_MESSAGE =
  "last_message_sk = :sk, last_message_uuid = :uuid, last_message_at = :at, last_message = :text, last_message_user_uuid = :sender";

const lastMessageValues = (item: MessageItem) => ({
  ":sk": item.sk,
  ":uuid": item.message_uuid,
  ":at": item.created_at,
  ":text": item.message,
  ":sender": item.user_uuid,
});

/**
 * Sends one conditional UpdateItem of the group item.
 * @returns `{ ok: true, group }` with the item after the update (ALL_NEW), or `{ ok: false, old }`
 *   with the item as it was when the condition failed (`undefined`: no group item).
 */
async function updateGroup(
  deps: FanOutDeps,
  messageGroupUuid: string,
  input: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
): Promise<{ ok: true; group: MoveState } | { ok: false; old: MoveState | undefined }> {
  try {
    const out = await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: messageGroupKey(messageGroupUuid),
        ...input,
        ReturnValues: "ALL_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { ok: true, group: out.Attributes as MoveState };
  } catch (error) {
    if (isLostRace(error)) {
      const item = (error as { Item?: Record<string, AttributeValue> }).Item;
      return { ok: false, old: item === undefined ? undefined : (unmarshall(item) as MoveState) };
    }
    throw error;
  }
}

/**
 * Step 2: puts a GRP row unless its key already holds this message or a newer one of the same
 * millisecond (the key is `<last_message_at>#<group>`, so only messages of that millisecond share it).
 */
async function putSummary(deps: FanOutDeps, row: ReturnType<typeof summaryItems>[number]): Promise<void> {
  try {
    await deps.ddb.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: row,
        ConditionExpression: "attribute_not_exists(pk) OR last_message_uuid < :uuid",
        ExpressionAttributeValues: { ":uuid": row.last_message_uuid },
      }),
    );
  } catch (error) {
    // Already put (a retry), or a newer message of the same millisecond is there: nothing to do.
    if (!isLostRace(error)) throw error;
  }
}

/**
 * Step 3: deletes the GRP rows at `sks` of both members, in BatchWriteItem calls of at most 25,
 * sending unprocessed items again (AWS doc "BatchWriteItem": unprocessed items are the caller's
 * to retry, with back-off).
 * @throws Error when items are still unprocessed after {@link BATCH_WRITE_ATTEMPTS} calls.
 */
async function deleteSummaries(
  deps: Pick<FanOutDeps, "ddb" | "tableName">,
  members: readonly { uuid: string }[],
  sks: Iterable<string>,
): Promise<void> {
  const keys: RowKey[] = [];
  for (const sk of sks) for (const m of members) keys.push({ pk: grpPk(m.uuid), sk });
  for (let i = 0; i < keys.length; i += 25) {
    let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      if (attempt > BATCH_WRITE_ATTEMPTS) throw new Error(`${requests.length} GRP row deletes left unprocessed`);
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
      const out = await deps.ddb.send(new BatchWriteCommand({ RequestItems: { [deps.tableName]: requests } }));
      requests = (out.UnprocessedItems?.[deps.tableName] ?? []) as typeof requests;
    }
  }
}

/**
 * Steps 2-4 of the move the group item shows as pending (`summaries_pending`): puts the rows of
 * its current message, deletes every stale key's rows, then removes the bookkeeping on the
 * condition that the move is still pending. Stale keys of moves that may still be writing (in
 * `unfinished_moves`, begun less than {@link MOVE_DEADLINE_MS} ago and not in `retiredSks`) stay listed.
 * If the finish finds that a newer message has taken the move over, the rows this move put are
 * deleted again (they are stale) and its own entry cleared.
 * @param retiredSks GRP sort keys of moves known to be over (older messages of the same group in
 *   the batch: their records came back, so the invocation that ran them has ended).
 */
async function completeMove(
  deps: FanOutDeps,
  messageGroupUuid: string,
  group: MoveState,
  retiredSks: ReadonlySet<string>,
): Promise<void> {
  const pending = group.summaries_pending;
  if (pending === undefined) return;
  const now = (deps.clock ?? systemClock)();
  const current = grpSk(group.last_message_at, messageGroupUuid);
  // Both puts side by side, and both settled before this run goes on or fails: a put left in
  // flight when the run fails could land after the retry has decided that this run is over (and
  // Lambda may resume such a promise in a later invocation of the same environment).
  const puts = await Promise.allSettled(
    summaryItems(messageGroupUuid, group.members, shownOf(group)).map((row) => putSummary(deps, row)),
  );
  const failedPut = puts.find((p) => p.status === "rejected");
  if (failedPut !== undefined) throw failedPut.reason;

  const owed = owedSummarySks(messageGroupUuid, group);
  await deleteSummaries(deps, group.members, owed);

  const entries = [...(group.unfinished_moves ?? [])];
  const alive = entries.filter((e) => {
    const { startedAt, sk } = parseUnfinished(e);
    return now - startedAt < MOVE_DEADLINE_MS && !retiredSks.has(sk) && sk !== current;
  });
  const aliveSks = new Set(alive.map((e) => parseUnfinished(e).sk));
  const done = [...(group.stale_summary_sks ?? [])].filter((sk) => !aliveSks.has(sk));
  const over = entries.filter((e) => !alive.includes(e));
  const setDeletes = [
    ...(done.length > 0 ? ["stale_summary_sks :done"] : []),
    ...(over.length > 0 ? ["unfinished_moves :over"] : []),
  ];
  const finish = await updateGroup(deps, messageGroupUuid, {
    UpdateExpression: `REMOVE summaries_pending, replaced_message_at${setDeletes.length > 0 ? ` DELETE ${setDeletes.join(", ")}` : ""}`,
    ConditionExpression: "summaries_pending = :pending",
    ExpressionAttributeValues: {
      ":pending": pending,
      ...(done.length > 0 ? { ":done": new Set(done) } : {}),
      ...(over.length > 0 ? { ":over": new Set(over) } : {}),
    },
  });
  if (finish.ok || finish.old === undefined) return;
  // Completed by another run (a retry of the same message, a rename, a repair): done.
  if (finish.old.last_message_sk === group.last_message_sk) return;
  // Taken over by a newer message while writing: the rows this move put may have come after the
  // newer move deleted them. They are stale: delete them and clear this move's entry.
  await cleanOvertaken(deps, messageGroupUuid, finish.old, new Set([current]), unfinishedEntry(pending, current));
}

/**
 * Deletes the rows of moves that are over (`ownSks`: a message's own GRP key and those of
 * `retiredSks`) when the group item, now showing a newer message, still lists them as unfinished,
 * then removes their entries and stale keys. With `entry` (a finish that found itself taken
 * over), that entry's rows are deleted even if the group item no longer lists it.
 */
async function cleanOvertaken(
  deps: FanOutDeps,
  messageGroupUuid: string,
  group: MoveState,
  ownSks: ReadonlySet<string>,
  entry?: string,
): Promise<void> {
  const current = grpSk(group.last_message_at, messageGroupUuid);
  const listed = [...(group.unfinished_moves ?? [])];
  const mine = listed.filter((e) => e === entry || ownSks.has(parseUnfinished(e).sk));
  const sks = new Set([...mine, ...(entry === undefined ? [] : [entry])].map((e) => parseUnfinished(e).sk));
  sks.delete(current);
  if (sks.size === 0) return;
  await deleteSummaries(deps, group.members, sks);
  if (mine.length === 0) return;
  // A key another unfinished move may still write stays stale.
  const othersSks = new Set(listed.filter((e) => !mine.includes(e)).map((e) => parseUnfinished(e).sk));
  const done = [...sks].filter((sk) => !othersSks.has(sk));
  await deps.ddb.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: messageGroupKey(messageGroupUuid),
      UpdateExpression: `DELETE unfinished_moves :mine${done.length > 0 ? ", stale_summary_sks :done" : ""}`,
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":mine": new Set(mine), ...(done.length > 0 ? { ":done": new Set(done) } : {}) },
    }),
  );
}

/**
 * The one TransactWriteItems `fanout repair` (`shared/repair.ts`) fixes a group with: update the
 * group item to `item` on the condition that its `last_message_sk` and `members` are still those
 * of `group` (as read, strongly consistent) and remove the fan-out's bookkeeping, put each
 * member's GRP row showing `item` (`summaryItems`), delete each member's row under `group`'s
 * current sort key, and under every key the bookkeeping lists ({@link owedSummarySks}), unless it
 * is a new row's key (same millisecond: the put replaces it in place). A repair thus moves
 * summaries to the state a finished move leaves and can never commit over a newer message.
 * @param extraDeletes more GRP row keys to delete (keys of the new rows are left out).
 * @returns the TransactItems, at most 1 + 2 + 2 × (1 + owed keys) + `extraDeletes.length`
 *   (DynamoDB allows 100).
 */
export function summaryMoveItems(
  tableName: string,
  messageGroupUuid: string,
  group: Pick<MessageGroupItem, "last_message_sk" | "last_message_at" | "members"> & Partial<MoveState>,
  item: MessageItem,
  extraDeletes: readonly RowKey[] = [],
): NonNullable<TransactWriteCommandInput["TransactItems"]> {
  const newRows = summaryItems(messageGroupUuid, group.members, item);
  const keyText = (k: RowKey) => `${k.pk}\n${k.sk}`;
  const kept = new Set(newRows.map(keyText));
  const oldSks = new Set([grpSk(group.last_message_at, messageGroupUuid), ...owedSummarySks(messageGroupUuid, group)]);
  const deletes = new Map<string, RowKey>();
  const memberKeys = [...oldSks].flatMap((sk) => group.members.map((m) => ({ pk: grpPk(m.uuid), sk })));
  for (const k of [...memberKeys, ...extraDeletes]) {
    if (!kept.has(keyText(k))) deletes.set(keyText(k), { pk: k.pk, sk: k.sk });
  }
  return [
    {
      Update: {
        TableName: tableName,
        Key: messageGroupKey(messageGroupUuid),
        UpdateExpression: `SET ${SET_LAST_MESSAGE} REMOVE ${MOVE_BOOKKEEPING.join(", ")}`,
        // Members too: a `users refresh` that renamed one since the read must not be undone.
        ConditionExpression: "last_message_sk = :read AND members = :members",
        ExpressionAttributeValues: {
          ...lastMessageValues(item),
          ":read": group.last_message_sk,
          ":members": group.members,
        },
      },
    },
    ...newRows.map((Item) => ({ Put: { TableName: tableName, Item } })),
    ...[...deletes.values()].map((Key) => ({ Delete: { TableName: tableName, Key } })),
  ];
}

/**
 * Makes `message` the last message of its group's GRP rows unless a newer one already is (the
 * four steps of the module documentation). Safe to call any number of times, concurrently, in
 * any order; a call for the message a pending move shows completes that move.
 * @param options.retiredSks GRP sort keys of the group's older messages in the same batch (see
 *   {@link completeMove}).
 * @returns `"moved"` when this call moved (or completed moving) the summaries, `"already_current"`
 *   when they already showed this message or a newer one.
 * @throws MessageGroupMissingError when the group item does not exist; AWS SDK errors
 *   (throttling included) after the SDK's own retries; Error after `maxAttempts` lost races.
 */
export async function applyNewestMessage(
  deps: FanOutDeps,
  message: NewMessage,
  options: { retiredSks?: ReadonlySet<string> } = {},
): Promise<FanOutOutcome> {
  const { messageGroupUuid, item } = message;
  const retired = options.retiredSks ?? new Set<string>();
  const maxAttempts = deps.maxAttempts ?? 5;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const now = (deps.clock ?? systemClock)();
    const start = await updateGroup(deps, messageGroupUuid, {
      UpdateExpression: `SET ${SET_LAST_MESSAGE}, replaced_message_at = last_message_at, summaries_pending = :now`,
      ConditionExpression: "attribute_exists(pk) AND last_message_sk < :sk AND attribute_not_exists(summaries_pending)",
      ExpressionAttributeValues: { ...lastMessageValues(item), ":now": now },
    });
    if (start.ok) {
      await completeMove(deps, messageGroupUuid, start.group, retired);
      return "moved";
    }
    const old = start.old;
    if (old === undefined) throw new MessageGroupMissingError(`no message group item for ${messageGroupUuid}`);
    if (old.last_message_sk === item.sk) {
      if (old.summaries_pending === undefined) {
        // Moves of older messages of this batch that another move took over are over too.
        await cleanOvertaken(deps, messageGroupUuid, old, retired);
        return "already_current";
      }
      // This message's move is pending: its run crashed (this is the retry) or is still writing.
      await completeMove(deps, messageGroupUuid, old, retired);
      return "moved";
    }
    if (old.last_message_sk > item.sk) {
      await cleanOvertaken(
        deps,
        messageGroupUuid,
        old,
        new Set([grpSk(item.created_at, messageGroupUuid), ...retired]),
      );
      return "already_current";
    }
    // An older message's move is pending: take it over.
    if (old.summaries_pending === undefined) continue;
    const pendingSk = grpSk(old.last_message_at, messageGroupUuid);
    const newSk = grpSk(item.created_at, messageGroupUuid);
    const stale = [
      ...owedSummarySks(messageGroupUuid, { replaced_message_at: old.replaced_message_at }),
      pendingSk,
    ].filter((sk) => sk !== newSk);
    const unfinished = pendingSk === newSk ? [] : [unfinishedEntry(old.summaries_pending, pendingSk)];
    const adds = [
      ...(stale.length > 0 ? ["stale_summary_sks :stale"] : []),
      ...(unfinished.length > 0 ? ["unfinished_moves :unfinished"] : []),
    ];
    const takeOver = await updateGroup(deps, messageGroupUuid, {
      UpdateExpression: `SET ${SET_LAST_MESSAGE}, summaries_pending = :now REMOVE replaced_message_at${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`,
      ConditionExpression: "last_message_sk = :read AND summaries_pending = :pending",
      ExpressionAttributeValues: {
        ...lastMessageValues(item),
        ":now": now,
        ":read": old.last_message_sk,
        ":pending": old.summaries_pending,
        ...(stale.length > 0 ? { ":stale": new Set(stale) } : {}),
        ...(unfinished.length > 0 ? { ":unfinished": new Set(unfinished) } : {}),
      },
    });
    if (takeOver.ok) {
      await completeMove(deps, messageGroupUuid, takeOver.group, retired);
      return "moved";
    }
    // Another run changed the group since: start again from its new state.
  }
  throw new Error(`fan-out of ${messageGroupUuid} lost ${maxAttempts} optimistic-lock races in a row`);
}

/**
 * Completes the summary move `group` shows as pending, if any (steps 2-4 of the module
 * documentation), as the retry of its message would. Renames call it before rewriting names, so
 * that a rename never races a move's puts.
 * @param group the group item as read (strongly consistent); nothing is written when it shows no
 *   pending move.
 * @throws AWS SDK errors (throttling included) after the SDK's own retries; Error when GRP row
 *   deletes stay unprocessed. A move left half done by a throw is completed by the next call.
 */
export async function completePendingMove(
  deps: FanOutDeps,
  messageGroupUuid: string,
  group: MessageGroupItem,
): Promise<void> {
  await completeMove(deps, messageGroupUuid, group, new Set());
}

/** Called once per group of a batch with what happened (for the function's logs). */
export type GroupDone = (result: {
  messageGroupUuid: string;
  messageUuid: string;
  records: number;
  outcome?: FanOutOutcome;
  error?: unknown;
}) => void;

/**
 * Plans a batch: parses every record and keeps, per group, the newest message.
 * @returns a record handler for Powertools' BatchProcessor. Every record of a group awaits the
 *   same single {@link applyNewestMessage} of that group, so a group costs one move and a
 *   failing group fails all of its records and no other group's (partial batch response).
 *   A record that cannot be parsed fails alone.
 */
export function createBatchFanOut(
  deps: FanOutDeps,
  records: readonly DynamoDBRecord[],
  onGroupDone?: GroupDone,
): (record: DynamoDBRecord) => Promise<void> {
  const newest = new Map<string, NewMessage>();
  const counts = new Map<string, number>();
  /** GRP sort keys of every message of each group in the batch. */
  const batchSks = new Map<string, Set<string>>();
  const parsed = new Map<DynamoDBRecord, NewMessage | undefined | InvalidRecordError>();
  const plan = (record: DynamoDBRecord): NewMessage | undefined | InvalidRecordError => {
    let message: NewMessage | undefined;
    try {
      message = parseMessageRecord(record);
    } catch (error) {
      const invalid = error instanceof InvalidRecordError ? error : new InvalidRecordError(String(error));
      parsed.set(record, invalid);
      return invalid;
    }
    parsed.set(record, message);
    if (message !== undefined) {
      const g = message.messageGroupUuid;
      const current = newest.get(g);
      if (current === undefined || current.item.sk < message.item.sk) newest.set(g, message);
      counts.set(g, (counts.get(g) ?? 0) + 1);
      const sks = batchSks.get(g) ?? new Set<string>();
      sks.add(grpSk(message.item.created_at, g));
      batchSks.set(g, sks);
    }
    return message;
  };
  for (const record of records) plan(record);

  const runs = new Map<string, Promise<void>>();
  const runGroup = (message: NewMessage): Promise<void> => {
    const g = message.messageGroupUuid;
    let run = runs.get(g);
    if (run === undefined) {
      const chosen = newest.get(g) ?? message;
      const report = { messageGroupUuid: g, messageUuid: chosen.item.message_uuid, records: counts.get(g) ?? 1 };
      // The older messages' records came back with this batch: moves they began are over.
      const retiredSks = new Set(batchSks.get(g));
      retiredSks.delete(grpSk(chosen.item.created_at, g));
      run = applyNewestMessage(deps, chosen, { retiredSks }).then(
        (outcome) => onGroupDone?.({ ...report, outcome }),
        (error: unknown) => {
          onGroupDone?.({ ...report, error });
          throw error;
        },
      );
      runs.set(g, run);
    }
    return run;
  };

  return async (record) => {
    const message = parsed.has(record) ? parsed.get(record) : plan(record);
    if (message instanceof InvalidRecordError) throw message;
    if (message !== undefined) await runGroup(message);
  };
}
