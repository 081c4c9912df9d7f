/**
 * `users import` against cognito-local (started here) and DynamoDB Local: it builds exactly the
 * directory (one profile and one handle item per valid user), is idempotent, claims none of a
 * handle claimed twice in the pool, skips what breaks the identity rules or lacks attributes,
 * never takes a handle the directory gives another user, and never trusts Cognito attributes of
 * a user who already has a profile.
 */
import { AdminDisableUserCommand, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usersProgram } from "../../bin/lib/users-commands";
import { claimSignUpHandle, putDirectoryUser } from "../../shared/directory";
import type { HandleItem } from "../../shared/items/handle";
import type { ProfileItem } from "../../shared/items/profile";
import { HANDLE_PREFIX, USER_PREFIX } from "../../shared/table";
import { runOps, startOpsTarget, type TestCognito } from "../support/ops";
import type { TestTable } from "../support/table";
import { makeUser } from "../support/users";

let cognito: TestCognito;
let table: TestTable;
let stateDir: string;
const subs: Record<string, string> = {};
/** Owns `carol` in the directory before the import (a user who signed up through the triggers). */
const carolOwner = makeUser("carol", "Carol Owner");

const directory = () => ({ ddb: table.ddb, tableName: table.tableName });
const profiles = async () =>
  (await table.scanAll()).filter((i) => String(i.pk).startsWith(USER_PREFIX)) as unknown as ProfileItem[];
const handles = async () =>
  (await table.scanAll()).filter((i) => String(i.pk).startsWith(HANDLE_PREFIX)) as unknown as HandleItem[];
/** uuid -> `handle|display_name|status`, and canonical handle -> owner uuid. */
const directoryView = async () => ({
  profiles: Object.fromEntries((await profiles()).map((p) => [p.uuid, `${p.handle}|${p.display_name}|${p.status}`])),
  handles: Object.fromEntries((await handles()).map((h) => [h.pk.slice(HANDLE_PREFIX.length), h.user_uuid])),
});

beforeAll(async () => {
  ({ cognito, table, stateDir } = await startOpsTarget());
  subs.andrewbrown = (await cognito.createUser("andrewbrown", "Andrew Brown")).uuid;
  subs.bayko = (await cognito.createUser("bayko", "Andrew Bayko")).uuid;
});
afterAll(() => cognito?.stop());

describe("users import of a clean pool", () => {
  it("creates one profile and one handle item per user, and exits 0", async () => {
    const result = await runOps(usersProgram, ["import"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `created  @andrewbrown (Andrew Brown)  sub ${subs.andrewbrown}  username andrewbrown`,
      `created  @bayko (Andrew Bayko)  sub ${subs.bayko}  username bayko`,
      "created 2, existing 0, unconfirmed 0, not imported 0 (0 duplicate, 0 invalid, 0 missing, 0 taken) of 2 users in the pool",
    ]);
    expect(result.stderr).toContain(
      `importing user pool ${cognito.userPoolId} into the directory of table ${table.tableName}`,
    );
    expect(await directoryView()).toEqual({
      profiles: {
        [subs.andrewbrown as string]: "andrewbrown|Andrew Brown|active",
        [subs.bayko as string]: "bayko|Andrew Bayko|active",
      },
      handles: { andrewbrown: subs.andrewbrown, bayko: subs.bayko },
    });
    for (const h of await handles()) expect(h).toMatchObject({ state: "owned" });
    expect((await table.scanAll()).length).toBe(4);
  });

  it("is idempotent: a second run finds everyone existing and writes nothing", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["import"], stateDir);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      "created 0, existing 2, unconfirmed 0, not imported 0 (0 duplicate, 0 invalid, 0 missing, 0 taken) of 2 users in the pool",
    ]);
    expect(await table.scanAll()).toEqual(before);
  });
});

describe("users import of a pool with problems", () => {
  beforeAll(async () => {
    // Bob and bob: one handle without regard to case, claimed by two users.
    subs.bob_one = await cognito.createRawUser("bob_one", { preferred_username: "Bob", name: "Bob One" });
    subs.bob_two = await cognito.createRawUser("bob_two", { preferred_username: "bob", name: "Bob Two" });
    // Identity rules: a bidi override in the name, a character outside the handle rule.
    subs.eve = await cognito.createRawUser("eve", { preferred_username: "eve", name: "Eve\u202Elive" });
    subs.dave = await cognito.createRawUser("dave", { preferred_username: "dave!", name: "Dave" });
    subs.nameless = await cognito.createRawUser("nameless", { preferred_username: "nameless" });
    // The directory already gives carol to someone else.
    await putDirectoryUser(directory(), carolOwner, Date.now());
    subs.carol2 = await cognito.createRawUser("carol2", { preferred_username: "Carol", name: "Carol Two" });
    // Disabled in Cognito: imported disabled.
    subs.frank = await cognito.createRawUser("frank", { preferred_username: "frank", name: "Frank" });
    await cognito.client.send(new AdminDisableUserCommand({ UserPoolId: cognito.userPoolId, Username: "frank" }));
    // An admin-created user whose pre-sign-up trigger claimed the handle (pending, by username).
    await claimSignUpHandle(directory(), { username: "gina", handle: "gina", displayName: "Gina" }, Date.now());
    subs.gina = await cognito.createRawUser("gina", { preferred_username: "gina", name: "Gina" });
    // A self sign-up never confirmed.
    await cognito.client.send(
      new SignUpCommand({
        ClientId: cognito.userPoolClientId,
        Username: "hank",
        Password: "Test-password-1",
        UserAttributes: [
          { Name: "preferred_username", Value: "hank" },
          { Name: "name", Value: "Hank" },
          { Name: "email", Value: "hank@example.com" },
        ],
      }),
    );
    // andrewbrown, who has a profile, squats frank's handle in Cognito: it changes nothing.
    await cognito.rename("andrewbrown", "Frank", "Not Andrew");
  });

  it("--dry-run reports what it would do and writes nothing", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["import", "--dry-run"], stateDir);
    expect(result.code).toBe(1);
    expect(result.lines.filter((l) => l.startsWith("would create  @"))).toEqual([
      `would create  @frank (Frank)  sub ${subs.frank}  username frank  (disabled, as in Cognito)`,
      `would create  @gina (Gina)  sub ${subs.gina}  username gina`,
    ]);
    expect(result.lines.at(-1)).toBe(
      "would create 2, existing 2, unconfirmed 1, not imported 6 (2 duplicate, 2 invalid, 1 missing, 1 taken) of 11 users in the pool",
    );
    expect(result.stderr).toContain("dry run: importing");
    expect(await table.scanAll()).toEqual(before);
  });

  it("claims every valid free handle, none of a duplicate, and lists every user it left out; exit 1", async () => {
    const result = await runOps(usersProgram, ["import"], stateDir);
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `created  @frank (Frank)  sub ${subs.frank}  username frank  (disabled, as in Cognito)`,
      `created  @gina (Gina)  sub ${subs.gina}  username gina`,
      `duplicate  @Bob (Bob One)  sub ${subs.bob_one}  username bob_one  (bob is claimed by 2 users)`,
      `duplicate  @bob (Bob Two)  sub ${subs.bob_two}  username bob_two  (bob is claimed by 2 users)`,
      `invalid  @dave! (Dave)  sub ${subs.dave}  username dave  (handle_invalid)`,
      `invalid  @eve (Eve\\u{202E}live)  sub ${subs.eve}  username eve  (display_name_invalid)`,
      `missing  @nameless (no name)  sub ${subs.nameless}  username nameless  (no name)`,
      `taken  @Carol (Carol Two)  sub ${subs.carol2}  username carol2  (owned by ${carolOwner.uuid})`,
      expect.stringMatching(
        /^unconfirmed {2}@hank \(Hank\) {2}sub [0-9a-f-]{36} {2}username hank {2}\(its confirmation/,
      ),
      "created 2, existing 2, unconfirmed 1, not imported 6 (2 duplicate, 2 invalid, 1 missing, 1 taken) of 11 users in the pool",
    ]);
    expect(result.stderr).toContain("hint: fix those users in Cognito");
    // Exactly the directory: one profile and one handle item per valid user (and carol's owner, untouched).
    expect(await directoryView()).toEqual({
      profiles: {
        [subs.andrewbrown as string]: "andrewbrown|Andrew Brown|active",
        [subs.bayko as string]: "bayko|Andrew Bayko|active",
        [carolOwner.uuid]: "carol|Carol Owner|active",
        [subs.frank as string]: "frank|Frank|disabled",
        [subs.gina as string]: "gina|Gina|active",
      },
      handles: {
        andrewbrown: subs.andrewbrown,
        bayko: subs.bayko,
        carol: carolOwner.uuid,
        frank: subs.frank,
        gina: subs.gina,
      },
    });
    // gina's pending claim became her own.
    expect((await handles()).find((h) => h.handle === "gina")).toMatchObject({ state: "owned", user_uuid: subs.gina });
  });

  it("is idempotent: a second run writes nothing and reports the same users left out", async () => {
    const before = await table.scanAll();
    const result = await runOps(usersProgram, ["import"], stateDir);
    expect(result.code).toBe(1);
    expect(result.lines.filter((l) => l.startsWith("created "))).toEqual([
      "created 0, existing 4, unconfirmed 1, not imported 6 (2 duplicate, 2 invalid, 1 missing, 1 taken) of 11 users in the pool",
    ]);
    expect(await table.scanAll()).toEqual(before);
  });

  it("claims the handles once the operator resolved the duplicate in Cognito", async () => {
    await cognito.rename("bob_two", "bob2", "Bob Two");
    const result = await runOps(usersProgram, ["import"], stateDir);
    expect(result.lines).toContain(`created  @Bob (Bob One)  sub ${subs.bob_one}  username bob_one`);
    expect(result.lines).toContain(`created  @bob2 (Bob Two)  sub ${subs.bob_two}  username bob_two`);
    const view = await directoryView();
    expect(view.handles.bob).toBe(subs.bob_one);
    expect(view.profiles[subs.bob_one as string]).toBe("Bob|Bob One|active");
    expect(result.code).toBe(1);
  });

  it("shows progress on a terminal stderr", async () => {
    const result = await runOps(usersProgram, ["import", "--dry-run"], stateDir, { stderrTTY: true });
    expect(result.stderr).toContain("\rlisting the pool 11 users");
    expect(result.stderr).toMatch(/\rreading the directory \[#{24}\] 100% 11\/11 users/);
    expect(result.stdout).not.toContain("reading");
  });
});
