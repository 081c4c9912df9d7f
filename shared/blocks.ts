/**
 * Blocking (issue "Conversation controls"): while A blocks B, neither may post to the other, by
 * group (pattern C) or by handle (pattern D); messages already written stay readable. A block is
 * one item (`shared/items/block.ts`) read strongly consistent on every post, with no cache, so it
 * takes effect on the next request.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { batchGetAll } from "./batch-get";
import { AppError, notFound, unprocessable } from "./errors";
import { type BlockItem, blockItem } from "./items/block";
import type { UserProfile } from "./items/profile";
import { queryPage } from "./messages";
import type { Page } from "./model";
import { BLOCK_SK_PREFIX, blockKey, userPk } from "./table";
import { type Clock, systemClock, toTimestamp } from "./time";
import type { UserDirectory } from "./users";
import type { PageRequest } from "./validation";

export interface BlockDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  users: UserDirectory;
  clock?: Clock;
}

/** A blocked user as the API shows one. */
export interface BlockView {
  uuid: string;
  handle: string;
  display_name: string;
  /** When the block was made (table timestamp). */
  blocked_at: string;
}

/** 403: posting between two users one of whom blocks the other. */
export const cannotMessageUser = (): AppError => new AppError(403, ["cannot_message_user"]);

/** The user a block route names, never the caller. */
async function blockTarget(deps: BlockDeps, caller: UserProfile, handle: string): Promise<UserProfile> {
  const target = await deps.users.byHandle(handle, { fresh: true });
  if (target === undefined) throw notFound("handle_not_found");
  if (target.uuid === caller.uuid) throw unprocessable("cannot_block_self");
  return target;
}

/** The view of a block, naming the blocked user as the directory names them now. */
function toBlockView(item: BlockItem, now: UserProfile | undefined): BlockView {
  return {
    uuid: item.blocked_uuid,
    handle: now?.handle ?? item.blocked_handle,
    display_name: now?.display_name ?? item.blocked_display_name,
    blocked_at: item.blocked_at,
  };
}

/**
 * POST /api/users/@{handle}/block: `caller` blocks the user of `handle`. Blocking again changes
 * nothing (the first `blocked_at` stays).
 * @throws AppError 404 `["handle_not_found"]`; 422 `["cannot_block_self"]`.
 */
export async function blockUser(deps: BlockDeps, caller: UserProfile, handle: string): Promise<BlockView> {
  const target = await blockTarget(deps, caller, handle);
  const item = blockItem(caller.uuid, target, toTimestamp((deps.clock ?? systemClock)()));
  try {
    await deps.ddb.send(
      new PutCommand({ TableName: deps.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
    );
    return toBlockView(item, target);
  } catch (error) {
    if (!(error instanceof Error) || error.name !== "ConditionalCheckFailedException") throw error;
    const out = await deps.ddb.send(
      new GetCommand({ TableName: deps.tableName, Key: blockKey(caller.uuid, target.uuid), ConsistentRead: true }),
    );
    return toBlockView((out.Item as BlockItem | undefined) ?? item, target);
  }
}

/**
 * DELETE /api/users/@{handle}/block: `caller` unblocks the user of `handle` (nothing to do when
 * there is no block).
 * @throws AppError 404 `["handle_not_found"]`; 422 `["cannot_block_self"]`.
 */
export async function unblockUser(deps: BlockDeps, caller: UserProfile, handle: string): Promise<void> {
  const target = await blockTarget(deps, caller, handle);
  await deps.ddb.send(new DeleteCommand({ TableName: deps.tableName, Key: blockKey(caller.uuid, target.uuid) }));
}

/**
 * GET /api/users/me/blocks: one page of the users `callerUuid` blocks, in the order of their uuid
 * (the sort key), each named as the directory names them now (or as when blocked, for a user
 * with no active profile).
 * @throws AppError 400 `["cursor_invalid"]` for a cursor not made by this query for this caller.
 */
export async function listBlocks(deps: BlockDeps, callerUuid: string, page: PageRequest): Promise<Page<BlockView>> {
  const { rows, cursor } = await queryPage<BlockItem>(
    deps,
    {
      pk: userPk(callerUuid),
      scope: `blocks:${callerUuid}`,
      isValidSk: (sk) => sk.startsWith(BLOCK_SK_PREFIX),
      skPrefix: BLOCK_SK_PREFIX,
      oldestFirst: true,
    },
    page,
  );
  const profiles = await Promise.all(rows.map((r) => deps.users.profile(r.blocked_uuid)));
  return { items: rows.map((r, i) => toBlockView(r, profiles[i])), cursor };
}

/**
 * Refuses a post between `senderUuid` and `otherUuid` when either blocks the other: one
 * BatchGetItem of both directions, strongly consistent (a block counts from the next request).
 * @throws AppError 403 `["cannot_message_user"]`.
 */
export async function assertMayMessage(
  deps: Pick<BlockDeps, "ddb" | "tableName">,
  senderUuid: string,
  otherUuid: string,
): Promise<void> {
  const keys = [blockKey(senderUuid, otherUuid), blockKey(otherUuid, senderUuid)];
  const found = await batchGetAll(deps.ddb, deps.tableName, keys, { consistentRead: true });
  if (found.length > 0) throw cannotMessageUser();
}
