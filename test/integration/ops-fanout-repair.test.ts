/**
 * `fanout repair` against DynamoDB Local: summaries corrupted in every way it reports (missing,
 * duplicate, stale, wrong name) are each found, reported with their key and fixed, the table
 * ending exactly as the fan-out makes it; `--dry-run` writes nothing; a second run finds nothing;
 * a message posted between the repair's read and its write makes it read again, never putting a
 * summary behind that message; what it cannot fix is reported and left alone.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { fanoutProgram } from "../../bin/lib/fanout-commands";
import { applyNewestMessage } from "../../shared/fan-out";
import { messageGroupUuidFor } from "../../shared/ids";
import type { MessageItem } from "../../shared/items/message";
import type { MessageGroupSummaryItem } from "../../shared/items/message-group-summary";
import type { UserProfile } from "../../shared/items/profile";
import { getMessageGroup } from "../../shared/messages";
import { RepairPlan, repairGroup, repairTable } from "../../shared/repair";
import { seedConversation } from "../../shared/seed";
import { grpPk, grpSk } from "../../shared/table";
import { fanOutMismatches, putMessage } from "../support/fan-out";
import { runOps, stateDirFor } from "../support/ops";
import { createTestTable, interceptSend, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

let table: TestTable;
let stateDir: string;
const [ann, ben, cat, dan, eve] = ["ann", "ben", "cat", "dan", "eve"].map((h) =>
  makeUser(`${h}_rp`, h.toUpperCase()),
) as [UserProfile, UserProfile, UserProfile, UserProfile, UserProfile];
const group = (a: UserProfile, b: UserProfile) => messageGroupUuidFor(a.uuid, b.uuid);
let clock = Date.UTC(2026, 6, 1, 9, 0, 0);
const deps = () => ({ ddb: table.ddb, tableName: table.tableName });

/** Pattern C then E: a message and its fan-out. */
async function post(sender: UserProfile, groupUuid: string, text: string): Promise<MessageItem> {
  clock += 60_000;
  const item = await putMessage(table, sender, groupUuid, text, clock);
  await applyNewestMessage(deps(), { messageGroupUuid: groupUuid, item });
  return item;
}
async function rowOf(owner: UserProfile, groupUuid: string): Promise<MessageGroupSummaryItem> {
  const row = (await table.summariesOf(owner.uuid)).find((r) => r.message_group_uuid === groupUuid);
  if (row === undefined) throw new Error(`no row of ${owner.handle} in ${groupUuid}`);
  return row;
}
const put = (Item: Record<string, unknown>) => table.ddb.send(new PutCommand({ TableName: table.tableName, Item }));
const del = (key: { pk: string; sk: string }) =>
  table.ddb.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: key.pk, sk: key.sk } }));

beforeAll(async () => {
  table = await createTestTable();
  stateDir = await stateDirFor({ dynamodbEndpoint: table.endpoint, tableName: table.tableName });
  for (const [a, b] of [
    [ann, ben],
    [ann, cat],
    [ben, cat],
    [cat, dan],
    [dan, eve],
  ] as const) {
    await seedConversation(table.ddb, table.tableName, {
      a,
      b,
      messages: [
        { from: "a", text: `${a.handle} first` },
        { from: "b", text: `${b.handle} second` },
      ],
      endAtMs: clock,
      stepMs: 1000,
    });
    await post(a, group(a, b), `${a.handle} to ${b.handle}`);
  }
  expect(fanOutMismatches(await table.scanAll())).toEqual([]);
});

describe("fanout repair", () => {
  it("finds each kind of drift with --dry-run, says where it is, and writes nothing", async () => {
    const ab = group(ann, ben);
    const ac = group(ann, cat);
    const bc = group(ben, cat);
    const cd = group(cat, dan);
    // missing: ann's summary of ab is gone.
    const annAb = await rowOf(ann, ab);
    await del(annAb);
    // duplicate: a second summary of ab for ben, under an older sort key; and one in eve's partition.
    const benAb = await rowOf(ben, ab);
    const older = "2026-01-01T00:00:00.000Z";
    await put({ ...benAb, sk: grpSk(older, ab), last_message_at: older });
    await put({ ...benAb, pk: grpPk(eve.uuid) });
    // stale (a row): cat's summary of ac moved back to an older message.
    const catAc = await rowOf(cat, ac);
    await del(catAc);
    await put({ ...catAc, sk: grpSk(older, ac), last_message_at: older, message: "an old one" });
    // stale (a missed fan-out): a message the fan-out never ran for; group item and both rows behind.
    clock += 60_000;
    await putMessage(table, cat, bc, "never fanned out", clock);
    // wrong name: dan's summary of cd names someone else.
    const danCd = await rowOf(dan, cd);
    await put({ ...danCd, user_handle: "mallory", user_display_name: "Mallory" });

    const before = await table.scanAll();
    const result = await runOps(fanoutProgram, ["repair", "--dry-run"], stateDir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`dry run: repairing the summaries of table ${table.tableName} on the local stack`);
    const drifts = result.lines.slice(0, -1);
    expect(drifts).toHaveLength(8);
    expect(drifts).toEqual(
      expect.arrayContaining([
        `duplicate  ${grpPk(ben.uuid)} ${grpSk(older, ab)}  a second summary of the group for @${ben.handle}`,
        `duplicate  ${grpPk(eve.uuid)} ${benAb.sk}  a summary of the group in the partition of a user who is not a member`,
        `missing  ${annAb.pk} ${annAb.sk}  @${ann.handle} has no summary of the group`,
        expect.stringMatching(new RegExp(`^stale {2}MG#${bc} MG {2}the group item shows .*; the newest message is `)),
        expect.stringMatching(new RegExp(`^stale {2}${grpPk(ben.uuid)} \\S+#${bc} {2}@${ben.handle}'s summary shows `)),
        expect.stringMatching(new RegExp(`^stale {2}${grpPk(cat.uuid)} \\S+#${bc} {2}@${cat.handle}'s summary shows `)),
        `stale  ${grpPk(cat.uuid)} ${grpSk(older, ac)}  @${cat.handle}'s summary shows ${older}; the newest message is ${catAc.last_message_at}`,
        `wrong name  ${danCd.pk} ${danCd.sk}  @${dan.handle}'s summary names mallory (Mallory, ${cat.uuid}); the group item names @${cat.handle} (${cat.display_name}, ${cat.uuid})`,
      ]),
    );
    expect(result.lines.at(-1)).toBe(
      `would fix 8 drifts (1 missing, 2 duplicate, 4 stale, 1 wrong name) in 4 of 5 groups (${before.length} items scanned, 0 retries after concurrent writes)`,
    );
    expect(await table.scanAll()).toEqual(before);
    // ab, ac, cd: their rows; bc: its group item and its rows.
    expect(fanOutMismatches(before)).toHaveLength(5);
  });

  it("fixes them all: the table is exactly what the fan-out makes, MSG rows and members untouched", async () => {
    const before = await table.scanAll();
    const result = await runOps(fanoutProgram, ["repair", "--progress"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines.at(-1)).toMatch(
      /^fixed 8 drifts \(1 missing, 2 duplicate, 4 stale, 1 wrong name\) in 4 of 5 groups \(\d+ items scanned, 0 retries after concurrent writes\)$/,
    );
    expect(result.stderr).toContain("groups [########################] 100% 5/5 groups");
    const after = await table.scanAll();
    expect(fanOutMismatches(after)).toEqual([]);
    const notSummaries = (items: Record<string, unknown>[]) =>
      items.filter((i) => String(i.pk).startsWith("MSG#") || String(i.pk).startsWith("USER#"));
    expect(notSummaries(after)).toEqual(notSummaries(before));
    for (const g of [group(ann, ben), group(cat, dan)]) {
      expect((await getMessageGroup(deps(), g))?.members).toEqual(
        before.find((i) => i.pk === `MG#${g}`)?.members as UserProfile[],
      );
    }
  });

  it("a second run finds nothing and writes nothing", async () => {
    const before = await table.scanAll();
    const result = await runOps(fanoutProgram, ["repair"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `fixed 0 drifts (0 missing, 0 duplicate, 0 stale, 0 wrong name) in 0 of 5 groups (${before.length} items scanned, 0 retries after concurrent writes)`,
    ]);
    expect(await table.scanAll()).toEqual(before);
  });

  it("a message posted between its read and its write: the fix is refused, the group read again, never put behind", async () => {
    const g = group(dan, eve);
    await del(await rowOf(eve, g));
    let newest: MessageItem | undefined;
    const racing = beforeTransactions(table.ddb, async () => {
      if (newest !== undefined) return;
      newest = await post(eve, g, "posted during the repair");
    });
    const result = await repairGroup({ ddb: racing, tableName: table.tableName }, g, { backoffMs: 1 });
    // The fan-out of the new message put eve's row back; the repair, read again, had nothing left to do.
    expect(result.retries).toBe(1);
    expect(result.problems).toEqual([]);
    expect((await rowOf(eve, g)).last_message_uuid).toBe(newest?.message_uuid);
    expect((await rowOf(dan, g)).last_message_uuid).toBe(newest?.message_uuid);
    expect(fanOutMismatches(await table.scanAll())).toEqual([]);
  });

  it("a message whose fan-out has not run yet: the repair applies it, the late fan-out finds it current", async () => {
    const g = group(ann, ben);
    clock += 60_000;
    const late = await putMessage(table, ben, g, "fan-out still to come", clock);
    const plan = new RepairPlan();
    plan.add(await table.scanAll());
    const report = await repairTable(deps(), plan);
    expect(report.drifts.stale).toBe(3);
    expect(await applyNewestMessage(deps(), { messageGroupUuid: g, item: late })).toBe("already_current");
    expect(fanOutMismatches(await table.scanAll())).toEqual([]);
  });

  it("reports what it cannot fix and leaves it: GRP rows of a group without a group item (exit 1)", async () => {
    const orphan = "00000000-0000-4000-8000-000000000000";
    const row = { ...(await rowOf(ann, group(ann, cat))), sk: grpSk("2026-02-02T00:00:00.000Z", orphan) };
    await put({ ...row, message_group_uuid: orphan });
    const result = await runOps(fanoutProgram, ["repair"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `problem: group ${orphan}: GRP rows name it (${row.pk} ${row.sk}) but it has no group item; left unchanged`,
    );
    expect(result.stderr).toContain("npm run ddb -- scan");
    await del(row);
  });

  it("fixes message fields that are wrong under the right key, reports groups it cannot fix, passes SDK errors on", async () => {
    // The group item and a summary under the right keys, with another text: both stale.
    const g = group(ben, cat);
    const benRow = await rowOf(ben, g);
    await put({ ...benRow, message: "tampered" });
    await table.ddb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: `MG#${g}`, sk: "MG" },
        UpdateExpression: "SET last_message = :t",
        ExpressionAttributeValues: { ":t": "tampered" },
      }),
    );
    // A group item without messages, and one that shows a message its group does not have.
    const empty = "11111111-1111-4111-8111-111111111111";
    const ahead = "22222222-2222-4222-8222-222222222222";
    const template = (await getMessageGroup(deps(), g)) as Record<string, unknown>;
    await put({ ...template, pk: `MG#${empty}` });
    await put({ ...template, pk: `MG#${ahead}`, last_message_sk: "9999-12-31T00:00:00.000Z#x" });
    const older = await putMessage(table, ben, ahead, "an older one", clock);
    const plan = new RepairPlan();
    plan.add([
      { pk: `MG#${g}`, sk: "MG" },
      { pk: `MG#${empty}`, sk: "MG" },
      { pk: `MG#${ahead}`, sk: "MG" },
    ]);
    const report = await repairTable(deps(), plan, { concurrency: 1 });
    expect(report.drifts).toEqual({ missing: 0, duplicate: 0, stale: 2, wrong_name: 0 });
    expect(report.problems).toEqual([
      expect.stringContaining(`group ${empty}: its group item exists but it has no (readable) MSG row`),
      expect.stringContaining(
        `group ${ahead}: the group item shows 9999-12-31T00:00:00.000Z#x, newer than its newest MSG row`,
      ),
    ]);
    expect((await rowOf(ben, g)).message).not.toBe("tampered");
    for (const id of [empty, ahead]) await del({ pk: `MG#${id}`, sk: "MG" });
    await del(older);
    const failing = interceptSend(table.ddb, async () => {
      throw Object.assign(new Error("denied"), { name: "AccessDeniedException" });
    });
    await expect(repairTable({ ddb: failing, tableName: table.tableName }, plan)).rejects.toThrow("denied");
  });

  it("gives up on a group that keeps moving, and says to run it again", async () => {
    const g = group(ann, cat);
    await del(await rowOf(ann, g));
    const racing = beforeTransactions(table.ddb, async () => {
      await post(cat, g, "busy");
      await del(await rowOf(ann, g));
    });
    const result = await repairGroup({ ddb: racing, tableName: table.tableName }, g, { maxAttempts: 2, backoffMs: 1 });
    expect(result.fixed).toBe(false);
    expect(result.problems).toEqual([`group ${g}: still moving after 2 attempts (busy conversation); run again`]);
    expect((await repairGroup(deps(), g)).fixed).toBe(true);
    expect(fanOutMismatches(await table.scanAll())).toEqual([]);
  });

  it("--help lists its options and examples", async () => {
    const result = await runOps(fanoutProgram, ["repair", "--help"], stateDir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--dry-run");
    expect(result.stdout).toContain("--table <name>");
  });
});

/** A DocumentClient that runs `before` ahead of each TransactWriteItems (a writer slips in there). */
function beforeTransactions(doc: DynamoDBDocumentClient, before: () => Promise<void>): DynamoDBDocumentClient {
  return interceptSend(doc, async (command, send) => {
    if (command instanceof TransactWriteCommand) await before();
    return send(command);
  });
}
