/** GET /api/messages/{message_group_uuid} (pattern A): one page of a group's messages, oldest first. */
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { listMessages } from "../shared/messages";
import { createRouteDeps, readAsCaller } from "../shared/users";
import { parseMessageGroupUuidParam, parsePageRequest } from "../shared/validation";

const deps = createRouteDeps(loadConfig());
const { users } = deps;

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const messageGroupUuid = parseMessageGroupUuidParam(event.pathParameters?.message_group_uuid);
  logger.appendKeys({ message_group_uuid: messageGroupUuid });
  const page = parsePageRequest(event.queryStringParameters);
  const { result } = await readAsCaller(users, claims, (callerUuid) =>
    listMessages(deps, callerUuid, messageGroupUuid, page),
  );
  return pageResponse(result);
});
