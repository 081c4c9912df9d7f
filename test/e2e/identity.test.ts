/**
 * Regression tests of the identity findings (issue 9), through the local stack's HTTP API and
 * cognito-local's real API: sign-up runs our real pre-sign-up and post-confirmation triggers
 * (cognito-local invokes them through the local Lambda endpoint), the squatting call is
 * Cognito's own UpdateUserAttributes with the user's access token.
 */
import { randomUUID } from "node:crypto";
import {
  AdminDisableUserCommand,
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
  UpdateUserAttributesCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { localCognitoClient, localDocumentClient } from "../../local/state";
import { setProfileStatus } from "../../shared/directory";
import { messageGroupUuidFor } from "../../shared/ids";
import type { MessageGroupView, MessageView, UserProfile } from "../../shared/model";
import { confirmSignUp, signUp, signUpRefusal } from "../support/sign-up";
import { callApi, startTestStack } from "../support/stack";

/** The functions' user cache, ms: short, so the tests can wait it out. */
const CACHE_TTL_MS = 300;
const PASSWORD = "Correct-Horse-9-battery";

let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
const savedTtl = process.env.USER_CACHE_TTL_MS;

beforeAll(async () => {
  process.env.USER_CACHE_TTL_MS = String(CACHE_TTL_MS);
  stack = await startTestStack();
  cognito = localCognitoClient({ endpoint: stack.cognitoEndpoint, region: stack.region });
});

afterAll(async () => {
  cognito?.destroy();
  await stack?.stop();
  if (savedTtl === undefined) delete process.env.USER_CACHE_TTL_MS;
  else process.env.USER_CACHE_TTL_MS = savedTtl;
});

interface SignedUp extends UserProfile {
  username: string;
  accessToken: string;
}

/** SignUp (the pre-sign-up trigger claims the handle), AdminConfirmSignUp (post-confirmation activates it), sign-in. */
async function signUpUser(handle: string, displayName: string): Promise<SignedUp> {
  const username = `user-${randomUUID().slice(0, 8)}`;
  const { uuid } = await signUp(cognito, stack, { username, handle, displayName, password: PASSWORD });
  await confirmSignUp(cognito, stack, username);
  const tokens = await signIn(stack, username, PASSWORD);
  return { uuid, handle, display_name: displayName, username, accessToken: tokens.accessToken };
}

/** The message of the error a SignUp is refused with (cognito-local passes the trigger's message on). */
async function refusalOf(handle: string, displayName: string): Promise<string> {
  const input = { username: `user-${randomUUID().slice(0, 8)}`, handle, displayName, password: PASSWORD };
  const message = await signUpRefusal(cognito, stack, input);
  expect(message).toBeDefined();
  return String(message);
}

const post = (token: string, body: Record<string, unknown>) => callApi(stack, "POST", "/api/messages", { token, body });
const short = (handle: string) => callApi(stack, "GET", `/api/users/@${handle}/short`);

/**
 * Two new users (handle = prefix + random, display name) and the conversation the first starts
 * with `message` by the second's handle (pattern D).
 */
async function newConversation(
  [prefixA, nameA]: [string, string],
  [prefixB, nameB]: [string, string],
  message: string,
): Promise<{ user: SignedUp; other: SignedUp; group: string }> {
  const user = await signUpUser(`${prefixA}${randomUUID().slice(0, 6)}`, nameA);
  const other = await signUpUser(`${prefixB}${randomUUID().slice(0, 6)}`, nameB);
  const first = await post(user.accessToken, { message, handle: other.handle });
  expect(first.status).toBe(200);
  return { user, other, group: (first.body as { message_group_uuid: string }).message_group_uuid };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("identity: findings 1 and 2 (handle squatting, cache poisoning)", () => {
  it("routes and shows by the directory whatever a user writes into their own Cognito attributes", async () => {
    const victim = await signUpUser(`victim${randomUUID().slice(0, 6)}`, "Victor Victim");
    const squatter = await signUpUser(`squat${randomUUID().slice(0, 6)}`, "Sam Squatter");
    const sender = await signUpUser(`sender${randomUUID().slice(0, 6)}`, "Sue Sender");

    // Finding 1: Cognito lets the squatter take the victim's handle and name in its attributes.
    await cognito.send(
      new UpdateUserAttributesCommand({
        AccessToken: squatter.accessToken,
        UserAttributes: [
          { Name: "preferred_username", Value: victim.handle },
          { Name: "name", Value: victim.display_name },
        ],
      }),
    );
    const attributes = await cognito.send(
      new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: squatter.username }),
    );
    expect(attributes.UserAttributes?.find((a) => a.Name === "preferred_username")?.Value).toBe(victim.handle);

    // Finding 2: the squatter posts once (the caller lookup), then somebody writes to the victim's handle.
    const squatterPost = await post(squatter.accessToken, { message: "hi from me", handle: sender.handle });
    expect(squatterPost.status).toBe(200);
    expect(squatterPost.body).toMatchObject({
      handle: squatter.handle,
      display_name: "Sam Squatter",
      user_uuid: squatter.uuid,
    });
    const toVictim = await post(sender.accessToken, { message: "for the victim only", handle: victim.handle });
    expect(toVictim.status).toBe(200);
    expect((toVictim.body as { message_group_uuid: string }).message_group_uuid).toBe(
      messageGroupUuidFor(sender.uuid, victim.uuid),
    );

    // The public profile of the handle is the victim's; the squatter's views keep their own handle.
    expect((await short(victim.handle)).body).toEqual({
      uuid: victim.uuid,
      handle: victim.handle,
      display_name: victim.display_name,
    });
    expect((await short(squatter.handle)).body).toMatchObject({ uuid: squatter.uuid, display_name: "Sam Squatter" });
    const senderGroups = (await callApi(stack, "GET", "/api/message_groups", { token: sender.accessToken }))
      .body as MessageGroupView[];
    expect(senderGroups.map((g) => [g.user_uuid, g.handle, g.display_name]).sort()).toEqual(
      [
        [squatter.uuid, squatter.handle, "Sam Squatter"],
        [victim.uuid, victim.handle, victim.display_name],
      ].sort(),
    );
    const squatterGroups = (await callApi(stack, "GET", "/api/message_groups", { token: squatter.accessToken }))
      .body as MessageGroupView[];
    expect(squatterGroups.map((g) => g.user_uuid)).toEqual([sender.uuid]);
    const victimGroup = await callApi(stack, "GET", `/api/messages/${messageGroupUuidFor(sender.uuid, victim.uuid)}`, {
      token: squatter.accessToken,
    });
    expect(victimGroup).toMatchObject({ status: 404, body: ["message_group_not_found"] });

    // A new sign-up cannot take the handle either, in any case.
    expect(await refusalOf(victim.handle.toUpperCase(), "Another")).toContain("handle_taken");
  });
});

describe("identity: finding 3 (stored handles and names are validated)", () => {
  it.each([
    ["a bidi override in the name", "okhandle", "Evil\u202Egnp.exe"],
    ["a zero-width space in the name", "okhandle2", "Zero\u200BWidth"],
    ["markup in the name", "okhandle3", "<img src=x>"],
    ["a look-alike Unicode handle", "\u0430ndrewbrown", "Andrew"],
    ["a handle with a space", "two words", "Two"],
  ])("refuses a sign-up with %s, and writes nothing to the directory", async (_, handle, name) => {
    const message = await refusalOf(handle, name);
    expect(message).toMatch(/handle_invalid|display_name_invalid/);
    if (/^[a-z0-9]+$/.test(handle)) expect((await short(handle)).status).toBe(404);
  });

  it("refuses the same through PATCH /api/users/me", async () => {
    const user = await signUpUser(`valid${randomUUID().slice(0, 6)}`, "Val Id");
    const answer = await callApi(stack, "PATCH", "/api/users/me", {
      token: user.accessToken,
      body: { handle: "\u0430b", display_name: "a\u0000b" },
    });
    expect(answer).toMatchObject({ status: 422, body: ["handle_invalid", "display_name_invalid"] });
    expect((await short(user.handle)).body).toMatchObject({ display_name: "Val Id" });
  });
});

describe("identity: finding 4 (no Cognito call on the messaging routes)", () => {
  it("serves patterns A-D and the users route while cognito-local is frozen", async () => {
    const a = await signUpUser(`frozen${randomUUID().slice(0, 6)}`, "Fro Zen");
    const b = await signUpUser(`thawed${randomUUID().slice(0, 6)}`, "Tha Wed");
    const cognitoPid = stack.pids[1] as number;
    process.kill(cognitoPid, "SIGSTOP");
    // A route that called Cognito now would hang: give each answer 5 s.
    const within = <T>(answer: Promise<T>): Promise<T> =>
      Promise.race([
        answer,
        sleep(5000).then(() => {
          throw new Error("no answer within 5 s while cognito-local is frozen: the route calls Cognito");
        }),
      ]);
    try {
      const d = await within(post(a.accessToken, { message: "while frozen", handle: b.handle }));
      expect(d.status).toBe(200);
      const group = (d.body as { message_group_uuid: string }).message_group_uuid;
      expect((await within(post(b.accessToken, { message: "still here", message_group_uuid: group }))).status).toBe(
        200,
      );
      expect((await within(callApi(stack, "GET", `/api/messages/${group}`, { token: a.accessToken }))).status).toBe(
        200,
      );
      expect((await within(callApi(stack, "GET", "/api/message_groups", { token: b.accessToken }))).status).toBe(200);
      expect((await within(short(a.handle))).status).toBe(200);
    } finally {
      process.kill(cognitoPid, "SIGCONT");
    }
  });
});

describe("identity: finding 5 (the users route is public)", () => {
  it("answers the frontend's call without a token, 404 for an unknown handle, cacheable for a short time", async () => {
    const bayko = stack.users.find((u) => u.handle === "bayko");
    const found = await short("bayko");
    expect(found).toMatchObject({
      status: 200,
      body: { uuid: bayko?.uuid, handle: "bayko", display_name: "Andrew Bayko" },
    });
    expect(found.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(await short("nobody-here")).toMatchObject({ status: 404, body: ["user_not_found"] });
  });
});

describe("identity: finding 6 (a disabled user stops reading)", () => {
  it("answers 401 on every route within the cache TTL of the disable, with a token still valid", async () => {
    const { user, other, group } = await newConversation(["leaver", "Lee Leaver"], ["stayer", "Stay Er"], "before");
    // What `npm run users -- disable` does: Cognito disabled, profile disabled.
    await cognito.send(new AdminDisableUserCommand({ UserPoolId: stack.userPoolId, Username: user.username }));
    const ddb = localDocumentClient({ endpoint: stack.dynamodbEndpoint, region: stack.region });
    await setProfileStatus({ ddb, tableName: stack.tableName }, user.uuid, "disabled", Date.now());
    ddb.destroy();
    await sleep(CACHE_TTL_MS + 200);
    const token = user.accessToken;
    const answers = await Promise.all([
      callApi(stack, "GET", "/api/message_groups", { token }),
      callApi(stack, "GET", `/api/messages/${group}`, { token }),
      post(token, { message: "after", message_group_uuid: group }),
      post(token, { message: "after", handle: other.handle }),
      callApi(stack, "PATCH", "/api/users/me", { token, body: { display_name: "Back" } }),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ status: 401, body: ["unauthorized"] });
    expect(await short(user.handle)).toMatchObject({ status: 404 });
    const messages = (await callApi(stack, "GET", `/api/messages/${group}`, { token: other.accessToken }))
      .body as MessageView[];
    expect(messages.map((m) => m.message)).toEqual(["before"]);
  });
});

describe("PATCH /api/users/me end to end", () => {
  it("renames: views follow, Cognito follows, the old handle stays reserved to its owner", async () => {
    const {
      user,
      other: friend,
      group,
    } = await newConversation(["renamer", "Ren Amer"], ["friend", "Fri End"], "hello under my old name");
    const newHandle = `Renamed${randomUUID().slice(0, 6)}`;

    const renamed = await callApi(stack, "PATCH", "/api/users/me", {
      token: user.accessToken,
      body: { handle: `@${newHandle}`, display_name: "Re Named" },
    });
    expect(renamed).toMatchObject({
      status: 200,
      body: { uuid: user.uuid, handle: newHandle, display_name: "Re Named" },
    });

    const cognitoUser = await cognito.send(
      new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: user.username }),
    );
    const attribute = (name: string) => cognitoUser.UserAttributes?.find((a) => a.Name === name)?.Value;
    expect([attribute("preferred_username"), attribute("name")]).toEqual([newHandle, "Re Named"]);

    const friendGroups = (await callApi(stack, "GET", "/api/message_groups", { token: friend.accessToken }))
      .body as MessageGroupView[];
    expect(friendGroups[0]).toMatchObject({ user_uuid: user.uuid, handle: newHandle, display_name: "Re Named" });
    const messages = (await callApi(stack, "GET", `/api/messages/${group}`, { token: friend.accessToken }))
      .body as MessageView[];
    expect(messages[0]).toMatchObject({ user_uuid: user.uuid, handle: newHandle, display_name: "Re Named" });

    expect(await short(user.handle)).toMatchObject({ status: 404 });
    expect(
      await callApi(stack, "PATCH", "/api/users/me", { token: friend.accessToken, body: { handle: user.handle } }),
    ).toMatchObject({ status: 409, body: ["handle_taken"] });
    expect(await refusalOf(user.handle, "Taker")).toContain("handle_taken");
    const back = await callApi(stack, "PATCH", "/api/users/me", {
      token: user.accessToken,
      body: { handle: user.handle },
    });
    expect(back).toMatchObject({ status: 200, body: { handle: user.handle } });
  });
});
