/**
 * POST /api/messages: `{message, message_group_uuid}` posts to an existing group (pattern C),
 * `{message, handle}` to the conversation with that user, created if needed (pattern D).
 */
import { loadConfig } from "../shared/config";
import { bodyText, callerClaims, httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { postToGroup, postToHandle } from "../shared/messages";
import { createRouteDeps } from "../shared/users";
import { parseCreateMessage } from "../shared/validation";

const deps = createRouteDeps(loadConfig());
const { users } = deps;

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
