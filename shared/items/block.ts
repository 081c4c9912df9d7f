/**
 * Block: one per (blocker, blocked) pair. While it exists neither user may post to the other
 * (`shared/blocks.ts`); messages already written stay readable.
 *
 * Key (`shared/table.ts` {@link blockKey}): pk `USER#<blocker uuid>`, sk `BLOCK#<blocked uuid>`,
 * so a user's blocks are one Query and a post checks both directions with one BatchGetItem.
 * `blocked_handle` and `blocked_display_name` are the blocked user's names when the block was
 * made, shown only when that user has no active profile any more (renames are read from the
 * directory).
 */
import { blockKey } from "../table";
import type { UserProfile } from "./profile";

export interface BlockItem {
  pk: string;
  sk: string;
  blocker_uuid: string;
  blocked_uuid: string;
  blocked_handle: string;
  blocked_display_name: string;
  /** When the block was made (table timestamp). */
  blocked_at: string;
}

/** The block of `blocked` by `blockerUuid`, made at `blockedAt` (table timestamp). */
export function blockItem(blockerUuid: string, blocked: UserProfile, blockedAt: string): BlockItem {
  return {
    ...blockKey(blockerUuid, blocked.uuid),
    blocker_uuid: blockerUuid,
    blocked_uuid: blocked.uuid,
    blocked_handle: blocked.handle,
    blocked_display_name: blocked.display_name,
    blocked_at: blockedAt,
  };
}
