/**
 * The user directory in the table: one profile item per user (`USER#<uuid>` / `PROFILE`) and
 * one handle item per canonical handle (`HANDLE#<lower-case handle>` / `HANDLE`) naming its
 * owner. After sign-up it is the only source of identity the API reads: Cognito attributes are
 * input at sign-up, never identity later (DESIGN.md "Vocabulary", identity issue).
 *
 * Every claim of a handle is a conditional write, so of two users racing for one handle exactly
 * one owns it. A handle item is free when it does not exist or its `expires_at` (epoch seconds,
 * the table's TTL attribute) is past: DynamoDB's TTL deletion is lazy, so the conditions say
 * `expires_at < :now` instead of trusting it.
 *
 * Lifecycle: sign-up claims `pending` (pre-sign-up trigger, {@link claimSignUpHandle}) ->
 * confirmation makes it `owned` and writes the `active` profile (post-confirmation trigger,
 * {@link activateProfile}) -> a rename swaps the claim ({@link renameUser}), leaving the old
 * handle `reserved` to its owner for a while -> an operator may disable the profile
 * ({@link setProfileStatus}).
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { AppError, cancellationCodes, isLostRace, unauthorized } from "./errors";
import { canonicalHandle, isValidHandle, normalizeDisplayName } from "./identity-rules";
import { type HandleItem, ownedHandleItem, pendingHandleItem } from "./items/handle";
import { type ProfileItem, profileItem, type UserProfile, type UserStatus } from "./items/profile";
import { handleKey, profileKey, TTL_ATTRIBUTE } from "./table";
import { toTimestamp } from "./time";

export interface DirectoryDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
}

/** How long a sign-up's claim waits for its confirmation by default, ms (7 days). */
export const DEFAULT_PENDING_CLAIM_MS = 7 * 24 * 60 * 60 * 1000;
/** How long a handle its owner left stays reserved to them by default, ms (30 days). */
export const DEFAULT_HANDLE_RESERVATION_MS = 30 * 24 * 60 * 60 * 1000;

/** 409 `["handle_taken"]`: another user owns the handle (or holds it pending or reserved). */
export const handleTaken = (): AppError => new AppError(409, ["handle_taken"]);

const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

/** The profile item's public part. */
export const toUserProfile = (p: Pick<ProfileItem, "uuid" | "handle" | "display_name">): UserProfile => ({
  uuid: p.uuid,
  handle: p.handle,
  display_name: p.display_name,
});

/**
 * A user's profile item.
 * @param consistent strongly consistent read (default true).
 * @returns `undefined` when the user has none.
 */
export async function getProfile(
  deps: DirectoryDeps,
  userUuid: string,
  consistent = true,
): Promise<ProfileItem | undefined> {
  const out = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: profileKey(userUuid), ConsistentRead: consistent }),
  );
  const item = out.Item as ProfileItem | undefined;
  // A profile is only ever the item of its own key: guard against a malformed write anyway.
  return item !== undefined && item.uuid === userUuid ? item : undefined;
}

/**
 * The handle item of `handle` (any case), read strongly consistent.
 * @returns `undefined` when there is none or `handle` is not a valid handle.
 */
export async function getHandleItem(deps: DirectoryDeps, handle: string): Promise<HandleItem | undefined> {
  if (!isValidHandle(handle)) return undefined;
  const out = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: handleKey(canonicalHandle(handle)), ConsistentRead: true }),
  );
  return out.Item as HandleItem | undefined;
}

/**
 * The uuid of the user who owns `handle` (any case) now: a handle item in state `owned`.
 * Pending, reserved and expired claims own nothing.
 */
export async function ownerOfHandle(deps: DirectoryDeps, handle: string): Promise<string | undefined> {
  const item = await getHandleItem(deps, handle);
  return item?.state === "owned" && item.user_uuid !== undefined ? item.user_uuid : undefined;
}

/** What a sign-up asks for (Cognito PreSignUp event: `userName`, `preferred_username`, `name`). */
export interface SignUpClaim {
  /** Cognito username of the sign-up (stable, unique in the pool). */
  username: string;
  handle: string;
  displayName: string;
}

/**
 * Validates a sign-up's handle and display name and claims the handle for it (state `pending`,
 * free again after `pendingMs`). Claiming again for the same username (a retried sign-up) is
 * allowed.
 * @param nowMs epoch ms.
 * @throws AppError 422 `handle_invalid` and/or `display_name_invalid`; 409 `handle_taken`.
 */
export async function claimSignUpHandle(
  deps: DirectoryDeps,
  claim: SignUpClaim,
  nowMs: number,
  pendingMs: number = DEFAULT_PENDING_CLAIM_MS,
): Promise<HandleItem> {
  checkIdentity(claim.handle, claim.displayName);
  const item = pendingHandleItem(claim.handle, claim.username, epochSeconds(nowMs + pendingMs), toTimestamp(nowMs));
  try {
    await deps.ddb.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: item,
        ConditionExpression: "attribute_not_exists(pk) OR #exp < :now OR (#state = :pending AND pending_username = :u)",
        ExpressionAttributeNames: { "#exp": TTL_ATTRIBUTE, "#state": "state" },
        ExpressionAttributeValues: { ":now": epochSeconds(nowMs), ":pending": "pending", ":u": claim.username },
      }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === "ConditionalCheckFailedException") throw handleTaken();
    throw error;
  }
  return item;
}

/**
 * The display name to store, after checking both rules of `shared/identity-rules.ts`.
 * @throws AppError 422 with `handle_invalid` and/or `display_name_invalid`.
 */
export function checkIdentity(handle: unknown, displayName: unknown): string {
  const codes: string[] = [];
  if (typeof handle !== "string" || !isValidHandle(handle)) codes.push("handle_invalid");
  const name = normalizeDisplayName(displayName);
  if (name === undefined) codes.push("display_name_invalid");
  if (codes.length > 0 || name === undefined) throw new AppError(422, codes);
  return name;
}

/** What a confirmed sign-up activates (Cognito PostConfirmation event). */
export interface Activation extends SignUpClaim {
  /** Cognito `sub`: the user's uuid. */
  uuid: string;
}

/**
 * Makes a confirmed sign-up's claim `owned` and writes its `active` profile, in one transaction.
 * Idempotent: a retry after success changes nothing. A claim that expired meanwhile is taken
 * again when nobody else holds the handle.
 * @returns the profile (the existing one on a retry).
 * @throws AppError 422 (invalid handle/name), 409 `handle_taken` when another user holds the
 *   handle now.
 */
export async function activateProfile(
  deps: DirectoryDeps,
  activation: Activation,
  nowMs: number,
): Promise<ProfileItem> {
  const displayName = checkIdentity(activation.handle, activation.displayName);
  const user = { uuid: activation.uuid, handle: activation.handle, display_name: displayName };
  const outcome = await putDirectoryUser(deps, { ...user, username: activation.username }, nowMs);
  if (outcome === "handle_taken") throw handleTaken();
  const profile = await getProfile(deps, activation.uuid);
  if (profile === undefined) throw new Error(`profile of ${activation.uuid} missing right after it was written`);
  return profile;
}

/** A change of PATCH /api/users/me; at least one field. */
export interface ProfileChange {
  handle?: string | undefined;
  display_name?: string | undefined;
}

/**
 * Most attempts of a rename when a concurrent change of the same profile wins the race: each lost
 * race means another change of this profile committed, so 10 attempts outlast 9 concurrent
 * renames of one user (3 lost 1 reliability run in 3 to 7 concurrent PATCHes of one user).
 */
const MAX_RENAME_ATTEMPTS = 10;
/** First back-off after a lost race, ms: full jitter in [0, 5 × 2^(n-2)), at most 160 ms. */
const RENAME_BACKOFF_MS = 5;

/**
 * Changes a user's handle and/or display name. A new handle is claimed and the old one left
 * `reserved` to its owner for `reservationMs`, and the profile updated, all in one transaction,
 * so a handle never has two owners and the profile always names a handle its owner holds. A
 * handle that differs only in case is the same handle: only its spelling changes. Taking back a
 * handle one reserved is allowed. Idempotent: asking for the current values changes nothing.
 * Rename propagation to the summaries is `shared/renames.ts`, run after this.
 * @returns `{before, after}` profiles.
 * @throws AppError 401 when the user has no active profile; 422 `handle_invalid` /
 *   `display_name_invalid`; 409 `handle_taken`; 429 `throttled` (with `retry-after: 1`) when
 *   concurrent changes of the same profile won {@link MAX_RENAME_ATTEMPTS} races in a row.
 */
export async function renameUser(
  deps: DirectoryDeps,
  userUuid: string,
  change: ProfileChange,
  nowMs: number,
  reservationMs: number = DEFAULT_HANDLE_RESERVATION_MS,
): Promise<{ before: ProfileItem; after: ProfileItem }> {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await sleep(Math.random() * RENAME_BACKOFF_MS * 2 ** Math.min(attempt - 2, 5));
    const before = await getProfile(deps, userUuid);
    if (before === undefined || before.status !== "active") throw unauthorized();
    const handle = change.handle ?? before.handle;
    const displayName = checkIdentity(handle, change.display_name ?? before.display_name);
    if (handle === before.handle && displayName === before.display_name) return { before, after: before };
    const at = toTimestamp(nowMs);
    const after: ProfileItem = { ...before, handle, display_name: displayName, updated_at: at };
    const sameHandle = canonicalHandle(handle) === canonicalHandle(before.handle);
    const profileUpdate = {
      Update: {
        TableName: deps.tableName,
        Key: profileKey(userUuid),
        UpdateExpression: "SET handle = :h, display_name = :d, updated_at = :at",
        ConditionExpression: "handle = :oldHandle AND display_name = :oldName AND #status = :active",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":h": handle,
          ":d": displayName,
          ":at": at,
          ":oldHandle": before.handle,
          ":oldName": before.display_name,
          ":active": "active",
        },
      },
    };
    const transactItems = sameHandle
      ? [
          profileUpdate,
          {
            Update: {
              TableName: deps.tableName,
              Key: handleKey(canonicalHandle(handle)),
              UpdateExpression: "SET handle = :h, updated_at = :at",
              ConditionExpression: "#state = :owned AND user_uuid = :me",
              ExpressionAttributeNames: { "#state": "state" },
              ExpressionAttributeValues: { ":h": handle, ":at": at, ":owned": "owned", ":me": userUuid },
            },
          },
        ]
      : [
          profileUpdate,
          {
            Put: {
              TableName: deps.tableName,
              Item: ownedHandleItem(handle, userUuid, at),
              ConditionExpression: "attribute_not_exists(pk) OR #exp < :now OR user_uuid = :me",
              ExpressionAttributeNames: { "#exp": TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ":now": epochSeconds(nowMs), ":me": userUuid },
            },
          },
          {
            Update: {
              TableName: deps.tableName,
              Key: handleKey(canonicalHandle(before.handle)),
              UpdateExpression: "SET #state = :reserved, #exp = :until, updated_at = :at",
              ConditionExpression: "#state = :owned AND user_uuid = :me",
              ExpressionAttributeNames: { "#state": "state", "#exp": TTL_ATTRIBUTE },
              ExpressionAttributeValues: {
                ":reserved": "reserved",
                ":until": epochSeconds(nowMs + reservationMs),
                ":at": at,
                ":owned": "owned",
                ":me": userUuid,
              },
            },
          },
        ];
    try {
      await deps.ddb.send(new TransactWriteCommand({ TransactItems: transactItems }));
      return { before, after };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined) throw error;
      if (!sameHandle && codes[1] === "ConditionalCheckFailed") throw handleTaken();
      // The profile (or its handle item) changed since the read, or a transaction conflicted: read again.
      if (!isLostRace(error)) throw error;
      if (attempt >= MAX_RENAME_ATTEMPTS) throw new AppError(429, ["throttled"], { "retry-after": "1" });
    }
  }
}

/**
 * Sets a user's status (operators: `users disable`). A disabled user is answered 401 by every
 * route within the functions' cache TTL.
 * @returns false when the user has no profile.
 */
export async function setProfileStatus(
  deps: DirectoryDeps,
  userUuid: string,
  status: UserStatus,
  nowMs: number,
): Promise<boolean> {
  try {
    await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: profileKey(userUuid),
        UpdateExpression: "SET #status = :s, updated_at = :at",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":s": status, ":at": toTimestamp(nowMs) },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
    throw error;
  }
}

/** What {@link putDirectoryUser} did. */
export type PutUserOutcome = "created" | "exists" | "handle_taken" | "invalid";

/**
 * Writes a user straight into the directory, as seeding and `users import` do: claims the
 * handle (`owned`) and writes the profile, in one transaction, unless the user already has a
 * profile (kept as it is: it may have been renamed through the API since).
 * @param user uuid = Cognito `sub`; handle and display name are checked by the identity rules;
 *   `username` (Cognito) lets it take over that sign-up's own pending claim (an admin-created
 *   user, whose pre-sign-up trigger claimed the handle but who is never "confirmed").
 * @returns `created`; `exists` when the user already has a profile; `handle_taken` when another
 *   user holds the handle (nothing written); `invalid` when the handle or name breaks the rules.
 */
export async function putDirectoryUser(
  deps: DirectoryDeps,
  user: UserProfile & { status?: UserStatus; username?: string },
  nowMs: number,
): Promise<PutUserOutcome> {
  let displayName: string;
  try {
    displayName = checkIdentity(user.handle, user.display_name);
  } catch {
    return "invalid";
  }
  if ((await getProfile(deps, user.uuid)) !== undefined) return "exists";
  const at = toTimestamp(nowMs);
  try {
    await deps.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: deps.tableName,
              Item: ownedHandleItem(user.handle, user.uuid, at),
              ConditionExpression:
                "attribute_not_exists(pk) OR #exp < :now OR user_uuid = :me OR (#state = :pending AND pending_username = :u)",
              ExpressionAttributeNames: { "#exp": TTL_ATTRIBUTE, "#state": "state" },
              ExpressionAttributeValues: {
                ":now": epochSeconds(nowMs),
                ":me": user.uuid,
                ":pending": "pending",
                // No sign-up has an empty username, so without one this alternative never holds.
                ":u": user.username ?? "",
              },
            },
          },
          {
            Put: {
              TableName: deps.tableName,
              Item: profileItem(
                { uuid: user.uuid, handle: user.handle, display_name: displayName, status: user.status ?? "active" },
                at,
              ),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
      }),
    );
    return "created";
  } catch (error) {
    const codes = cancellationCodes(error);
    if (codes?.[1] === "ConditionalCheckFailed") return "exists";
    if (codes?.[0] === "ConditionalCheckFailed") return "handle_taken";
    throw error;
  }
}
