/**
 * Seeding the local stack: the users in cognito-local, their profiles and handles in the user
 * directory, and their conversation in the table.
 */
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type DirectoryDeps, type PutUserOutcome, putDirectoryUser } from "../shared/directory";
import type { UserProfile } from "../shared/model";
import { type SeedConversationResult, seedDemoConversation } from "../shared/seed";
import { SEED_CONVERSATION_MEMBERS, type SeedUser } from "../shared/seed-data";
import { ensureUser } from "./cognito-local";

/** A user of the local pool, with what a client needs to sign in. */
export interface SeededUser {
  /** Cognito username (= handle). */
  username: string;
  handle: string;
  display_name: string;
  password: string;
  /** Cognito `sub`. */
  uuid: string;
}

/** Creates (or, persisted, finds) each user and sets its password. */
export async function seedUsers(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  users: readonly SeedUser[],
): Promise<SeededUser[]> {
  const seeded: SeededUser[] = [];
  for (const user of users) {
    const uuid = await ensureUser(cognito, userPoolId, user);
    seeded.push({
      username: user.handle,
      handle: user.handle,
      display_name: user.display_name,
      password: user.password,
      uuid,
    });
  }
  return seeded;
}

/** What {@link seedDirectory} did. */
export interface SeedDirectoryResult {
  /** Users by outcome of `putDirectoryUser`. */
  counts: Record<PutUserOutcome, number>;
  /** The users left without a profile (their handle is held by another user): every route answers them 401. */
  notWritten: { handle: string; uuid: string; outcome: PutUserOutcome }[];
}

/**
 * Writes each seeded user's profile (`active`) and handle item straight into the directory
 * (`putDirectoryUser` of shared/directory.ts; uuid = Cognito `sub`), as no sign-up trigger runs
 * for users created by AdminCreateUser. Idempotent: a user who has a profile keeps it as it is
 * (a persisted restart, or a rename through the API since), so running it again writes nothing.
 * @param nowMs epoch ms of the writes.
 * @throws Error when a seeded user breaks the identity rules (a defect of the seed data); AWS SDK
 *   errors.
 */
export async function seedDirectory(
  deps: DirectoryDeps,
  users: readonly SeededUser[],
  nowMs: number,
): Promise<SeedDirectoryResult> {
  const result: SeedDirectoryResult = {
    counts: { created: 0, exists: 0, handle_taken: 0, invalid: 0 },
    notWritten: [],
  };
  for (const user of users) {
    const outcome = await putDirectoryUser(deps, { ...profile(user), username: user.username }, nowMs);
    if (outcome === "invalid") {
      throw new Error(`seed: user ${user.handle} breaks the handle or display name rules (shared/identity-rules.ts)`);
    }
    result.counts[outcome] += 1;
    if (outcome === "handle_taken") result.notWritten.push({ handle: user.handle, uuid: user.uuid, outcome });
  }
  return result;
}

const profile = (user: SeededUser): UserProfile => ({
  uuid: user.uuid,
  handle: user.handle,
  display_name: user.display_name,
});

/**
 * Writes the demo conversation between its two members among the seeded `users`
 * (`seedDemoConversation` of shared/seed.ts); skipped when they already have a group (a
 * persisted restart).
 * @throws Error when a member is not among `users`.
 */
export async function seedLocalConversation(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  users: readonly SeededUser[],
  nowMs: number,
): Promise<SeedConversationResult> {
  const member = (handle: string) => {
    const user = users.find((u) => u.handle === handle);
    if (user === undefined) throw new Error(`seed: conversation member ${handle} is not a seeded user`);
    return profile(user);
  };
  const members = { a: member(SEED_CONVERSATION_MEMBERS.a), b: member(SEED_CONVERSATION_MEMBERS.b) };
  return seedDemoConversation(ddb, tableName, members, nowMs);
}
