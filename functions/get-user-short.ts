/** GET /api/users/@{handle}/short: `{uuid, handle, display_name}` of a user, 404 when unknown. */
import { createCognitoClient } from "../shared/clients";
import { loadConfig, requireUserPoolId } from "../shared/config";
import { notFound } from "../shared/errors";
import { callerClaims, httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { createUserDirectory } from "../shared/users";
import { parseHandleParam } from "../shared/validation";

const config = loadConfig();
const users = createUserDirectory(createCognitoClient(config), requireUserPoolId(config), {
  ttlMs: config.userCacheTtlMs,
});

export const handler = httpHandler(logger, async (event) => {
  callerClaims(event);
  const handle = parseHandleParam(event.pathParameters?.handle);
  const user = handle === undefined ? undefined : await users.byHandle(handle);
  if (user === undefined) throw notFound("user_not_found");
  return json(200, user);
});
