/**
 * POST /api/messages as a whole (patterns C and D with the conversation controls): a post is
 * refused, before anything is written, when either user blocks the other (403, `shared/blocks.ts`)
 * or the sender is over a send limit (429, `shared/send-limits.ts`); once written, the sender's own
 * read marker moves to the new message (posting marks the sender's side read).
 */
import { assertMayMessage } from "./blocks";
import type { SendLimitSettings } from "./config";
import type { UserProfile } from "./items/profile";
import { type MessagingDeps, postToGroup, postToHandle } from "./messages";
import type { CreatedMessageView } from "./model";
import { moveReadMarker } from "./read-markers";
import { readSendLimits, spendSendLimit } from "./send-limits";
import { msgSk } from "./table";
import type { UserDirectory } from "./users";
import type { CreateMessageRequest } from "./validation";

export interface SendDeps extends MessagingDeps {
  users: UserDirectory;
  sendLimits: SendLimitSettings;
  /** Told when the sender's read marker could not be moved after a post that was written. */
  onMarkerError?: (error: unknown) => void;
}

/** A written post and the headers its answer carries (the RateLimit fields). */
export interface SendResult {
  message: CreatedMessageView;
  headers: Record<string, string>;
}

/**
 * Posts a validated request as `sender`.
 * @throws AppError 403 `["cannot_message_user"]`, 429 `["rate_limited"]` (with `retry-after` and
 *   the RateLimit fields), and those of `postToGroup` / `postToHandle` (404, 422, 401); nothing
 *   is written on any of them.
 */
export async function sendMessage(
  deps: SendDeps,
  sender: UserProfile,
  request: CreateMessageRequest,
): Promise<SendResult> {
  let headers: Record<string, string> = {};
  let otherUuid = sender.uuid;
  const admit = async (target: { otherUuid: string; newGroup: boolean }) => {
    otherUuid = target.otherUuid;
    // The limits are read side by side with the blocks (one round trip less per post); they are
    // spent only once the blocks allow the post, so a refused post still writes nothing.
    const [blocks, read] = await Promise.allSettled([
      assertMayMessage(deps, sender.uuid, target.otherUuid),
      readSendLimits(deps, sender.uuid),
    ]);
    if (blocks.status === "rejected") throw blocks.reason;
    if (read.status === "rejected") throw read.reason;
    headers = await spendSendLimit(deps, sender.uuid, { newGroup: target.newGroup, read: read.value });
  };
  const gated = { ...deps, admit };
  const message =
    request.kind === "to_group"
      ? await postToGroup(gated, sender, request.message_group_uuid, request.message)
      : await postToHandle(gated, sender, request.handle, request.message);
  try {
    await moveReadMarker(deps, {
      messageGroupUuid: message.message_group_uuid,
      userUuid: sender.uuid,
      otherUserUuid: otherUuid,
      message: {
        sk: msgSk(message.created_at, message.uuid),
        created_at: message.created_at,
        message_uuid: message.uuid,
      },
    });
  } catch (error) {
    // The message is written: failing the request now would make the client post it again. The
    // marker catches up on the sender's next read or post.
    deps.onMarkerError?.(error);
  }
  return { message, headers };
}
