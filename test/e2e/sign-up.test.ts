/**
 * Sign-up through cognito-local's real API runs our real trigger functions (through the local
 * Lambda Invoke endpoint): the pre-sign-up trigger claims the handle or refuses the sign-up, the
 * post-confirmation trigger activates the profile, and the API then knows the user. Also the
 * public users route, with no token.
 */
import {
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
  UserLambdaValidationException,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn } from "../../local/sign-in";
import type { LocalStack } from "../../local/stack";
import { localCognitoClient } from "../../local/state";
import { createDocumentClient } from "../../shared/clients";
import { loadConfig } from "../../shared/config";
import { handleKey, profileKey } from "../../shared/table";
import { confirmSignUp, signUp as signUpUser } from "../support/sign-up";
import { callApi, startTestStack } from "../support/stack";

/** Satisfies PASSWORD_POLICY (shared/user-pool.ts): 12+ characters, upper, lower, digit, symbol. */
const PASSWORD = "Newbie-local-pass-9";

describe("sign-up against cognito-local runs the real triggers", () => {
  let stack: LocalStack;
  let cognito: CognitoIdentityProviderClient;
  let doc: ReturnType<typeof createDocumentClient>;

  beforeAll(async () => {
    stack = await startTestStack();
    cognito = localCognitoClient({ endpoint: stack.cognitoEndpoint, region: stack.region, maxAttempts: 1 });
    // The stack set the functions' environment (table, endpoint, credentials) in this process.
    doc = createDocumentClient(loadConfig());
  });
  afterAll(async () => {
    cognito?.destroy();
    doc?.destroy();
    await stack?.stop();
  });

  const signUp = (username: string, handle: string, displayName: string) =>
    signUpUser(cognito, stack, { username, handle, displayName, password: PASSWORD });
  const getItem = async (key: { pk: string; sk: string }) =>
    (await doc.send(new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }))).Item;
  /** The error a promise rejects with. @throws Error when it resolves. */
  const refusal = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error("expected a refusal, the call succeeded");
  };
  const expectNoUser = async (username: string) => {
    const lookup = cognito.send(new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: username }));
    await expect(lookup).rejects.toBeInstanceOf(UserNotFoundException);
  };

  /** A user signed up and confirmed: its handle owned, its profile active. @returns its uuid. */
  const activeUser = async (handle: string, displayName: string): Promise<string> => {
    const { uuid } = await signUp(handle, handle, displayName);
    await confirmSignUp(cognito, stack, handle);
    return uuid;
  };

  it("SignUp claims the handle (pre-sign-up trigger); AdminConfirmSignUp activates the profile (post-confirmation)", async () => {
    const signedUp = await signUp("newbie", "newbie", "New Bie");
    expect(signedUp.confirmed).toBe(false);
    const newbieUuid = signedUp.uuid;
    expect(newbieUuid).not.toBe("");
    expect(await getItem(handleKey("newbie"))).toMatchObject({ state: "pending", pending_username: "newbie" });
    expect(await getItem(profileKey(newbieUuid))).toBeUndefined();
    // Pending owns nothing: the public route does not know the handle yet.
    expect((await callApi(stack, "GET", "/api/users/@newbie/short")).status).toBe(404);

    await confirmSignUp(cognito, stack, "newbie");
    expect(await getItem(handleKey("newbie"))).toMatchObject({ state: "owned", user_uuid: newbieUuid });
    expect(await getItem(profileKey(newbieUuid))).toMatchObject({
      uuid: newbieUuid,
      handle: "newbie",
      display_name: "New Bie",
      status: "active",
    });

    const { accessToken } = await signIn(stack, "newbie", PASSWORD);
    const groups = await callApi(stack, "GET", "/api/message_groups", { token: accessToken });
    expect(groups).toMatchObject({ status: 200, body: [] });
  });

  it("refuses a second sign-up of the handle in another case with handle_taken, and creates no user", async () => {
    const ownerUuid = await activeUser("owner", "Own Er");
    const error = await refusal(signUp("owner2", "Owner", "Another Owner"));
    expect(error).toBeInstanceOf(UserLambdaValidationException);
    expect(error.message).toContain("handle_taken");
    await expectNoUser("owner2");
    expect(await getItem(handleKey("owner"))).toMatchObject({ state: "owned", user_uuid: ownerUuid });
  });

  it("refuses a display name with a bidi override (U+202E) with display_name_invalid, and claims nothing", async () => {
    const error = await refusal(signUp("mallory", "mallory", "Mallory \u202Eevil"));
    expect(error).toBeInstanceOf(UserLambdaValidationException);
    expect(error.message).toContain("display_name_invalid");
    expect(error.message).not.toContain("handle_taken");
    await expectNoUser("mallory");
    expect(await getItem(handleKey("mallory"))).toBeUndefined();
  });

  it("serves the public users route with no token: 200 for the new user, 404 for an unknown handle", async () => {
    const publicUuid = await activeUser("public", "Pub Lic");
    const found = await callApi(stack, "GET", "/api/users/@public/short");
    expect(found).toMatchObject({
      status: 200,
      body: { uuid: publicUuid, handle: "public", display_name: "Pub Lic" },
    });
    // The handle is unique without regard to case: any case finds its owner.
    expect((await callApi(stack, "GET", "/api/users/@PUBLIC/short")).body).toMatchObject({ uuid: publicUuid });
    const unknown = await callApi(stack, "GET", "/api/users/@nobody/short");
    expect(unknown).toMatchObject({ status: 404, body: ["user_not_found"] });
  });

  it("knows the seeded users through the directory the seed wrote (uuid = Cognito sub)", async () => {
    for (const user of stack.users) {
      const found = await callApi(stack, "GET", `/api/users/@${user.handle}/short`);
      expect(found).toMatchObject({
        status: 200,
        body: { uuid: user.uuid, handle: user.handle, display_name: user.display_name },
      });
    }
  });
});
