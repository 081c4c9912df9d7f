/** Cognito post-confirmation trigger: makes the handle owned and activates the user's profile. */
import type { Context, PostConfirmationTriggerEvent } from "aws-lambda";
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { logger } from "../shared/logger";
import { postConfirmation, SignUpRefused } from "../shared/sign-up";

const config = loadConfig();
const deps = { ddb: createDocumentClient(config), tableName: config.tableName };

export async function handler(
  event: PostConfirmationTriggerEvent,
  context: Context,
): Promise<PostConfirmationTriggerEvent> {
  logger.addContext(context);
  try {
    const answer = await postConfirmation(deps, event, Date.now());
    logger.info("profile activated", {
      trigger_source: event.triggerSource,
      user_uuid: event.request.userAttributes.sub,
    });
    return answer;
  } catch (error) {
    if (error instanceof SignUpRefused)
      logger.warn("confirmation could not activate a profile", { codes: error.codes });
    else logger.error("post-confirmation failed", { error: error as Error });
    throw error instanceof SignUpRefused ? error : new Error("internal_error: try again later");
  }
}
