/**
 * The whole local stack over HTTP, as the web frontend uses it: sign in through cognito-local,
 * then every route of the API, the stream fan-out, authorization and CORS.
 */
import { readFile, rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../local/settings";
import { signIn, type Tokens } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { NEXT_CURSOR_HEADER, PUBLIC_CACHE_SECONDS } from "../../shared/api-contract";
import { messageGroupUuidFor, UUID_PATTERN } from "../../shared/ids";
import type { CreatedMessageView, MessageGroupView, MessageView } from "../../shared/model";
import { API_DOCUMENT_FILES, API_DOCUMENT_PATHS } from "../../shared/openapi";
import { SEED_CONVERSATION, SEED_MESSAGE_STEP_MS } from "../../shared/seed-data";
import { DEFAULT_PAGE_SIZE } from "../../shared/validation";
import { callApi, pollUntil, startTestStack } from "../support/stack";

/** How soon a posted message must show in both members' message groups (stream fan-out), ms. */
const FAN_OUT_DEADLINE_MS = 2000;

describe("local stack: the HTTP API end to end", () => {
  let stack: LocalStack;
  const tokens: Record<string, Tokens> = {};
  const token = (handle: string) => (tokens[handle] as Tokens).accessToken;
  let groupUuid: string;

  beforeAll(async () => {
    stack = await startTestStack();
    for (const user of stack.users) tokens[user.handle] = await signIn(stack, user.username, user.password);
    // The seeded conversation's group: its uuid follows from its two members (shared/ids.ts).
    const member = (handle: string) => stack.users.find((u) => u.handle === handle)?.uuid ?? "";
    groupUuid = messageGroupUuidFor(member("andrewbrown"), member("bayko"));
  });
  afterAll(async () => {
    await stack?.stop();
    if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
  });

  const groupsOf = async (handle: string) => {
    const response = await callApi(stack, "GET", "/api/message_groups", { token: token(handle) });
    expect(response.status).toBe(200);
    return response.body as MessageGroupView[];
  };

  it("lists the seeded conversation with bayko in andrewbrown's message groups", async () => {
    const groups = await groupsOf("andrewbrown");
    expect(groups).toHaveLength(1);
    const [group] = groups as [MessageGroupView];
    expect(group).toMatchObject({
      handle: "bayko",
      display_name: "Andrew Bayko",
      message: SEED_CONVERSATION.at(-1)?.text,
    });
    expect(group.uuid).toMatch(UUID_PATTERN);
    expect(group.uuid).toBe(groupUuid);
    const [mirror] = await groupsOf("bayko");
    expect(mirror).toMatchObject({ uuid: groupUuid, handle: "andrewbrown", display_name: "Andrew Brown" });
    expect(await groupsOf("londo")).toEqual([]);
  });

  it("answers the newest page of messages, oldest first, 20 by default, with a cursor", async () => {
    const response = await callApi(stack, "GET", `/api/messages/${groupUuid}`, { token: token("andrewbrown") });
    expect(response.status).toBe(200);
    const messages = response.body as MessageView[];
    expect(messages).toHaveLength(DEFAULT_PAGE_SIZE);
    expect(messages.map((m) => m.message)).toEqual(SEED_CONVERSATION.slice(-DEFAULT_PAGE_SIZE).map((m) => m.text));
    const times = messages.map((m) => Date.parse(m.created_at));
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBe(SEED_MESSAGE_STEP_MS);
    expect(messages.at(-1)).toMatchObject({ handle: "bayko", display_name: "Andrew Bayko" });
    expect(messages.at(-2)).toMatchObject({ handle: "andrewbrown", display_name: "Andrew Brown" });
    expect(response.headers.get(NEXT_CURSOR_HEADER)).toBeTruthy();
  });

  it("pages back through the whole conversation with ?limit= and ?cursor=", async () => {
    const pages: MessageView[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=30${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const response = await callApi(stack, "GET", `/api/messages/${groupUuid}${query}`, { token: token("bayko") });
      expect(response.status).toBe(200);
      pages.push(response.body as MessageView[]);
      cursor = response.headers.get(NEXT_CURSOR_HEADER);
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([30, 30, 30, SEED_CONVERSATION.length - 90]);
    const all = pages.reverse().flat();
    expect(all.map((m) => m.message)).toEqual(SEED_CONVERSATION.map((m) => m.text));
  });

  it("posts to an existing group (pattern C) and fans the message out to both members within 2 s", async () => {
    const response = await callApi(stack, "POST", "/api/messages", {
      token: token("andrewbrown"),
      body: { message: "Pushing the hotfix now.", message_group_uuid: groupUuid },
    });
    expect(response.status).toBe(200);
    const created = response.body as CreatedMessageView;
    expect(created).toMatchObject({
      message_group_uuid: groupUuid,
      handle: "andrewbrown",
      display_name: "Andrew Brown",
      message: "Pushing the hotfix now.",
    });
    expect(Object.keys(created).sort()).toEqual(
      ["created_at", "display_name", "handle", "message", "message_group_uuid", "user_uuid", "uuid"].sort(),
    );
    expect(created.uuid).toMatch(UUID_PATTERN);

    for (const handle of ["andrewbrown", "bayko"]) {
      const { elapsedMs } = await pollUntil(FAN_OUT_DEADLINE_MS, async () => {
        const group = (await groupsOf(handle)).find((g) => g.uuid === groupUuid);
        return group?.message === created.message && group.created_at === created.created_at ? group : undefined;
      });
      expect(elapsedMs).toBeLessThan(FAN_OUT_DEADLINE_MS);
    }
    const messages = await callApi(stack, "GET", `/api/messages/${groupUuid}?limit=1`, { token: token("bayko") });
    expect(messages.body).toEqual([
      {
        uuid: created.uuid,
        user_uuid: created.user_uuid,
        display_name: "Andrew Brown",
        handle: "andrewbrown",
        message: created.message,
        created_at: created.created_at,
      },
    ]);
  });

  it("starts a conversation by handle (pattern D) that both members see", async () => {
    const response = await callApi(stack, "POST", "/api/messages", {
      token: token("andrewbrown"),
      body: { message: "Hello Londo, welcome aboard.", handle: "londo" },
    });
    expect(response.status).toBe(200);
    const created = response.body as CreatedMessageView;
    expect(created.message_group_uuid).toMatch(UUID_PATTERN);
    expect(created.message_group_uuid).not.toBe(groupUuid);
    expect(created).toMatchObject({ handle: "andrewbrown", message: "Hello Londo, welcome aboard." });

    const { value: londoGroup } = await pollUntil(FAN_OUT_DEADLINE_MS, async () =>
      (await groupsOf("londo")).find((g) => g.uuid === created.message_group_uuid),
    );
    expect(londoGroup).toMatchObject({ handle: "andrewbrown", display_name: "Andrew Brown", message: created.message });
    const andrewGroups = await groupsOf("andrewbrown");
    expect(andrewGroups.map((g) => g.handle)).toEqual(["londo", "bayko"]);

    const again = await callApi(stack, "POST", "/api/messages", {
      token: token("londo"),
      body: { message: "Thank you!", handle: "andrewbrown" },
    });
    expect(again.status).toBe(200);
    expect((again.body as CreatedMessageView).message_group_uuid).toBe(created.message_group_uuid);
  });

  it("looks a user up by handle", async () => {
    const response = await callApi(stack, "GET", "/api/users/@bayko/short", { token: token("londo") });
    expect(response.status).toBe(200);
    const bayko = stack.users.find((u) => u.handle === "bayko");
    expect(response.body).toEqual({ uuid: bayko?.uuid, handle: "bayko", display_name: "Andrew Bayko" });
    const unknown = await callApi(stack, "GET", "/api/users/@nobody/short", { token: token("londo") });
    expect(unknown.status).toBe(404);
  });

  it("answers 404 message_group_not_found to a non-member, for reading and posting", async () => {
    const read = await callApi(stack, "GET", `/api/messages/${groupUuid}`, { token: token("londo") });
    expect([read.status, read.body]).toEqual([404, ["message_group_not_found"]]);
    const post = await callApi(stack, "POST", "/api/messages", {
      token: token("londo"),
      body: { message: "Let me in", message_group_uuid: groupUuid },
    });
    expect([post.status, post.body]).toEqual([404, ["message_group_not_found"]]);
  });

  it("answers validation errors as arrays of codes", async () => {
    const blank = await callApi(stack, "POST", "/api/messages", {
      token: token("andrewbrown"),
      body: { message: "  ", message_group_uuid: groupUuid },
    });
    expect([blank.status, blank.body]).toEqual([422, ["message_blank"]]);
  });

  describe("authorization", () => {
    const tamper = (jwt: string) => {
      const [header, payload, signature] = jwt.split(".") as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: stack.users[1]?.uuid })).toString("base64url");
      return `${header}.${forged}.${signature}`;
    };

    it.each([
      ["no token", () => undefined],
      ["a tampered token", () => tamper(token("andrewbrown"))],
      ["an ID token instead of an access token", () => tokens.andrewbrown?.idToken],
      ["a refresh token", () => tokens.andrewbrown?.refreshToken],
      ["garbage", () => "abc.def.ghi"],
    ])("answers 401 unauthorized for %s", async (_, makeToken) => {
      const t = makeToken();
      const response = await callApi(stack, "GET", "/api/message_groups", t === undefined ? {} : { token: t });
      expect([response.status, response.body]).toEqual([401, ["unauthorized"]]);
    });
  });

  it("answers 413 payload_too_large for a body over 1 MiB", async () => {
    const response = await callApi(stack, "POST", "/api/messages", {
      token: token("andrewbrown"),
      body: { message: "x".repeat(1024 * 1024), message_group_uuid: groupUuid },
    });
    expect([response.status, response.body]).toEqual([413, ["payload_too_large"]]);
  });

  it("answers 404 route_not_found for an unknown route or method", async () => {
    for (const [method, path] of [
      ["GET", "/api/nope"],
      ["PUT", "/api/messages"],
      ["POST", "/api/message_groups"],
    ] as const) {
      const response = await callApi(stack, method, path, { token: token("andrewbrown") });
      expect([response.status, response.body]).toEqual([404, ["route_not_found"]]);
    }
  });

  it("serves the API documents the code generates (the committed docs/*.json), with no token", async () => {
    for (const [path, file] of [
      [API_DOCUMENT_PATHS.openapi, API_DOCUMENT_FILES.openapi],
      [API_DOCUMENT_PATHS.asyncapi, API_DOCUMENT_FILES.asyncapi],
    ] as const) {
      const response = await callApi(stack, "GET", path);
      expect(response.status, path).toBe(200);
      expect(response.body, path).toEqual(JSON.parse(await readFile(`${REPO_ROOT}${file}`, "utf8")));
    }
  });

  it("answers CORS preflights and exposes the cursor header to the frontend", async () => {
    const preflight = await callApi(stack, "OPTIONS", "/api/messages", {
      headers: {
        origin: "http://localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const get = await callApi(stack, "GET", "/api/message_groups", { token: token("andrewbrown") });
    expect(get.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(get.headers.get("access-control-expose-headers")).toContain(NEXT_CURSOR_HEADER);
  });

  describe("response headers", () => {
    const noStore = { "x-content-type-options": "nosniff", "cache-control": "no-store" };
    const headersOf = (response: { headers: Headers }) => ({
      "x-content-type-options": response.headers.get("x-content-type-options"),
      "cache-control": response.headers.get("cache-control"),
    });
    type Call = () => Promise<{ status: number; headers: Headers }>;
    const andrew = () => ({ token: token("andrewbrown") });

    it.each<[string, number, Call]>([
      ["B, list message groups", 200, () => callApi(stack, "GET", "/api/message_groups", andrew())],
      ["A, list messages", 200, () => callApi(stack, "GET", `/api/messages/${groupUuid}?limit=1`, andrew())],
      [
        "C, post a message",
        200,
        () =>
          callApi(stack, "POST", "/api/messages", {
            ...andrew(),
            body: { message: "headers", message_group_uuid: groupUuid },
          }),
      ],
      ["PATCH /api/users/me, invalid", 422, () => callApi(stack, "PATCH", "/api/users/me", { ...andrew(), body: {} })],
      [
        "a group of which the caller is not a member",
        404,
        () => callApi(stack, "GET", `/api/messages/${groupUuid}`, { token: token("londo") }),
      ],
      ["a missing token (the emulated authorizer)", 401, () => callApi(stack, "GET", "/api/message_groups")],
      ["no route", 404, () => callApi(stack, "GET", "/api/nope", andrew())],
      [
        "a body over the limit",
        413,
        () => callApi(stack, "POST", "/api/messages", { ...andrew(), body: { message: "x".repeat(1024 * 1024) } }),
      ],
      [
        "a CORS preflight",
        204,
        () =>
          callApi(stack, "OPTIONS", "/api/messages", {
            headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
          }),
      ],
      ["the public profile of an unknown handle", 404, () => callApi(stack, "GET", "/api/users/@nobody-here/short")],
    ])("%s: %i with nosniff and no-store", async (_, status, call) => {
      const response = await call();
      expect(response.status).toBe(status);
      expect(headersOf(response)).toEqual(noStore);
    });

    it("the public profile: 200 with nosniff, cacheable for PUBLIC_CACHE_SECONDS", async () => {
      const response = await callApi(stack, "GET", "/api/users/@bayko/short");
      expect(response.status).toBe(200);
      expect(headersOf(response)).toEqual({
        "x-content-type-options": "nosniff",
        "cache-control": `public, max-age=${PUBLIC_CACHE_SECONDS}`,
      });
    });
  });
});
