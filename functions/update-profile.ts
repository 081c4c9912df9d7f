/**
 * PATCH /api/users/me `{handle?, display_name?}`: renames the caller. The directory changes first
 * (the handle swap in one transaction), then the caller's conversations get the new names
 * (`shared/renames.ts`), then the Cognito attributes follow, so that what the frontend reads
 * from Cognito agrees. Every step is idempotent: a retry of a request that failed half-way
 * converges. Answers the new profile `{uuid, handle, display_name}`.
 */
import { AdminUpdateUserAttributesCommand } from "@aws-sdk/client-cognito-identity-provider";
import { createCognitoClient, createDocumentClient } from "../shared/clients";
import { loadConfig, requireUserPoolId } from "../shared/config";
import { renameUser, toUserProfile } from "../shared/directory";
import { bodyText, callerClaims, httpHandler, json } from "../shared/http";
import { logger } from "../shared/logger";
import { propagateRename } from "../shared/renames";
import { USER_ATTRIBUTES } from "../shared/user-pool";
import { parseProfileChange } from "../shared/validation";

const config = loadConfig();
const userPoolId = requireUserPoolId(config);
const cognito = createCognitoClient(config);
const deps = { ddb: createDocumentClient(config), tableName: config.tableName };

export const handler = httpHandler(logger, async (event) => {
  const claims = callerClaims(event);
  const change = parseProfileChange(bodyText(event));
  const { before, after } = await renameUser(deps, claims.sub, change, Date.now(), config.handleReservationMs);
  const profile = toUserProfile(after);
  const propagated = await propagateRename(deps, profile);
  await cognito.send(
    new AdminUpdateUserAttributesCommand({
      UserPoolId: userPoolId,
      Username: claims.username,
      UserAttributes: [
        { Name: USER_ATTRIBUTES.handle, Value: profile.handle },
        { Name: USER_ATTRIBUTES.display_name, Value: profile.display_name },
      ],
    }),
  );
  logger.info("profile updated", {
    user_uuid: profile.uuid,
    handle_changed: before.handle !== after.handle,
    groups: propagated.groups,
    summaries: propagated.summaries,
    group_items: propagated.groupItems,
    problems: propagated.problems.length,
  });
  return json(200, profile);
});
