/**
 * GET /api/users/@{handle}/short (public: no token, as the Cruddur frontend calls it):
 * `{uuid, handle, display_name}` of an active user, 404 `["user_not_found"]` otherwise. A found
 * profile may be cached for a short time (`cache-control: public, max-age=30`: the route is public,
 * `responseHeaders` of `shared/api-contract.ts`).
 */
import { loadConfig } from "../shared/config";
import { notFound } from "../shared/errors";
import { httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { isPublicRouteFunction } from "../shared/routes";
import { createRouteDeps } from "../shared/users";
import { parseHandleParam } from "../shared/validation";

const { users } = createRouteDeps(loadConfig());

export const handler = httpHandler(
  logger,
  async (event) => {
    const handle = parseHandleParam(event.pathParameters?.handle);
    const user = handle === undefined ? undefined : await users.byHandle(handle);
    if (user === undefined) throw notFound("user_not_found");
    return json(200, user);
  },
  { publicRoute: isPublicRouteFunction("get-user-short") },
);
