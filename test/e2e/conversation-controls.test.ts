/**
 * The conversation controls through the local HTTP API (issue "Conversation controls"): unread
 * counts, read markers and read receipts (with their real-time event), idempotent sends, blocking,
 * send limits and blank messages. The stack runs with the default send limits (30 a minute, burst
 * 10, 10 new conversations an hour), so each test signs up users of its own: every user's limits
 * start whole.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/stack";
import { DEFAULT_SEND_LIMITS } from "../../shared/config";
import type { CreatedMessageView, MessageGroupView } from "../../shared/model";
import type { ReadState } from "../../shared/read-markers";
import { messageGroupReadEventSchema, userChannel } from "../../shared/realtime";
import { type Caller, newCaller, scanFingerprint, scanStackTable } from "../support/callers";
import { RawEventsClient, subscribeFrame } from "../support/events-client";
import { type ApiResponse, callApi, listAllMessages, pollUntil, startTestStack } from "../support/stack";

type GroupListing = MessageGroupView & ReadState;

let stack: LocalStack;
let userCount = 0;
const clients: RawEventsClient[] = [];

/** A new signed-up user with a unique handle (`<prefix><n>`). */
const user = (prefix: string): Promise<Caller> => newCaller(stack, `${prefix}${++userCount}`);

const post = (caller: Caller, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> =>
  callApi(stack, "POST", "/api/messages", { token: caller.accessToken, body, headers });

async function postOk(caller: Caller, body: unknown): Promise<CreatedMessageView> {
  const response = await post(caller, body);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as CreatedMessageView;
}

async function groupsOf(caller: Caller): Promise<GroupListing[]> {
  const response = await callApi(stack, "GET", "/api/message_groups?limit=100", { token: caller.accessToken });
  expect(response.status).toBe(200);
  return response.body as GroupListing[];
}

/** `caller`'s listing of group `uuid`, once the fan-out shows `message` (or a newer one) in it. */
async function listingOf(caller: Caller, uuid: string, message?: CreatedMessageView): Promise<GroupListing> {
  const { value } = await pollUntil(10_000, async () => {
    const group = (await groupsOf(caller)).find((g) => g.uuid === uuid);
    return group !== undefined && (message === undefined || group.created_at >= message.created_at) ? group : undefined;
  });
  return value;
}

const markRead = (caller: Caller, group: string, body?: unknown): Promise<ApiResponse> =>
  callApi(stack, "POST", `/api/message_groups/${group}/read`, {
    token: caller.accessToken,
    ...(body === undefined ? {} : { body }),
  });

beforeAll(async () => {
  stack = await startTestStack({ sendLimits: DEFAULT_SEND_LIMITS });
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

describe("messages that look empty", () => {
  it("are message_blank when only white space and invisible format characters; NUL and lone surrogates are message_invalid; nothing is written", async () => {
    const [a, b] = [await user("blank"), await user("blank")];
    const before = scanFingerprint(await scanStackTable(stack));
    const cases: [string, string][] = [
      ["\u200B\u200C\u200D", "message_blank"],
      [" \uFEFF\u2060 ", "message_blank"],
      ["\u202E\u2066\u2069\u200E\u200F", "message_blank"],
      ["\u00A0\u3000\u3164\u2800", "message_blank"],
      ["hello\u0000", "message_invalid"],
      ["\uD800 lone high", "message_invalid"],
      ["lone low \uDC00", "message_invalid"],
    ];
    for (const [message, code] of cases) {
      const response = await post(a, { message, handle: b.handle });
      expect(response.status, JSON.stringify(message)).toBe(422);
      expect(response.body).toEqual([code]);
    }
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    // A visible character among invisible ones is a message; an emoji with a joiner is one too.
    await postOk(a, { message: "\u200Bhi\u200B", handle: b.handle });
    await postOk(a, { message: "👩\u200D💻", handle: b.handle });
  });
});

describe("unread counts, read markers and read receipts", () => {
  it("counts the other member's messages after the caller's marker; posting marks the sender's side read", async () => {
    const [alice, bob] = [await user("alice"), await user("bob")];
    const first = await postOk(alice, { message: "one", handle: bob.handle });
    const group = first.message_group_uuid;
    const second = await postOk(alice, { message: "two", message_group_uuid: group });
    const third = await postOk(alice, { message: "three", message_group_uuid: group });

    const bobs = await listingOf(bob, group, third);
    expect(bobs).toMatchObject({ unread_count: 3, last_read_at: null, other_last_read_at: third.created_at });
    const alices = await listingOf(alice, group, third);
    expect(alices).toMatchObject({ unread_count: 0, last_read_at: third.created_at, other_last_read_at: null });

    const toSecond = await markRead(bob, group, { message_uuid: second.uuid });
    expect(toSecond.status).toBe(200);
    expect(toSecond.body).toEqual({ message_group_uuid: group, last_read_at: second.created_at, unread_count: 1 });
    // Forward only: an older message changes nothing.
    const back = await markRead(bob, group, { message_uuid: first.uuid });
    expect(back.body).toEqual({ message_group_uuid: group, last_read_at: second.created_at, unread_count: 1 });
    expect(await listingOf(alice, group)).toMatchObject({ other_last_read_at: second.created_at });

    // No body: the newest message.
    const all = await markRead(bob, group);
    expect(all.body).toEqual({ message_group_uuid: group, last_read_at: third.created_at, unread_count: 0 });

    // Bob replies: his side stays read, Alice has one unread.
    const reply = await postOk(bob, { message: "reply", message_group_uuid: group });
    expect(await listingOf(alice, group, reply)).toMatchObject({
      unread_count: 1,
      last_read_at: third.created_at,
      other_last_read_at: reply.created_at,
    });
    expect(await listingOf(bob, group, reply)).toMatchObject({ unread_count: 0, last_read_at: reply.created_at });
  });

  it("is a member-only route with pattern A's 404, and refuses bad input without writing", async () => {
    const [alice, bob, eve] = [await user("alice"), await user("bob"), await user("eve")];
    const sent = await postOk(alice, { message: "private", handle: bob.handle });
    const group = sent.message_group_uuid;
    await listingOf(bob, group, sent); // the fan-out is done: the table is still
    const before = scanFingerprint(await scanStackTable(stack));
    const cases: [Caller, string, unknown, number, string[]][] = [
      [eve, group, undefined, 404, ["message_group_not_found"]],
      [eve, "00000000-0000-4000-8000-000000000000", undefined, 404, ["message_group_not_found"]],
      [bob, group, { message_uuid: "00000000-0000-4000-8000-000000000000" }, 404, ["message_not_found"]],
      [bob, group, { message_uuid: "not-a-uuid" }, 422, ["message_uuid_invalid"]],
      [bob, group, { message_uuid: 7 }, 422, ["message_uuid_invalid"]],
      [bob, "NOT-A-UUID", undefined, 400, ["message_group_uuid_invalid"]],
      [bob, group, [1], 400, ["body_not_object"]],
    ];
    for (const [caller, g, body, status, codes] of cases) {
      const response = await markRead(caller, g, body);
      expect(response.status, JSON.stringify({ g, body })).toBe(status);
      expect(response.body).toEqual(codes);
    }
    const malformed = await fetch(`${stack.apiUrl}/api/message_groups/${group}/read`, {
      method: "POST",
      headers: { authorization: `Bearer ${bob.accessToken}`, "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual(["body_malformed_json"]);
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
  });

  it("pushes message_group.read to the other member when a marker moves", async () => {
    const [alice, bob] = [await user("alice"), await user("bob")];
    const sent = await postOk(alice, { message: "did you read this?", handle: bob.handle });
    const client = await RawEventsClient.connect(stack.events.realtimeUrl, alice.accessToken);
    clients.push(client);
    client.send(subscribeFrame("reads", userChannel(alice.uuid), alice.accessToken));
    expect(await client.next()).toEqual({ type: "subscribe_success", id: "reads" });
    expect((await markRead(bob, sent.message_group_uuid)).status).toBe(200);
    for (;;) {
      const frame = await client.next(15_000);
      const event = JSON.parse(frame.event as string) as { type: string };
      if (event.type !== "message_group.read") continue;
      expect(messageGroupReadEventSchema.parse(event)).toEqual({
        type: "message_group.read",
        id: `${sent.message_group_uuid}:${bob.uuid}:${sent.uuid}`,
        message_group_uuid: sent.message_group_uuid,
        user_uuid: bob.uuid,
        last_read_at: sent.created_at,
      });
      break;
    }
  });

  it("stays exact with 10 clients reading while 10 users post", async () => {
    const reader = await user("reader");
    const posters = await Promise.all(Array.from({ length: 10 }, () => user("poster")));
    const perPoster = 6;
    let posting = true;
    const posts = Promise.all(
      posters.map(async (p) => {
        const sent: CreatedMessageView[] = [];
        for (let i = 0; i < perPoster; i++) {
          const body =
            i === 0
              ? { message: `m${i}`, handle: reader.handle }
              : { message: `m${i}`, message_group_uuid: sent[0]?.message_group_uuid };
          sent.push(await postOk(p, body));
        }
        return sent;
      }),
    ).finally(() => {
      posting = false;
    });
    // Ten clients of the reader list and mark groups read while the posts go on.
    const readers = Array.from({ length: 10 }, async (_, r) => {
      let reads = 0;
      while (posting || reads === 0) {
        const groups = await groupsOf(reader);
        for (const g of groups) expect(g.unread_count).toBeGreaterThanOrEqual(0);
        const target = groups[(r + reads) % Math.max(1, groups.length)];
        if (target !== undefined) expect((await markRead(reader, target.uuid)).status).toBe(200);
        reads += 1;
      }
    });
    const sent = await posts;
    await Promise.all(readers);

    // Final: each group's count is exactly the poster's messages after the reader's marker.
    for (const messages of sent) {
      const last = messages[messages.length - 1] as CreatedMessageView;
      const listing = await listingOf(reader, last.message_group_uuid, last);
      const all = await listAllMessages(stack, reader.accessToken, last.message_group_uuid);
      const expected =
        listing.last_read_at === null
          ? all.length
          : all.filter((m) => m.created_at > (listing.last_read_at as string)).length;
      expect(listing.unread_count).toBe(expected);
    }
    // And once everything is read, every count is zero and every poster sees the receipt.
    for (const messages of sent) {
      const last = messages[messages.length - 1] as CreatedMessageView;
      expect((await markRead(reader, last.message_group_uuid)).body).toMatchObject({ unread_count: 0 });
    }
    for (const [i, p] of posters.entries()) {
      const last = sent[i]?.[perPoster - 1] as CreatedMessageView;
      expect(await listingOf(p, last.message_group_uuid)).toMatchObject({
        unread_count: 0,
        other_last_read_at: last.created_at,
      });
    }
  });
});

describe("idempotent send", () => {
  it("answers a retry with exactly the first answer and writes nothing more", async () => {
    const [alice, bob] = [await user("alice"), await user("bob")];
    const key = "retry-0001";
    const body = { message: "only once", handle: bob.handle };
    const first = await post(alice, body, { "Idempotency-Key": key });
    expect(first.status).toBe(200);
    const group = (first.body as CreatedMessageView).message_group_uuid;
    await listingOf(bob, group, first.body as CreatedMessageView); // the fan-out is done: the table is still
    const before = scanFingerprint(await scanStackTable(stack));
    const again = await post(alice, body, { "Idempotency-Key": key });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("ratelimit")).toBe(first.headers.get("ratelimit"));
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    expect(await listAllMessages(stack, alice.accessToken, group)).toHaveLength(1);

    // The same key with another body is refused; another user's same key is their own.
    const reused = await post(alice, { message: "something else", handle: bob.handle }, { "Idempotency-Key": key });
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual(["idempotency_key_reused"]);
    const bobs = await post(bob, { message: "mine", message_group_uuid: group }, { "Idempotency-Key": key });
    expect(bobs.status).toBe(200);
    expect(await listAllMessages(stack, alice.accessToken, group)).toHaveLength(2);
    // Without the header, as before: two posts, two messages.
    await postOk(alice, { message: "twice", message_group_uuid: group });
    await postOk(alice, { message: "twice", message_group_uuid: group });
    expect(await listAllMessages(stack, alice.accessToken, group)).toHaveLength(4);
  });

  it("ends 20 concurrent identical requests with one message", async () => {
    const [alice, bob] = [await user("alice"), await user("bob")];
    const body = { message: "double click", handle: bob.handle };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(alice, body, { "Idempotency-Key": "click-1" })),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const a of answers) {
      if (a.status === 200) expect(a.body).toEqual(ok[0]?.body);
      else {
        expect(a.status).toBe(409);
        expect(a.body).toEqual(["idempotency_request_in_progress"]);
        expect(a.headers.get("retry-after")).toBe("1");
      }
    }
    const group = ((ok[0] as ApiResponse).body as CreatedMessageView).message_group_uuid;
    expect(await listAllMessages(stack, alice.accessToken, group)).toHaveLength(1);
    // A retry after the first finished answers the first answer.
    const retry = await post(alice, body, { "Idempotency-Key": "click-1" });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(ok[0]?.body);
  });

  it("refuses a key that is empty, too long or not visible ASCII, writing nothing", async () => {
    const [alice, bob] = [await user("alice"), await user("bob")];
    const before = scanFingerprint(await scanStackTable(stack));
    for (const key of ["", "has space", "x".repeat(256), "tab\tkey", "clé"]) {
      const response = await fetch(`${stack.apiUrl}/api/messages`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${alice.accessToken}`,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: JSON.stringify({ message: "hi", handle: bob.handle }),
      }).catch(() => undefined);
      // fetch refuses some header values itself (a non-Latin-1 one): those never reach the API.
      if (response === undefined) continue;
      expect(response.status, JSON.stringify(key)).toBe(400);
      expect(await response.json()).toEqual(["idempotency_key_invalid"]);
    }
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    const longest = await post(alice, { message: "hi", handle: bob.handle }, { "Idempotency-Key": "~".repeat(255) });
    expect(longest.status).toBe(200);
  });
});

describe("blocking", () => {
  it("refuses posts both ways while a block stands, by group and by handle, and keeps messages readable", async () => {
    const [carol, dave] = [await user("carol"), await user("dave")];
    const hello = await postOk(dave, { message: "hello", handle: carol.handle });
    const group = hello.message_group_uuid;

    const blocked = await callApi(stack, "POST", `/api/users/@${dave.handle}/block`, { token: carol.accessToken });
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatchObject({ uuid: dave.uuid, handle: dave.handle, display_name: dave.display_name });
    const again = await callApi(stack, "POST", `/api/users/@${dave.handle}/block`, { token: carol.accessToken });
    expect(again.body).toEqual(blocked.body);
    const list = await callApi(stack, "GET", "/api/users/me/blocks", { token: carol.accessToken });
    expect(list.body).toEqual([blocked.body]);

    await listingOf(carol, group, hello); // the fan-out is done: the table is still
    const before = scanFingerprint(await scanStackTable(stack));
    for (const [from, body] of [
      [dave, { message: "by group", message_group_uuid: group }],
      [dave, { message: "by handle", handle: carol.handle }],
      [carol, { message: "mine too", message_group_uuid: group }],
      [carol, { message: "by handle", handle: dave.handle }],
    ] as const) {
      const response = await post(from, body);
      expect(response.status).toBe(403);
      expect(response.body).toEqual(["cannot_message_user"]);
    }
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    expect(await listAllMessages(stack, carol.accessToken, group)).toHaveLength(1);
    expect(await listAllMessages(stack, dave.accessToken, group)).toHaveLength(1);

    const unblocked = await callApi(stack, "DELETE", `/api/users/@${dave.handle}/block`, { token: carol.accessToken });
    expect(unblocked.status).toBe(204);
    expect((await callApi(stack, "GET", "/api/users/me/blocks", { token: carol.accessToken })).body).toEqual([]);
    await postOk(dave, { message: "again", message_group_uuid: group });
    await postOk(carol, { message: "ok", handle: dave.handle });
  });

  it("answers 404 for an unknown handle and 422 for yourself, writing nothing", async () => {
    const carol = await user("carol");
    // The earlier tests' last posts may still be fanning out (GRP rows moving): take the table
    // once it has stopped changing, so that only this test's requests could change it.
    const before = await quietFingerprint();
    for (const method of ["POST", "DELETE"] as const) {
      const unknown = await callApi(stack, method, "/api/users/@nobody_here/block", { token: carol.accessToken });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual(["handle_not_found"]);
      const self = await callApi(stack, method, `/api/users/@${carol.handle}/block`, { token: carol.accessToken });
      expect(self.status).toBe(422);
      expect(self.body).toEqual(["cannot_block_self"]);
    }
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
  });
});

/**
 * The table's fingerprint once two scans 300 ms apart agree (the stream pollers run every 100 ms),
 * within 10 s.
 */
async function quietFingerprint(): Promise<ReturnType<typeof scanFingerprint>> {
  let last = scanFingerprint(await scanStackTable(stack));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 300));
    const now = scanFingerprint(await scanStackTable(stack));
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  throw new Error("the table kept changing for 10 s");
}

describe("send limits", () => {
  it("allows a burst of 10, then answers 429 rate_limited with Retry-After and the RateLimit fields", async () => {
    const [erin, frank] = [await user("erin"), await user("frank")];
    const first = await post(erin, { message: "m0", handle: frank.handle });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"messages";q=10;w=20, "new_groups";q=10;w=3600');
    expect(first.headers.get("ratelimit")).toMatch(/^"messages";r=9;t=2, "new_groups";r=9;t=360$/);
    const group = (first.body as CreatedMessageView).message_group_uuid;
    let last = first.body as CreatedMessageView;
    for (let i = 1; i < DEFAULT_SEND_LIMITS.messageBurst; i++) {
      const response = await post(erin, { message: `m${i}`, message_group_uuid: group });
      expect(response.status).toBe(200);
      last = response.body as CreatedMessageView;
    }
    await listingOf(frank, group, last); // the fan-out is done: the table is still
    const before = scanFingerprint(await scanStackTable(stack));
    const refused = await post(erin, { message: "one too many", message_group_uuid: group });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(["rate_limited"]);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(2);
    expect(refused.headers.get("ratelimit")).toMatch(/^"messages";r=0;t=\d+, "new_groups";r=9;t=\d+$/);
    expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
    // Frank has limits of his own; reads are not limited.
    await postOk(frank, { message: "my own quota", message_group_uuid: group });
    expect((await callApi(stack, "GET", `/api/messages/${group}`, { token: erin.accessToken })).status).toBe(200);
  });
});
