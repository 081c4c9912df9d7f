/** GET /api/message_groups (pattern B): the caller's message groups, most recent first, paged. */
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { listMessageGroups } from "../shared/messages";
import { parsePageRequest } from "../shared/validation";

const config = loadConfig();
const deps = { ddb: createDocumentClient(config), tableName: config.tableName };

export const handler = httpHandler(logger, async (event) => {
  const caller = callerClaims(event);
  const page = parsePageRequest(event.queryStringParameters);
  return pageResponse(await listMessageGroups(deps, caller.sub, page));
});
