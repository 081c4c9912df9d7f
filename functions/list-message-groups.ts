/** GET /api/message_groups (pattern B): the caller's message groups, most recent first, paged. */
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { listMessageGroups } from "../shared/messages";
import { createRouteDeps, readAsCaller } from "../shared/users";
import { parsePageRequest } from "../shared/validation";

const deps = createRouteDeps(loadConfig());
const { users } = deps;

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const page = parsePageRequest(event.queryStringParameters);
  const { result } = await readAsCaller(users, claims, (callerUuid) => listMessageGroups(deps, callerUuid, page));
  return pageResponse(result);
});
