/**
 * Repair of the message group summaries (GRP rows): recomputes each member's summary from what
 * the table says is true, the message group item (members, as named now) and the newest MSG row
 * of the group, reports every way the GRP rows differ from it, and fixes them with the fan-out's
 * move's end state (`summaryMoveItems` of `shared/fan-out.ts`, which also clears a pending move's
 * bookkeeping). It is what to run when the records a
 * summary needed have left the stream (an expired redrive letter), or after any suspected damage.
 *
 * Drifts, per group (each reported with its key):
 * - `missing`: a member has no GRP row for the group;
 * - `duplicate`: a member has more than one (or a non-member has one naming the group);
 * - `stale`: the group item or a member's row shows an older message than the newest MSG row
 *   (or its message fields are not that message's);
 * - `wrong_name`: a member's row describes the other member otherwise than the group item does
 *   (uuid, handle, display name).
 *
 * Safe while traffic flows. Per group, the group item is read strongly consistent, then the newest
 * MSG row (a consistent Query, newest first, one row), then every candidate GRP row (consistent
 * GetItem: the keys the group item points to, the keys the newest message gives, and the keys a
 * scan saw; the scan and the GSI are never trusted as they are). The fix is ONE TransactWriteItems
 * built by the fan-out's `summaryMoveItems`: the group item updated on the condition that its
 * `last_message_sk` and `members` are still the ones read, the two expected rows put, every other
 * row deleted. A message posted or a member renamed in between cancels it, and the group is read
 * again (jittered back-off). A message newer than the one read whose fan-out has not run yet moves
 * the group later, the usual way, from the state the repair left. So a repair can never put a
 * summary behind a newer message, and never undoes a rename.
 *
 * Names come from the group item, the authority the fan-out copies into every row. Group items
 * whose names are behind the user directory are `users refresh`'s job. Left alone, and reported
 * as problems: GRP rows of a group that has no group item, a group with no MSG row, a group item
 * that shows a message its MSG partition does not have.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import { isLostRace } from "./errors";
import { owedSummarySks, summaryMoveItems } from "./fan-out";
import { type MessageItem, messageItemSchema } from "./items/message";
import { type MessageGroupSummaryItem, summaryItems } from "./items/message-group-summary";
import { getMessageGroup } from "./messages";
import { GRP_PREFIX, grpPk, grpSk, messageGroupKey, msgPk, PARTITION_KEY, SORT_KEY } from "./table";

/** The kinds of drift a repair reports, in the order of its totals. */
export const DRIFT_KINDS = ["missing", "duplicate", "stale", "wrong_name"] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** One difference between the table and what the fan-out would have made. */
export interface Drift {
  kind: DriftKind;
  messageGroupUuid: string;
  /** The item concerned: a GRP row (found, or expected where missing), or the group item. */
  key: { pk: string; sk: string };
  /** What is wrong, for the operator. */
  detail: string;
}

/** A GRP row key, as a scan saw it. */
export interface RowKey {
  pk: string;
  sk: string;
}

export interface RepairDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
}

export interface GroupRepairOptions {
  /** Read and report only (default false). */
  dryRun?: boolean;
  /** GRP rows a scan saw naming this group (any partition); each is read again before use. */
  seenKeys?: readonly RowKey[];
  /** Attempts when traffic moves the group meanwhile (default 10). */
  maxAttempts?: number;
  /** First back-off after a lost race, ms (default 20; doubles per attempt, full jitter). */
  backoffMs?: number;
}

/** What repairing one group found and did. */
export interface GroupRepair {
  messageGroupUuid: string;
  /** The drifts of the last read (the one the fix was built from). */
  drifts: Drift[];
  /** True when the fix committed (false in a dry run or when nothing drifted). */
  fixed: boolean;
  /** Lost races: the group moved (or was renamed) between the reads and the fix. */
  retries: number;
  /** Inconsistencies left alone (one line each). */
  problems: string[];
}

/** The group uuid a GRP row's sort key names (`<last_message_at>#<message_group_uuid>`). */
export function groupOfGrpSk(sk: string): string | undefined {
  const hash = sk.indexOf("#");
  return hash === -1 ? undefined : sk.slice(hash + 1);
}

const keyText = (k: RowKey) => `${k.pk} ${k.sk}`;

/** The newest MSG row of a group (consistent Query, newest first, one row), if any. */
async function newestMessage(deps: RepairDeps, groupUuid: string): Promise<MessageItem | undefined> {
  const out = await deps.ddb.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": PARTITION_KEY },
      ExpressionAttributeValues: { ":pk": msgPk(groupUuid) },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  if (item === undefined) return undefined;
  const parsed = messageItemSchema.safeParse(item);
  return parsed.success ? parsed.data : undefined;
}

async function getRow(deps: RepairDeps, key: RowKey): Promise<Record<string, unknown> | undefined> {
  const out = await deps.ddb.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: { [PARTITION_KEY]: key.pk, [SORT_KEY]: key.sk },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

/** The message fields of a GRP row, compared with the expected row's. */
const MESSAGE_FIELDS = ["message", "last_message_at", "last_message_uuid", "message_group_uuid"] as const;
const NAME_FIELDS = ["user_uuid", "user_handle", "user_display_name"] as const;
const differing = (row: Record<string, unknown>, expected: MessageGroupSummaryItem, fields: readonly string[]) =>
  fields.filter((f) => row[f] !== expected[f as keyof MessageGroupSummaryItem]);

/**
 * Compares and fixes one group (see the module documentation).
 * @returns the drifts found in the read the fix was built from (dry run: the ones it would fix),
 *   whether the fix committed, the lost races and the problems left alone.
 * @throws AWS SDK errors that are not a lost race.
 */
export async function repairGroup(
  deps: RepairDeps,
  groupUuid: string,
  options: GroupRepairOptions = {},
): Promise<GroupRepair> {
  const maxAttempts = options.maxAttempts ?? 10;
  const backoffMs = options.backoffMs ?? 20;
  const result: GroupRepair = { messageGroupUuid: groupUuid, drifts: [], fixed: false, retries: 0, problems: [] };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(Math.random() * backoffMs * 2 ** (attempt - 2));
    const group = await getMessageGroup(deps, groupUuid);
    if (group === undefined) {
      const seen = (options.seenKeys ?? []).map(keyText).join(", ");
      result.problems.push(`group ${groupUuid}: GRP rows name it (${seen}) but it has no group item; left unchanged`);
      return result;
    }
    const newest = await newestMessage(deps, groupUuid);
    if (newest === undefined) {
      result.problems.push(
        `group ${groupUuid}: its group item exists but it has no (readable) MSG row; left unchanged`,
      );
      return result;
    }
    if (group.last_message_sk > newest.sk) {
      result.problems.push(
        `group ${groupUuid}: the group item shows ${group.last_message_sk}, newer than its newest MSG row ${newest.sk}; left unchanged`,
      );
      return result;
    }

    const drifts: Drift[] = [];
    const groupKey = messageGroupKey(groupUuid);
    if (group.last_message_sk < newest.sk) {
      drifts.push({
        kind: "stale",
        messageGroupUuid: groupUuid,
        key: groupKey,
        detail: `the group item shows ${group.last_message_sk}; the newest message is ${newest.sk}`,
      });
    } else if (
      group.last_message_uuid !== newest.message_uuid ||
      group.last_message_at !== newest.created_at ||
      group.last_message !== newest.message ||
      group.last_message_user_uuid !== newest.user_uuid
    ) {
      drifts.push({
        kind: "stale",
        messageGroupUuid: groupUuid,
        key: groupKey,
        detail: `the group item's last message fields are not those of ${newest.sk}`,
      });
    }

    const expected = new Map(summaryItems(groupUuid, group.members, newest).map((r) => [r.pk, r]));
    const pointedSk = grpSk(group.last_message_at, groupUuid);
    /** Every GRP row key that may hold a summary of this group. */
    const candidates = new Map<string, RowKey>();
    const addCandidate = (k: RowKey) => candidates.set(keyText(k), k);
    // The keys a summary move still owes (shared/fan-out.ts), where a crashed move may have left rows.
    const owedSks = owedSummarySks(groupUuid, group);
    for (const m of group.members) {
      addCandidate({ pk: grpPk(m.uuid), sk: pointedSk });
      addCandidate({ pk: grpPk(m.uuid), sk: grpSk(newest.created_at, groupUuid) });
      for (const sk of owedSks) addCandidate({ pk: grpPk(m.uuid), sk });
    }
    for (const k of options.seenKeys ?? []) if (k.pk.startsWith(GRP_PREFIX)) addCandidate(k);
    const found: { key: RowKey; row: Record<string, unknown> }[] = [];
    for (const key of candidates.values()) {
      const row = await getRow(deps, key);
      if (row !== undefined) found.push({ key, row });
    }

    const memberPks = new Set(group.members.map((m) => grpPk(m.uuid)));
    for (const m of group.members) {
      const pk = grpPk(m.uuid);
      const want = expected.get(pk) as MessageGroupSummaryItem;
      const mine = found.filter((f) => f.key.pk === pk).sort((a, b) => (a.key.sk < b.key.sk ? 1 : -1));
      const owner = `@${m.handle}`;
      if (mine.length === 0) {
        drifts.push({
          kind: "missing",
          messageGroupUuid: groupUuid,
          key: { pk, sk: want.sk },
          detail: `${owner} has no summary of the group`,
        });
        continue;
      }
      const atExpected = mine.find((f) => f.key.sk === want.sk);
      // The row kept (the newest one when none is where it should be); any other is a duplicate.
      const shown = atExpected ?? mine[0];
      for (const extra of mine.filter((f) => f !== shown)) {
        drifts.push({
          kind: "duplicate",
          messageGroupUuid: groupUuid,
          key: extra.key,
          detail: `a second summary of the group for ${owner}`,
        });
      }
      if (shown === undefined) continue;
      if (atExpected === undefined) {
        drifts.push({
          kind: "stale",
          messageGroupUuid: groupUuid,
          key: shown.key,
          detail: `${owner}'s summary shows ${String(shown.row.last_message_at)}; the newest message is ${newest.created_at}`,
        });
        continue;
      }
      const messageDiff = differing(shown.row, want, MESSAGE_FIELDS);
      if (messageDiff.length > 0) {
        drifts.push({
          kind: "stale",
          messageGroupUuid: groupUuid,
          key: shown.key,
          detail: `${owner}'s summary has other ${messageDiff.join(", ")} than the newest message`,
        });
      }
      const nameDiff = differing(shown.row, want, NAME_FIELDS);
      if (nameDiff.length > 0) {
        const other = group.members.find((o) => o.uuid !== m.uuid) ?? m;
        drifts.push({
          kind: "wrong_name",
          messageGroupUuid: groupUuid,
          key: shown.key,
          detail: `${owner}'s summary names ${String(shown.row.user_handle)} (${String(shown.row.user_display_name)}, ${String(shown.row.user_uuid)}); the group item names @${other.handle} (${other.display_name}, ${other.uuid})`,
        });
      }
    }
    for (const f of found.filter((x) => !memberPks.has(x.key.pk))) {
      drifts.push({
        kind: "duplicate",
        messageGroupUuid: groupUuid,
        key: f.key,
        detail: "a summary of the group in the partition of a user who is not a member",
      });
    }

    result.drifts = drifts;
    if (drifts.length === 0 || options.dryRun === true) return result;
    // Every row found but the two expected ones goes; the expected ones are put as the fan-out makes them.
    const deletes = found.map((f) => f.key).filter((k) => expected.get(k.pk)?.sk !== k.sk);
    try {
      await deps.ddb.send(
        new TransactWriteCommand({
          TransactItems: summaryMoveItems(deps.tableName, groupUuid, group, newest, deletes),
        }),
      );
      result.fixed = true;
      return result;
    } catch (error) {
      // A message moved the group, or a rename changed its members, since the read: read again.
      if (!isLostRace(error)) throw error;
      result.retries += 1;
    }
  }
  result.drifts = [];
  result.problems.push(`group ${groupUuid}: still moving after ${maxAttempts} attempts (busy conversation); run again`);
  return result;
}

/** What a repair of the whole table found and did. */
export interface RepairReport {
  dryRun: boolean;
  /** Items read by the scan. */
  scanned: number;
  /** Groups checked (group items, and groups only GRP rows name). */
  groups: number;
  /** Groups with at least one drift. */
  driftedGroups: number;
  /** Drifts by kind (dry run: found; else found and fixed). */
  drifts: Record<DriftKind, number>;
  /** Groups whose fix committed. */
  fixedGroups: number;
  /** Lost races with traffic, each followed by a fresh read. */
  retries: number;
  problems: string[];
}

/** A page of the scan (keys, and `message_group_uuid` of GRP rows). */
export type ScanPage = readonly Record<string, unknown>[];

export interface RepairOptions {
  dryRun?: boolean;
  /** Groups repaired at once (default 8). */
  concurrency?: number;
  maxAttempts?: number;
  backoffMs?: number;
  /** Called with each drift as it is found (dry run too). */
  onDrift?: (drift: Drift) => void;
  /** Called after each group. */
  onGroup?: (result: GroupRepair) => void;
}

/**
 * Plans a repair from a scan of the table: the groups to check, each with the GRP row keys seen
 * naming it. Feed it every page, then {@link repairTable} runs it.
 */
export class RepairPlan {
  /** Group uuid -> GRP row keys seen naming it. */
  readonly groups = new Map<string, RowKey[]>();
  scanned = 0;

  /** Adds a page of scanned items (any item kind; only group items and GRP rows count). */
  add(page: ScanPage): void {
    for (const item of page) {
      this.scanned += 1;
      const pk = String(item[PARTITION_KEY]);
      const sk = String(item[SORT_KEY]);
      const group = messageGroupKey("");
      if (pk.startsWith(group.pk) && sk === group.sk) {
        const g = pk.slice(group.pk.length);
        if (!this.groups.has(g)) this.groups.set(g, []);
      } else if (pk.startsWith(GRP_PREFIX)) {
        const g = groupOfGrpSk(sk) ?? (typeof item.message_group_uuid === "string" ? item.message_group_uuid : "");
        if (g === "") continue;
        const keys = this.groups.get(g) ?? [];
        keys.push({ pk, sk });
        this.groups.set(g, keys);
      }
    }
  }
}

/**
 * Repairs every group of `plan` ({@link repairGroup}), `concurrency` at a time.
 * @returns the totals; drifts and groups go to the callbacks as they are found.
 * @throws AWS SDK errors that are not a lost race (groups done stay done).
 */
export async function repairTable(
  deps: RepairDeps,
  plan: RepairPlan,
  options: RepairOptions = {},
): Promise<RepairReport> {
  const report: RepairReport = {
    dryRun: options.dryRun ?? false,
    scanned: plan.scanned,
    groups: plan.groups.size,
    driftedGroups: 0,
    drifts: { missing: 0, duplicate: 0, stale: 0, wrong_name: 0 },
    fixedGroups: 0,
    retries: 0,
    problems: [],
  };
  // rejectOnClear: after a failure the queued groups settle (as AbortErrors) instead of hanging.
  const limit = pLimit({ concurrency: options.concurrency ?? 8, rejectOnClear: true });
  let failure: { error: unknown } | undefined;
  await Promise.all(
    [...plan.groups].map(([groupUuid, seenKeys]) =>
      limit(async () => {
        const result = await repairGroup(deps, groupUuid, {
          dryRun: options.dryRun,
          seenKeys,
          maxAttempts: options.maxAttempts,
          backoffMs: options.backoffMs,
        });
        for (const d of result.drifts) {
          report.drifts[d.kind] += 1;
          options.onDrift?.(d);
        }
        if (result.drifts.length > 0) report.driftedGroups += 1;
        if (result.fixed) report.fixedGroups += 1;
        report.retries += result.retries;
        report.problems.push(...result.problems);
        options.onGroup?.(result);
      }).catch((error: unknown) => {
        failure ??= { error };
        limit.clearQueue();
      }),
    ),
  );
  if (failure !== undefined) throw failure.error;
  return report;
}
