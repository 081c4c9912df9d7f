/**
 * The users of a request: the caller (by the access token's `sub`) and other users (by
 * handle), read from the user directory in the table (`shared/directory.ts`), never from
 * Cognito, with a per-container cache.
 *
 * The cache can never map one key to another user's data: profiles are cached under their own
 * uuid only, and a handle is cached only as "canonical handle -> owner uuid" from that handle's
 * own item; a profile found through a handle must still name that handle, or it is not the
 * handle's user. A lookup whose answer is written into rows (a new group's members) reads with
 * `fresh`.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import QuickLRU from "quick-lru";
import { createDocumentClient, createDynamoDbClient } from "./clients";
import type { Config } from "./config";
import { type DirectoryDeps, getProfile, ownerOfHandle, toUserProfile } from "./directory";
import { unauthorized } from "./errors";
import { canonicalHandle, isValidHandle } from "./identity-rules";
import type { ProfileItem, UserProfile } from "./items/profile";

/** The claims of a verified Cognito access token that identify the caller. */
export interface CallerClaims {
  /** Cognito `sub`: the caller's uuid. */
  sub: string;
  /** Cognito `username` (the key of Cognito's admin API; only the rename route uses it). */
  username: string;
}

/** Read options of a lookup. */
export interface LookupOptions {
  /** Skip the cache and read strongly consistent (default false). */
  fresh?: boolean;
}

export interface UserDirectory {
  /**
   * The caller's profile, from the access token's `sub`.
   * @throws AppError 401 `["unauthorized"]` when the caller has no active profile (never
   *   confirmed, disabled, deleted): within the cache TTL of the change.
   */
  caller(claims: CallerClaims, options?: LookupOptions): Promise<UserProfile>;
  /** The active user whose uuid is `uuid`, or `undefined` (none, or not active). */
  profile(uuid: string, options?: LookupOptions): Promise<UserProfile | undefined>;
  /**
   * The active user who owns `handle` (any case; views show it as its owner wrote it), or
   * `undefined` when there is none or `handle` is not a valid handle.
   */
  byHandle(handle: string, options?: LookupOptions): Promise<UserProfile | undefined>;
}

export interface UserDirectoryOptions {
  /** How long a lookup is reused, ms; 0 disables the cache. Unknown handles are never cached. */
  ttlMs: number;
  /** Entries kept per cache per container (default 1,000): at least the `maxEntries` most recent, at most twice as many (quick-lru's two generations). */
  maxEntries?: number;
}

/**
 * A directory over the table. Each lookup costs at most one GetItem per item kind (profile,
 * handle) on a cache miss, and none on a hit.
 * @throws (from its methods) AWS SDK errors; throttling is answered 429 by the HTTP layer.
 */
export function createUserDirectory(deps: DirectoryDeps, options: UserDirectoryOptions): UserDirectory {
  const max = options.maxEntries ?? 1000;
  // quick-lru keeps between `max` and 2 × `max` entries (its two-generation design).
  const profiles =
    options.ttlMs > 0 ? new QuickLRU<string, ProfileItem>({ maxSize: max, maxAge: options.ttlMs }) : undefined;
  const owners = options.ttlMs > 0 ? new QuickLRU<string, string>({ maxSize: max, maxAge: options.ttlMs }) : undefined;

  const profile = async (uuid: string, fresh: boolean): Promise<ProfileItem | undefined> => {
    const cached = fresh ? undefined : profiles?.get(uuid);
    if (cached !== undefined) return cached;
    const item = await getProfile(deps, uuid);
    if (item !== undefined) profiles?.set(uuid, item);
    return item;
  };

  return {
    async profile(uuid, lookup = {}) {
      const item = await profile(uuid, lookup.fresh ?? false);
      return item === undefined || item.status !== "active" ? undefined : toUserProfile(item);
    },

    async caller(claims, lookup = {}) {
      const item = await profile(claims.sub, lookup.fresh ?? false);
      if (item === undefined || item.status !== "active") throw unauthorized();
      return toUserProfile(item);
    },

    async byHandle(handle, lookup = {}) {
      if (!isValidHandle(handle)) return undefined;
      const fresh = lookup.fresh ?? false;
      const canonical = canonicalHandle(handle);
      let uuid = fresh ? undefined : owners?.get(canonical);
      if (uuid === undefined) {
        uuid = await ownerOfHandle(deps, handle);
        if (uuid === undefined) return undefined;
        owners?.set(canonical, uuid);
      }
      const item = await profile(uuid, fresh);
      if (item === undefined || item.status !== "active" || canonicalHandle(item.handle) !== canonical) {
        owners?.delete(canonical);
        return undefined;
      }
      return toUserProfile(item);
    },
  };
}

/**
 * Runs `read` (a read on the caller's behalf: no write) side by side with the caller's check
 * ({@link UserDirectory.caller}) instead of after it: a profile's key is the access token's `sub`
 * (shared/directory.ts), so the caller's uuid is known before their profile is read. This saves
 * the profile's round trip whenever it is not cached: every cold start, and every request with the
 * cache off. `read`'s answer is used only once the caller is known active; should the profile
 * name another uuid than `sub` (never written so), `read` runs again with the profile's.
 * @returns the caller's profile and what `read` answered for them.
 * @throws the caller check's error (AppError 401 `["unauthorized"]`, an SDK error) first, whatever
 *   `read` did; else `read`'s error.
 */
export async function readAsCaller<T>(
  users: UserDirectory,
  claims: CallerClaims,
  read: (callerUuid: string) => Promise<T>,
): Promise<{ caller: UserProfile; result: T }> {
  const [caller, result] = await Promise.allSettled([users.caller(claims), read(claims.sub)]);
  if (caller.status === "rejected") throw caller.reason;
  if (caller.value.uuid !== claims.sub) return { caller: caller.value, result: await read(caller.value.uuid) };
  if (result.status === "rejected") throw result.reason;
  return { caller: caller.value, result: result.value };
}

/**
 * What a messaging route function builds at module scope from its config: the table's
 * DocumentClient (and the client under it), its name, and a user directory over it with the configured cache TTL.
 */
export function createRouteDeps(config: Config): {
  ddb: DynamoDBDocumentClient;
  /** The plain client under `ddb` (for libraries that send raw DynamoDB commands). */
  client: DynamoDBClient;
  tableName: string;
  users: UserDirectory;
} {
  const client = createDynamoDbClient(config);
  const ddb = createDocumentClient(config, client);
  return {
    ddb,
    client,
    tableName: config.tableName,
    users: createUserDirectory({ ddb, tableName: config.tableName }, { ttlMs: config.userCacheTtlMs }),
  };
}
