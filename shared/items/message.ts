/**
 * MSG row: one message of a group, written once (patterns C and D, seeding) and never moved.
 * Its INSERT in the stream is what the fan-out (pattern E) reads, with {@link messageItemSchema}.
 *
 * Key (`shared/table.ts` {@link msgPk}, {@link msgSk}): pk `MSG#<message_group_uuid>`, sk
 * `<created_at>#<message_uuid>`, so a group's messages are in time order and two of one
 * millisecond stay apart. The schema is built inside a `@__PURE__` call (see
 * `shared/items/profile.ts` for why).
 */
import * as z from "zod/mini";
import { msgPk, msgSk } from "../table";
import { isTimestamp } from "../time";
import { itemKeyShape } from "./key";
import type { UserProfile } from "./profile";

/**
 * A MSG row as stored. `user_*` describe the sender as named when the row was written;
 * `created_at` is a table timestamp (`shared/time.ts`).
 */
export const messageItemSchema = /* @__PURE__ */ (() =>
  z.object({
    ...itemKeyShape,
    message_uuid: z.string().check(z.minLength(1)),
    user_uuid: z.string().check(z.minLength(1)),
    user_handle: z.string(),
    user_display_name: z.string(),
    message: z.string(),
    created_at: z.string().check(z.refine(isTimestamp)),
  }))();
export type MessageItem = z.infer<typeof messageItemSchema>;

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
