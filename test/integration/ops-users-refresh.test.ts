/**
 * `users refresh` against DynamoDB Local (and cognito-local, to show it is never read): that it
 * takes the names from the user directory in the table, not from Cognito attributes; what it
 * prints and writes; that it writes nothing with --dry-run or a second time; that keys never
 * change; and that it holds with the fan-out (pattern E) moving the summaries while it runs.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshUserNames } from "../../bin/lib/refresh-users";
import { usersProgram } from "../../bin/lib/users-commands";
import { putDirectoryUser, renameUser } from "../../shared/directory";
import { applyNewestMessage } from "../../shared/fan-out";
import { messageGroupUuidFor } from "../../shared/ids";
import { type MessageItem, messageItem } from "../../shared/items/message";
import type { MessageGroupItem } from "../../shared/items/message-group";
import type { UserProfile } from "../../shared/items/profile";
import { getMessageGroup } from "../../shared/messages";
import { seedConversation } from "../../shared/seed";
import { GRP_PREFIX, MESSAGE_GROUP_PREFIX, MSG_PREFIX, messageGroupKey } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import { runOps, startOpsTarget, type TestCognito } from "../support/ops";
import { interceptSend, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

let cognito: TestCognito;
let table: TestTable;
let stateDir: string;
let alice: UserProfile;
let bob: UserProfile;
let carol: UserProfile;
/** In the table's rows but with no profile in the directory (a deleted user). */
const ghost = makeUser("ghost", "Ghost");
/** The directory items: 3 profiles and their handle items (a rename leaves the old handle reserved). */
let directoryItems = 6;
let clock = Date.UTC(2026, 4, 1, 9, 0, 0);

type Row = Record<string, unknown>;
const NAME_ATTRIBUTES = ["user_handle", "user_display_name", "members"];
const keysOf = (rows: Row[]) => rows.map((r) => `${r.pk} ${r.sk}`).sort();
/** Every attribute but the names, so a test can see that nothing else changed. */
const withoutNames = (rows: Row[]) =>
  rows
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !NAME_ATTRIBUTES.includes(k))))
    .sort((x, y) => `${x.pk} ${x.sk}`.localeCompare(`${y.pk} ${y.sk}`));

/** Pattern C then E: writes a MSG row from `sender` and moves the summaries as the fan-out does. */
async function post(sender: UserProfile, groupUuid: string, text: string): Promise<MessageItem> {
  clock += 60_000;
  const item = messageItem({
    messageGroupUuid: groupUuid,
    messageUuid: crypto.randomUUID(),
    sender,
    text,
    createdAt: toTimestamp(clock),
  });
  await table.ddb.send(new PutCommand({ TableName: table.tableName, Item: item }));
  await applyNewestMessage({ ddb: table.ddb, tableName: table.tableName }, { messageGroupUuid: groupUuid, item });
  return item;
}

const directory = () => ({ ddb: table.ddb, tableName: table.tableName });

/**
 * Renames a user the way PATCH /api/users/me writes the directory (without its propagation, which
 * is what refresh catches up on), and sets the user's Cognito attributes to other values still,
 * as a user calling UpdateUserAttributes behind the API's back would: refresh must ignore those.
 */
async function renameInDirectory(user: UserProfile, handle: string, displayName: string): Promise<void> {
  clock += 1000;
  await renameUser(directory(), user.uuid, { handle, display_name: displayName }, clock);
  directoryItems += 1;
  await cognito.rename(user.handle, `${handle}_cognito`, `${displayName} (Cognito)`);
}

beforeAll(async () => {
  ({ cognito, table, stateDir } = await startOpsTarget());
  alice = await cognito.createUser("alice_r", "Alice R");
  bob = await cognito.createUser("bob_r", "Bob R");
  carol = await cognito.createUser("carol_r", "Carol R");
  for (const u of [alice, bob, carol]) {
    expect(await putDirectoryUser(directory(), { ...u, username: u.handle }, clock)).toBe("created");
  }
  const seed = (a: UserProfile, b: UserProfile, n: number) =>
    seedConversation(table.ddb, table.tableName, {
      a,
      b,
      messages: Array.from({ length: n }, (_, i) => ({ from: i % 2 === 0 ? "a" : "b", text: `${a.handle} ${i}` })),
      endAtMs: clock,
      stepMs: 1000,
    });
  await seed(alice, bob, 5);
  await seed(bob, carol, 3);
  await seed(carol, ghost, 2);
  const ab = messageGroupUuidFor(alice.uuid, bob.uuid);
  await post(bob, ab, "moved by the fan-out");
  await post(alice, ab, "and again");
});
afterAll(() => cognito?.stop());

describe("users refresh", () => {
  it("--dry-run reports the renames found in the directory and what would change, and writes nothing", async () => {
    await renameInDirectory(bob, "robert", "Robert Renamed");
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["refresh", "--dry-run"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `@bob_r (Bob R) -> @robert (Robert Renamed)  ${bob.uuid}`,
      // bob sent 2 + 1 messages to alice and 2 to carol; the GRP rows of alice and carol describe him; two group items.
      `would update 5 MSG rows, 2 GRP rows, 2 message group items (${21 + directoryItems} items scanned, 3 groups, 3 profiles read)`,
    ]);
    expect(result.stderr).toContain("dry run: refreshing table");
    expect(result.stderr).toContain("from its user directory");
    expect(result.stderr).toContain(
      `left alone: 1 users named in the table have no profile in the directory (${ghost.uuid})`,
    );
    expect(result.stderr).toContain("npm run users -- import");
    expect(await table.scanAll()).toEqual(before);
  });

  it("rewrites the names in MSG rows, GRP rows and group members, never a key or another attribute", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["refresh"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `@bob_r (Bob R) -> @robert (Robert Renamed)  ${bob.uuid}`,
      `updated 5 MSG rows, 2 GRP rows, 2 message group items (${21 + directoryItems} items scanned, 3 groups, 3 profiles read)`,
    ]);
    const after = await table.scanAll();
    expect(keysOf(after)).toEqual(keysOf(before));
    expect(withoutNames(after)).toEqual(withoutNames(before));

    const renamed = { uuid: bob.uuid, handle: "robert", display_name: "Robert Renamed" };
    for (const row of after) {
      const pk = String(row.pk);
      if (pk.startsWith(MSG_PREFIX) || pk.startsWith(GRP_PREFIX)) {
        const expected = [alice, renamed, carol, ghost].find((u) => u.uuid === row.user_uuid);
        expect({ handle: row.user_handle, name: row.user_display_name }).toEqual({
          handle: expected?.handle,
          name: expected?.display_name,
        });
      } else if (pk.startsWith(MESSAGE_GROUP_PREFIX)) {
        for (const m of row.members as UserProfile[]) {
          if (m.uuid === bob.uuid) expect(m).toEqual(renamed);
        }
      }
    }
    // The names bob set in Cognito behind the API's back appear nowhere.
    expect(JSON.stringify(after)).not.toContain("robert_cognito");
    expect(JSON.stringify(after)).not.toContain("(Cognito)");
  });

  it("is idempotent: a second run writes nothing", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["refresh"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `updated 0 MSG rows, 0 GRP rows, 0 message group items (${21 + directoryItems} items scanned, 3 groups, 3 profiles read)`,
    ]);
    expect(await table.scanAll()).toEqual(before);
  });

  it("leaves the fan-out's invariants: the next message moves one GRP row per member, with the new names", async () => {
    const groupUuid = messageGroupUuidFor(alice.uuid, bob.uuid);
    const last = await post(alice, groupUuid, "after the rename");
    const ofGroup = (rows: Awaited<ReturnType<TestTable["summariesOf"]>>) =>
      rows.filter((r) => r.message_group_uuid === groupUuid);
    const aliceRows = ofGroup(await table.summariesOf(alice.uuid));
    const bobRows = ofGroup(await table.summariesOf(bob.uuid));
    expect(aliceRows).toHaveLength(1);
    expect(bobRows).toHaveLength(1);
    expect(aliceRows[0]).toMatchObject({
      user_handle: "robert",
      user_display_name: "Robert Renamed",
      message: last.message,
    });
    expect(bobRows[0]).toMatchObject({ user_handle: "alice_r", message: last.message });
  });

  it("shows a progress bar on a terminal stderr, and plain lines with --progress", async () => {
    const tty = await runOps(usersProgram, ["refresh"], stateDir, { stderrTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/\rscanning \[[#-]{24}\]\s+\d+% \d+\/~\d+ items/);
    const plain = await runOps(usersProgram, ["refresh", "--progress"], stateDir);
    const items = 22 + directoryItems;
    expect(plain.stderr).toContain(`\nscanning [${"#".repeat(24)}] 100% ${items}/~${items} items\n`);
    const quiet = await runOps(usersProgram, ["refresh"], stateDir);
    expect(quiet.stderr).not.toContain("scanning");
  });

  it("retries a group the fan-out moves between its read and its write", async () => {
    await renameInDirectory(alice, "alicia", "Alicia R");
    const groupUuid = messageGroupUuidFor(alice.uuid, bob.uuid);
    let raced = false;
    let transactions = 0;
    const racing = interceptTransactions(table.ddb, async () => {
      transactions += 1;
      if (raced) return;
      raced = true;
      await post({ ...bob, handle: "robert", display_name: "Robert Renamed" }, groupUuid, "sent while refreshing");
    });
    const report = await refreshUserNames({ doc: racing, tableName: table.tableName }, { dryRun: false });
    expect(raced).toBe(true);
    // The first transaction lost to the fan-out; the group was read again and written.
    expect(transactions).toBeGreaterThanOrEqual(2);
    expect(report.problems).toEqual([]);
    const aliceRows = (await table.summariesOf(alice.uuid)).filter((r) => r.message_group_uuid === groupUuid);
    const bobRows = (await table.summariesOf(bob.uuid)).filter((r) => r.message_group_uuid === groupUuid);
    expect(bobRows).toHaveLength(1);
    expect(aliceRows).toHaveLength(1);
    expect(bobRows[0]).toMatchObject({
      user_handle: "alicia",
      user_display_name: "Alicia R",
      message: "sent while refreshing",
    });
    expect(aliceRows[0]).toMatchObject({ user_handle: "robert" });
    const group = (await getMessageGroup(
      { ddb: table.ddb, tableName: table.tableName },
      groupUuid,
    )) as MessageGroupItem;
    expect(group.members.find((m) => m.uuid === alice.uuid)?.handle).toBe("alicia");
  });

  it("a fan-out that read the old members cannot write them back: its condition fails and it re-reads", async () => {
    await renameInDirectory(carol, "caroline", "Caroline R");
    const groupUuid = messageGroupUuidFor(bob.uuid, carol.uuid);
    const stale = (await getMessageGroup(
      { ddb: table.ddb, tableName: table.tableName },
      groupUuid,
    )) as MessageGroupItem;
    let raced = false;
    const racing = interceptTransactions(table.ddb, undefined, async (command) => {
      // Right after the refresh's transaction of this group (not of carol's other group).
      if (raced || !JSON.stringify(command.input).includes(messageGroupKey(groupUuid).pk)) return;
      raced = true;
      // A fan-out that read the group item before the refresh committed (old members), then,
      // after its condition on the members failed, read it again.
      clock += 60_000;
      const item = messageItem({
        messageGroupUuid: groupUuid,
        messageUuid: crypto.randomUUID(),
        sender: bob,
        text: "stale fan-out",
        createdAt: toTimestamp(clock),
      });
      await table.ddb.send(new PutCommand({ TableName: table.tableName, Item: item }));
      await applyNewestMessage(
        { ddb: staleGroupReads(table.ddb, groupUuid, stale), tableName: table.tableName },
        { messageGroupUuid: groupUuid, item },
      );
    });
    const report = await refreshUserNames(
      { doc: racing, tableName: table.tableName },
      { dryRun: false, concurrency: 1 },
    );
    expect(raced).toBe(true);
    expect(report.fixedOnRecheck).toBe(0);
    const bobRows = (await table.summariesOf(bob.uuid)).filter((r) => r.message_group_uuid === groupUuid);
    expect(bobRows).toHaveLength(1);
    expect(bobRows[0]).toMatchObject({ user_handle: "caroline", message: "stale fan-out" });
  });

  it("gives the groups the names the directory has once the scan is over, not when the scan met the user", async () => {
    await renameInDirectory(alice, "ally", "Ally");
    const groupUuid = messageGroupUuidFor(alice.uuid, bob.uuid);
    let renamed = false;
    // A second rename lands while the (long) scan runs, right after it read the profiles of its only page.
    const renaming = interceptSend(table.ddb, async (command, send) => {
      const out = await send(command);
      if (!renamed && command instanceof BatchGetCommand) {
        renamed = true;
        clock += 1000;
        await renameUser(directory(), alice.uuid, { handle: "ally2", display_name: "Ally Two" }, clock);
      }
      return out;
    });
    const report = await refreshUserNames({ doc: renaming, tableName: table.tableName }, { dryRun: false });
    expect(renamed).toBe(true);
    const newest = { uuid: alice.uuid, handle: "ally2", display_name: "Ally Two" };
    expect(report.renames.find((r) => r.uuid === alice.uuid)?.to).toEqual(newest);
    const group = (await getMessageGroup(directory(), groupUuid)) as MessageGroupItem;
    expect(group.members.find((m) => m.uuid === alice.uuid)).toEqual(newest);
    const bobRows = (await table.summariesOf(bob.uuid)).filter((r) => r.message_group_uuid === groupUuid);
    expect(bobRows).toHaveLength(1);
    expect(bobRows[0]).toMatchObject({ user_handle: "ally2", user_display_name: "Ally Two" });
  });

  it("retries, and reports nothing, when the fan-out moves the group between its read and the GRP row reads", async () => {
    await renameInDirectory(bob, "bobby", "Bobby R");
    const groupUuid = messageGroupUuidFor(alice.uuid, bob.uuid);
    let written = false;
    let moved = false;
    // After the group's names are written, the re-check reads the group item (current names, so
    // no transaction follows) and then the GRP rows it points to: the fan-out moves the group
    // right before those reads, so they find nothing where the group item pointed.
    const moving = interceptSend(table.ddb, async (command, send) => {
      const key = (command as { input?: { Key?: Row } }).input?.Key;
      const grpOfGroup = String(key?.pk).startsWith(GRP_PREFIX) && String(key?.sk).endsWith(groupUuid);
      if (written && !moved && command instanceof GetCommand && grpOfGroup) {
        moved = true;
        await post(alice, groupUuid, "moved between the reads");
      }
      const out = await send(command);
      if (command instanceof TransactWriteCommand && JSON.stringify(command.input).includes(groupUuid)) {
        written = true;
      }
      return out;
    });
    const report = await refreshUserNames(
      { doc: moving, tableName: table.tableName },
      { dryRun: false, concurrency: 1 },
    );
    expect(moved).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.lostRaces).toBeGreaterThanOrEqual(1);
    expect(report.maxGroupAttempts).toBeGreaterThanOrEqual(2);
    const aliceRows = (await table.summariesOf(alice.uuid)).filter((r) => r.message_group_uuid === groupUuid);
    expect(aliceRows).toHaveLength(1);
    expect(aliceRows[0]).toMatchObject({ user_handle: "bobby", message: "moved between the reads" });
  });
});

/**
 * A DocumentClient that runs `before` ahead of, and `after` behind, each TransactWriteItems
 * (the refresh's group transactions), to let a fan-out slip in at those points.
 */
function interceptTransactions(
  doc: DynamoDBDocumentClient,
  before?: (command: TransactWriteCommand) => Promise<void>,
  after?: (command: TransactWriteCommand) => Promise<void>,
): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return async (command: Parameters<DynamoDBDocumentClient["send"]>[0]) => {
        if (!(command instanceof TransactWriteCommand)) return target.send(command as TransactWriteCommand);
        await before?.(command);
        const out = await target.send(command);
        await after?.(command);
        return out;
      };
    },
  });
}

/** A DocumentClient whose first read of one group item answers `stale` (a read made earlier). */
function staleGroupReads(
  doc: DynamoDBDocumentClient,
  groupUuid: string,
  stale: MessageGroupItem,
): DynamoDBDocumentClient {
  const key = messageGroupKey(groupUuid);
  let served = false;
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return async (command: { input?: { Key?: Row } } & Parameters<DynamoDBDocumentClient["send"]>[0]) => {
        const k = command.input?.Key;
        if (!served && command instanceof GetCommand && k?.pk === key.pk && k?.sk === key.sk) {
          served = true;
          return { Item: stale };
        }
        return target.send(command as TransactWriteCommand);
      };
    },
  });
}
