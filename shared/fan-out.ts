/**
 * Pattern E: the stream fan-out. For each message group in a batch, the newest inserted MSG row
 * becomes the last message of both members' GRP rows, holding the invariants of DESIGN.md
 * "Pattern E":
 *
 * - The message group item stores the sort key of the message the GRP rows show
 *   (`last_message_sk`). One TransactWriteItems moves everything at once: update the group item
 *   on the condition that `last_message_sk` is still what was read, put each member's new GRP
 *   row, delete each old one. A crash or error at any point leaves either the old or the new
 *   state, never both and never neither, so a retry converges (invariants 2 and 4).
 * - A message whose sort key is not newer than `last_message_sk` changes nothing, so replays,
 *   duplicates and out-of-order records never move a summary backwards (invariant 3).
 * - The old GRP row's key is computed from the group item (strongly consistent), never looked
 *   up in the eventually consistent GSI, so index lag cannot leave a duplicate summary.
 * - Several messages to one group in a batch cost one transaction: only the newest is applied;
 *   the others are older, so applying them would change nothing.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { isLostRace } from "./errors";
import { type MessageItem, messageItemSchema } from "./items/message";
import type { MessageGroupItem } from "./items/message-group";
import { summaryItems } from "./items/message-group-summary";
import { getMessageGroup } from "./messages";
import { matchesFanOutFilter } from "./stream";
import { grpPk, grpSk, messageGroupKey, messageGroupUuidOfMsgPk, msgSk } from "./table";

export interface FanOutDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  /** Most optimistic-lock attempts per group before the group fails (default 5). */
  maxAttempts?: number;
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

/** The GRP row keys of a group a transaction writes or deletes. */
type RowKey = { pk: string; sk: string };

/**
 * The one TransactWriteItems of a summary move (pattern E): update the group item to `item` on
 * the condition that its `last_message_sk` and `members` are still those of `group` (as read,
 * strongly consistent), put each member's GRP row showing `item` (`summaryItems`), delete each
 * member's row under `group`'s current sort key unless it is the new one (same millisecond: the
 * put replaces it in place). `fanout repair` (`shared/repair.ts`) uses it too, with the stray rows
 * it found in `extraDeletes`, so a repair moves summaries exactly as the fan-out does and can
 * never commit over a newer message.
 * @param extraDeletes more GRP row keys to delete (keys of the new rows are left out).
 * @returns the TransactItems, at most 1 + 2 + 2 + `extraDeletes.length`.
 */
export function summaryMoveItems(
  tableName: string,
  messageGroupUuid: string,
  group: Pick<MessageGroupItem, "last_message_sk" | "last_message_at" | "members">,
  item: MessageItem,
  extraDeletes: readonly RowKey[] = [],
): NonNullable<TransactWriteCommandInput["TransactItems"]> {
  const newRows = summaryItems(messageGroupUuid, group.members, item);
  const keyText = (k: RowKey) => `${k.pk}\n${k.sk}`;
  const kept = new Set(newRows.map(keyText));
  const oldSk = grpSk(group.last_message_at, messageGroupUuid);
  const deletes = new Map<string, RowKey>();
  for (const k of [...group.members.map((m) => ({ pk: grpPk(m.uuid), sk: oldSk })), ...extraDeletes]) {
    if (!kept.has(keyText(k))) deletes.set(keyText(k), { pk: k.pk, sk: k.sk });
  }
  return [
    {
      Update: {
        TableName: tableName,
        Key: messageGroupKey(messageGroupUuid),
        UpdateExpression:
          "SET last_message_sk = :sk, last_message_uuid = :uuid, last_message_at = :at, last_message = :text, last_message_user_uuid = :sender",
        // Members too: a `users refresh` that renamed one since the read must not be undone.
        ConditionExpression: "last_message_sk = :read AND members = :members",
        ExpressionAttributeValues: {
          ":sk": item.sk,
          ":uuid": item.message_uuid,
          ":at": item.created_at,
          ":text": item.message,
          ":sender": item.user_uuid,
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
 * Makes `message` the last message of its group's GRP rows unless a newer one already is.
 * Safe to call any number of times, concurrently, in any order.
 * @returns `"moved"` when the summaries moved, `"already_current"` when they already showed this
 *   message or a newer one.
 * @throws MessageGroupMissingError when the group item does not exist; AWS SDK errors
 *   (throttling included) after the SDK's own retries; Error after `maxAttempts` lost races.
 */
export async function applyNewestMessage(deps: FanOutDeps, message: NewMessage): Promise<FanOutOutcome> {
  const { messageGroupUuid, item } = message;
  const maxAttempts = deps.maxAttempts ?? 5;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const group = await getMessageGroup(deps, messageGroupUuid);
    if (group === undefined) throw new MessageGroupMissingError(`no message group item for ${messageGroupUuid}`);
    if (group.last_message_sk >= item.sk) return "already_current";

    try {
      await deps.ddb.send(
        new TransactWriteCommand({ TransactItems: summaryMoveItems(deps.tableName, messageGroupUuid, group, item) }),
      );
      return "moved";
    } catch (error) {
      // Another run moved the group first (condition) or is moving it now (conflict): read again.
      if (!isLostRace(error)) throw error;
    }
  }
  throw new Error(`fan-out of ${messageGroupUuid} lost ${maxAttempts} optimistic-lock races in a row`);
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
 *   same single {@link applyNewestMessage} of that group, so a group costs one transaction and a
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
      run = applyNewestMessage(deps, chosen).then(
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
