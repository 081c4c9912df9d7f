/** GET /api/messages/{message_group_uuid} (pattern A): one page of a group's messages, oldest first. */
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { listMessages } from "../shared/messages";
import { createUserDirectory } from "../shared/users";
import { parseMessageGroupUuidParam, parsePageRequest } from "../shared/validation";

const config = loadConfig();
const ddb = createDocumentClient(config);
const users = createUserDirectory({ ddb, tableName: config.tableName }, { ttlMs: config.userCacheTtlMs });
const deps = { ddb, tableName: config.tableName };

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const messageGroupUuid = parseMessageGroupUuidParam(event.pathParameters?.message_group_uuid);
  logger.appendKeys({ message_group_uuid: messageGroupUuid });
  const page = parsePageRequest(event.queryStringParameters);
  const caller = await users.caller(claims);
  return pageResponse(await listMessages(deps, caller.uuid, messageGroupUuid, page));
});
