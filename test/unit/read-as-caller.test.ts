import { describe, expect, it } from "vitest";
import { AppError, notFound, unauthorized } from "../../shared/errors";
import type { UserProfile } from "../../shared/items/profile";
import { readAsCaller, type UserDirectory } from "../../shared/users";

const claims = { sub: "0b6f4ad2-2d6c-4f5e-9d37-0a6a3b1f8c11", username: "alice" };
const alice: UserProfile = { uuid: claims.sub, handle: "alice", display_name: "Alice" };

/** A directory whose caller check resolves (or rejects) only when the test says so. */
function pendingDirectory() {
  let settle: (outcome: { profile?: UserProfile; error?: unknown }) => void = () => {};
  const users: UserDirectory = {
    caller: () =>
      new Promise<UserProfile>((resolve, reject) => {
        settle = ({ profile, error }) => (profile === undefined ? reject(error) : resolve(profile));
      }),
    profile: async () => undefined,
    byHandle: async () => undefined,
  };
  return { users, settle: (outcome: { profile?: UserProfile; error?: unknown }) => settle(outcome) };
}

describe("readAsCaller", () => {
  it("starts the read with the token's sub before the caller's profile has been read", async () => {
    const { users, settle } = pendingDirectory();
    const reads: string[] = [];
    const answer = readAsCaller(users, claims, async (uuid) => {
      reads.push(uuid);
      return ["page"];
    });
    await Promise.resolve();
    expect(reads).toEqual([claims.sub]);
    settle({ profile: alice });
    expect(await answer).toEqual({ caller: alice, result: ["page"] });
  });

  it("answers the caller check's 401, never the read's answer or error, for a caller who is not active", async () => {
    for (const read of [async () => ["secret"], async () => Promise.reject(notFound("message_group_not_found"))]) {
      const { users, settle } = pendingDirectory();
      const answer = readAsCaller(users, claims, read).then(
        () => undefined,
        (e: unknown) => e,
      );
      settle({ error: unauthorized() });
      const error = await answer;
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).codes).toEqual(["unauthorized"]);
    }
  });

  it("gives the read's error for an active caller, and reads again for a profile of another uuid", async () => {
    const { users, settle } = pendingDirectory();
    const failed = readAsCaller(users, claims, async () => Promise.reject(notFound("message_group_not_found")));
    settle({ profile: alice });
    await expect(failed).rejects.toMatchObject({ status: 404, codes: ["message_group_not_found"] });

    const other = { ...alice, uuid: "5d1c0c59-7e0b-4a39-a8f4-2f1b8b2a7d20" };
    const again = pendingDirectory();
    const reads: string[] = [];
    const answer = readAsCaller(again.users, claims, async (uuid) => {
      reads.push(uuid);
      return uuid;
    });
    again.settle({ profile: other });
    expect(await answer).toEqual({ caller: other, result: other.uuid });
    expect(reads).toEqual([claims.sub, other.uuid]);
  });
});
