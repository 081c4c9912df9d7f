/**
 * POST /api/messages: `{message, message_group_uuid}` posts to an existing group (pattern C),
 * `{message, handle}` to the conversation with that user, created if needed (pattern D). With an
 * `Idempotency-Key` header, a retry answers the first answer (`shared/idempotent-send.ts`).
 */
import { loadConfig } from "../shared/config";
import { bodyText, callerClaims, httpHandler, json } from "../shared/http";
import { createIdempotentSend, type IdempotentSendInput } from "../shared/idempotent-send";
import type { UserProfile } from "../shared/items/profile";
import { logger } from "../shared/logger";
import { sendMessage } from "../shared/send";
import { createRouteDeps } from "../shared/users";
import { parseCreateMessage, parseIdempotencyKey } from "../shared/validation";

const config = loadConfig();
const routeDeps = createRouteDeps(config);
const { users } = routeDeps;
const deps = {
  ...routeDeps,
  sendLimits: config.sendLimits,
  onMarkerError: (error: unknown) => logger.warn("sender read marker not moved", { error: error as Error }),
};

const idempotentSend = createIdempotentSend(
  routeDeps.client,
  config.tableName,
  async ({ sender, request }: IdempotentSendInput & { sender: UserProfile }) => {
    const sent = await sendMessage(deps, sender, request);
    // As on the plain path (a replayed answer does not run this: its log line has the key only).
    logger.appendKeys({ message_group_uuid: sent.message.message_group_uuid });
    return json(200, sent.message, sent.headers);
  },
);

export const handler = httpHandler(logger, async (event, context) => {
  const claims = callerClaims(event);
  const key = parseIdempotencyKey(event.headers?.["idempotency-key"]);
  const request = parseCreateMessage(bodyText(event));
  const sender = await users.caller(claims);
  if (key !== undefined) {
    logger.appendKeys({ idempotency_key: key });
    return idempotentSend({ caller: sender.uuid, key, request, sender }, context);
  }
  const sent = await sendMessage(deps, sender, request);
  logger.appendKeys({ message_group_uuid: sent.message.message_group_uuid });
  return json(200, sent.message, sent.headers);
});
