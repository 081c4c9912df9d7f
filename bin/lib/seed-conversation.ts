/**
 * `ddb seed`: the demo conversation of shared/seed-data.ts written by the one seeding function
 * (`seedDemoConversation` of shared/seed.ts) that `npm start` uses too, between users looked up
 * by handle in the user directory of the table (never in Cognito: after sign-up the directory is the only identity).
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { toUserProfile } from "../../shared/directory";
import type { UserProfile } from "../../shared/model";
import { type SeedConversationResult, seedDemoConversation } from "../../shared/seed";
import { SEED_CONVERSATION, SEED_CONVERSATION_MEMBERS } from "../../shared/seed-data";
import { stripAt } from "./cognito-users";
import { findUserByHandle } from "./directory-users";
import { OpsError, UsageError } from "./ops-errors";

export interface SeedDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

export interface SeedOptions {
  /** Handle of member `a` (default andrewbrown). */
  a?: string | undefined;
  /** Handle of member `b` (default bayko). */
  b?: string | undefined;
  /** Epoch ms "now": the last message is SEED_LAST_MESSAGE_AGE_MS before it. */
  nowMs: number;
}

export interface SeedResult extends SeedConversationResult {
  a: UserProfile;
  b: UserProfile;
  /** Messages of the conversation. */
  messages: number;
}

/**
 * Seeds the conversation between `a` and `b` (the seed data's texts, one a minute, the last five
 * minutes before `nowMs`). Idempotent: the pair's message_group_uuid is derived from the two
 * users, and a pair that already has a group is skipped (`skipped: true`), so running it twice
 * leaves one copy.
 * @throws UsageError when a and b are the same handle; OpsError when a handle has no owner in the
 *   directory, or its owner is disabled.
 */
export async function seed(deps: SeedDeps, options: SeedOptions): Promise<SeedResult> {
  const handles = [
    stripAt(options.a ?? SEED_CONVERSATION_MEMBERS.a),
    stripAt(options.b ?? SEED_CONVERSATION_MEMBERS.b),
  ] as const;
  if (handles[0].toLowerCase() === handles[1].toLowerCase()) {
    throw new UsageError(`the two members must differ (both are @${handles[0]})`);
  }
  const directory = { ddb: deps.doc, tableName: deps.tableName };
  const found = await Promise.all(handles.map((h) => findUserByHandle(directory, h)));
  const missing = handles.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) {
    throw new OpsError(
      `${missing.map((h) => `@${h}`).join(" and ")} ${missing.length === 1 ? "is not a user" : "are not users"} of the user directory in table ${deps.tableName}`,
      "sign them up first (the local stack creates andrewbrown, bayko and londo on `npm start`; `npm run users -- import` adds the users of a pool), or pick existing users with --a <handle> --b <handle>",
    );
  }
  const disabled = found.filter((p) => p?.status === "disabled").map((p) => `@${p?.handle}`);
  if (disabled.length > 0) {
    throw new OpsError(
      `${disabled.join(" and ")} ${disabled.length === 1 ? "is" : "are"} disabled`,
      "enable them first (`npm run users -- enable <handle>`), or pick other users with --a <handle> --b <handle>",
    );
  }
  const [a, b] = found.map((p) => toUserProfile(p as NonNullable<typeof p>)) as [UserProfile, UserProfile];
  const result = await seedDemoConversation(deps.doc, deps.tableName, { a, b }, options.nowMs);
  return { ...result, a, b, messages: SEED_CONVERSATION.length };
}
