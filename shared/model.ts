/**
 * The shapes the HTTP API answers with (DESIGN.md "HTTP API"), and their builders from the
 * items. The items themselves (what the table stores) are described in `shared/items/`, one
 * module per item kind: schema, inferred type, builder.
 */
import type { MessageItem } from "./items/message";
import type { MessageGroupSummaryItem } from "./items/message-group-summary";
import type { UserProfile } from "./items/profile";

/**
 * A user as the API shows one (GET /api/users/@{handle}/short and wherever a user is named): the
 * profile item's public part, described once by `userProfileSchema` of `shared/items/profile.ts`.
 */
export type { UserProfile };

/**
 * The shape patterns A and B answer alike (DESIGN.md "HTTP API"): an id, a user (uuid, handle,
 * display name), a text and its time. What each field names depends on the list: see
 * {@link MessageView} and {@link MessageGroupView}.
 */
interface ListedItemView {
  uuid: string;
  user_uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: string;
}

/**
 * A message as the API answers it: `uuid` is the message_uuid; handle/display_name are the
 * sender's, `user_uuid` the sender's uuid (an extra field: tells look-alike names apart).
 */
export type MessageView = ListedItemView;

/**
 * A message group as the API lists it: `uuid` is the message_group_uuid; handle/display_name
 * and `user_uuid` (an extra field) are the OTHER member's; `message` and `created_at` are the
 * last message's.
 */
export type MessageGroupView = ListedItemView;

/** What POST /api/messages answers (patterns C and D). */
export interface CreatedMessageView extends MessageView {
  message_group_uuid: string;
}

/** One page of a list: `items` in the order the API answers, `cursor` for the next older page. */
export interface Page<T> {
  items: T[];
  cursor: string | undefined;
}

/**
 * API view of a MSG row (handle/display_name are the sender). A MSG row keeps the sender's
 * names as they were when it was written; pass the group's `members` (the message group item,
 * kept current by renames) to show the sender as they are named now.
 */
export function toMessageView(item: MessageItem, members?: readonly UserProfile[]): MessageView {
  const sender = members?.find((m) => m.uuid === item.user_uuid);
  return {
    uuid: item.message_uuid,
    user_uuid: item.user_uuid,
    display_name: sender?.display_name ?? item.user_display_name,
    handle: sender?.handle ?? item.user_handle,
    message: item.message,
    created_at: item.created_at,
  };
}

/** API view of a MSG row just created in a group (POST /api/messages). */
export function toCreatedMessageView(messageGroupUuid: string, item: MessageItem): CreatedMessageView {
  return { message_group_uuid: messageGroupUuid, ...toMessageView(item) };
}

/** API view of a GRP row (handle/display_name are the OTHER member). */
export function toMessageGroupView(item: MessageGroupSummaryItem): MessageGroupView {
  return {
    uuid: item.message_group_uuid,
    user_uuid: item.user_uuid,
    display_name: item.user_display_name,
    handle: item.user_handle,
    message: item.message,
    created_at: item.last_message_at,
  };
}
