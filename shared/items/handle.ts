/**
 * Handle item: who owns a handle. Keyed by the canonical (lower-case) handle, so `Bob` and `bob`
 * are one item and cannot have two owners.
 * - `owned`: `user_uuid` owns it; no `expires_at`.
 * - `pending`: claimed by a sign-up (Cognito `username`) not yet confirmed; free again after
 *   `expires_at`.
 * - `reserved`: its owner `user_uuid` left it (renamed); only they may take it back until
 *   `expires_at`.
 *
 * Key (`shared/table.ts` {@link handleKey}): pk `HANDLE#<canonical handle>`, sk `HANDLE`. The
 * schemas are built inside a `@__PURE__` call (see `shared/items/profile.ts` for why).
 */
import * as z from "zod/mini";
import { canonicalHandle } from "../identity-rules";
import { handleKey, TTL_ATTRIBUTE } from "../table";
import { itemKeyShape } from "./key";

export const handleStateSchema = /* @__PURE__ */ (() => z.enum(["owned", "pending", "reserved"]))();
export type HandleState = z.infer<typeof handleStateSchema>;

/** A handle item as stored. `updated_at` is a table timestamp (`shared/time.ts`). */
export const handleItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    /** The handle as its owner wrote it. */
    handle: z.string(),
    state: handleStateSchema,
    /** Owner (owned, reserved); absent while pending. */
    user_uuid: z.optional(z.string()),
    /** Cognito username of the sign-up that claimed it (pending). */
    pending_username: z.optional(z.string()),
    /** Epoch seconds (the table's TTL attribute); pending and reserved only. */
    [TTL_ATTRIBUTE]: z.optional(z.int()),
    updated_at: z.string(),
  }))();
export type HandleItem = z.infer<typeof handleItemSchema>;

/**
 * The handle item of a handle `userUuid` owns.
 * @param handle a valid handle, as its owner writes it (keyed by its canonical form).
 * @param at table timestamp of the write.
 */
export function ownedHandleItem(handle: string, userUuid: string, at: string): HandleItem {
  return { ...handleKey(canonicalHandle(handle)), handle, state: "owned", user_uuid: userUuid, updated_at: at };
}

/**
 * The handle item of a sign-up's claim, free again after `expiresAt`.
 * @param username Cognito username of the sign-up.
 * @param expiresAt epoch seconds.
 * @param at table timestamp of the write.
 */
export function pendingHandleItem(handle: string, username: string, expiresAt: number, at: string): HandleItem {
  return {
    ...handleKey(canonicalHandle(handle)),
    handle,
    state: "pending",
    pending_username: username,
    [TTL_ATTRIBUTE]: expiresAt,
    updated_at: at,
  };
}
