/**
 * The users directory: Cognito user pool lookups with a per-container cache.
 * uuid = `sub`, handle = `preferred_username`, display_name = `name` (DESIGN.md "Vocabulary").
 */
import {
  AdminGetUserCommand,
  type AdminGetUserCommandOutput,
  type AttributeType,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { LRUCache } from "lru-cache";
import { unauthorized } from "./errors";
import type { UserProfile } from "./model";
import { HANDLE_PATTERN, USER_ATTRIBUTES } from "./user-pool";

/** The claims of a verified Cognito access token that identify the caller. */
export interface CallerClaims {
  /** Cognito `sub`: the caller's uuid. */
  sub: string;
  /** Cognito `username` (AdminGetUser key). */
  username: string;
}

export interface UserDirectory {
  /**
   * The caller's profile, from the access token's `sub` and `username`.
   * @throws AppError 401 `["unauthorized"]` when the user no longer exists, is disabled, or its
   *   `sub` differs from the token's (a token minted for a deleted and re-created user).
   */
  caller(claims: CallerClaims): Promise<UserProfile>;
  /**
   * The user whose handle is `handle` (exact match), or `undefined` when there is none, it is
   * disabled, or `handle` is not a valid handle ({@link HANDLE_PATTERN}).
   */
  byHandle(handle: string): Promise<UserProfile | undefined>;
}

export interface UserDirectoryOptions {
  /** How long a found user is reused, ms; 0 disables the cache. Unknown handles are never cached. */
  ttlMs: number;
  /** Most users kept per container (default 1,000). */
  maxEntries?: number;
}

function attribute(attributes: AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

/** A profile from Cognito attributes, or `undefined` when one of sub/preferred_username/name is missing. */
export function profileFromAttributes(attributes: AttributeType[] | undefined): UserProfile | undefined {
  const uuid = attribute(attributes, USER_ATTRIBUTES.uuid);
  const handle = attribute(attributes, USER_ATTRIBUTES.handle);
  const displayName = attribute(attributes, USER_ATTRIBUTES.display_name);
  if (uuid === undefined || handle === undefined || displayName === undefined) return undefined;
  return { uuid, handle, display_name: displayName };
}

/**
 * A directory over one user pool. Uses AdminGetUser for the caller and ListUsers with a
 * `preferred_username = "<handle>"` filter for handles (Cognito API reference, ListUsers:
 * filterable attributes include preferred_username and sub). Cognito errors other than
 * "user not found" propagate (throttling is answered 429 by the HTTP layer).
 */
export function createUserDirectory(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  options: UserDirectoryOptions,
): UserDirectory {
  const cache =
    options.ttlMs > 0
      ? new LRUCache<string, UserProfile>({ max: options.maxEntries ?? 1000, ttl: options.ttlMs })
      : undefined;
  const bySub = (sub: string) => `sub:${sub}`;
  const byHandleKey = (handle: string) => `handle:${handle}`;
  const remember = (user: UserProfile) => {
    cache?.set(bySub(user.uuid), user);
    cache?.set(byHandleKey(user.handle), user);
    return user;
  };

  return {
    async caller(claims) {
      const cached = cache?.get(bySub(claims.sub));
      if (cached !== undefined) return cached;
      let out: AdminGetUserCommandOutput;
      try {
        out = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: claims.username }));
      } catch (error) {
        if (error instanceof Error && error.name === "UserNotFoundException") throw unauthorized();
        throw error;
      }
      const user = profileFromAttributes(out.UserAttributes);
      if (user === undefined || user.uuid !== claims.sub || out.Enabled === false) throw unauthorized();
      return remember(user);
    },

    async byHandle(handle) {
      if (!HANDLE_PATTERN.test(handle)) return undefined;
      const cached = cache?.get(byHandleKey(handle));
      if (cached !== undefined) return cached;
      // The handle pattern admits no quote or backslash, so it is safe inside the filter string.
      const out = await cognito.send(
        new ListUsersCommand({ UserPoolId: userPoolId, Filter: `${USER_ATTRIBUTES.handle} = "${handle}"`, Limit: 2 }),
      );
      for (const u of out.Users ?? []) {
        const user = profileFromAttributes(u.Attributes);
        if (user !== undefined && user.handle === handle && u.Enabled !== false) return remember(user);
      }
      return undefined;
    },
  };
}
