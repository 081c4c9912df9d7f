/**
 * `users disable <handle>` and `users enable <handle>`: a user's status in the directory and in
 * Cognito, changed together.
 *
 * The user is found in the directory (the handle item names the owner; no Cognito attribute is
 * identity), their Cognito username through ListUsers `Filter: sub = "<uuid>"` (in the cloud pool
 * the username is not the handle). Everything is read before anything is written, so a wrong
 * pool or table changes nothing.
 *
 * Disable writes the directory first: `status = disabled` in the profile is what the API reads
 * on every route (401 within the functions' user cache TTL), and access tokens already issued
 * stay valid JWTs until they expire, whatever Cognito does. Then AdminDisableUser (no new
 * sign-in) and AdminUserGlobalSignOut (refresh tokens revoked, so no new access token). A user
 * deleted from Cognito is still disabled in the directory. Enable is the inverse in the inverse
 * order: AdminEnableUser, then `status = active` last, so the directory never says active for a
 * user Cognito refuses. Both are idempotent and safe to run again after a failure midway.
 */
import {
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUserGlobalSignOutCommand,
  type CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { setProfileStatus } from "../../shared/directory";
import type { ProfileItem, UserStatus } from "../../shared/items/profile";
import { findPoolUserBySub, type PoolUser, stripAt } from "./cognito-users";
import { findHandle } from "./directory-users";
import { OpsError } from "./ops-errors";

export interface StatusDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  /** The target is cognito-local, which has no AdminUserGlobalSignOut (the sign-out is then skipped). */
  local: boolean;
}

/** What a status change did. */
export interface StatusChange {
  /** The profile as it was before. */
  profile: ProfileItem;
  status: UserStatus;
  /** The Cognito user; undefined when the pool has no user with that sub (deleted). */
  cognitoUser: PoolUser | undefined;
  /** Disable only: whether the global sign-out ran (`skipped` on cognito-local, which lacks it). */
  signOut: "done" | "skipped" | "not applicable";
}

/**
 * The owner of `handle` (a leading `@` ignored) and their profile.
 * @throws OpsError saying what the handle is instead (unknown, pending, reserved, inconsistent).
 */
async function ownerProfile(deps: StatusDeps, handle: string, nowMs: number): Promise<ProfileItem> {
  const wanted = stripAt(handle);
  const found = await findHandle({ ddb: deps.doc, tableName: deps.tableName }, wanted, nowMs);
  switch (found.kind) {
    case "owner":
      return found.profile;
    case "none":
      throw new OpsError(
        `no user @${wanted} in the user directory of table ${deps.tableName}`,
        "check the spelling; a user of the pool who has no profile yet is added by `npm run users -- import`",
      );
    case "pending":
      throw new OpsError(
        `@${wanted} is claimed by the unconfirmed sign-up of Cognito user ${found.item.pending_username}, which has no profile yet`,
        "disable that Cognito user in the console (or let the claim expire); there is nothing in the directory to disable",
      );
    case "reserved":
      throw new OpsError(
        `@${wanted} is a handle its owner left (reserved to ${found.item.user_uuid})${found.profile === undefined ? "" : `; they are @${found.profile.handle} now`}`,
        found.profile === undefined
          ? "that user has no profile any more"
          : `run the command with their current handle @${found.profile.handle}`,
      );
    case "orphan":
      throw new OpsError(
        `@${wanted} is owned by ${found.item.user_uuid}, who has no profile (an inconsistent directory)`,
        "inspect the items with `npm run ddb -- scan`",
      );
  }
}

/** True when `error` is cognito-local answering that it does not implement the call. */
const isUnsupportedLocally = (error: unknown): boolean =>
  error instanceof Error && (error.name === "Unsupported" || error.message.startsWith("Cognito Local unsupported"));

/**
 * Disables (`disabled`) or enables (`active`) the owner of `handle`, in the directory and in
 * Cognito, in the order the module documentation gives.
 * @param nowMs epoch ms (the profile's updated_at).
 * @throws OpsError when the handle has no owner with a profile, or (enable) the pool has no user
 *   with the owner's sub; Cognito and DynamoDB errors.
 */
export async function changeUserStatus(
  deps: StatusDeps,
  handle: string,
  status: UserStatus,
  nowMs: number,
): Promise<StatusChange> {
  const directory = { ddb: deps.doc, tableName: deps.tableName };
  const profile = await ownerProfile(deps, handle, nowMs);
  const cognitoUser = await findPoolUserBySub(deps.cognito, deps.userPoolId, profile.uuid);
  const lost = () =>
    new OpsError(`the profile of ${profile.uuid} vanished while its status was being changed`, "run the command again");
  const cognitoInput = { UserPoolId: deps.userPoolId, Username: cognitoUser?.username ?? "" };

  if (status === "disabled") {
    if (!(await setProfileStatus(directory, profile.uuid, "disabled", nowMs))) throw lost();
    if (cognitoUser === undefined) return { profile, status, cognitoUser, signOut: "not applicable" };
    await deps.cognito.send(new AdminDisableUserCommand(cognitoInput));
    try {
      await deps.cognito.send(new AdminUserGlobalSignOutCommand(cognitoInput));
    } catch (error) {
      if (deps.local && isUnsupportedLocally(error)) return { profile, status, cognitoUser, signOut: "skipped" };
      throw error;
    }
    return { profile, status, cognitoUser, signOut: "done" };
  }

  if (cognitoUser === undefined) {
    throw new OpsError(
      `user pool ${deps.userPoolId} has no user with sub ${profile.uuid} (@${profile.handle}); nothing enabled`,
      "a user deleted from Cognito cannot sign in again: enabling their profile would change nothing",
    );
  }
  await deps.cognito.send(new AdminEnableUserCommand(cognitoInput));
  if (!(await setProfileStatus(directory, profile.uuid, "active", nowMs))) throw lost();
  return { profile, status, cognitoUser, signOut: "not applicable" };
}
