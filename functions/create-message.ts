/**
 * POST /api/messages: `{message, message_group_uuid}` posts to an existing group (pattern C),
 * `{message, handle}` to the conversation with that user, created if needed (pattern D).
 */
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { bodyText, callerClaims, httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { postToGroup, postToHandle } from "../shared/messages";
import { createUserDirectory } from "../shared/users";
import { parseCreateMessage } from "../shared/validation";

const config = loadConfig();
const ddb = createDocumentClient(config);
const users = createUserDirectory({ ddb, tableName: config.tableName }, { ttlMs: config.userCacheTtlMs });
const deps = { ddb, tableName: config.tableName, users };

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const request = parseCreateMessage(bodyText(event));
  const sender = await users.caller(claims);
  const created =
    request.kind === "to_group"
      ? await postToGroup(deps, sender, request.message_group_uuid, request.message)
      : await postToHandle(deps, sender, request.handle, request.message);
  logger.appendKeys({ message_group_uuid: created.message_group_uuid });
  return json(200, created);
});
