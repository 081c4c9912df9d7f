/**
 * Rename propagation: the handles and display names the table keeps of its users besides the
 * directory (they are denormalised into rows), brought in step with the users' profiles. Used
 * by PATCH /api/users/me for the renamed user's conversations and by `users refresh` (the
 * operator command, over the whole table).
 *
 * Which rows hold names: message group items (`members`: the authority that pattern A shows
 * and that the fan-out copies into every GRP row it writes) and GRP rows (`user_handle`/
 * `user_display_name` = the OTHER member). MSG rows keep the sender's names as they were when
 * written; pattern A shows the sender's current names from the group item, and `users refresh`
 * rewrites the rows too.
 *
 * Per group, the protocol works the way the fan-out (pattern E) does: the group item is read
 * strongly consistent (a summary move it shows pending is completed first, `completePendingMove`
 * of `shared/fan-out.ts`, and the transaction requires that none is pending), the two GRP rows'
 * keys are computed from its `last_message_at` (never
 * taken from a scan or the GSI), and one TransactWriteItems updates `members` and the name
 * attributes of both GRP rows, conditioned on `last_message_sk` being the one read (the
 * fan-out's own lock) and on each GRP row existing and describing the expected user. If the
 * fan-out moves the summaries in between, the transaction is cancelled (or, when the move came
 * between the group read and the GRP row reads, the rows are not where the group item pointed
 * and the group item has moved on) and the group is read again, after a jittered exponential
 * back-off. Keys (pk/sk), `last_message_*` and every other
 * attribute are never written, so the fan-out's invariants hold; the fan-out in turn conditions
 * its move on `members`, so it never writes names older than the group item's.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod/mini";
import { isLostRace } from "./errors";
import { completePendingMove, owedSummarySks } from "./fan-out";
import { messageGroupItemSchema } from "./items/message-group";
import { messageGroupSummaryItemSchema } from "./items/message-group-summary";
import type { UserProfile } from "./items/profile";
import { getMessageGroup } from "./messages";
import { grpPk, grpSk, messageGroupKey, PARTITION_KEY, SORT_KEY } from "./table";

const GRP = z.keyof(messageGroupSummaryItemSchema).def.entries;
const MG = z.keyof(messageGroupItemSchema).def.entries;
/** The attributes this module reads and writes, named by the item schemas. */
const A = {
  userUuid: GRP.user_uuid,
  handle: GRP.user_handle,
  displayName: GRP.user_display_name,
  members: MG.members,
  lastMessageSk: MG.last_message_sk,
  pending: MG.summaries_pending,
} as const;

export interface RenameDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  /** The current profiles by uuid; members absent from it keep the names the rows have. */
  profiles: ReadonlyMap<string, UserProfile>;
}

export interface GroupRenameOptions {
  /** Read and report only (default false). */
  dryRun?: boolean;
  /** Attempts per group when the fan-out moves it meanwhile (default {@link RENAME_MAX_ATTEMPTS}). */
  maxAttempts?: number;
  /** First back-off after a lost race, ms (default {@link RENAME_BACKOFF_MS}; doubles per attempt, full jitter). */
  backoffMs?: number;
  /** GRP row keys seen elsewhere (a scan): reported when they are not where the group item points. */
  strayKeys?: readonly { pk: string; sk: string }[];
}

/**
 * Attempts per group before giving up on a group the fan-out keeps moving. A lost race costs
 * one read-to-commit window (about 3 round trips); the local stack under continuous posting
 * needed at most a few (docs/reliability.md, "users refresh under traffic"), so 10 leaves a wide
 * margin, and a group given up is reported ("run again"), never left half-written.
 */
export const RENAME_MAX_ATTEMPTS = 10;
/**
 * First back-off after a lost race, ms. Before attempt n (n >= 2) the wait is uniform in
 * [0, RENAME_BACKOFF_MS * 2^(n-2)) ("full jitter", AWS Architecture Blog "Exponential Backoff
 * And Jitter"): at most 20, 40, ... 2,560 ms, about 10 s in all over 10 attempts.
 */
export const RENAME_BACKOFF_MS = 20;

/** True when the stored names are not the profile's. */
export const namesDiffer = (a: { handle?: unknown; display_name?: unknown }, b: UserProfile): boolean =>
  a.handle !== b.handle || a.display_name !== b.display_name;

/** What renaming in one group did (or would do). */
export interface GroupRenameResult {
  summaries: number;
  groupItem: boolean;
  problems: string[];
  /** Attempts made: 1 when the first read-and-write went through, +1 per race lost to the fan-out. */
  attempts: number;
}

/**
 * Brings one group's item and GRP rows in step with `deps.profiles` (see the module
 * documentation): consistent reads of the group item and of the GRP rows it points to, then one
 * transaction guarded by `last_message_sk`; retried with back-off when the fan-out moved the group.
 * @returns what changed (dry run: would change) and the inconsistencies found and left alone.
 * @throws AWS SDK errors that are not a lost race.
 */
export async function renameInGroup(
  deps: RenameDeps,
  groupUuid: string,
  options: GroupRenameOptions = {},
): Promise<GroupRenameResult> {
  const { ddb: doc, tableName, profiles } = deps;
  const maxAttempts = options.maxAttempts ?? RENAME_MAX_ATTEMPTS;
  const backoffMs = options.backoffMs ?? RENAME_BACKOFF_MS;
  const scannedKeys = options.strayKeys ?? [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(Math.random() * backoffMs * 2 ** (attempt - 2));
    const problems: string[] = [];
    let group = await getMessageGroup(deps, groupUuid);
    // The fan-out is moving the summaries (or its run crashed mid-move): finish the move first, so
    // that no put of the move can land after the names are rewritten. Completing a move is not a
    // lost race (no attempt is spent on it), but a conversation that keeps moving gets at most
    // `maxAttempts` completions per attempt; then the transaction's condition decides.
    for (
      let completed = 0;
      group?.summaries_pending !== undefined && options.dryRun !== true && completed < maxAttempts;
      completed++
    ) {
      await completePendingMove({ ddb: doc, tableName }, groupUuid, group);
      group = await getMessageGroup(deps, groupUuid);
    }
    if (group === undefined) {
      return {
        summaries: 0,
        groupItem: false,
        problems: [`group ${groupUuid}: GRP rows name it but it has no group item; left unchanged`],
        attempts: attempt,
      };
    }
    const members = group.members.map((m) => {
      const current = profiles.get(m.uuid);
      return current === undefined ? m : { uuid: m.uuid, handle: current.handle, display_name: current.display_name };
    });
    const membersStale = group.members.some((m, i) => namesDiffer(m, members[i] as UserProfile));
    const sk = grpSk(group.last_message_at, groupUuid);

    const rowUpdates: { key: { pk: string; sk: string }; other: UserProfile }[] = [];
    // Both GRP rows at once: the shorter the time from the group read to the commit, the fewer
    // races a busy conversation wins against the refresh.
    const rows = await Promise.all(
      members.map(async (owner) => {
        const key = { pk: grpPk(owner.uuid), sk };
        const { Item } = await doc.send(
          new GetCommand({
            TableName: tableName,
            Key: { [PARTITION_KEY]: key.pk, [SORT_KEY]: key.sk },
            ConsistentRead: true,
          }),
        );
        return { owner, key, Item };
      }),
    );
    for (const { owner, key, Item } of rows) {
      const other = members.find((m) => m.uuid !== owner.uuid) ?? owner;
      if (Item === undefined) {
        problems.push(`group ${groupUuid}: no GRP row ${key.pk} ${key.sk} although the group item points there`);
      } else if (Item[A.userUuid] !== other.uuid) {
        problems.push(
          `group ${groupUuid}: GRP row ${key.pk} ${key.sk} describes ${String(Item[A.userUuid])}, not ${other.uuid}`,
        );
      } else if (namesDiffer({ handle: Item[A.handle], display_name: Item[A.displayName] }, other)) {
        rowUpdates.push({ key, other });
      }
    }
    // A GRP row missing or wrong where the group item pointed is a problem only if the group item
    // still points there: the fan-out may have moved the group since it was read (a lost race).
    if (problems.length > 0 && (await getMessageGroup(deps, groupUuid))?.last_message_sk !== group.last_message_sk) {
      continue;
    }
    // Stale GRP rows the scan saw elsewhere than where the group item points: strays, if still
    // there, unless the group item lists them as owed by a summary move (the fan-out deletes those).
    const owed = owedSummarySks(groupUuid, group);
    for (const stray of scannedKeys.filter((k) => k.sk !== sk && !owed.has(k.sk))) {
      const { Item } = await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { [PARTITION_KEY]: stray.pk, [SORT_KEY]: stray.sk },
          ConsistentRead: true,
        }),
      );
      if (Item !== undefined) {
        problems.push(
          `group ${groupUuid}: GRP row ${stray.pk} ${stray.sk} is not the one its group item points to (a stray summary); left unchanged`,
        );
      }
    }
    if (!membersStale && rowUpdates.length === 0)
      return { summaries: 0, groupItem: false, problems, attempts: attempt };
    if (options.dryRun === true) {
      return { summaries: rowUpdates.length, groupItem: membersStale, problems, attempts: attempt };
    }

    const groupKey = messageGroupKey(groupUuid);
    const lock = {
      TableName: tableName,
      Key: groupKey,
      ConditionExpression: "#lsk = :read AND attribute_not_exists(#pending)",
      ExpressionAttributeNames: { "#lsk": A.lastMessageSk, "#pending": A.pending } as Record<string, string>,
      ExpressionAttributeValues: { ":read": group.last_message_sk } as Record<string, unknown>,
    };
    const transactItems: NonNullable<TransactWriteCommandInput["TransactItems"]> = [
      membersStale
        ? {
            Update: {
              ...lock,
              UpdateExpression: "SET #m = :m",
              ExpressionAttributeNames: { ...lock.ExpressionAttributeNames, "#m": A.members },
              ExpressionAttributeValues: { ...lock.ExpressionAttributeValues, ":m": members },
            },
          }
        : { ConditionCheck: lock },
      ...rowUpdates.map(({ key, other }) => ({
        Update: {
          TableName: tableName,
          Key: { [PARTITION_KEY]: key.pk, [SORT_KEY]: key.sk },
          UpdateExpression: "SET #h = :h, #d = :d",
          ConditionExpression: "attribute_exists(#pk) AND #u = :u",
          ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#u": A.userUuid, "#h": A.handle, "#d": A.displayName },
          ExpressionAttributeValues: { ":u": other.uuid, ":h": other.handle, ":d": other.display_name },
        },
      })),
    ];
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: transactItems }));
      return { summaries: rowUpdates.length, groupItem: membersStale, problems, attempts: attempt };
    } catch (error) {
      // The fan-out moved the group (condition) or is moving it (conflict): read it again.
      if (!isLostRace(error)) throw error;
    }
  }
  return {
    summaries: 0,
    groupItem: false,
    problems: [`group ${groupUuid}: still moving after ${maxAttempts} attempts (busy conversation); run again`],
    attempts: maxAttempts,
  };
}

/** What {@link propagateRename} did. */
export interface PropagationReport {
  /** Groups of the user looked at. */
  groups: number;
  /** GRP rows (of the other members) rewritten. */
  summaries: number;
  /** Message group items whose `members` were rewritten. */
  groupItems: number;
  problems: string[];
}

/**
 * Applies `profile`'s current names to every conversation of that user: the groups listed by
 * the user's own GRP rows (`GRP#<uuid>`, page after page), each through {@link renameInGroup},
 * then each changed group once more (a fan-out that read the old members before the first pass
 * committed may have written the old names). Safe to run again; converges.
 * @throws AWS SDK errors that are not a lost race.
 */
export async function propagateRename(
  deps: { ddb: DynamoDBDocumentClient; tableName: string },
  profile: UserProfile,
  options: { concurrency?: number; maxAttempts?: number } = {},
): Promise<PropagationReport> {
  const renameDeps: RenameDeps = { ...deps, profiles: new Map([[profile.uuid, profile]]) };
  const groups = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": grpPk(profile.uuid) },
        ProjectionExpression: "message_group_uuid",
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.message_group_uuid === "string") groups.add(item.message_group_uuid);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);

  const report: PropagationReport = { groups: groups.size, summaries: 0, groupItems: 0, problems: [] };
  const run = async (ids: readonly string[]): Promise<string[]> => {
    const changed: string[] = [];
    const queue = [...ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const result = await renameInGroup(renameDeps, id, { maxAttempts: options.maxAttempts });
        report.summaries += result.summaries;
        report.groupItems += result.groupItem ? 1 : 0;
        report.problems.push(...result.problems);
        if (result.summaries > 0 || result.groupItem) changed.push(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, ids.length) }, worker));
    return changed;
  };
  await run(await run([...groups]));
  report.problems = [...new Set(report.problems)];
  return report;
}
