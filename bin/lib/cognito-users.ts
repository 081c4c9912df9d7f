/**
 * Reading the users of a Cognito user pool. uuid = `sub`, handle = `preferred_username`,
 * display_name = `name` (DESIGN.md "Vocabulary"; `profileFromAttributes` of shared/users.ts).
 */
import {
  type CognitoIdentityProviderClient,
  ListUsersCommand,
  type UserType,
} from "@aws-sdk/client-cognito-identity-provider";
import type { UserProfile } from "../../shared/model";
import { HANDLE_PATTERN, USER_ATTRIBUTES } from "../../shared/user-pool";

/** A user of the pool as the operator commands show it. */
export interface PoolUser {
  username: string;
  /** Cognito `sub`; undefined only for a malformed user. */
  uuid: string | undefined;
  handle: string | undefined;
  display_name: string | undefined;
  email: string | undefined;
  /** Cognito UserStatus, e.g. CONFIRMED, FORCE_CHANGE_PASSWORD. */
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

/**
 * Every user of the pool: ListUsers page after page with PaginationToken. cognito-local ignores
 * `Limit` and pagination and answers everything at once with no token, which ends the loop too;
 * a token answered twice in a row also ends it (never loops forever). Users are de-duplicated
 * by username.
 * @param onPage called after each page with the number of users so far.
 * @throws Cognito errors (ResourceNotFoundException for an unknown pool, ...).
 */
export async function listPoolUsers(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  onPage?: (usersSoFar: number) => void,
): Promise<PoolUser[]> {
  const users = new Map<string, PoolUser>();
  let token: string | undefined;
  for (;;) {
    const out = await cognito.send(
      new ListUsersCommand({ UserPoolId: userPoolId, Limit: PAGE_LIMIT, PaginationToken: token }),
    );
    for (const user of out.Users ?? []) {
      const u = toPoolUser(user);
      users.set(u.username, u);
    }
    onPage?.(users.size);
    if (out.PaginationToken === undefined || out.PaginationToken === "" || out.PaginationToken === token) break;
    token = out.PaginationToken;
  }
  return [...users.values()];
}

/**
 * The profiles of the pool by uuid (sub): the users that have sub, preferred_username and name.
 * Disabled users are included (their rows still describe them).
 */
export async function profilesBySub(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  onPage?: (usersSoFar: number) => void,
): Promise<Map<string, UserProfile>> {
  const profiles = new Map<string, UserProfile>();
  for (const user of await listPoolUsers(cognito, userPoolId, onPage)) {
    if (user.uuid !== undefined && user.handle !== undefined && user.display_name !== undefined) {
      profiles.set(user.uuid, { uuid: user.uuid, handle: user.handle, display_name: user.display_name });
    }
  }
  return profiles;
}

/**
 * The enabled user whose handle is `handle` (a leading `@` is ignored), through the same lookup
 * as the API (`createUserDirectory(...).byHandle`, uncached).
 * @returns undefined when there is none (or the handle is not a valid handle).
 */
export async function findUserByHandle(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  handle: string,
): Promise<UserProfile | undefined> {
  const wanted = stripAt(handle);
  if (!HANDLE_PATTERN.test(wanted)) return undefined;
  const out = await cognito.send(
    new ListUsersCommand({ UserPoolId: userPoolId, Filter: `${USER_ATTRIBUTES.handle} = "${wanted}"`, Limit: 2 }),
  );
  const user = (out.Users ?? []).map(toPoolUser).find((u) => u.enabled && u.handle === wanted);
  return user?.uuid === undefined || user.display_name === undefined
    ? undefined
    : { uuid: user.uuid, handle: wanted, display_name: user.display_name };
}

/** `@bayko` -> `bayko`. */
export const stripAt = (handle: string): string => (handle.startsWith("@") ? handle.slice(1) : handle);
