/**
 * The users directory's cache and its reading of Cognito answers. Cognito is replaced with
 * aws-sdk-client-mock here to count calls; the real path runs against cognito-local in test/e2e.
 */
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors";
import { createUserDirectory } from "../../shared/users";

const cognito = new CognitoIdentityProviderClient({ region: "us-east-1" });
const mock = mockClient(cognito);
const attrs = (sub: string, handle: string, name: string) => [
  { Name: "sub", Value: sub },
  { Name: "preferred_username", Value: handle },
  { Name: "name", Value: name },
];

beforeEach(() => {
  mock.reset();
});

describe("users directory", () => {
  it("finds the caller, and reuses the answer within the TTL only", async () => {
    mock
      .on(AdminGetUserCommand)
      .resolves({ Username: "bayko", Enabled: true, UserAttributes: attrs("u-1", "bayko", "Andrew Bayko") });
    const users = createUserDirectory(cognito, "pool", { ttlMs: 100 });
    const expected = { uuid: "u-1", handle: "bayko", display_name: "Andrew Bayko" };
    expect(await users.caller({ sub: "u-1", username: "bayko" })).toEqual(expected);
    expect(await users.caller({ sub: "u-1", username: "bayko" })).toEqual(expected);
    expect(mock.commandCalls(AdminGetUserCommand)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await users.caller({ sub: "u-1", username: "bayko" });
    expect(mock.commandCalls(AdminGetUserCommand)).toHaveLength(2);
  });

  it("refuses a caller that is gone, disabled, or another user than the token's sub (401)", async () => {
    const users = createUserDirectory(cognito, "pool", { ttlMs: 0 });
    mock
      .on(AdminGetUserCommand)
      .rejectsOnce(Object.assign(new Error("gone"), { name: "UserNotFoundException" }))
      .resolvesOnce({ Enabled: false, UserAttributes: attrs("u-1", "x", "X") })
      .resolvesOnce({ Enabled: true, UserAttributes: attrs("u-2", "x", "X") });
    await expect(users.caller({ sub: "u-1", username: "x" })).rejects.toBeInstanceOf(AppError);
    await expect(users.caller({ sub: "u-1", username: "x" })).rejects.toBeInstanceOf(AppError);
    await expect(users.caller({ sub: "u-1", username: "x" })).rejects.toBeInstanceOf(AppError);
  });

  it("looks handles up with an exact preferred_username filter and never caches a miss", async () => {
    mock.on(ListUsersCommand).resolves({ Users: [] });
    const users = createUserDirectory(cognito, "pool", { ttlMs: 60_000 });
    expect(await users.byHandle("londo")).toBeUndefined();
    expect(await users.byHandle("londo")).toBeUndefined();
    expect(mock.commandCalls(ListUsersCommand)).toHaveLength(2);
    expect(mock.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBe('preferred_username = "londo"');

    mock
      .on(ListUsersCommand)
      .resolves({ Users: [{ Enabled: true, Attributes: attrs("u-3", "londo", "Londo Mollari") }] });
    expect(await users.byHandle("londo")).toEqual({ uuid: "u-3", handle: "londo", display_name: "Londo Mollari" });
    await users.byHandle("londo");
    expect(mock.commandCalls(ListUsersCommand)).toHaveLength(3);
  });

  it("never sends a filter for something that is not a handle", async () => {
    const users = createUserDirectory(cognito, "pool", { ttlMs: 0 });
    expect(await users.byHandle('x" or sub = "y')).toBeUndefined();
    expect(mock.commandCalls(ListUsersCommand)).toHaveLength(0);
  });
});
