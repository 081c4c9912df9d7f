/**
 * Reading the users of a Cognito user pool, for the operator commands that work on Cognito
 * itself (`cognito list-users`, `users import`, `users disable|enable`). Attributes map as at
 * sign-up: uuid = `sub`, handle = `preferred_username`, display_name = `name` (DESIGN.md
 * "Vocabulary"). After sign-up these attributes are input, never identity: every other command
 * finds users in the directory of the table (`directory-users.ts`).
 */
import {
  type CognitoIdentityProviderClient,
  paginateListUsers,
  type UserType,
} from "@aws-sdk/client-cognito-identity-provider";
import { UUID_PATTERN } from "../../shared/ids";
import { USER_ATTRIBUTES } from "../../shared/user-pool";

/** A user of the pool as the operator commands show it. */
export interface PoolUser {
  username: string;
  /** Cognito `sub`; undefined only for a malformed user. */
  uuid: string | undefined;
  handle: string | undefined;
  display_name: string | undefined;
  email: string | undefined;
  /** Cognito UserStatus, e.g. CONFIRMED, UNCONFIRMED, FORCE_CHANGE_PASSWORD. */
  status: string | undefined;
  enabled: boolean;
}

/** ListUsers answers at most 60 users per page (Cognito API reference). */
const PAGE_LIMIT = 60;

function toPoolUser(user: UserType): PoolUser {
  const attribute = (name: string) => user.Attributes?.find((a) => a.Name === name)?.Value;
  return {
    username: user.Username ?? "",
    uuid: attribute(USER_ATTRIBUTES.uuid),
    handle: attribute(USER_ATTRIBUTES.handle),
    display_name: attribute(USER_ATTRIBUTES.display_name),
    email: attribute("email"),
    status: user.UserStatus,
    enabled: user.Enabled !== false,
  };
}

/** Options of {@link listPoolUsers}. */
export interface ListPoolUsersOptions {
  /** A ListUsers `Filter`, e.g. `sub = "<uuid>"` (default: every user). */
  filter?: string | undefined;
  /** Called after each page with the number of users so far. */
  onPage?: ((usersSoFar: number) => void) | undefined;
}

/**
 * The users of the pool (all of them, or those matching `options.filter`): ListUsers page after
 * page through the SDK paginator, 60 users a page. `stopOnSameToken` ends the walk when a page
 * answers the token it was asked with (cognito-local ignores `Limit` and pagination and answers
 * everything at once; a token repeated forever would otherwise loop forever). Users are
 * de-duplicated by username.
 * @throws Cognito errors (ResourceNotFoundException for an unknown pool, ...).
 */
export async function listPoolUsers(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  options: ListPoolUsersOptions = {},
): Promise<PoolUser[]> {
  const users = new Map<string, PoolUser>();
  const pages = paginateListUsers(
    { client: cognito, pageSize: PAGE_LIMIT, stopOnSameToken: true },
    { UserPoolId: userPoolId, ...(options.filter === undefined ? {} : { Filter: options.filter }) },
  );
  for await (const page of pages) {
    for (const user of page.Users ?? []) {
      const u = toPoolUser(user);
      users.set(u.username, u);
    }
    options.onPage?.(users.size);
  }
  return [...users.values()];
}

/**
 * The pool user whose `sub` is `uuid` (ListUsers with `Filter: sub = "<uuid>"`): the way to a
 * user's Cognito username, which in the cloud pool differs from the handle.
 * @returns undefined when there is none (a deleted user), or `uuid` is not a uuid (so that it
 *   can never break out of the filter string).
 * @throws Cognito errors.
 */
export async function findPoolUserBySub(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  uuid: string,
): Promise<PoolUser | undefined> {
  if (!UUID_PATTERN.test(uuid)) return undefined;
  const users = await listPoolUsers(cognito, userPoolId, { filter: `${USER_ATTRIBUTES.uuid} = "${uuid}"` });
  return users.find((u) => u.uuid === uuid);
}

/** `@bayko` -> `bayko`. */
export const stripAt = (handle: string): string => (handle.startsWith("@") ? handle.slice(1) : handle);
