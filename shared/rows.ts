/**
 * @deprecated Transitional: the item builders live in `shared/items/` (one module per item kind)
 * and the view builders in `shared/model.ts`. This module remains only because `shared/seed.ts`
 * (rewritten by the seeding change in another branch) still imports it; delete it when that
 * file imports `messageItem` from `./items/message`, `summaryItems` from
 * `./items/message-group-summary` and `messageGroupItem` from `./items/message-group`.
 */
import type { MessageItem } from "./items/message";
import { type MessageGroupItem, messageGroupItem } from "./items/message-group";
import type { UserProfile } from "./items/profile";

export { messageItem } from "./items/message";
export { summaryItems } from "./items/message-group-summary";

/**
 * @deprecated Use `messageGroupItem({ messageGroupUuid, members, shown, createdAt })` of
 * `shared/items/message-group.ts`: `first` was always the message the summaries show (the newest),
 * and the group's `created_at` is the caller's to say (commit f13fa8d).
 */
export function groupItem(input: {
  messageGroupUuid: string;
  members: readonly UserProfile[];
  first: MessageItem;
}): MessageGroupItem {
  return messageGroupItem({
    messageGroupUuid: input.messageGroupUuid,
    members: input.members,
    shown: input.first,
    createdAt: input.first.created_at,
  });
}
