/** DELETE /api/users/@{handle}/block: the caller unblocks the user of `handle` (`shared/blocks.ts`); 204. */
import { unblockUser } from "../shared/blocks";
import { loadConfig } from "../shared/config";
import { notFound } from "../shared/errors";
import { callerClaims, httpHandler } from "../shared/http";
import { logger } from "../shared/logger";
import { createRouteDeps } from "../shared/users";
import { parseHandleParam } from "../shared/validation";

const deps = createRouteDeps(loadConfig());

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const handle = parseHandleParam(event.pathParameters?.handle);
  const caller = await deps.users.caller(claims);
  if (handle === undefined) throw notFound("handle_not_found");
  await unblockUser(deps, caller, handle);
  return { statusCode: 204, headers: {} };
});
