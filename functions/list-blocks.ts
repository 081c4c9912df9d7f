/** GET /api/users/me/blocks: the users the caller blocks, paged (`shared/blocks.ts`). */
import { listBlocks } from "../shared/blocks";
import { loadConfig } from "../shared/config";
import { callerClaims, httpHandler, pageResponse } from "../shared/http";
import { logger } from "../shared/logger";
import { createRouteDeps, readAsCaller } from "../shared/users";
import { parsePageRequest } from "../shared/validation";

const deps = createRouteDeps(loadConfig());

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const page = parsePageRequest(event.queryStringParameters);
  const { result } = await readAsCaller(deps.users, claims, (callerUuid) => listBlocks(deps, callerUuid, page));
  return pageResponse(result);
});
