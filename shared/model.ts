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

/** A message as the API answers it: `uuid` is the message_uuid; handle/display_name are the sender. */
export interface MessageView {
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

/** A message group as the API lists it: `uuid` is the message_group_uuid; handle/display_name are the OTHER member. */
export interface MessageGroupView {
  uuid: string;
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
