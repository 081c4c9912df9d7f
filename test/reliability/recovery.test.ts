/**
 * Suite 10, recovery of the fan-out (`fanout repair` and `fanout redrive`) under traffic, against
 * DynamoDB Local.
 *
 * Repair: generated runs (fast-check), each on fresh conversations. Every group but a few gets one
 * generated corruption of its summaries: a member's row deleted (missing), a second row under an
 * older key (duplicate), a member's row moved back to an older message (stale), a message the
 * fan-out never ran for (stale: the group item and both rows), a row naming the other member
 * otherwise (wrong name). Half of the groups are "quiet"; the other half take traffic while the
 * repair runs: posts through the fan-out (pattern C + E) and renames through PATCH's propagation.
 * Checked: in the quiet groups the repair finds exactly the drifts injected, kind by kind; at the
 * end, once traffic stopped, every group is exactly what the fan-out makes of its messages (group
 * item on the newest message, one row per member built by `summaryItems` from the group item's
 * members, nothing else), and a second repair finds nothing.
 *
 * Redrive: real failed batches (the local stream poller delivering to a fan-out whose moves of
 * some groups are throttled until the retries are used up), then redriven while posts keep coming
 * through the poller; plus letters whose range is not in the stream. Checked: every replayable
 * letter deleted, every expired one kept, and once the poller caught up the table is exactly what
 * the fan-out makes.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchWriteCommand, DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { fileFailureQueue } from "../../bin/lib/failure-queues";
import { appendDeadLetters, localStreamsClient, readDeadLetters } from "../../local/state";
import { putDirectoryUser, renameUser } from "../../shared/directory";
import { applyNewestMessage } from "../../shared/fan-out";
import { messageGroupUuidFor } from "../../shared/ids";
import { type MessageItem, messageItem } from "../../shared/items/message";
import { messageGroupItem } from "../../shared/items/message-group";
import { type MessageGroupSummaryItem, summaryItems } from "../../shared/items/message-group-summary";
import type { UserProfile } from "../../shared/items/profile";
import { redrive } from "../../shared/redrive";
import { propagateRename } from "../../shared/renames";
import { DRIFT_KINDS, type DriftKind, RepairPlan, repairTable } from "../../shared/repair";
import { grpSk } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import { fanOutMismatches, putMessage, startTestFanOut } from "../support/fan-out";
import { createTestTable, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

/** Generated repair runs, groups per run (half quiet, half busy), traffic per run. */
const RUNS = 6;
const GROUPS = 24;
const POSTS = 60;
const RENAMES = 6;

const CORRUPTIONS = ["none", "missing", "duplicate", "stale_row", "missed_fan_out", "wrong_name"] as const;
type Corruption = (typeof CORRUPTIONS)[number];
/** The drifts a corruption of a quiet group must be reported as. */
const EXPECTED: Record<Corruption, Partial<Record<DriftKind, number>>> = {
  none: {},
  missing: { missing: 1 },
  duplicate: { duplicate: 1 },
  stale_row: { stale: 1 },
  missed_fan_out: { stale: 3 },
  wrong_name: { wrong_name: 1 },
};

let table: TestTable;
const deps = () => ({ ddb: table.ddb, tableName: table.tableName });
let clock = Date.UTC(2026, 8, 1, 0, 0, 0);
const tick = () => {
  clock += 1000;
  return clock;
};

/** Figures for docs/reliability.md. */
const stats = {
  repair: {
    runs: 0,
    groups: 0,
    injected: Object.fromEntries(CORRUPTIONS.map((c) => [c, 0])) as Record<Corruption, number>,
    found: Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>,
    foundQuiet: Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>,
    posts: 0,
    postsDuringRepair: 0,
    renames: 0,
    renamesDuringRepair: 0,
    retries: 0,
  },
  redrive: { letters: 0, replayed: 0, expired: 0, records: 0, postsDuringRedrive: 0 },
};

beforeAll(async () => {
  table = await createTestTable();
});

interface Conversation {
  groupUuid: string;
  members: [UserProfile, UserProfile];
  messages: MessageItem[];
}

/** Conversations as the fan-out leaves them: three messages each, the group item on the last. */
async function conversations(
  pairs: [UserProfile, UserProfile][],
  on: Pick<TestTable, "ddb" | "tableName"> = table,
): Promise<Conversation[]> {
  const convos: Conversation[] = [];
  const items: Record<string, unknown>[] = [];
  for (const members of pairs) {
    const groupUuid = messageGroupUuidFor(members[0].uuid, members[1].uuid);
    const messages = [0, 1, 2].map((i) =>
      messageItem({
        messageGroupUuid: groupUuid,
        messageUuid: crypto.randomUUID(),
        sender: members[i % 2] as UserProfile,
        text: `message ${i}`,
        createdAt: toTimestamp(tick()),
      }),
    );
    const last = messages[2] as MessageItem;
    const group = messageGroupItem({
      messageGroupUuid: groupUuid,
      members,
      shown: last,
      createdAt: messages[0]?.created_at ?? "",
    });
    items.push(group, ...summaryItems(groupUuid, group.members, last), ...messages);
    convos.push({ groupUuid, members, messages });
  }
  for (let i = 0; i < items.length; i += 25) {
    await on.ddb.send(
      new BatchWriteCommand({
        RequestItems: { [on.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  return convos;
}

const put = (Item: Record<string, unknown>) => table.ddb.send(new PutCommand({ TableName: table.tableName, Item }));
const del = (Key: { pk: string; sk: string }) =>
  table.ddb.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: Key.pk, sk: Key.sk } }));

/** Applies `corruption` to `c`'s summaries (member `which`). */
async function corrupt(c: Conversation, corruption: Corruption, which: 0 | 1): Promise<void> {
  const last = c.messages[2] as MessageItem;
  const rows = summaryItems(c.groupUuid, c.members, last);
  const row = rows[which] as MessageGroupSummaryItem;
  const older = c.messages[0] as MessageItem;
  switch (corruption) {
    case "none":
      return;
    case "missing":
      return void (await del(row));
    case "duplicate":
      return void (await put({ ...row, sk: grpSk(older.created_at, c.groupUuid), last_message_at: older.created_at }));
    case "stale_row": {
      const [stale] = summaryItems(c.groupUuid, c.members, older).filter((r) => r.pk === row.pk);
      await del(row);
      return void (await put(stale as MessageGroupSummaryItem));
    }
    case "missed_fan_out": {
      const sender = c.members[which];
      const item = await putMessage(table, sender, c.groupUuid, "never fanned out", tick());
      c.messages.push(item);
      return;
    }
    case "wrong_name":
      return void (await put({ ...row, user_handle: `${row.user_handle}_x`, user_display_name: "Someone Else" }));
  }
}

describe("suite 10: recovery under traffic", () => {
  it("repair finds every injected drift of the quiet groups and leaves every group exactly as the fan-out makes it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...CORRUPTIONS), fc.constantFrom(0 as const, 1 as const)), {
          minLength: GROUPS,
          maxLength: GROUPS,
        }),
        fc.array(fc.nat(), { minLength: POSTS, maxLength: POSTS }),
        async (plan, picks) => {
          stats.repair.runs += 1;
          // Quiet users talk among themselves, busy users among themselves (renames touch only busy groups).
          const run = stats.repair.runs;
          const quietUsers = Array.from({ length: 6 }, (_, i) => makeUser(`q${run}_${i}`, `Quiet ${i}`));
          const busyUsers = Array.from({ length: 6 }, (_, i) => makeUser(`b${run}_${i}`, `Busy ${i}`));
          for (const u of busyUsers) {
            expect(await putDirectoryUser(deps(), { ...u, username: u.handle }, tick())).toBe("created");
          }
          const pairsOf = (users: UserProfile[], n: number) => {
            const pairs: [UserProfile, UserProfile][] = [];
            for (let i = 0; i < users.length && pairs.length < n; i++)
              for (let j = i + 1; j < users.length && pairs.length < n; j++)
                pairs.push([users[i] as UserProfile, users[j] as UserProfile]);
            return pairs;
          };
          const half = GROUPS / 2;
          const quiet = await conversations(pairsOf(quietUsers, half));
          const busy = await conversations(pairsOf(busyUsers, half));
          const all = [...quiet, ...busy];
          const expectedQuiet = Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>;
          for (const [i, c] of all.entries()) {
            const [corruption, which] = plan[i] ?? ["none", 0];
            await corrupt(c, corruption, which);
            stats.repair.injected[corruption] += 1;
            if (i < half) {
              for (const [k, n] of Object.entries(EXPECTED[corruption])) expectedQuiet[k as DriftKind] += n;
            }
          }
          stats.repair.groups += all.length;

          const scan = new RepairPlan();
          scan.add(await table.scanAll());
          const ours = new Set(all.map((c) => c.groupUuid));
          for (const g of [...scan.groups.keys()]) if (!ours.has(g)) scan.groups.delete(g);
          const quietIds = new Set(quiet.map((c) => c.groupUuid));
          const foundQuiet = Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>;

          let repairing = true;
          const traffic = async () => {
            const names = new Map(busyUsers.map((u) => [u.uuid, u]));
            let renamesLeft = RENAMES;
            for (const [n, pick] of picks.entries()) {
              const c = busy[pick % busy.length] as Conversation;
              const sender = names.get(c.members[pick % 2]?.uuid ?? "") as UserProfile;
              const item = await putMessage(table, sender, c.groupUuid, `traffic ${n}`, tick());
              await applyNewestMessage(deps(), { messageGroupUuid: c.groupUuid, item });
              stats.repair.posts += 1;
              if (repairing) stats.repair.postsDuringRepair += 1;
              if (n % Math.floor(POSTS / RENAMES) === 0 && renamesLeft > 0) {
                renamesLeft -= 1;
                const user = busyUsers[pick % busyUsers.length] as UserProfile;
                const { after } = await renameUser(deps(), user.uuid, { display_name: `Renamed ${n}` }, tick());
                const profile = { uuid: after.uuid, handle: after.handle, display_name: after.display_name };
                names.set(user.uuid, profile);
                await propagateRename(deps(), profile);
                stats.repair.renames += 1;
                if (repairing) stats.repair.renamesDuringRepair += 1;
              }
            }
          };
          const [report] = await Promise.all([
            repairTable(deps(), scan, {
              // Two at a time: the repair lasts long enough for the traffic to hit groups it has not reached yet.
              concurrency: 2,
              backoffMs: 5,
              onDrift: (d) => {
                if (quietIds.has(d.messageGroupUuid)) foundQuiet[d.kind] += 1;
              },
            }).finally(() => {
              repairing = false;
            }),
            traffic(),
          ]);
          expect(report.problems).toEqual([]);
          expect(foundQuiet).toEqual(expectedQuiet);
          for (const k of DRIFT_KINDS) {
            stats.repair.found[k] += report.drifts[k];
            stats.repair.foundQuiet[k] += foundQuiet[k];
          }
          stats.repair.retries += report.retries;

          const ofOurs = (items: Record<string, unknown>[]) =>
            items.filter((i) => [...ours].some((g) => String(i.sk).endsWith(g) || String(i.pk).endsWith(g)));
          expect(fanOutMismatches(ofOurs(await table.scanAll()))).toEqual([]);
          const again = await repairTable(deps(), scan);
          expect(DRIFT_KINDS.map((k) => again.drifts[k])).toEqual([0, 0, 0, 0]);
        },
      ),
      { numRuns: RUNS },
    );
    if (process.env.RELIABILITY_REPORT === "1") console.log(JSON.stringify({ repair: stats.repair }));
  });

  it("redrive replays every real failed batch while posts keep coming, keeps the expired ones, and the summaries converge", async () => {
    const redriveTable = await createTestTable();
    const stateDir = await mkdtemp(join(tmpdir(), "recovery-"));
    const file = join(stateDir, "dead-letter.jsonl");
    const fanOut = await startTestFanOut(redriveTable, file);
    const streams = localStreamsClient({ endpoint: redriveTable.endpoint });
    try {
      const users = Array.from({ length: 6 }, (_, i) => makeUser(`r${i}`));
      const convos = await conversations(
        users.flatMap((a, i) => users.slice(i + 1).map((b) => [a, b] as [UserProfile, UserProfile])),
        redriveTable,
      );
      const post = async (c: Conversation, text: string) => {
        clock += 1000;
        const item = await putMessage(redriveTable, c.members[clock % 2] as UserProfile, c.groupUuid, text, clock);
        c.messages.push(item);
        return item;
      };
      const broken = convos.slice(0, 5);
      for (const c of broken) fanOut.broken.add(c.groupUuid);
      /** Waits until the poller has given up on `item` (a letter names it). */
      const given = (item: MessageItem) =>
        vi.waitFor(
          async () => {
            const letters = await readDeadLetters(file);
            const keys = new Set(letters.flatMap((l) => l.local?.records.map((r) => `${r.pk} ${r.sk}`) ?? []));
            expect(keys).toContain(`${item.pk} ${item.sk}`);
          },
          { timeout: 20_000, interval: 50 },
        );
      // Each broken group's post in its own batch (one letter each), the others' posts in between.
      for (const [i, c] of convos.entries()) {
        const item = await post(c, `before ${i}`);
        if (i < broken.length) await given(item);
      }
      const [real] = await readDeadLetters(file);
      if (real === undefined) throw new Error("no letter");
      const expiredLetters = [
        { shardId: "shardId-00000000000000000000-00000000" },
        { startSequenceNumber: "0".repeat(21), endSequenceNumber: "0".repeat(21) },
      ].map((patch, i) => ({
        ...real,
        requestContext: { ...real.requestContext, requestId: `expired-${i}` },
        DDBStreamBatchInfo: { ...real.DDBStreamBatchInfo, ...patch },
      }));
      await appendDeadLetters(file, expiredLetters);
      for (const c of broken) fanOut.broken.delete(c.groupUuid);
      const letters = (await readDeadLetters(file)).length;

      let redriving = true;
      const traffic = async () => {
        for (let n = 0; redriving || n < 10; n++) {
          await post(convos[n % convos.length] as Conversation, `during ${n}`);
          if (redriving) stats.redrive.postsDuringRedrive += 1;
        }
      };
      const [report] = await Promise.all([
        redrive({
          ddb: redriveTable.ddb,
          tableName: redriveTable.tableName,
          streams,
          queue: fileFailureQueue(file),
        }).finally(() => {
          redriving = false;
        }),
        traffic(),
      ]);
      expect(report.letters).toBe(letters);
      expect(report.expired).toBe(2);
      expect(report.replayed).toBe(letters - 2);
      expect(report.failed + report.skipped).toBe(0);
      expect((await readDeadLetters(file)).map((l) => l.requestContext.requestId)).toEqual(["expired-0", "expired-1"]);
      stats.redrive.letters += report.letters;
      stats.redrive.replayed += report.replayed;
      stats.redrive.expired += report.expired;
      stats.redrive.records += report.records;
      // Once the poller has delivered the posts made during the redrive, the table is the fan-out's.
      await vi.waitFor(async () => expect(fanOutMismatches(await redriveTable.scanAll())).toEqual([]), {
        timeout: 20_000,
        interval: 100,
      });
      if (process.env.RELIABILITY_REPORT === "1") console.log(JSON.stringify({ redrive: stats.redrive }));
    } finally {
      await fanOut.stop();
      streams.destroy();
    }
  });
});
