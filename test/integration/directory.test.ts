/**
 * The user directory on DynamoDB Local: claims, activation, renames with reservation, races,
 * and the cache of `createUserDirectory` (which can never map one key to another user).
 */
import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activateProfile,
  claimSignUpHandle,
  getHandleItem,
  getProfile,
  ownerOfHandle,
  putDirectoryUser,
  renameUser,
  setProfileStatus,
} from "../../shared/directory";
import { AppError } from "../../shared/errors";
import type { HandleItem } from "../../shared/items/handle";
import { handleKey, profileKey } from "../../shared/table";
import { createUserDirectory } from "../../shared/users";
import { faultyClient } from "../support/faulty-client";
import { useTestTable } from "../support/table";

const table = useTestTable();

const DAY = 86_400_000;
const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;

async function codesOf(promise: Promise<unknown>): Promise<readonly string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return (error as AppError).codes;
}

/** Signs a user up and confirms them, as the two triggers do. */
async function signUp(handle: string, displayName = handle) {
  const username = randomUUID();
  const uuid = randomUUID();
  const now = Date.now();
  await claimSignUpHandle(table, { username, handle, displayName }, now);
  await activateProfile(table, { username, uuid, handle, displayName }, now);
  return { username, uuid, handle, displayName };
}

describe("sign-up claims", () => {
  it("claims a handle pending, activates it owned with an active profile, and is idempotent", async () => {
    const handle = unique("Neo");
    const username = randomUUID();
    const uuid = randomUUID();
    const now = Date.now();
    const pending = await claimSignUpHandle(table, { username, handle, displayName: "  Neo A  " }, now);
    expect(pending).toMatchObject({ state: "pending", pending_username: username, handle });
    expect(pending.expires_at).toBeGreaterThan(now / 1000);
    expect(await ownerOfHandle(table, handle)).toBeUndefined();

    const profile = await activateProfile(table, { username, uuid, handle, displayName: "  Neo A  " }, now);
    expect(profile).toMatchObject({ uuid, handle, display_name: "Neo A", status: "active" });
    expect(await activateProfile(table, { username, uuid, handle, displayName: "Neo A" }, now + 5)).toEqual(profile);
    const item = await getHandleItem(table, handle.toUpperCase());
    expect(item).toMatchObject({ state: "owned", user_uuid: uuid, handle });
    expect(item?.expires_at).toBeUndefined();
    expect(await ownerOfHandle(table, handle.toLowerCase())).toBe(uuid);
  });

  it("refuses a handle taken in any case, and lets the same sign-up claim again", async () => {
    const { handle } = await signUp(unique("trin"));
    const codes = await codesOf(
      claimSignUpHandle(table, { username: randomUUID(), handle: handle.toUpperCase(), displayName: "T" }, Date.now()),
    );
    expect(codes).toEqual(["handle_taken"]);

    const other = unique("morph");
    const username = randomUUID();
    await claimSignUpHandle(table, { username, handle: other, displayName: "M" }, Date.now());
    await claimSignUpHandle(table, { username, handle: other, displayName: "M" }, Date.now());
    expect(
      await codesOf(claimSignUpHandle(table, { username: randomUUID(), handle: other, displayName: "M" }, Date.now())),
    ).toEqual(["handle_taken"]);
  });

  it("frees the claim of a sign-up never confirmed once it expires, without waiting for TTL deletion", async () => {
    const handle = unique("ghost");
    const now = Date.now();
    await claimSignUpHandle(table, { username: "first", handle, displayName: "G" }, now, 1000);
    await claimSignUpHandle(table, { username: "second", handle, displayName: "G" }, now + 2000);
    expect((await getHandleItem(table, handle))?.pending_username).toBe("second");
  });

  it("never lets a confirmation take a handle somebody else owns now", async () => {
    const handle = unique("late");
    const now = Date.now();
    await claimSignUpHandle(table, { username: "slow", handle, displayName: "L" }, now, 1000);
    const winner = randomUUID();
    await claimSignUpHandle(table, { username: "fast", handle, displayName: "L" }, now + 2000);
    await activateProfile(table, { username: "fast", uuid: winner, handle, displayName: "L" }, now + 2000);
    const codes = await codesOf(
      activateProfile(table, { username: "slow", uuid: randomUUID(), handle, displayName: "L" }, now + 3000),
    );
    expect(codes).toEqual(["handle_taken"]);
    expect(await ownerOfHandle(table, handle)).toBe(winner);
  });
});

describe("renames", () => {
  it("swaps the claim in one step and keeps the old handle reserved to its owner only", async () => {
    const user = await signUp(unique("ann"));
    const now = Date.now();
    const newHandle = unique("Anna");
    const { after } = await renameUser(table, user.uuid, { handle: newHandle }, now, 10 * DAY);
    expect(after).toMatchObject({ handle: newHandle, display_name: user.displayName });
    expect(await ownerOfHandle(table, newHandle)).toBe(user.uuid);
    const old = await getHandleItem(table, user.handle);
    expect(old).toMatchObject({ state: "reserved", user_uuid: user.uuid });
    expect(old?.expires_at).toBe(Math.floor((now + 10 * DAY) / 1000));
    expect(await ownerOfHandle(table, user.handle)).toBeUndefined();

    const squatter = await signUp(unique("sq"));
    expect(await codesOf(renameUser(table, squatter.uuid, { handle: user.handle }, now + DAY))).toEqual([
      "handle_taken",
    ]);
    expect(
      await codesOf(claimSignUpHandle(table, { username: "x", handle: user.handle, displayName: "X" }, now + DAY)),
    ).toEqual(["handle_taken"]);
    // After the reservation, it is free for anybody.
    await renameUser(table, squatter.uuid, { handle: user.handle }, now + 11 * DAY);
    expect(await ownerOfHandle(table, user.handle)).toBe(squatter.uuid);
  });

  it("lets an owner take back the handle they left, and change only its case in place", async () => {
    const user = await signUp(unique("bo"));
    const temp = unique("tmp");
    await renameUser(table, user.uuid, { handle: temp }, Date.now());
    await renameUser(table, user.uuid, { handle: user.handle }, Date.now());
    expect(await ownerOfHandle(table, user.handle)).toBe(user.uuid);
    const upper = user.handle.toUpperCase();
    const { after } = await renameUser(table, user.uuid, { handle: upper, display_name: "Bo B" }, Date.now());
    expect(after).toMatchObject({ handle: upper, display_name: "Bo B" });
    expect(await getHandleItem(table, user.handle)).toMatchObject({ state: "owned", handle: upper });
  });

  it("changes nothing for the current values, and refuses a disabled user (401) and bad input (422)", async () => {
    const user = await signUp(unique("cy"));
    const before = await getProfile(table, user.uuid);
    const same = await renameUser(table, user.uuid, { handle: user.handle }, Date.now());
    expect(same.after).toEqual(before);
    expect(await codesOf(renameUser(table, user.uuid, { display_name: "\u200B" }, Date.now()))).toEqual([
      "display_name_invalid",
    ]);
    await setProfileStatus(table, user.uuid, "disabled", Date.now());
    expect(await codesOf(renameUser(table, user.uuid, { display_name: "New" }, Date.now()))).toEqual(["unauthorized"]);
  });

  it("lets 8 concurrent renames of one user all succeed, the last commit winning", async () => {
    const user = await signUp(unique("dee"));
    const names = Array.from({ length: 8 }, (_, i) => `Dee ${i}`);
    const results = await Promise.all(names.map((n) => renameUser(table, user.uuid, { display_name: n }, Date.now())));
    expect(results.map((r) => r.after.display_name).sort()).toEqual(names);
    expect(names).toContain((await getProfile(table, user.uuid))?.display_name);
  });

  it("answers 429 throttled, having written nothing, when concurrent changes win every one of its attempts", async () => {
    const user = await signUp(unique("eve"));
    let racers = 0;
    // Before each of the rename's transactions, another change of the same profile commits.
    const { ddb, calls } = faultyClient(table.ddb, async (call, send) => {
      if (call.kind === "transact") {
        racers += 1;
        await renameUser(table, user.uuid, { display_name: `Racer ${racers}` }, Date.now());
      }
      return send();
    });
    const error = await renameUser(
      { ddb, tableName: table.tableName },
      user.uuid,
      { handle: unique("eve") },
      Date.now(),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 429, codes: ["throttled"], headers: { "retry-after": "1" } });
    expect(calls.filter((c) => c.kind === "transact")).toHaveLength(10);
    expect(await getProfile(table, user.uuid)).toMatchObject({ handle: user.handle, display_name: "Racer 10" });
    expect(await ownerOfHandle(table, user.handle)).toBe(user.uuid);
  });

  it("ends with exactly one owner per handle when 20 sign-ups and renames race for 5 handles", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(4), fc.boolean(), fc.nat(1)), { minLength: 20, maxLength: 20 }),
        async (plan) => {
          const handles = Array.from({ length: 5 }, () => unique("race"));
          const renamers = await Promise.all([signUp(unique("r")), signUp(unique("r"))]);
          const uuids = new Set(renamers.map((r) => r.uuid));
          await Promise.allSettled(
            plan.map(async ([h, viaSignUp, who]) => {
              const handle = handles[h] as string;
              const spelled = viaSignUp ? handle : handle.toUpperCase();
              if (viaSignUp) {
                const username = randomUUID();
                const uuid = randomUUID();
                await claimSignUpHandle(table, { username, handle: spelled, displayName: "S" }, Date.now());
                uuids.add(uuid);
                await activateProfile(table, { username, uuid, handle: spelled, displayName: "S" }, Date.now());
              } else {
                await renameUser(table, (renamers[who] as { uuid: string }).uuid, { handle: spelled }, Date.now());
              }
            }),
          );
          const claimedBy = new Map<string, string>();
          for (const handle of handles) {
            const item = (
              await table.ddb.send(
                new GetCommand({
                  TableName: table.tableName,
                  Key: handleKey(handle.toLowerCase()),
                  ConsistentRead: true,
                }),
              )
            ).Item as HandleItem | undefined;
            if (item?.state === "owned") claimedBy.set(handle.toLowerCase(), item.user_uuid as string);
          }
          // Every profile's handle item points back to it, and no two profiles share a handle.
          const seen = new Set<string>();
          for (const uuid of uuids) {
            const profile = await getProfile(table, uuid);
            if (profile === undefined) continue;
            const canonical = profile.handle.toLowerCase();
            expect(seen.has(canonical)).toBe(false);
            seen.add(canonical);
            const item = (
              await table.ddb.send(
                new GetCommand({ TableName: table.tableName, Key: handleKey(canonical), ConsistentRead: true }),
              )
            ).Item as HandleItem | undefined;
            expect(item).toMatchObject({ state: "owned", user_uuid: uuid });
          }
          for (const [canonical, owner] of claimedBy) {
            expect((await getProfile(table, owner))?.handle.toLowerCase()).toBe(canonical);
          }
        },
      ),
      { numRuns: 5 },
    );
  });
});

describe("createUserDirectory", () => {
  it("finds users by handle in any case and the caller by sub, with a cache per key", async () => {
    const user = await signUp(unique("Dee"), "Dee D");
    const users = createUserDirectory(table, { ttlMs: 60_000 });
    const profile = { uuid: user.uuid, handle: user.handle, display_name: "Dee D" };
    expect(await users.byHandle(user.handle.toLowerCase())).toEqual(profile);
    expect(await users.caller({ sub: user.uuid, username: user.username })).toEqual(profile);
    expect(await users.byHandle("no such handle")).toBeUndefined();
    expect(await users.byHandle(unique("nobody"))).toBeUndefined();
  });

  it("never answers a handle with the caller's own profile (the cache-poisoning finding)", async () => {
    const victim = await signUp(unique("victim"));
    const squatter = await signUp(unique("squat"));
    const users = createUserDirectory(table, { ttlMs: 60_000 });
    // The squatter's token says nothing about handles: the caller is read by sub only.
    await users.caller({ sub: squatter.uuid, username: squatter.username });
    expect((await users.byHandle(victim.handle))?.uuid).toBe(victim.uuid);
  });

  it("refuses a disabled caller once the cache entry expires, and at once with fresh", async () => {
    const user = await signUp(unique("eve"));
    const users = createUserDirectory(table, { ttlMs: 100 });
    await users.caller({ sub: user.uuid, username: user.username });
    await setProfileStatus(table, user.uuid, "disabled", Date.now());
    expect(await codesOf(users.caller({ sub: user.uuid, username: user.username }, { fresh: true }))).toEqual([
      "unauthorized",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await codesOf(users.caller({ sub: user.uuid, username: user.username }))).toEqual(["unauthorized"]);
    expect(await users.byHandle(user.handle)).toBeUndefined();
  });

  it("does not answer a handle its owner left, even from a cache that still maps it", async () => {
    const user = await signUp(unique("fay"));
    const users = createUserDirectory(table, { ttlMs: 60_000 });
    expect((await users.byHandle(user.handle))?.uuid).toBe(user.uuid);
    await renameUser(table, user.uuid, { handle: unique("faye") }, Date.now());
    // A fresh read of the profile shows it no longer names the handle.
    expect(await users.byHandle(user.handle, { fresh: true })).toBeUndefined();
  });
});

describe("putDirectoryUser", () => {
  it("writes a profile and handle once, keeps an existing profile, and never takes another's handle", async () => {
    const uuid = randomUUID();
    const handle = unique("imp");
    const now = Date.now();
    expect(await putDirectoryUser(table, { uuid, handle, display_name: "Imp" }, now)).toBe("created");
    expect(await putDirectoryUser(table, { uuid, handle, display_name: "Other" }, now)).toBe("exists");
    expect((await getProfile(table, uuid))?.display_name).toBe("Imp");
    expect(await putDirectoryUser(table, { uuid: randomUUID(), handle, display_name: "X" }, now)).toBe("handle_taken");
    expect(await putDirectoryUser(table, { uuid: randomUUID(), handle: "bad handle", display_name: "X" }, now)).toBe(
      "invalid",
    );
    const pendingHandle = unique("adm");
    await claimSignUpHandle(table, { username: "admin-made", handle: pendingHandle, displayName: "A" }, now);
    const admin = randomUUID();
    expect(
      await putDirectoryUser(
        table,
        { uuid: admin, handle: pendingHandle, display_name: "A", username: "admin-made" },
        now,
      ),
    ).toBe("created");
    expect(await ownerOfHandle(table, pendingHandle)).toBe(admin);
    const raw = await table.ddb.send(new GetCommand({ TableName: table.tableName, Key: profileKey(admin) }));
    expect(raw.Item).toMatchObject({ status: "active" });
  });
});
