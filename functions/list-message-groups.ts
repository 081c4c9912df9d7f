/** GET /api/message_groups (pattern B): the caller's message groups, most recent first, paged. */
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { listMessageGroups } from "../shared/messages";
import { createUserDirectory } from "../shared/users";
import { parsePageRequest } from "../shared/validation";

const config = loadConfig();
const ddb = createDocumentClient(config);
const users = createUserDirectory({ ddb, tableName: config.tableName }, { ttlMs: config.userCacheTtlMs });
const deps = { ddb, tableName: config.tableName };

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const page = parsePageRequest(event.queryStringParameters);
  const caller = await users.caller(claims);
  return pageResponse(await listMessageGroups(deps, caller.uuid, page));
});
