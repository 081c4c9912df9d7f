/**
 * `ddb scan` and `ddb get-conversation` on DynamoDB Local: what they print, paging included.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ddbProgram } from "../../bin/lib/ddb-commands";
import { localDateTime } from "../../bin/lib/format";
import { encodeCursor } from "../../shared/cursor";
import { messageGroupUuidFor } from "../../shared/ids";
import { seedConversation } from "../../shared/seed";
import { messageGroupKey, msgPk } from "../../shared/table";
import { toTimestamp } from "../../shared/time";
import { runOps, stateDirFor } from "../support/ops";
import { createTestTable, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

let table: TestTable;
let stateDir: string;
const alice = makeUser("alice_ops", "Alice Ops");
const bob = makeUser("bob_ops", "Bob Ops");
const groupUuid = messageGroupUuidFor(alice.uuid, bob.uuid);
/** The last message is at 2026-03-01T12:00:00Z; one message a minute before it. */
const END = Date.UTC(2026, 2, 1, 12, 0, 0);
const texts = Array.from({ length: 7 }, (_, i) => ({
  from: i % 2 === 0 ? ("a" as const) : ("b" as const),
  text: `message ${i + 1}${i === 6 ? ` with a long tail ${"x".repeat(100)}\nand a newline` : ""}`,
}));

beforeAll(async () => {
  // Local date-times in the output follow TZ: a zone without DST makes them predictable.
  process.env.TZ = "Asia/Tokyo";
  table = await createTestTable();
  stateDir = await stateDirFor({ dynamodbEndpoint: table.endpoint, tableName: table.tableName });
  await seedConversation(table.ddb, table.tableName, {
    a: alice,
    b: bob,
    messages: texts,
    endAtMs: END,
    stepMs: 60_000,
  });
});

describe("ddb scan", () => {
  it("prints every item on one line each, paginating, with the count on stderr", async () => {
    const result = await runOps(ddbProgram, ["scan", "--page-size", "2"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(7 + 2 + 1);
    expect(result.stderr).toBe(`10 items in ${table.tableName}\n`);
    const first = result.lines.find((l) => l.includes("message 1"));
    expect(first).toMatch(new RegExp(`^${msgPk(groupUuid)}\\s+2026-03-01T11:54:00\\.000Z#[0-9a-f-]{36}  created_at=`));
    expect(first).toContain('user_handle="alice_ops"');
    const long = result.lines.find((l) => l.includes("message 7"));
    expect(long).toContain("xxx…");
    expect(long).not.toContain("and a newline");
    const group = result.lines.find((l) => l.startsWith(messageGroupKey(groupUuid).pk));
    expect(group).toContain('"handle":"alice_ops"');
  });

  it("prints JSON lines with --json, every attribute whole", async () => {
    const result = await runOps(ddbProgram, ["scan", "--json", "--page-size", "3"], stateDir);
    const items = result.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(items).toHaveLength(10);
    expect(items.map((i) => `${i.pk} ${i.sk}`).sort()).toEqual(
      (await table.scanAll()).map((i) => `${i.pk} ${i.sk}`).sort(),
    );
    expect(items.find((i) => String(i.message ?? "").startsWith("message 7"))?.message).toBe(texts[6]?.text);
  });

  it("shows progress on stderr when it is a terminal, and keeps stdout clean", async () => {
    const result = await runOps(ddbProgram, ["scan", "--page-size", "4"], stateDir, { stderrTTY: true });
    expect(result.lines).toHaveLength(10);
    expect(result.stdout).not.toContain("scanning");
    expect(result.stderr).toContain("\rscanning [");
    expect(result.stderr).toContain("10/~10 items");
  });
});

describe("ddb get-conversation", () => {
  const line = (i: number, handle: string, text: string) =>
    `${localDateTime(toTimestamp(END - (7 - i) * 60_000))}  @${handle.padEnd(9)}  ${text}`;

  it("prints the newest messages oldest first: local date-time, handle, preview", async () => {
    const result = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "3"], stateDir);
    expect(result.code).toBe(0);
    expect(localDateTime("2026-03-01T12:00:00.000Z")).toBe("2026-03-01 21:00:00");
    expect(result.lines).toEqual([
      line(5, "alice_ops", "message 5"),
      line(6, "bob_ops", "message 6"),
      `2026-03-01 21:00:00  @alice_ops  message 7 with a long tail ${"x".repeat(32)}…`,
    ]);
    expect(result.stderr).toContain(`conversation ${groupUuid} between @alice_ops (Alice Ops) and @bob_ops (Bob Ops):`);
    expect(result.stderr).toMatch(/older: npm run ddb -- get-conversation \S+ --limit 3 --before [A-Za-z0-9_-]+\n$/);
  });

  it("pages back with --before <cursor> and with --page N, and ends on the oldest page", async () => {
    const first = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "3"], stateDir);
    const cursor = /--before (\S+)/.exec(first.stderr)?.[1] as string;
    const second = await runOps(
      ddbProgram,
      ["get-conversation", groupUuid, "--limit", "3", "--before", cursor],
      stateDir,
    );
    expect(second.lines).toEqual([
      line(2, "bob_ops", "message 2"),
      line(3, "alice_ops", "message 3"),
      line(4, "bob_ops", "message 4"),
    ]);
    const page2 = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "3", "--page", "2"], stateDir);
    expect(page2.lines).toEqual(second.lines);
    expect(page2.stderr).toContain(", page 2:");
    const page3 = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "3", "--page", "3"], stateDir);
    expect(page3.lines).toEqual([line(1, "alice_ops", "message 1")]);
    expect(page3.stderr).not.toContain("older:");
    const page4 = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "3", "--page", "4"], stateDir);
    expect(page4.code).toBe(1);
    expect(page4.stderr).toContain("there are only 3 pages of 3");
  });

  it("prints the API's shape with --json", async () => {
    const result = await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "1", "--json"], stateDir);
    expect(result.lines.map((l) => JSON.parse(l))).toEqual([
      {
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        user_uuid: alice.uuid,
        display_name: "Alice Ops",
        handle: "alice_ops",
        message: texts[6]?.text,
        created_at: toTimestamp(END),
      },
    ]);
  });

  it("refuses a cursor of another query, a missing group, a non-uuid and both --before and --page", async () => {
    const foreign = encodeCursor(`message_groups:${alice.uuid}`, `${toTimestamp(END)}#${groupUuid}`);
    const wrongCursor = await runOps(ddbProgram, ["get-conversation", groupUuid, "--before", foreign], stateDir);
    expect(wrongCursor).toMatchObject({ code: 1, stdout: "" });
    expect(wrongCursor.stderr).toContain("the --before cursor is not one of this query");

    const other = messageGroupUuidFor(alice.uuid, makeUser("nobody").uuid);
    const missing = await runOps(ddbProgram, ["get-conversation", other], stateDir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no message group ${other} in table ${table.tableName}`);
    expect(missing.stderr).toContain("list-conversations <handle>");

    expect((await runOps(ddbProgram, ["get-conversation", "not-a-uuid"], stateDir)).code).toBe(2);
    const both = await runOps(
      ddbProgram,
      ["get-conversation", groupUuid, "--page", "2", "--before", foreign],
      stateDir,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give --before or --page, not both");
    expect((await runOps(ddbProgram, ["get-conversation", groupUuid, "--limit", "101"], stateDir)).code).toBe(2);
  });
});
