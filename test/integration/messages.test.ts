import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../shared/cursor";
import { AppError } from "../../shared/errors";
import { messageGroupUuidFor } from "../../shared/ids";
import { listMessageGroups, listMessages, type MessagingDeps, postToGroup, postToHandle } from "../../shared/messages";
import { seedConversation } from "../../shared/seed";
import { messageGroupKey } from "../../shared/table";
import { DEFAULT_PAGE_SIZE } from "../../shared/validation";
import { useTestTable } from "../support/table";
import { directoryOf, makeUser } from "../support/users";

const table = useTestTable();

function deps(users = directoryOf(), extra: Partial<MessagingDeps> = {}) {
  return { ddb: table.ddb, tableName: table.tableName, users, ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const page = (limit = DEFAULT_PAGE_SIZE, cursor?: string) => ({ limit, cursor });

describe("pattern D: post to a new group by handle", () => {
  it("creates the group item, both GRP rows and the first MSG row, and answers the contract's shape", async () => {
    const alice = makeUser("alice_d1", "Alice");
    const bob = makeUser("bob_d1", "Bob");
    const created = await postToHandle(deps(directoryOf(alice, bob)), alice, "bob_d1", "hi bob");

    expect(created).toEqual({
      message_group_uuid: messageGroupUuidFor(alice.uuid, bob.uuid),
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      user_uuid: alice.uuid,
      display_name: "Alice",
      handle: "alice_d1",
      message: "hi bob",
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    const [aliceGroups, bobGroups] = await Promise.all([table.summariesOf(alice.uuid), table.summariesOf(bob.uuid)]);
    expect(aliceGroups).toHaveLength(1);
    expect(bobGroups).toHaveLength(1);
    expect(aliceGroups[0]).toMatchObject({ user_handle: "bob_d1", message: "hi bob", last_message_uuid: created.uuid });
    expect(bobGroups[0]).toMatchObject({ user_handle: "alice_d1", message: "hi bob" });
    const messages = await listMessages(deps(), bob.uuid, created.message_group_uuid, page());
    expect(messages.items.map((m) => m.message)).toEqual(["hi bob"]);
  });

  it("posts into the existing group when the pair already has one", async () => {
    const alice = makeUser("alice_d2");
    const bob = makeUser("bob_d2");
    const users = directoryOf(alice, bob);
    const first = await postToHandle(deps(users), alice, "bob_d2", "one");
    const second = await postToHandle(deps(users), bob, "alice_d2", "two");
    expect(second.message_group_uuid).toBe(first.message_group_uuid);
    const messages = await listMessages(deps(), alice.uuid, first.message_group_uuid, page());
    expect(messages.items.map((m) => m.message)).toEqual(["one", "two"]);
    expect(await table.summariesOf(alice.uuid)).toHaveLength(1);
  });

  it("ends with exactly one group when many requests for one pair race, keeping every message", async () => {
    const alice = makeUser("alice_d3");
    const bob = makeUser("bob_d3");
    const users = directoryOf(alice, bob);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? postToHandle(deps(users), alice, "bob_d3", `a${i}`)
          : postToHandle(deps(users), bob, "alice_d3", `b${i}`),
      ),
    );
    const groups = new Set(results.map((r) => r.message_group_uuid));
    expect(groups.size).toBe(1);
    const all = await table.scanAll();
    const groupUuid = [...groups][0] as string;
    expect(all.filter((i) => i.pk === messageGroupKey(groupUuid).pk)).toHaveLength(1);
    expect(await table.summariesOf(alice.uuid)).toHaveLength(1);
    expect(await table.summariesOf(bob.uuid)).toHaveLength(1);
    const messages = await listMessages(deps(), alice.uuid, groupUuid, page(100));
    expect(messages.items).toHaveLength(12);
  });

  it("refuses an unknown handle (404) and messaging yourself (422), writing nothing", async () => {
    const alice = makeUser("alice_d4");
    const before = (await table.scanAll()).length;
    expect((await rejection(postToHandle(deps(directoryOf(alice)), alice, "nobody", "x"))).codes).toEqual([
      "handle_not_found",
    ]);
    const self = await rejection(postToHandle(deps(directoryOf(alice)), alice, "alice_d4", "x"));
    expect([self.status, self.codes]).toEqual([422, ["cannot_message_self"]]);
    expect((await table.scanAll()).length).toBe(before);
  });
});

describe("pattern C: post to an existing group", () => {
  it("lets a member post and answers the created message", async () => {
    const alice = makeUser("alice_c1", "Alice C");
    const bob = makeUser("bob_c1");
    const { message_group_uuid } = await postToHandle(deps(directoryOf(alice, bob)), alice, "bob_c1", "first");
    const created = await postToGroup(deps(), bob, message_group_uuid, "reply");
    expect(created).toMatchObject({ message_group_uuid, handle: "bob_c1", message: "reply" });
    const messages = await listMessages(deps(), alice.uuid, message_group_uuid, page());
    expect(messages.items.map((m) => [m.handle, m.message])).toEqual([
      ["alice_c1", "first"],
      ["bob_c1", "reply"],
    ]);
  });

  it("answers a non-member exactly as for a group that does not exist, writing nothing", async () => {
    const alice = makeUser("alice_c2");
    const bob = makeUser("bob_c2");
    const mallory = makeUser("mallory_c2");
    const { message_group_uuid } = await postToHandle(deps(directoryOf(alice, bob)), alice, "bob_c2", "secret");
    const before = (await table.scanAll()).length;
    const notMember = await rejection(postToGroup(deps(), mallory, message_group_uuid, "let me in"));
    const missing = await rejection(postToGroup(deps(), mallory, messageGroupUuidFor("x", "y"), "hello?"));
    expect([notMember.status, notMember.codes]).toEqual([404, ["message_group_not_found"]]);
    expect([missing.status, missing.codes]).toEqual([404, ["message_group_not_found"]]);
    expect((await table.scanAll()).length).toBe(before);
  });

  it("keeps two messages posted to one group in the same millisecond", async () => {
    const alice = makeUser("alice_c3");
    const bob = makeUser("bob_c3");
    const frozen = { clock: () => Date.parse("2026-11-20T10:00:00.000Z") };
    const { message_group_uuid } = await postToHandle(deps(directoryOf(alice, bob), frozen), alice, "bob_c3", "a");
    await Promise.all([
      postToGroup(deps(undefined, frozen), alice, message_group_uuid, "b"),
      postToGroup(deps(undefined, frozen), bob, message_group_uuid, "c"),
    ]);
    const messages = await listMessages(deps(), alice.uuid, message_group_uuid, page());
    expect(messages.items.map((m) => m.message).sort()).toEqual(["a", "b", "c"]);
    expect(new Set(messages.items.map((m) => m.created_at)).size).toBe(1);
  });
});

describe("pattern A: list the messages of a group", () => {
  const alice = makeUser("alice_a", "Alice A");
  const bob = makeUser("bob_a", "Bob A");
  const end = Date.parse("2025-03-01T12:00:00.000Z"); // last year: no current-year filter
  let groupUuid: string;

  beforeAll(async () => {
    const messages = Array.from({ length: 45 }, (_, i) => ({ from: i % 2 === 0 ? "a" : "b", text: `m${i}` }) as const);
    ({ message_group_uuid: groupUuid } = await seedConversation(table.ddb, table.tableName, {
      a: alice,
      b: bob,
      messages,
      endAtMs: end,
      stepMs: 60_000,
    }));
  });

  it("answers the newest page oldest first, then older pages through the cursor", async () => {
    const first = await listMessages(deps(), alice.uuid, groupUuid, page());
    expect(first.items.map((m) => m.message)).toEqual(Array.from({ length: 20 }, (_, i) => `m${25 + i}`));
    expect(first.items[0]).toMatchObject({ handle: "bob_a", display_name: "Bob A" });
    expect(first.cursor).toBeTypeOf("string");
    const second = await listMessages(deps(), alice.uuid, groupUuid, page(20, first.cursor));
    expect(second.items.map((m) => m.message)).toEqual(Array.from({ length: 20 }, (_, i) => `m${5 + i}`));
    const third = await listMessages(deps(), alice.uuid, groupUuid, page(20, second.cursor));
    expect(third.items.map((m) => m.message)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(third.cursor).toBeUndefined();
  });

  it("gives no cursor when the page is exactly the rest", async () => {
    const all = await listMessages(deps(), bob.uuid, groupUuid, page(45));
    expect(all.items).toHaveLength(45);
    expect(all.cursor).toBeUndefined();
  });

  it("refuses a non-member with 404", async () => {
    const stranger = makeUser("stranger_a");
    const error = await rejection(listMessages(deps(), stranger.uuid, groupUuid, page()));
    expect([error.status, error.codes]).toEqual([404, ["message_group_not_found"]]);
  });

  it("refuses forged cursors and cursors of another query with 400", async () => {
    const other = await listMessages(deps(), alice.uuid, groupUuid, page(5));
    const fromB = await listMessageGroups(deps(), alice.uuid, page(1));
    const forged = [
      "not-base64!",
      Buffer.from("{}").toString("base64url"),
      encodeCursor(`messages:${messageGroupUuidFor("p", "q")}`, "2025-01-01T00:00:00.000Z#x"),
      encodeCursor(`messages:${groupUuid}`, "GRP#someone-else"),
      fromB.cursor ?? encodeCursor(`message_groups:${alice.uuid}`, "2025-01-01T00:00:00.000Z#x"),
    ];
    for (const cursor of forged) {
      const error = await rejection(listMessages(deps(), alice.uuid, groupUuid, page(20, cursor)));
      expect([error.status, error.codes]).toEqual([400, ["cursor_invalid"]]);
    }
    expect(other.cursor).toBeTypeOf("string");
  });
});

describe("pattern B: list a user's message groups", () => {
  it("lists the caller's groups, most recent activity first, the other member shown, paged", async () => {
    const me = makeUser("me_b", "Me");
    const friends = ["f1_b", "f2_b", "f3_b"].map((h) => makeUser(h, h.toUpperCase()));
    const users = directoryOf(me, ...friends);
    for (const [i, friend] of friends.entries()) {
      await postToHandle(
        deps(users, { clock: () => Date.parse("2026-01-01T00:00:00.000Z") + i * 1000 }),
        me,
        friend.handle,
        `to ${friend.handle}`,
      );
    }
    const firstPage = await listMessageGroups(deps(), me.uuid, page(2));
    expect(firstPage.items.map((g) => [g.handle, g.display_name, g.message])).toEqual([
      ["f3_b", "F3_B", "to f3_b"],
      ["f2_b", "F2_B", "to f2_b"],
    ]);
    expect(firstPage.items[0]?.uuid).toBe(messageGroupUuidFor(me.uuid, friends[2]?.uuid ?? ""));
    const secondPage = await listMessageGroups(deps(), me.uuid, page(2, firstPage.cursor));
    expect(secondPage.items.map((g) => g.handle)).toEqual(["f1_b"]);
    expect(secondPage.cursor).toBeUndefined();

    const stranger = makeUser("stranger_b");
    const error = await rejection(listMessageGroups(deps(), stranger.uuid, page(2, firstPage.cursor)));
    expect([error.status, error.codes]).toEqual([400, ["cursor_invalid"]]);
    expect((await listMessageGroups(deps(), stranger.uuid, page())).items).toEqual([]);
  });
});

describe("seeding a conversation", () => {
  it("writes one copy when two seeds race, with summaries that agree with the last message", async () => {
    const a = makeUser("seed_a");
    const b = makeUser("seed_b");
    const messages = [
      { from: "a", text: "one" },
      { from: "b", text: "two" },
    ] as const;
    const results = await Promise.all(
      [Date.parse("2026-01-01T00:00:00.000Z"), Date.parse("2026-02-01T00:00:00.000Z")].map((endAtMs) =>
        seedConversation(table.ddb, table.tableName, { a, b, messages, endAtMs, stepMs: 60_000 }),
      ),
    );
    expect(results.map((r) => r.skipped).sort()).toEqual([false, true]);
    const [summaryA] = await table.summariesOf(a.uuid);
    expect(await table.summariesOf(a.uuid)).toHaveLength(1);
    expect(summaryA).toMatchObject({ message: "two", user_handle: "seed_b" });
    const listed = await listMessages(deps(), a.uuid, results[0]?.message_group_uuid ?? "", page());
    expect(listed.items.map((m) => m.message)).toEqual(["one", "two"]);
    expect(listed.items[1]?.created_at).toBe(summaryA?.last_message_at);
  });
});
