/** Cognito pre-sign-up trigger: validates the handle and display name, claims the handle (pending). */
import type { Context, PreSignUpTriggerEvent } from "aws-lambda";
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { logger } from "../shared/logger";
import { preSignUp, SignUpRefused } from "../shared/sign-up";

const config = loadConfig();
const deps = { ddb: createDocumentClient(config), tableName: config.tableName };

export async function handler(event: PreSignUpTriggerEvent, context: Context): Promise<PreSignUpTriggerEvent> {
  logger.addContext(context);
  try {
    const answer = await preSignUp(deps, event, Date.now());
    logger.info("sign-up claimed its handle", { trigger_source: event.triggerSource, username: event.userName });
    return answer;
  } catch (error) {
    if (error instanceof SignUpRefused) logger.info("sign-up refused", { codes: error.codes });
    else logger.error("pre-sign-up failed", { error: error as Error });
    throw error instanceof SignUpRefused ? error : new Error("internal_error: try again later");
  }
}
