/**
 * The typed client (`client/`) against one local stack: sign-in over fetch, every operation,
 * paging as async iterators, typed errors with their codes, the `Idempotency-Key` of a send kept
 * across a retry, and the real-time subscription through a forced disconnect in the middle of a
 * burst: every message of the burst arrives exactly once, those sent while disconnected filled in
 * from the REST routes.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  ApiError,
  AuthError,
  CruddurClient,
  IDEMPOTENCY_KEY_HEADER,
  type RealtimeEvent,
  type RealtimeStatus,
  signInWithPassword,
  subscribeToUser,
  tokenSubject,
  type WebSocketConstructor,
} from "../../client/index";
import type { LocalStack } from "../../local/stack";
import { pollUntil, settleRealtime, startTestStack } from "../support/stack";

let stack: LocalStack;
let andrew: CruddurClient;
let bayko: CruddurClient;
let andrewToken: string;
let baykoToken: string;
let baykoUuid: string;
let group: string;

async function signedIn(handle: string): Promise<string> {
  const user = stack.users.find((u) => u.handle === handle);
  if (user === undefined) throw new Error(`no seeded user ${handle}`);
  const tokens = await signInWithPassword(stack, user.username, user.password);
  return tokens.accessToken;
}

beforeAll(async () => {
  stack = await startTestStack();
  andrewToken = await signedIn("andrewbrown");
  baykoToken = await signedIn("bayko");
  baykoUuid = tokenSubject(baykoToken);
  andrew = new CruddurClient({ apiUrl: stack.apiUrl, accessToken: () => andrewToken });
  bayko = new CruddurClient({ apiUrl: stack.apiUrl, accessToken: () => baykoToken });
  const first = (await andrew.listMessageGroups()).items[0];
  if (first === undefined) throw new Error("no seeded conversation");
  group = first.uuid;
});

afterAll(async () => {
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

describe("typed client: HTTP API", () => {
  it("signs in with USER_PASSWORD_AUTH over fetch, and refuses a wrong password with Cognito's code", async () => {
    expect(andrewToken.split(".")).toHaveLength(3);
    const user = stack.users[0];
    if (user === undefined) throw new Error("no seeded user");
    const refused = await signInWithPassword(stack, user.username, `${user.password}x`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    // cognito-local names a wrong password InvalidPasswordException; Cognito, NotAuthorizedException.
    expect((refused as AuthError).code).toMatch(/^(NotAuthorizedException|InvalidPasswordException)$/);
  });

  it("pages a conversation with an async iterator: every seeded message once, newest page first", async () => {
    const pages = [];
    for await (const page of andrew.messagePages(group, { limit: 25 })) pages.push(page.items);
    expect(pages.length).toBeGreaterThanOrEqual(5);
    const all = pages.reverse().flat();
    expect(new Set(all.map((m) => m.uuid)).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(106);
    const times = all.map((m) => m.created_at);
    expect(times).toEqual([...times].sort());

    const groups = [];
    for await (const g of andrew.messageGroups({ limit: 1 })) groups.push(g);
    expect(groups.map((g) => g.uuid)).toContain(group);
  });

  it("calls every other operation, and throws ApiError with the codes", async () => {
    expect(await andrew.getUserShort("bayko")).toMatchObject({ handle: "bayko", uuid: baykoUuid });
    const sent = await andrew.sendMessage({ message_group_uuid: group }, "hello from the typed client");
    expect(sent).toMatchObject({ message_group_uuid: group, message: "hello from the typed client" });
    const byHandle = await andrew.sendMessage({ handle: "londo" }, "hello Londo");
    expect(byHandle.message_group_uuid).not.toBe(group);
    expect(await bayko.markRead(group, sent.uuid)).toMatchObject({ message_group_uuid: group, unread_count: 0 });
    expect(await andrew.updateProfile({ display_name: "Andrew B." })).toMatchObject({ display_name: "Andrew B." });
    await andrew.updateProfile({ display_name: "Andrew Brown" });

    expect(await andrew.blockUser("@londo")).toMatchObject({ handle: "londo" });
    const blocked = [];
    for await (const b of andrew.blocks()) blocked.push(b.handle);
    expect(blocked).toEqual(["londo"]);
    const refused = await andrew.sendMessage({ handle: "londo" }, "blocked?").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 403, codes: ["cannot_message_user"], operation: "createMessage" });
    await andrew.unblockUser("londo");
    expect((await andrew.listBlocks()).items).toEqual([]);

    const blank = (await andrew.sendMessage({ message_group_uuid: group }, "  ").catch((e: unknown) => e)) as ApiError;
    expect(blank.status).toBe(422);
    expect(blank.has("message_blank")).toBe(true);
    const missing = (await andrew.getUserShort("nobody-here").catch((e: unknown) => e)) as ApiError;
    expect([missing.status, missing.codes]).toEqual([404, ["user_not_found"]]);
    const anonymous = new CruddurClient({ apiUrl: stack.apiUrl });
    const unauthorized = (await anonymous.listMessageGroups().catch((e: unknown) => e)) as ApiError;
    expect([unauthorized.status, unauthorized.codes]).toEqual([401, ["unauthorized"]]);
  });

  it("sets an Idempotency-Key on a send and reuses it on the retry: one message", async () => {
    const keys: (string | null)[] = [];
    let calls = 0;
    // The first request reaches the API, but its answer is lost on the way back.
    const lossy: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get(IDEMPOTENCY_KEY_HEADER));
      const response = await fetch(input, init);
      calls += 1;
      if (calls === 1) throw new TypeError("fetch failed (answer lost)");
      return response;
    };
    const client = new CruddurClient({ apiUrl: stack.apiUrl, accessToken: () => andrewToken, fetch: lossy });
    const before = (await andrew.listMessages(group, { limit: 100 })).items.length;
    const text = `exactly once ${Date.now()}`;
    const sent = await client.sendMessage({ message_group_uuid: group }, text);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const after = (await andrew.listMessages(group, { limit: 100 })).items;
    expect(after.filter((m) => m.message === text).map((m) => m.uuid)).toEqual([sent.uuid]);
    expect(after.length).toBe(Math.min(100, before + 1));
  });
});

describe("typed client: real-time", () => {
  it("loses no message and doubles none through a forced disconnect in the middle of a burst", async () => {
    await settleRealtime(stack, baykoToken, baykoUuid);
    const sockets: WebSocket[] = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const received: { event: RealtimeEvent; origin: string }[] = [];
    const statuses: RealtimeStatus[] = [];
    const subscription = subscribeToUser({
      realtimeUrl: stack.events.realtimeUrl,
      httpHost: new URL(stack.events.httpUrl).host,
      userUuid: baykoUuid,
      accessToken: () => baykoToken,
      api: bayko,
      WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
      // Reconnect about a second later, so that part of the burst is posted while disconnected.
      backoff: { baseMs: 1000, maxMs: 1000 },
      random: () => 0.99,
      gapRecheckMs: 500,
      onEvent: (event, origin) => received.push({ event, origin }),
      onStatus: (status) => statuses.push(status),
    });
    try {
      await subscription.whenLive();
      const burst = 40;
      const posted: string[] = [];
      for (let i = 0; i < burst; i += 1) {
        const sent = await andrew.sendMessage({ message_group_uuid: group }, `burst ${i}`);
        posted.push(sent.uuid);
        if (i === 9) {
          // After the first ten are delivered, the connection drops (no close handshake).
          await pollUntil(5000, async () =>
            received.filter((r) => r.event.type === "message.new").length >= 10 ? true : undefined,
          );
          sockets.at(-1)?.terminate();
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ids = new Set(posted);
      const burstEvents = () => received.filter((r) => r.event.type === "message.new" && ids.has(r.event.id));
      await pollUntil(15_000, async () => (burstEvents().length >= burst ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 500)); // a late duplicate would land by now
      const events = burstEvents();
      expect(events.map((r) => r.event.id).sort()).toEqual([...posted].sort());
      const everyId = received.map((r) => r.event.id);
      expect(new Set(everyId).size).toBe(everyId.length);
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      expect(statuses).toContain("reconnecting");
      expect(events.some((r) => r.origin === "gap")).toBe(true);
      expect(subscription.status).toBe("live");
    } finally {
      subscription.close();
    }
    expect(subscription.status).toBe("closed");
  });
});
