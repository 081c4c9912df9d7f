/**
 * Domain types: the rows as stored (see `shared/table.ts` for their keys) and the shapes the
 * HTTP API answers with (DESIGN.md "HTTP API").
 */

/** A user as the API shows one. `uuid` is the Cognito `sub`. */
export interface UserProfile {
  uuid: string;
  handle: string;
  display_name: string;
}

/** A MSG row: one message of a group. `created_at` is a table timestamp (`shared/time.ts`). */
export interface MessageItem {
  pk: string;
  sk: string;
  message_uuid: string;
  user_uuid: string;
  user_handle: string;
  user_display_name: string;
  message: string;
  created_at: string;
}

/**
 * A GRP row: one member's summary of one group. `user_*` describe the OTHER member;
 * `message`/`last_message_at` are the group's newest message.
 */
export interface MessageGroupSummaryItem {
  pk: string;
  sk: string;
  message_group_uuid: string;
  user_uuid: string;
  user_handle: string;
  user_display_name: string;
  message: string;
  last_message_at: string;
  last_message_uuid: string;
}

/**
 * The message group item: the members of a group and the newest message its GRP rows show.
 * Read with a strongly consistent GetItem, it is the authority for membership (patterns A and
 * C) and the optimistic-lock point of the fan-out (pattern E): `last_message_sk` only moves
 * forward, in the same transaction that moves the GRP rows.
 */
export interface MessageGroupItem {
  pk: string;
  sk: string;
  members: UserProfile[];
  created_at: string;
  last_message_sk: string;
  last_message_uuid: string;
  last_message_at: string;
  last_message: string;
  last_message_user_uuid: string;
}

/** Status of a user in the directory: only an `active` user may call the API. */
export type UserStatus = "active" | "disabled";

/**
 * A profile item of the user directory (`shared/directory.ts`): the one source of a user's
 * handle and display name after sign-up. Written only by our code (the post-confirmation
 * trigger, PATCH /api/users/me, the operator commands), never from Cognito attributes later.
 */
export interface ProfileItem {
  pk: string;
  sk: string;
  uuid: string;
  /** As its owner wrote it; unique without regard to case (see {@link HandleItem}). */
  handle: string;
  display_name: string;
  status: UserStatus;
  created_at: string;
  updated_at: string;
}

/**
 * A handle item: who owns a handle. Keyed by the canonical (lower-case) handle, so `Bob` and
 * `bob` are one item and cannot have two owners.
 * - `owned`: `user_uuid` owns it; no `expires_at`.
 * - `pending`: claimed by a sign-up (Cognito `username`) not yet confirmed; free again after
 *   `expires_at`.
 * - `reserved`: its owner `user_uuid` left it (renamed); only they may take it back until
 *   `expires_at`.
 */
export interface HandleItem {
  pk: string;
  sk: string;
  /** The handle as its owner wrote it. */
  handle: string;
  state: "owned" | "pending" | "reserved";
  /** Owner (owned, reserved); absent while pending. */
  user_uuid?: string;
  /** Cognito username of the sign-up that claimed it (pending). */
  pending_username?: string;
  /** Epoch seconds (the table's TTL attribute); pending and reserved only. */
  expires_at?: number;
  updated_at: string;
}

/**
 * A message as the API answers it: `uuid` is the message_uuid; handle/display_name are the
 * sender's, `user_uuid` the sender's uuid (an extra field: tells look-alike names apart).
 */
export interface MessageView {
  uuid: string;
  user_uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

/**
 * A message group as the API lists it: `uuid` is the message_group_uuid; handle/display_name
 * and `user_uuid` (an extra field) are the OTHER member's.
 */
export interface MessageGroupView {
  uuid: string;
  user_uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

/** What POST /api/messages answers (patterns C and D). */
export interface CreatedMessageView extends MessageView {
  message_group_uuid: string;
}

/** One page of a list: `items` in the order the API answers, `cursor` for the next older page. */
export interface Page<T> {
  items: T[];
  cursor: string | undefined;
}
