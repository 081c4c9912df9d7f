/** GET /api/users/me/blocks: the users the caller blocks, paged (`shared/blocks.ts`). */
import { listBlocks } from "../shared/blocks";
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { createRouteDeps } from "../shared/users";
import { parsePageRequest } from "../shared/validation";

const deps = createRouteDeps(loadConfig());

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const page = parsePageRequest(event.queryStringParameters);
  const caller = await deps.users.caller(claims);
  return pageResponse(await listBlocks(deps, caller.uuid, page));
});
