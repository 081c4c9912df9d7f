/**
 * `users refresh`: rewrites the handles and display names the table keeps of its users (they are
 * denormalised into rows) from the user directory in the same table (the profile items, the only
 * identity source after sign-up; Cognito attributes are never read), after users were renamed.
 * PATCH /api/users/me propagates its own rename already; this is the operator's catch-all (rows
 * written before the directory existed, a propagation that was cut short, a profile fixed by hand).
 *
 * Which rows hold names:
 * - MSG rows: `user_handle`/`user_display_name` = the sender (`user_uuid`).
 * - GRP rows: `user_handle`/`user_display_name` = the OTHER member (`user_uuid`).
 * - message group items: `members` (uuid, handle, display_name of both members); the fan-out
 *   (pattern E) copies them into every GRP row it writes.
 *
 * The approach, and why:
 * 1. One Scan of the table, projected on the key and name attributes. Every MSG row of a renamed
 *    sender has to be read anyway and no index lists rows by user, so a full read is the least a
 *    refresh can cost; the same pass finds the group items and stale GRP rows. (Finding GRP rows
 *    through the GSI `message-group-sk-index` would still need the groups first, and the GSI is
 *    eventually consistent: it can show a summary the fan-out has just replaced.)
 *    The profiles come from the directory in the same pass: for each page of the scan, the users
 *    it names that were not read yet are read with BatchGetItem (100 profiles a request, strongly
 *    consistent), before the page's rows are compared. A second Scan filtered on the `USER#`
 *    prefix would cost a whole second table read (a filter saves no read capacity), and waiting
 *    for the profile items to come by in the one scan would mean holding every row in memory;
 *    reading each named user once costs one item read per user, which is never more than the
 *    rows that name them.
 * 2. A stale MSG row is updated in place, conditionally: `attribute_exists(pk)` (never creates a
 *    row), `user_uuid = <sender>` (only the row that was read), and "a name differs" (an already
 *    current row is not written again, so a re-run or a concurrent run writes nothing twice).
 *    MSG rows are written once by the API and never moved, so there is no other writer to race.
 *    The update emits a MODIFY stream record, which the fan-out's filter (INSERT only) ignores.
 * 3. Each group with a stale member or a stale GRP row is then fixed by `renameInGroup` of
 *    `shared/renames.ts` (the protocol PATCH /api/users/me uses too), the way the fan-out itself
 *    works: the group item is read strongly consistent, the two GRP rows' keys are computed from
 *    its `last_message_at` (never taken from the scan or the GSI), and one TransactWriteItems
 *    updates `members` and the name attributes of both GRP rows, conditioned on
 *    `last_message_sk` being the one read (the fan-out's own lock) and on each GRP row existing
 *    and describing the expected user. If the fan-out moves the summaries in between, the
 *    transaction is cancelled and the group is read again. Keys (pk/sk), `last_message_*` and
 *    every other attribute are never written, so the fan-out's invariants hold.
 * 4. Groups that were changed are checked once more at the end: a fan-out that read the group
 *    item before step 3 committed can still write the old names into the GRP rows it moves (its
 *    condition is only on `last_message_sk`); the re-check fixes such rows. Running the command
 *    again is always safe and converges.
 *
 * Before step 3 the profiles of the users found renamed are read again (strongly consistent): a
 * scan of a large table takes long, and the groups must get the names the directory has now, not
 * the ones it had when the scan met the user. MSG rows are fixed during the scan with the names
 * read then; a rename during the run is left to its own propagation or to the next run (pattern
 * A shows the sender's names from the group item, not from the MSG row).
 *
 * Users that have no profile in the directory (deleted, or never imported) keep the names the
 * rows have. Disabled users are renamed like the others (their rows still describe them).
 * `--dry-run` does every read (including the consistent reads of step 3) and reports what would
 * change, writing nothing.
 */

import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod/mini";
import { toUserProfile } from "../../shared/directory";
import { messageItemSchema } from "../../shared/items/message";
import { messageGroupItemSchema } from "../../shared/items/message-group";
import { type MessageGroupSummaryItem, messageGroupSummaryItemSchema } from "../../shared/items/message-group-summary";
import type { UserProfile } from "../../shared/items/profile";
import { namesDiffer, type RenameDeps, renameInGroup } from "../../shared/renames";
import {
  GRP_PREFIX,
  MESSAGE_GROUP_PREFIX,
  MESSAGE_GROUP_SK,
  MSG_PREFIX,
  PARTITION_KEY,
  SORT_KEY,
} from "../../shared/table";
import { readProfiles } from "./directory-users";
import { userLabel } from "./format";
import { runLimited, type Task } from "./limited";
import type { Progress } from "./progress";
import { type Item, scanPages } from "./scan";

const MSG = z.keyof(messageItemSchema).def.entries;
const GRP = z.keyof(messageGroupSummaryItemSchema).def.entries;
const MG = z.keyof(messageGroupItemSchema).def.entries;
/**
 * The attributes this command reads and writes, named by the item schemas. MSG and GRP rows name
 * their user alike (`satisfies` checks the GRP row's names are the MSG row's).
 */
const A = {
  userUuid: MSG.user_uuid satisfies keyof MessageGroupSummaryItem,
  handle: MSG.user_handle satisfies keyof MessageGroupSummaryItem,
  displayName: MSG.user_display_name satisfies keyof MessageGroupSummaryItem,
  members: MG.members,
  groupUuid: GRP.message_group_uuid,
  lastMessageSk: MG.last_message_sk,
} as const;

/** The table: its rows and its user directory. */
export interface RefreshDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

export interface RefreshOptions {
  /** Read and report only. */
  dryRun: boolean;
  /** Progress of the scan and of the groups (a no-op Progress when not shown). */
  progress?: Progress | undefined;
  /** DescribeTable's item count, for the scan's progress bar (approximate). */
  approximateItems?: number | undefined;
  /** Items per Scan request (default: DynamoDB's 1 MB pages). */
  pageSize?: number | undefined;
  /** Writes in flight at once (default 8). */
  concurrency?: number;
  /** Attempts per group when the fan-out moves it meanwhile (default 10, jittered back-off). */
  maxAttempts?: number;
}

/** One user whose names in the table differ from their profile in the directory. */
export interface Rename {
  uuid: string;
  /** The names found in rows, `@handle (Display Name)`, each once. */
  from: string[];
  to: UserProfile;
}

/** What a refresh did (or, dry run, would do). */
export interface RefreshReport {
  dryRun: boolean;
  /** Items read by the scan. */
  scanned: number;
  /** Message group items seen. */
  groups: number;
  /** Rows updated (dry run: to update). */
  updated: { messages: number; summaries: number; groupItems: number };
  renames: Rename[];
  /** Profiles read from the directory (users named in rows that have one). */
  profiles: number;
  /** uuids named in rows that have no profile in the directory; their rows were left as they are. */
  unknownUsers: string[];
  /** Rows fixed by the final re-check (a fan-out raced the refresh). */
  fixedOnRecheck: number;
  /** Group transactions lost to the fan-out (the group moved between its read and the write) and retried. */
  lostRaces: number;
  /** Most attempts one group needed (0 when no group was written). */
  maxGroupAttempts: number;
  /** Inconsistencies found and left alone (each one line). */
  problems: string[];
}

const differs = namesDiffer;

/**
 * Refreshes the names. See the module documentation for the approach and its guarantees.
 * @returns the report (also for a dry run).
 * @throws AWS SDK errors that are not a lost race (missing table, throttling after retries...).
 */
export async function refreshUserNames(deps: RefreshDeps, options: RefreshOptions): Promise<RefreshReport> {
  const { doc, tableName } = deps;
  /** The directory's profiles of the users named in rows, read page by page as the scan meets them. */
  const profiles = new Map<string, UserProfile>();
  const renameDeps: RenameDeps = { ddb: doc, tableName, profiles };
  const progress = options.progress;
  const concurrency = options.concurrency ?? 8;
  const report: RefreshReport = {
    dryRun: options.dryRun,
    scanned: 0,
    groups: 0,
    updated: { messages: 0, summaries: 0, groupItems: 0 },
    renames: [],
    profiles: 0,
    unknownUsers: [],
    fixedOnRecheck: 0,
    lostRaces: 0,
    maxGroupAttempts: 0,
    problems: [],
  };
  const countAttempts = (attempts: number) => {
    report.lostRaces += attempts - 1;
    report.maxGroupAttempts = Math.max(report.maxGroupAttempts, attempts);
  };
  const renames = new Map<string, { from: Set<string>; to: UserProfile }>();
  /** Named in rows, read, and without a profile. */
  const unknown = new Set<string>();
  /** Reads the profiles of the users named on a page that were not read yet. */
  const loadProfilesOf = async (page: readonly Item[]) => {
    const named = new Set<string>();
    for (const item of page) {
      const pk = String(item[PARTITION_KEY]);
      if (pk.startsWith(MSG_PREFIX) || pk.startsWith(GRP_PREFIX)) {
        if (typeof item[A.userUuid] === "string") named.add(item[A.userUuid] as string);
      } else if (pk.startsWith(MESSAGE_GROUP_PREFIX)) {
        for (const m of (item[A.members] ?? []) as UserProfile[]) if (typeof m.uuid === "string") named.add(m.uuid);
      }
    }
    const wanted = [...named].filter((uuid) => !profiles.has(uuid) && !unknown.has(uuid));
    if (wanted.length === 0) return;
    const found = await readProfiles(doc, tableName, wanted);
    for (const uuid of wanted) {
      const profile = found.get(uuid);
      if (profile === undefined) unknown.add(uuid);
      else profiles.set(uuid, toUserProfile(profile));
    }
  };
  /** Groups to fix, with the keys of the stale GRP rows the scan saw (to spot strays). */
  const staleGroups = new Map<string, { pk: string; sk: string }[]>();

  /** The user's current profile if the stored names are stale; records the rename. */
  const staleFor = (uuid: unknown, stored: { handle?: unknown; display_name?: unknown }): UserProfile | undefined => {
    if (typeof uuid !== "string") return undefined;
    const current = profiles.get(uuid);
    if (current === undefined) return undefined;
    if (!differs(stored, current)) return undefined;
    const entry = renames.get(uuid) ?? { from: new Set<string>(), to: current };
    entry.from.add(userLabel({ handle: String(stored.handle), display_name: String(stored.display_name) }));
    renames.set(uuid, entry);
    return current;
  };
  const markGroup = (groupUuid: string, grpKey?: { pk: string; sk: string }) => {
    const keys = staleGroups.get(groupUuid) ?? [];
    if (grpKey !== undefined) keys.push(grpKey);
    staleGroups.set(groupUuid, keys);
  };

  /**
   * Steps 1-2 for one scanned item: notes a group with stale names.
   * @returns the write that fixes a stale MSG row, if it is one.
   */
  const refreshItem = (item: Item): Task | undefined => {
    report.scanned += 1;
    const pk = String(item[PARTITION_KEY]);
    const sk = String(item[SORT_KEY]);
    const names = { handle: item[A.handle], display_name: item[A.displayName] };
    if (pk.startsWith(MSG_PREFIX)) {
      const current = staleFor(item[A.userUuid], names);
      if (current === undefined) return undefined;
      if (!options.dryRun) {
        return async () => {
          if (await updateMessageRow(doc, tableName, item, current)) report.updated.messages += 1;
        };
      }
      report.updated.messages += 1;
    } else if (pk.startsWith(GRP_PREFIX)) {
      const groupUuid = item[A.groupUuid];
      if (typeof groupUuid === "string" && staleFor(item[A.userUuid], names) !== undefined)
        markGroup(groupUuid, { pk, sk });
    } else if (pk.startsWith(MESSAGE_GROUP_PREFIX) && sk === MESSAGE_GROUP_SK) {
      report.groups += 1;
      const members = (item[A.members] ?? []) as UserProfile[];
      // Evaluate every member (each rename is recorded), then mark once.
      const stale = members.map((m) => staleFor(m.uuid, m) !== undefined);
      if (stale.some(Boolean)) markGroup(pk.slice(MESSAGE_GROUP_PREFIX.length));
    }
    return undefined;
  };

  // 1-2: scan, reading the profiles the page names; fix MSG rows on the way; note the groups to fix.
  progress?.start("scanning", { total: options.approximateItems, approximate: true, unit: "items" });
  let seen = 0;
  const pages = scanPages(doc, tableName, {
    pageSize: options.pageSize,
    attributes: [PARTITION_KEY, SORT_KEY, A.userUuid, A.handle, A.displayName, A.members, A.groupUuid],
    onPage: (n) => {
      progress?.tick(n - seen);
      seen = n;
    },
  });
  for await (const page of pages) {
    await loadProfilesOf(page);
    // The page's writes end before the next page is read: memory stays bounded by one page.
    const writes: Task[] = [];
    for (const item of page) {
      const write = refreshItem(item);
      if (write !== undefined) writes.push(write);
    }
    await runLimited(concurrency, writes);
  }
  progress?.done();

  // Before the groups: the renamed users' profiles as they are now (the scan may have taken long).
  const fresh = await readProfiles(doc, tableName, renames.keys());
  for (const [uuid, entry] of renames) {
    const profile = fresh.get(uuid);
    if (profile === undefined) {
      // Deleted meanwhile: its rows keep their names from now on (MSG rows already fixed stay fixed).
      profiles.delete(uuid);
      renames.delete(uuid);
      unknown.add(uuid);
    } else {
      entry.to = toUserProfile(profile);
      profiles.set(uuid, entry.to);
      // Renamed back to what the rows say meanwhile: no rename to report (the groups find nothing to do).
      if ([...entry.from].every((from) => from === userLabel(entry.to))) renames.delete(uuid);
    }
  }

  // 3: the groups, through their group items.
  const changed: string[] = [];
  progress?.start("summaries", { total: staleGroups.size, unit: "groups" });
  await runLimited(
    concurrency,
    [...staleGroups].map(([groupUuid, scannedKeys]) => async () => {
      const result = await renameInGroup(renameDeps, groupUuid, {
        dryRun: options.dryRun,
        maxAttempts: options.maxAttempts,
        strayKeys: scannedKeys,
      });
      countAttempts(result.attempts);
      report.updated.summaries += result.summaries;
      report.updated.groupItems += result.groupItem ? 1 : 0;
      report.problems.push(...result.problems);
      if (result.summaries > 0 || result.groupItem) changed.push(groupUuid);
      progress?.tick();
    }),
  );
  progress?.done();

  // 4: re-check the changed groups once (a fan-out that read the old members may have written them).
  if (!options.dryRun && changed.length > 0) {
    progress?.start("re-checking", { total: changed.length, unit: "groups" });
    await runLimited(
      concurrency,
      changed.map((groupUuid) => async () => {
        const result = await renameInGroup(renameDeps, groupUuid, {
          dryRun: options.dryRun,
          maxAttempts: options.maxAttempts,
        });
        countAttempts(result.attempts);
        report.fixedOnRecheck += result.summaries + (result.groupItem ? 1 : 0);
        report.updated.summaries += result.summaries;
        report.updated.groupItems += result.groupItem ? 1 : 0;
        report.problems.push(...result.problems);
        progress?.tick();
      }),
    );
    progress?.done();
  }

  report.renames = [...renames].map(([uuid, r]) => ({ uuid, from: [...r.from], to: r.to }));
  report.profiles = profiles.size;
  report.unknownUsers = [...unknown].sort();
  report.problems = [...new Set(report.problems)];
  return report;
}

/**
 * Sets the sender's names on one MSG row.
 * @returns false when the condition failed: the row is gone, is not that sender's, or is current.
 */
async function updateMessageRow(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
  sender: UserProfile,
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { [PARTITION_KEY]: item[PARTITION_KEY], [SORT_KEY]: item[SORT_KEY] },
        UpdateExpression: "SET #h = :h, #d = :d",
        ConditionExpression: "attribute_exists(#pk) AND #u = :u AND (#h <> :h OR #d <> :d)",
        ExpressionAttributeNames: { "#pk": PARTITION_KEY, "#u": A.userUuid, "#h": A.handle, "#d": A.displayName },
        ExpressionAttributeValues: { ":u": sender.uuid, ":h": sender.handle, ":d": sender.display_name },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
    throw error;
  }
}
