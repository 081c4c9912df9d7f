/**
 * The route functions as Lambda runs them (payload v2 events in, structured results out) on
 * DynamoDB Local: what each bad request is answered, and that nothing is written. The users
 * are in the table's directory, as the sign-up triggers or seeding write them; no route but
 * the rename calls Cognito (nothing listens at COGNITO_ENDPOINT: a call would fail loudly).
 * The rename's Cognito call is driven end to end against cognito-local in test/e2e.
 */
import {
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, describe, expect, it } from "vitest";
import { putDirectoryUser, setProfileStatus } from "../../shared/directory";
import type { HttpEvent, HttpHandler } from "../../shared/http";
import { seedConversation } from "../../shared/seed";
import { stubFunctionEnv } from "../support/function-env";
import { createTestTable, type TestTable } from "../support/table";
import { makeUser } from "../support/users";

let table: TestTable;
let handlers: Record<
  "listMessages" | "listMessageGroups" | "createMessage" | "getUserShort" | "updateProfile",
  HttpHandler
>;
const alice = makeUser("alice_h", "Alice H");
const bob = makeUser("bob_h", "Bob H");
const stranger = makeUser("stranger_h");
const cognito = mockClient(CognitoIdentityProviderClient);
let groupUuid: string;

beforeAll(async () => {
  table = await createTestTable();
  stubFunctionEnv(
    {
      tableName: table.tableName,
      region: "us-east-1",
      dynamodbEndpoint: table.endpoint,
      cognitoEndpoint: "http://127.0.0.1:9", // nothing listens: a Cognito call would fail loudly
      userPoolId: "local_pool",
      userCacheTtlMs: 0,
    },
    { logLevel: "SILENT" },
  );
  for (const user of [alice, bob, stranger]) await putDirectoryUser(table, user, Date.now());
  handlers = {
    listMessages: (await import("../../functions/list-messages")).handler,
    listMessageGroups: (await import("../../functions/list-message-groups")).handler,
    createMessage: (await import("../../functions/create-message")).handler,
    getUserShort: (await import("../../functions/get-user-short")).handler,
    updateProfile: (await import("../../functions/update-profile")).handler,
  };
  ({ message_group_uuid: groupUuid } = await seedConversation(table.ddb, table.tableName, {
    a: alice,
    b: bob,
    messages: Array.from({ length: 30 }, (_, i) => ({ from: i % 2 === 0 ? "a" : "b", text: `hello ${i}` })),
    endAtMs: Date.now() - 60_000,
    stepMs: 60_000,
  }));
});

const context = { awsRequestId: "req", functionName: "fn" } as Context;

function event(input: {
  routeKey: string;
  user?: { uuid: string; handle: string } | undefined;
  tokenUse?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
}): HttpEvent {
  const claims =
    input.user === undefined
      ? undefined
      : { sub: input.user.uuid, username: input.user.handle, token_use: input.tokenUse ?? "access", client_id: "c" };
  return {
    version: "2.0",
    routeKey: input.routeKey,
    rawPath: "/",
    rawQueryString: "",
    headers: {},
    ...(input.pathParameters === undefined ? {} : { pathParameters: input.pathParameters }),
    ...(input.query === undefined ? {} : { queryStringParameters: input.query }),
    ...(input.body === undefined ? {} : { body: input.body }),
    isBase64Encoded: false,
    requestContext: {
      requestId: "api-req",
      routeKey: input.routeKey,
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    },
  } as unknown as HttpEvent;
}

function answer(result: APIGatewayProxyStructuredResultV2) {
  return { status: result.statusCode, body: JSON.parse(result.body ?? "null") as unknown };
}

describe("GET /api/messages/{message_group_uuid}", () => {
  const route = "GET /api/messages/{message_group_uuid}";

  it("answers a member the newest page, oldest first, with the next cursor in a header", async () => {
    const result = await handlers.listMessages(
      event({ routeKey: route, user: alice, pathParameters: { message_group_uuid: groupUuid }, query: { limit: "5" } }),
      context,
    );
    const { status, body } = answer(result);
    expect(status).toBe(200);
    expect((body as { message: string }[]).map((m) => m.message)).toEqual(
      [25, 26, 27, 28, 29].map((i) => `hello ${i}`),
    );
    const cursor = result.headers?.["x-next-cursor"];
    expect(cursor).toBeTypeOf("string");
    const older = await handlers.listMessages(
      event({
        routeKey: route,
        user: bob,
        pathParameters: { message_group_uuid: groupUuid },
        query: { limit: "5", cursor: String(cursor) },
      }),
      context,
    );
    expect((answer(older).body as { message: string }[])[0]?.message).toBe("hello 20");
  });

  it.each([
    ["no token claims", undefined, {}, 401, ["unauthorized"]],
    ["an ID token", "id", {}, 401, ["unauthorized"]],
    ["a malformed uuid", "access", { message_group_uuid: "abc" }, 400, ["message_group_uuid_invalid"]],
    ["a bad limit", "access", { limit: "0" }, 400, ["limit_invalid"]],
    ["a forged cursor", "access", { cursor: "eyJ2IjoxfQ" }, 400, ["cursor_invalid"]],
  ])("answers %s with its error", async (_, tokenUse, overrides, status, codes) => {
    const { message_group_uuid, ...query } = overrides as Record<string, string>;
    const result = await handlers.listMessages(
      event({
        routeKey: route,
        user: tokenUse === undefined ? undefined : alice,
        ...(tokenUse === undefined ? {} : { tokenUse }),
        pathParameters: { message_group_uuid: message_group_uuid ?? groupUuid },
        query,
      }),
      context,
    );
    expect(answer(result)).toEqual({ status, body: codes });
  });

  it("answers a non-member 404 like a missing group", async () => {
    const result = await handlers.listMessages(
      event({ routeKey: route, user: stranger, pathParameters: { message_group_uuid: groupUuid } }),
      context,
    );
    expect(answer(result)).toEqual({ status: 404, body: ["message_group_not_found"] });
  });
});

describe("GET /api/message_groups", () => {
  it("lists the caller's groups with the other member shown", async () => {
    const result = await handlers.listMessageGroups(event({ routeKey: "GET /api/message_groups", user: bob }), context);
    expect(answer(result)).toEqual({
      status: 200,
      body: [
        {
          uuid: groupUuid,
          user_uuid: alice.uuid,
          handle: "alice_h",
          display_name: "Alice H",
          message: "hello 29",
          created_at: expect.any(String),
          // A seeded history: Alice wrote every other one of the 30, and nobody has read yet.
          unread_count: 15,
          last_read_at: null,
          other_last_read_at: null,
        },
      ],
    });
  });
});

describe("POST /api/messages with bad input", () => {
  const route = "POST /api/messages";
  const cases: [string, string | undefined, number, string[]][] = [
    ["no body", undefined, 400, ["body_malformed_json"]],
    ["malformed JSON", '{"message": "hi",', 400, ["body_malformed_json"]],
    ["an array body", "[]", 400, ["body_not_object"]],
    [
      "a blank message",
      JSON.stringify({ message: " ", message_group_uuid: "0b6e1a52-5d7e-4a55-9d0b-3c0c2b8e7a14" }),
      422,
      ["message_blank"],
    ],
    [
      "1025 characters",
      JSON.stringify({ message: "a".repeat(1025), handle: "bob_h" }),
      422,
      ["message_exceed_max_chars"],
    ],
    ["a number message", JSON.stringify({ message: 1, handle: "bob_h" }), 422, ["message_invalid"]],
    ["neither target", JSON.stringify({ message: "hi" }), 422, ["message_group_uuid_or_handle_required"]],
    [
      "both targets",
      JSON.stringify({ message: "hi", handle: "bob_h", message_group_uuid: "0b6e1a52-5d7e-4a55-9d0b-3c0c2b8e7a14" }),
      422,
      ["message_group_uuid_and_handle_exclusive"],
    ],
    [
      "a malformed group uuid",
      JSON.stringify({ message: "hi", message_group_uuid: "g" }),
      422,
      ["message_group_uuid_invalid"],
    ],
  ];

  it.each(cases)("answers %s with its codes and writes nothing", async (_, body, status, codes) => {
    const before = await table.scanAll();
    const result = await handlers.createMessage(
      event({ routeKey: route, user: alice, ...(body === undefined ? {} : { body }) }),
      context,
    );
    expect(answer(result)).toEqual({ status, body: codes });
    expect(await table.scanAll()).toEqual(before);
  });

  it("answers a base64-encoded body like a plain one", async () => {
    const body = Buffer.from(JSON.stringify({ message: "", handle: "bob_h" })).toString("base64");
    const result = await handlers.createMessage(
      { ...event({ routeKey: route, user: alice, body }), isBase64Encoded: true },
      context,
    );
    expect(answer(result)).toEqual({ status: 422, body: ["message_blank"] });
  });

  it("answers 404 for an unknown handle and writes nothing, without calling Cognito", async () => {
    const before = await table.scanAll();
    const result = await handlers.createMessage(
      event({ routeKey: route, user: alice, body: JSON.stringify({ message: "hi", handle: "nobody_h" }) }),
      context,
    );
    expect(answer(result)).toEqual({ status: 404, body: ["handle_not_found"] });
    expect(await table.scanAll()).toEqual(before);
  });
});

describe("a caller without an active profile", () => {
  const ghost = makeUser("ghost_h");
  const calls: [string, () => Promise<APIGatewayProxyStructuredResultV2>][] = [
    [
      "A",
      () =>
        handlers.listMessages(
          event({ routeKey: "A", user: ghost, pathParameters: { message_group_uuid: groupUuid } }),
          context,
        ),
    ],
    ["B", () => handlers.listMessageGroups(event({ routeKey: "B", user: ghost }), context)],
    [
      "C",
      () =>
        handlers.createMessage(
          event({ routeKey: "C", user: ghost, body: JSON.stringify({ message: "hi", message_group_uuid: groupUuid }) }),
          context,
        ),
    ],
    [
      "D",
      () =>
        handlers.createMessage(
          event({ routeKey: "D", user: ghost, body: JSON.stringify({ message: "hi", handle: "bob_h" }) }),
          context,
        ),
    ],
    [
      "rename",
      () =>
        handlers.updateProfile(
          event({ routeKey: "PATCH", user: ghost, body: JSON.stringify({ display_name: "G" }) }),
          context,
        ),
    ],
  ];

  it.each(calls)("is answered 401 by %s when it never had one, and nothing is written", async (_, call) => {
    const before = await table.scanAll();
    expect(answer(await call())).toEqual({ status: 401, body: ["unauthorized"] });
    expect(await table.scanAll()).toEqual(before);
  });

  it.each(calls)("is answered 401 by %s once disabled", async (_, call) => {
    await putDirectoryUser(table, ghost, Date.now());
    await setProfileStatus(table, ghost.uuid, "disabled", Date.now());
    expect(answer(await call())).toEqual({ status: 401, body: ["unauthorized"] });
  });
});

describe("GET /api/users/@{handle}/short (public)", () => {
  const route = "GET /api/users/{handle}/short";

  it("answers the profile without any token, in any case of the handle, cacheable for a short time", async () => {
    for (const handle of ["@bob_h", "BOB_H"]) {
      const result = await handlers.getUserShort(event({ routeKey: route, pathParameters: { handle } }), context);
      expect(answer(result)).toEqual({
        status: 200,
        body: { uuid: bob.uuid, handle: "bob_h", display_name: "Bob H" },
      });
      expect(result.headers?.["cache-control"]).toMatch(/^public, max-age=\d+$/);
    }
  });

  it.each(["@no spaces", "@nobody_h", "@"])("answers 404 for %s", async (handle) => {
    const result = await handlers.getUserShort(event({ routeKey: route, pathParameters: { handle } }), context);
    expect(answer(result)).toEqual({ status: 404, body: ["user_not_found"] });
  });
});

describe("PATCH /api/users/me", () => {
  const route = "PATCH /api/users/me";
  const patch = (user: { uuid: string; handle: string }, body: unknown) =>
    handlers.updateProfile(
      event({ routeKey: route, user, body: typeof body === "string" ? body : JSON.stringify(body) }),
      context,
    );

  it.each([
    ["malformed JSON", "{", 400, ["body_malformed_json"]],
    ["no field", {}, 422, ["handle_or_display_name_required"]],
    [
      "a bad handle and name",
      { handle: "b ob", display_name: "x\u202Ey" },
      422,
      ["handle_invalid", "display_name_invalid"],
    ],
    ["someone else's handle", { handle: "Alice_H" }, 409, ["handle_taken"]],
  ])("answers %s with its codes and writes nothing", async (_, body, status, codes) => {
    cognito.reset();
    const before = await table.scanAll();
    expect(answer(await patch(bob, body))).toEqual({ status, body: codes });
    expect(await table.scanAll()).toEqual(before);
    expect(cognito.commandCalls(AdminUpdateUserAttributesCommand)).toHaveLength(0);
  });

  it("renames, shows the new names in the conversation, and keeps Cognito in step; a retry after a Cognito failure converges", async () => {
    const carol = makeUser("carol_h", "Carol");
    await putDirectoryUser(table, carol, Date.now());
    await handlers.createMessage(
      event({ routeKey: "D", user: carol, body: JSON.stringify({ message: "hi", handle: "bob_h" }) }),
      context,
    );
    cognito.reset();
    cognito.on(AdminUpdateUserAttributesCommand).rejectsOnce(new Error("cognito down")).resolves({});
    const body = { handle: "Caroline", display_name: "Caroline C" };
    expect(answer(await patch(carol, body))).toEqual({ status: 500, body: ["internal_error"] });
    expect(answer(await patch(carol, body))).toEqual({
      status: 200,
      body: { uuid: carol.uuid, handle: "Caroline", display_name: "Caroline C" },
    });
    expect(cognito.commandCalls(AdminUpdateUserAttributesCommand).at(-1)?.args[0].input).toMatchObject({
      Username: carol.handle,
      UserAttributes: [
        { Name: "preferred_username", Value: "Caroline" },
        { Name: "name", Value: "Caroline C" },
      ],
    });
    const groups = answer(await handlers.listMessageGroups(event({ routeKey: "B", user: bob }), context)).body as {
      handle: string;
      display_name: string;
      user_uuid: string;
    }[];
    expect(groups.find((g) => g.user_uuid === carol.uuid)).toMatchObject({
      handle: "Caroline",
      display_name: "Caroline C",
    });
    const short = await handlers.getUserShort(
      event({ routeKey: "users", pathParameters: { handle: "@caroline" } }),
      context,
    );
    expect(answer(short).body).toEqual({ uuid: carol.uuid, handle: "Caroline", display_name: "Caroline C" });
    const old = await handlers.getUserShort(
      event({ routeKey: "users", pathParameters: { handle: "@carol_h" } }),
      context,
    );
    expect(answer(old).status).toBe(404);
  });
});
