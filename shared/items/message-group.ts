/**
 * Message group item: one per group, the members of a group and the message its GRP rows show.
 * Read with a strongly consistent GetItem, it is the authority for membership (patterns A and C)
 * and the optimistic-lock point of the fan-out (pattern E) and of renames: `last_message_sk` only
 * moves forward, in the same transaction that moves the GRP rows.
 *
 * Key (`shared/table.ts` {@link messageGroupKey}): pk `MG#<message_group_uuid>`, sk `MG`. It has
 * no `message_group_uuid` attribute, so the GSI stays sparse. The schema is built inside a
 * `@__PURE__` call (see `shared/items/profile.ts`).
 */
import * as z from "zod/mini";
import { messageGroupKey } from "../table";
import { itemKeyShape } from "./key";
import type { MessageItem } from "./message";
import { type UserProfile, userProfileSchema } from "./profile";

/**
 * A message group item as stored. `members` name both members as they are named now (renames
 * keep them current); `last_message_*` describe the message the GRP rows show, `last_message_sk`
 * being that MSG row's sort key. `created_at` is when the group began (table timestamp).
 *
 * While the fan-out moves the GRP rows (pattern E, `shared/fan-out.ts`), the item also says what the
 * move still owes: `summaries_pending` (epoch ms the move began; present until its rows are written
 * and the replaced ones deleted), `replaced_message_at` (the `last_message_at` of the rows it
 * replaces), `stale_summary_sks` (GRP sort keys of both members whose rows may still exist and
 * are deleted by the next move that finds them) and `unfinished_moves` (`"<epoch ms> <GRP sk>"` of
 * moves that another move took over while they may still be writing).
 */
export const messageGroupItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    members: z.array(userProfileSchema),
    created_at: z.string(),
    last_message_sk: z.string(),
    last_message_uuid: z.string(),
    last_message_at: z.string(),
    last_message: z.string(),
    last_message_user_uuid: z.string(),
    // The fan-out's bookkeeping of a summary move in progress (shared/fan-out.ts); absent when none.
    summaries_pending: z.optional(z.number()),
    replaced_message_at: z.optional(z.string()),
    stale_summary_sks: z.optional(z.set(z.string())),
    unfinished_moves: z.optional(z.set(z.string())),
  }))();
export type MessageGroupItem = z.infer<typeof messageGroupItemSchema>;

/**
 * The message group item of a new group.
 * @param input.members the two members (only their uuid, handle and display name are kept).
 * @param input.shown the message its GRP rows show: the group's newest (pattern D: its first
 *   and only one; seeding: the last of the history).
 * @param input.createdAt when the group began, table timestamp: pattern D, `shown.created_at`;
 *   seeding, its oldest message's.
 */
export function messageGroupItem(input: {
  messageGroupUuid: string;
  members: readonly UserProfile[];
  shown: MessageItem;
  createdAt: string;
}): MessageGroupItem {
  return {
    ...messageGroupKey(input.messageGroupUuid),
    members: input.members.map((m) => ({ uuid: m.uuid, handle: m.handle, display_name: m.display_name })),
    created_at: input.createdAt,
    last_message_sk: input.shown.sk,
    last_message_uuid: input.shown.message_uuid,
    last_message_at: input.shown.created_at,
    last_message: input.shown.message,
    last_message_user_uuid: input.shown.user_uuid,
  };
}
