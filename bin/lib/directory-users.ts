/**
 * The operator commands' reads of the user directory in the table (`shared/directory.ts`):
 * a user by handle, and many profiles at once. After sign-up the directory is the only source of
 * identity (DESIGN.md "Vocabulary"), so no command but `users import|disable|enable` and
 * `cognito list-users` asks Cognito who a user is.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type DirectoryDeps, getHandleItem, getProfile, ownerOfHandle } from "../../shared/directory";
import type { HandleItem } from "../../shared/items/handle";
import type { ProfileItem } from "../../shared/items/profile";
import { profileKey } from "../../shared/table";
import { stripAt } from "./cognito-users";

/** Where a handle stands in the directory, as {@link findHandle} answers it. */
export type HandleLookup =
  /** Owned, and its owner has a profile (any status). */
  | { kind: "owner"; profile: ProfileItem }
  /** No handle item, or one whose claim expired, or `handle` is not a valid handle. */
  | { kind: "none" }
  /** Claimed by a sign-up not confirmed yet (Cognito username `pending_username`). */
  | { kind: "pending"; item: HandleItem }
  /** Left by its owner (a rename) and reserved to them until `expires_at`; `profile` when they still have one. */
  | { kind: "reserved"; item: HandleItem; profile: ProfileItem | undefined }
  /** Owned by a uuid that has no profile: an inconsistency (the directory writes both in one transaction). */
  | { kind: "orphan"; item: HandleItem };

/**
 * Looks a handle up in the directory: its handle item (strongly consistent, any case, a leading
 * `@` ignored), then its owner's profile.
 * @param nowMs epoch ms, to tell an expired claim (TTL deletion is lazy) from a live one.
 * @throws AWS SDK errors.
 */
export async function findHandle(deps: DirectoryDeps, handle: string, nowMs: number): Promise<HandleLookup> {
  const item = await getHandleItem(deps, stripAt(handle));
  if (item === undefined) return { kind: "none" };
  const expired = item.expires_at !== undefined && item.expires_at < Math.floor(nowMs / 1000);
  if (item.state === "pending") return expired ? { kind: "none" } : { kind: "pending", item };
  const profile = item.user_uuid === undefined ? undefined : await getProfile(deps, item.user_uuid);
  if (item.state === "reserved") return expired ? { kind: "none" } : { kind: "reserved", item, profile };
  return profile === undefined ? { kind: "orphan", item } : { kind: "owner", profile };
}

/**
 * The profile of the user who owns `handle` now (any status; callers decide what a disabled
 * user may do), through the same items as the API's lookup (`ownerOfHandle`, then the profile).
 * @returns undefined when nobody owns the handle (or it is not a valid handle).
 * @throws AWS SDK errors.
 */
export async function findUserByHandle(deps: DirectoryDeps, handle: string): Promise<ProfileItem | undefined> {
  const uuid = await ownerOfHandle(deps, stripAt(handle));
  return uuid === undefined ? undefined : getProfile(deps, uuid);
}

/** Keys per BatchGetItem request (the DynamoDB limit). */
const BATCH_GET_KEYS = 100;
/** Rounds of UnprocessedKeys retries before giving up. */
const MAX_BATCH_ROUNDS = 8;

/**
 * The profile items of `uuids`, read with BatchGetItem (100 keys a request, strongly
 * consistent; UnprocessedKeys retried with a jittered back-off).
 * @returns the profiles found, by uuid; a uuid with no profile is absent.
 * @throws AWS SDK errors; Error when keys stay unprocessed after 8 rounds (throttled table).
 */
export async function readProfiles(
  doc: DynamoDBDocumentClient,
  tableName: string,
  uuids: Iterable<string>,
): Promise<Map<string, ProfileItem>> {
  const wanted = [...new Set(uuids)];
  const found = new Map<string, ProfileItem>();
  for (let i = 0; i < wanted.length; i += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] = wanted.slice(i, i + BATCH_GET_KEYS).map(profileKey);
    for (let round = 1; keys.length > 0; round++) {
      if (round > MAX_BATCH_ROUNDS) throw new Error(`BatchGetItem left ${keys.length} profiles unread (throttled)`);
      if (round > 1) await sleep(Math.random() * 50 * 2 ** (round - 2));
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of (out.Responses?.[tableName] ?? []) as ProfileItem[]) {
        if (typeof item.uuid === "string" && item.pk === profileKey(item.uuid).pk) found.set(item.uuid, item);
      }
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return found;
}
