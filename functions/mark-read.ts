/**
 * POST /api/message_groups/{message_group_uuid}/read: moves the caller's read marker forward to
 * `{"message_uuid"}` (default: the newest message); answers `{message_group_uuid, last_read_at,
 * unread_count}`. Members only: 404 as pattern A for anyone else.
 */
import { loadConfig } from "../shared/config";
import { bodyText, callerClaims, httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { markGroupRead } from "../shared/messages";
import { createRouteDeps } from "../shared/users";
import { parseMarkRead, parseMessageGroupUuidParam } from "../shared/validation";

const deps = createRouteDeps(loadConfig());
const { users } = deps;

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const messageGroupUuid = parseMessageGroupUuidParam(event.pathParameters?.message_group_uuid);
  logger.appendKeys({ message_group_uuid: messageGroupUuid });
  const request = parseMarkRead(bodyText(event));
  const caller = await users.caller(claims);
  return json(200, await markGroupRead(deps, caller.uuid, messageGroupUuid, request.message_uuid));
});
