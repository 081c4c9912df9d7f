/**
 * Profile item: one per user, the user directory's record of a user (`shared/directory.ts`) and
 * the one source of a user's handle and display name after sign-up. Written only by our code
 * (the post-confirmation trigger, PATCH /api/users/me, the operator commands), never from
 * Cognito attributes later.
 *
 * Key (`shared/table.ts` {@link profileKey}): pk `USER#<user uuid>`, sk `PROFILE`.
 *
 * The schemas are built inside a `@__PURE__` call so that a bundle that only uses the types and
 * the builder (the sign-up triggers) leaves zod out: esbuild drops an unused top-level zod call
 * only when it is marked pure.
 */
import * as z from "zod/mini";
import { profileKey } from "../table";
import { itemKeyShape } from "./key";

/** Status of a user in the directory: only an `active` user may call the API. */
export const userStatusSchema = /* @__PURE__ */ (() => z.enum(["active", "disabled"]))();
export type UserStatus = z.infer<typeof userStatusSchema>;

/**
 * A user as the table keeps one wherever a user is named (the public part of a profile item,
 * the members of a message group item) and as the API shows one: `uuid` is the Cognito `sub`.
 */
export const userProfileSchema = /* @__PURE__ */ (() =>
  z.object({
    uuid: z.string(),
    /** As its owner wrote it; unique without regard to case (see `shared/items/handle.ts`). */
    handle: z.string(),
    display_name: z.string(),
  }))();
export type UserProfile = z.infer<typeof userProfileSchema>;

/** A profile item as stored. `created_at`/`updated_at` are table timestamps (`shared/time.ts`). */
export const profileItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    ...userProfileSchema.shape,
    status: userStatusSchema,
    created_at: z.string(),
    updated_at: z.string(),
  }))();
export type ProfileItem = z.infer<typeof profileItemSchema>;

/**
 * The profile item of a new user.
 * @param user uuid = Cognito `sub`; handle and display name already checked by the identity rules.
 * @param at table timestamp of the write (both `created_at` and `updated_at`).
 */
export function profileItem(user: UserProfile & { status: UserStatus }, at: string): ProfileItem {
  return {
    ...profileKey(user.uuid),
    uuid: user.uuid,
    handle: user.handle,
    display_name: user.display_name,
    status: user.status,
    created_at: at,
    updated_at: at,
  };
}
