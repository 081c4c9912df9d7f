/**
 * The operator's views of patterns A and B: a conversation's messages and a user's message
 * groups. Both go through the domain (`listMessages`, `listMessageGroups` of shared/messages.ts),
 * so paging, order and cursors are exactly the API's: a cursor printed here is an API
 * `x-next-cursor` and the other way round. Data only: `format.ts` renders the pages
 * (`messageLines`, `messageGroupLines`).
 */
import { AppError } from "../../shared/errors";
import { UUID_PATTERN } from "../../shared/ids";
import type { MessageGroupItem } from "../../shared/items/message-group";
import { getMessageGroup, listMessageGroups, listMessages, type MessagingDeps } from "../../shared/messages";
import type { MessageGroupView, MessageView, Page, UserProfile } from "../../shared/model";
import { OpsError, UsageError } from "./ops-errors";

/** The domain's dependencies for reads: the DocumentClient (`ddb`) and the table. */
export type ReadDeps = Pick<MessagingDeps, "ddb" | "tableName">;

/** Which page: the newest (`before` and `page` absent), the one after a cursor, or the N-th. */
export interface PageChoice {
  /** Rows per page. */
  limit: number;
  /** Cursor printed by the previous page (or an API `x-next-cursor`). */
  before?: string | undefined;
  /** 1 = newest page; N walks N-1 cursors back. */
  page?: number | undefined;
}

/** One page and the cursor of the next older one. */
export interface PageResult<T> {
  items: T[];
  /** Pass as `--before` for the next older page; undefined on the oldest page. */
  cursor: string | undefined;
  /** The page number when `page` was asked for. */
  page: number | undefined;
}

/**
 * Fetches the chosen page with `fetch` (one domain query per page walked).
 * @throws UsageError when both `before` and `page` are given.
 * @throws OpsError when `page` is beyond the oldest page, or the cursor is not one of this query.
 */
async function choosePage<T>(
  choice: PageChoice,
  fetch: (cursor: string | undefined) => Promise<Page<T>>,
  cursorHint: string,
): Promise<PageResult<T>> {
  if (choice.before !== undefined && choice.page !== undefined)
    throw new UsageError("give --before or --page, not both");
  try {
    if (choice.page === undefined) {
      const { items, cursor } = await fetch(choice.before);
      return { items, cursor, page: undefined };
    }
    let current = await fetch(undefined);
    for (let n = 2; n <= choice.page; n++) {
      if (current.cursor === undefined) {
        throw new OpsError(`there ${n - 1 === 1 ? "is only 1 page" : `are only ${n - 1} pages`} of ${choice.limit}`);
      }
      current = await fetch(current.cursor);
    }
    return { ...current, page: choice.page };
  } catch (error) {
    if (error instanceof AppError && error.codes.includes("cursor_invalid")) {
      throw new OpsError("the --before cursor is not one of this query", cursorHint);
    }
    throw error;
  }
}

/** A conversation page: the group item and its messages, oldest first. */
export interface ConversationPage extends PageResult<MessageView> {
  group: MessageGroupItem;
}

/**
 * Pattern A for an operator: the newest `limit` messages of a group (or an older page), oldest
 * first. The domain's `listMessages` checks membership; an operator is no member, so the group
 * item is read first (strongly consistent) and its first member stands in as the caller.
 * @throws UsageError when `messageGroupUuid` is not a uuid; OpsError when the group does not exist.
 */
export async function getConversation(
  deps: ReadDeps,
  messageGroupUuid: string,
  choice: PageChoice,
): Promise<ConversationPage> {
  if (!UUID_PATTERN.test(messageGroupUuid)) {
    throw new UsageError(`"${messageGroupUuid}" is not a message_group_uuid (a lowercase uuid)`);
  }
  const group = await getMessageGroup(deps, messageGroupUuid);
  const member = group?.members[0];
  if (group === undefined || member === undefined) {
    throw new OpsError(
      `no message group ${messageGroupUuid} in table ${deps.tableName}`,
      "find a user's groups with `npm run ddb -- list-conversations <handle>`",
    );
  }
  const page = await choosePage(
    choice,
    (cursor) => listMessages(deps, member.uuid, messageGroupUuid, { limit: choice.limit, cursor }),
    "use the cursor printed under the previous page of this conversation",
  );
  return { ...page, group };
}

/**
 * Pattern B for an operator: `user`'s message groups, most recent activity first.
 * @throws OpsError when the cursor is not one of this user's list.
 */
export async function listConversations(
  deps: ReadDeps,
  user: UserProfile,
  choice: PageChoice,
): Promise<PageResult<MessageGroupView>> {
  return choosePage(
    choice,
    (cursor) => listMessageGroups(deps, user.uuid, { limit: choice.limit, cursor }),
    "use the cursor printed under the previous page of this user's list",
  );
}
