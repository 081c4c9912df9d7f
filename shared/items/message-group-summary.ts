/**
 * GRP row (message group summary): one per member per group, what pattern B lists. The fan-out
 * (pattern E) recreates both of a group's rows under a new sort key for each newer message; a
 * rename rewrites their names in place (`shared/renames.ts`).
 *
 * Key (`shared/table.ts` {@link grpPk}, {@link grpSk}): pk `GRP#<owner user uuid>`, sk
 * `<last_message_at>#<message_group_uuid>`. Only GRP rows carry `message_group_uuid`, so the GSI
 * is sparse. The schema is built inside a `@__PURE__` call (see `shared/items/profile.ts`).
 */
import * as z from "zod/mini";
import { grpPk, grpSk } from "../table";
import { itemKeyShape } from "./key";
import type { MessageItem } from "./message";
import type { UserProfile } from "./profile";

/**
 * A GRP row as stored. `user_*` describe the OTHER member; `message`, `last_message_at` and
 * `last_message_uuid` are the message its group item shows (`last_message_sk`).
 */
export const messageGroupSummaryItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    message_group_uuid: z.string(),
    user_uuid: z.string(),
    user_handle: z.string(),
    user_display_name: z.string(),
    message: z.string(),
    last_message_at: z.string(),
    last_message_uuid: z.string(),
  }))();
export type MessageGroupSummaryItem = z.infer<typeof messageGroupSummaryItemSchema>;

/**
 * The two GRP rows of a group that show the message `shown` (its newest): one per member, each
 * describing the OTHER member.
 * @param members exactly the two members of the group.
 */
export function summaryItems(
  messageGroupUuid: string,
  members: readonly UserProfile[],
  shown: Pick<MessageItem, "message_uuid" | "message" | "created_at">,
): MessageGroupSummaryItem[] {
  return members.map((owner) => {
    const other = members.find((m) => m.uuid !== owner.uuid) ?? owner;
    return {
      pk: grpPk(owner.uuid),
      sk: grpSk(shown.created_at, messageGroupUuid),
      message_group_uuid: messageGroupUuid,
      user_uuid: other.uuid,
      user_handle: other.handle,
      user_display_name: other.display_name,
      message: shown.message,
      last_message_at: shown.created_at,
      last_message_uuid: shown.message_uuid,
    };
  });
}
