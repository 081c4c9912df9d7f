/**
 * Pure builders of the rows (keys from `shared/table.ts`) and of the API views of rows.
 * No I/O: every pattern and the seeding build their items here, so an item has one shape.
 */
import type {
  CreatedMessageView,
  MessageGroupItem,
  MessageGroupSummaryItem,
  MessageGroupView,
  MessageItem,
  MessageView,
  UserProfile,
} from "./model";
import { grpPk, grpSk, messageGroupKey, msgPk, msgSk } from "./table";

/** A MSG row for a message `text` sent by `sender` at `createdAt` (table timestamp). */
export function messageItem(input: {
  messageGroupUuid: string;
  messageUuid: string;
  sender: UserProfile;
  text: string;
  createdAt: string;
}): MessageItem {
  return {
    pk: msgPk(input.messageGroupUuid),
    sk: msgSk(input.createdAt, input.messageUuid),
    message_uuid: input.messageUuid,
    user_uuid: input.sender.uuid,
    user_handle: input.sender.handle,
    user_display_name: input.sender.display_name,
    message: input.text,
    created_at: input.createdAt,
  };
}

/**
 * The two GRP rows of a group whose newest message is `last`: one per member, each showing
 * the OTHER member. @param members exactly the two members of the group.
 */
export function summaryItems(
  messageGroupUuid: string,
  members: readonly UserProfile[],
  last: Pick<MessageItem, "message_uuid" | "message" | "created_at">,
): MessageGroupSummaryItem[] {
  return members.map((owner) => {
    const other = members.find((m) => m.uuid !== owner.uuid) ?? owner;
    return {
      pk: grpPk(owner.uuid),
      sk: grpSk(last.created_at, messageGroupUuid),
      message_group_uuid: messageGroupUuid,
      user_uuid: other.uuid,
      user_handle: other.handle,
      user_display_name: other.display_name,
      message: last.message,
      last_message_at: last.created_at,
      last_message_uuid: last.message_uuid,
    };
  });
}

/** The message group item of a new group whose first (or, when seeding, newest) message is `first`. */
export function groupItem(input: {
  messageGroupUuid: string;
  members: readonly UserProfile[];
  first: MessageItem;
}): MessageGroupItem {
  return {
    ...messageGroupKey(input.messageGroupUuid),
    members: input.members.map((m) => ({ uuid: m.uuid, handle: m.handle, display_name: m.display_name })),
    created_at: input.first.created_at,
    last_message_sk: input.first.sk,
    last_message_uuid: input.first.message_uuid,
    last_message_at: input.first.created_at,
    last_message: input.first.message,
    last_message_user_uuid: input.first.user_uuid,
  };
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
