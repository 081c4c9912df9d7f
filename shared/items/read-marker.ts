/**
 * Read marker: one per member per message group, how far that member has read (DESIGN.md
 * "unread count / read marker / read receipt"). The other member's marker is the read receipt.
 * It only moves forward (`shared/read-markers.ts`), and every move is an INSERT or MODIFY on the
 * stream that the publish function turns into a `message_group.read` event for the other member.
 *
 * Key (`shared/table.ts` {@link readMarkerKey}): pk `READ#<message_group_uuid>`, sk
 * `<member user uuid>`. Like the group item, it has no `message_group_uuid` attribute, so the
 * GSI stays sparse; `other_user_uuid` names who receives the event, so the publish function
 * builds it from the record alone.
 */
import * as z from "zod/mini";
import { readMarkerKey } from "../table";
import { itemKeyShape } from "./key";
import type { MessageItem } from "./message";

/**
 * A read marker as stored: `last_read_sk` is the sort key of the MSG row read up to (so "after
 * the marker" is a key condition), `last_read_at`/`last_read_message_uuid` that message's
 * created_at and uuid, `updated_at` when it last moved.
 */
export const readMarkerItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    user_uuid: z.string(),
    other_user_uuid: z.string(),
    last_read_sk: z.string(),
    last_read_at: z.string(),
    last_read_message_uuid: z.string(),
    updated_at: z.string(),
  }))();
export type ReadMarkerItem = z.infer<typeof readMarkerItemSchema>;

/** The marker of `userUuid` in a group, read up to `message` (a MSG row of that group). */
export function readMarkerItem(input: {
  messageGroupUuid: string;
  userUuid: string;
  otherUserUuid: string;
  message: Pick<MessageItem, "sk" | "created_at" | "message_uuid">;
  updatedAt: string;
}): ReadMarkerItem {
  return {
    ...readMarkerKey(input.messageGroupUuid, input.userUuid),
    user_uuid: input.userUuid,
    other_user_uuid: input.otherUserUuid,
    last_read_sk: input.message.sk,
    last_read_at: input.message.created_at,
    last_read_message_uuid: input.message.message_uuid,
    updated_at: input.updatedAt,
  };
}
