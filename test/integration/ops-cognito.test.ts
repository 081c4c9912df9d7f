/**
 * `cognito list-users` against cognito-local (started here), and the commands that find users by
 * handle, `ddb seed` and `ddb list-conversations`, against the user directory in DynamoDB Local:
 * they never ask Cognito (a user renamed in Cognito behind the API's back is still found under
 * the handle the directory gives them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cognitoProgram } from "../../bin/lib/cognito-commands";
import { ddbProgram } from "../../bin/lib/ddb-commands";
import { putDirectoryUser, setProfileStatus } from "../../shared/directory";
import { messageGroupUuidFor } from "../../shared/ids";
import { postToHandle } from "../../shared/messages";
import type { UserProfile } from "../../shared/model";
import { SEED_CONVERSATION, SEED_CONVERSATION_MEMBERS, SEED_USERS } from "../../shared/seed-data";
import { MSG_PREFIX } from "../../shared/table";
import { runOps, startOpsTarget, type TestCognito } from "../support/ops";
import type { TestTable } from "../support/table";
import { directoryOf } from "../support/users";

let cognito: TestCognito;
let table: TestTable;
let stateDir: string;
const users: Record<string, UserProfile> = {};

beforeAll(async () => {
  ({ cognito, table, stateDir } = await startOpsTarget());
  for (const u of SEED_USERS) {
    const user = await cognito.createUser(u.handle, u.display_name);
    users[u.handle] = user;
    await putDirectoryUser({ ddb: table.ddb, tableName: table.tableName }, { ...user, username: u.handle }, Date.now());
  }
});
afterAll(() => cognito?.stop());

describe("cognito list-users", () => {
  it("prints every user with handle, display name and sub, sorted by handle", async () => {
    const result = await runOps(cognitoProgram, ["list-users"], stateDir);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.lines;
    expect(header).toMatch(/^HANDLE\s+DISPLAY NAME\s+SUB\s+STATUS$/);
    expect(rows).toHaveLength(SEED_USERS.length);
    const sorted = [...SEED_USERS].sort((a, b) => a.handle.localeCompare(b.handle));
    sorted.forEach((u, i) => {
      expect(rows[i]).toMatch(
        new RegExp(`^@${u.handle}\\s+${u.display_name}\\s+${users[u.handle]?.uuid}\\s+CONFIRMED$`),
      );
    });
    expect(result.stderr).toBe(`${SEED_USERS.length} users in user pool ${cognito.userPoolId}\n`);
  });

  it("prints JSON lines with --json", async () => {
    const result = await runOps(cognitoProgram, ["list-users", "--json"], stateDir);
    const listed = result.lines.map((l) => JSON.parse(l));
    expect(listed).toContainEqual({
      username: "bayko",
      uuid: users.bayko?.uuid,
      handle: "bayko",
      display_name: "Andrew Bayko",
      email: "bayko@example.com",
      status: "CONFIRMED",
      enabled: true,
    });
  });

  it("says so when the pool does not exist", async () => {
    const result = await runOps(cognitoProgram, ["list-users", "--user-pool-id", "local_gone"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the user pool local_gone does not exist on cognito-local");
    expect(result.stderr).toContain("npm start");
  });

  it("with --prod and no pool given, says which flag or variable to set (AWS is not contacted)", async () => {
    const result = await runOps(cognitoProgram, ["list-users", "--prod"], stateDir, { env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "cognito list-users: no user pool given\n  hint: pass --user-pool-id <id> or set USER_POOL_ID (the stack output UserPoolId)\n",
    );
  });
});

describe("ddb seed", () => {
  it("writes the seeded conversation between the users found by handle, once", async () => {
    const a = users[SEED_CONVERSATION_MEMBERS.a] as UserProfile;
    const b = users[SEED_CONVERSATION_MEMBERS.b] as UserProfile;
    const groupUuid = messageGroupUuidFor(a.uuid, b.uuid);
    const first = await runOps(ddbProgram, ["seed"], stateDir);
    expect(first.code).toBe(0);
    expect(first.lines).toEqual([
      `seeded conversation ${groupUuid} between @${a.handle} and @${b.handle}: ${SEED_CONVERSATION.length} messages, ${SEED_CONVERSATION.length + 3} items`,
    ]);
    const afterFirst = await table.scanAll();
    expect(afterFirst.filter((i) => String(i.pk).startsWith(MSG_PREFIX))).toHaveLength(SEED_CONVERSATION.length);
    expect((await table.summariesOf(a.uuid)).map((g) => g.user_handle)).toEqual([b.handle]);
    const texts = afterFirst
      .filter((i) => String(i.pk).startsWith(MSG_PREFIX))
      .sort((x, y) => String(x.sk).localeCompare(String(y.sk)))
      .map((i) => i.message);
    expect(texts).toEqual(SEED_CONVERSATION.map((m) => m.text));

    const second = await runOps(ddbProgram, ["seed"], stateDir);
    expect(second.code).toBe(0);
    expect(second.lines).toEqual([
      `already seeded: @${a.handle} and @${b.handle} have conversation ${groupUuid}; nothing written`,
    ]);
    expect(await table.scanAll()).toHaveLength(afterFirst.length);
  });

  it("says clearly when a user is not in the directory, or is disabled, and writes nothing", async () => {
    const before = (await table.scanAll()).length;
    // A Cognito user with no profile is no user: the directory is the only identity.
    await cognito.createUser("ghost", "Ghost In Cognito");
    const result = await runOps(ddbProgram, ["seed", "--a", "ghost", "--b", "@londo"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ddb seed: @ghost is not a user of the user directory in table ${table.tableName}`);
    expect(result.stderr).toContain("hint: sign them up first");
    expect(result.stderr).toContain("npm run users -- import");

    const directory = { ddb: table.ddb, tableName: table.tableName };
    const londo = users.londo as UserProfile;
    await setProfileStatus(directory, londo.uuid, "disabled", Date.now());
    const disabled = await runOps(ddbProgram, ["seed", "--a", "bayko", "--b", "LONDO"], stateDir);
    await setProfileStatus(directory, londo.uuid, "active", Date.now());
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toContain("ddb seed: @londo is disabled");
    expect((await table.scanAll()).length).toBe(before);
  });
});

describe("ddb list-conversations", () => {
  it("lists a user's message groups newest first, found by handle", async () => {
    const londo = users.londo as UserProfile;
    const bayko = users.bayko as UserProfile;
    const deps = { ddb: table.ddb, tableName: table.tableName, users: directoryOf(...Object.values(users)) };
    // bayko has the seeded group with andrewbrown (older) and a new one with londo (newest).
    const created = await postToHandle(deps, londo, "bayko", "Hello from Londo");

    const result = await runOps(ddbProgram, ["list-conversations", "@bayko"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(2);
    expect(result.lines[0]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  @londo\\s+Londo Mollari\\s+Hello from Londo\\s+${created.message_group_uuid}$`,
      ),
    );
    expect(result.lines[1]).toContain("@andrewbrown");
    expect(result.lines[1]).toContain(messageGroupUuidFor(bayko.uuid, (users.andrewbrown as UserProfile).uuid));
    expect(result.stderr).toContain(`conversations of @bayko (Andrew Bayko, ${bayko.uuid}):`);

    const paged = await runOps(
      ddbProgram,
      ["list-conversations", "bayko", "--limit", "1", "--page", "2", "--json"],
      stateDir,
    );
    expect(paged.lines.map((l) => JSON.parse(l).handle)).toEqual(["andrewbrown"]);
  });

  it("finds the user by the directory's handle, in any case, whatever their Cognito attributes say", async () => {
    // bayko sets another handle in Cognito behind the API's back: the directory still says @bayko.
    await cognito.rename("bayko", "someone_else", "Someone Else");
    const result = await runOps(ddbProgram, ["list-conversations", "BAYKO"], stateDir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`conversations of @bayko (Andrew Bayko, ${users.bayko?.uuid}):`);
    const squatted = await runOps(ddbProgram, ["list-conversations", "someone_else"], stateDir);
    expect(squatted.code).toBe(1);
  });

  it("says so for an unknown handle", async () => {
    const result = await runOps(ddbProgram, ["list-conversations", "ghost"], stateDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no user @ghost in the user directory of table ${table.tableName}`);
    expect(result.stderr).toContain("npm run users -- import");
  });
});
