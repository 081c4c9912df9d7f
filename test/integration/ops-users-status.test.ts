/**
 * `users disable` and `users enable` against cognito-local (started here) and DynamoDB Local:
 * the owner is found in the directory, their Cognito username by sub (it differs from the
 * handle), and both the profile and the Cognito user change; unknown and reserved handles are
 * refused with what to do.
 */
import { AdminGetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usersProgram } from "../../bin/lib/users-commands";
import { getProfile, putDirectoryUser, renameUser } from "../../shared/directory";
import type { UserProfile } from "../../shared/model";
import { runOps, startOpsTarget, type TestCognito } from "../support/ops";
import type { TestTable } from "../support/table";
import { makeUser } from "../support/users";

let cognito: TestCognito;
let table: TestTable;
let stateDir: string;
let bayko: UserProfile;
/** Cognito username of londo: a uuid-like name, as in a pool that signs in by e-mail. */
const LONDO_USERNAME = "7d1e4c2a-londo";
let londo: UserProfile;
/** In the directory only: deleted from Cognito. */
const gone = makeUser("gone_user", "Gone User");

const directory = () => ({ ddb: table.ddb, tableName: table.tableName });
const cognitoEnabled = async (username: string) =>
  (await cognito.client.send(new AdminGetUserCommand({ UserPoolId: cognito.userPoolId, Username: username }))).Enabled;

beforeAll(async () => {
  ({ cognito, table, stateDir } = await startOpsTarget());
  bayko = await cognito.createUser("bayko", "Andrew Bayko");
  const londoSub = await cognito.createRawUser(LONDO_USERNAME, { preferred_username: "londo", name: "Londo Mollari" });
  londo = { uuid: londoSub, handle: "londo", display_name: "Londo Mollari" };
  const now = Date.now();
  await putDirectoryUser(directory(), { ...bayko, username: "bayko" }, now);
  await putDirectoryUser(directory(), { ...londo, username: LONDO_USERNAME }, now);
  await putDirectoryUser(directory(), gone, now);
});
afterAll(() => cognito?.stop());

describe("users disable", () => {
  it("disables the profile and the Cognito user found by sub, and leaves everyone else alone", async () => {
    const result = await runOps(usersProgram, ["disable", "@LONDO"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `disabled @londo (Londo Mollari)  ${londo.uuid}`,
      "  directory: profile disabled (was active)",
      `  Cognito:   user ${LONDO_USERNAME} disabled, global sign-out skipped (cognito-local has no AdminUserGlobalSignOut)`,
    ]);
    expect(result.stderr).toContain("answers this user 401");
    expect((await getProfile(directory(), londo.uuid))?.status).toBe("disabled");
    expect(await cognitoEnabled(LONDO_USERNAME)).toBe(false);
    expect((await getProfile(directory(), bayko.uuid))?.status).toBe("active");
    expect(await cognitoEnabled("bayko")).toBe(true);
  });

  it("is safe to run again", async () => {
    const result = await runOps(usersProgram, ["disable", "londo"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines[1]).toBe("  directory: profile disabled (it was disabled already)");
    expect(await cognitoEnabled(LONDO_USERNAME)).toBe(false);
  });

  it("disables in the directory a user deleted from Cognito, and says so", async () => {
    const result = await runOps(usersProgram, ["disable", "gone_user"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines[2]).toBe(
      `  Cognito:   no user with this sub in user pool ${cognito.userPoolId} (deleted): nothing to disable there`,
    );
    expect((await getProfile(directory(), gone.uuid))?.status).toBe("disabled");
  });

  it("refuses an unknown handle with exit 1 and a clear message, writing nothing", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["disable", "ghost"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^users disable: no user @ghost in the user directory of table \S+\n {2}hint: /);
    expect(await table.scanAll()).toEqual(before);
    expect((await runOps(usersProgram, ["disable", "not a handle!"], stateDir)).code).toBe(1);
    expect((await runOps(usersProgram, ["disable"], stateDir)).code).toBe(2);
  });

  it("refuses a handle its owner left, naming their current handle", async () => {
    await renameUser(directory(), bayko.uuid, { handle: "bayko2" }, Date.now());
    const result = await runOps(usersProgram, ["disable", "bayko"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `@bayko is a handle its owner left (reserved to ${bayko.uuid}); they are @bayko2 now`,
    );
    expect(result.stderr).toContain("run the command with their current handle @bayko2");
    expect((await getProfile(directory(), bayko.uuid))?.status).toBe("active");
  });
});

describe("users enable", () => {
  it("enables the Cognito user and the profile again", async () => {
    const result = await runOps(usersProgram, ["enable", "londo"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `enabled @londo (Londo Mollari)  ${londo.uuid}`,
      "  directory: profile active (was disabled)",
      `  Cognito:   user ${LONDO_USERNAME} enabled`,
    ]);
    expect((await getProfile(directory(), londo.uuid))?.status).toBe("active");
    expect(await cognitoEnabled(LONDO_USERNAME)).toBe(true);
  });

  it("refuses a user deleted from Cognito (enabling the profile would change nothing)", async () => {
    const result = await runOps(usersProgram, ["enable", "gone_user"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`has no user with sub ${gone.uuid} (@gone_user); nothing enabled`);
    expect((await getProfile(directory(), gone.uuid))?.status).toBe("disabled");
  });
});
