/**
 * `users import`: builds the user directory of the table (`shared/directory.ts`) from an
 * existing user pool, the counterpart of the original seed's `update_cognito_user_ids`: a pool
 * that predates the sign-up triggers (or a restored table) gets one profile item and one handle
 * item per user, with the user's Cognito `sub` as uuid.
 *
 * What happens to each user of the pool (ListUsers, every page):
 * - **existing**: the user already has a profile (an earlier import, a sign-up through the
 *   triggers, a rename through the API): left as it is, whatever Cognito says now (after
 *   sign-up, Cognito attributes are never identity). A Cognito user that is disabled while its
 *   profile is active is pointed out (`users disable` settles it).
 * - **unconfirmed** (Cognito status UNCONFIRMED): a sign-up never confirmed gets no profile; its
 *   confirmation runs the post-confirmation trigger, which claims the handle then.
 * - **duplicate**: two or more users without a profile whose `preferred_username` is the same
 *   without regard to case (`Bob` and `bob`). None of them is claimed, so the import never picks
 *   a winner: the operator resolves it (renames all but one in Cognito) and runs it again.
 * - **missing**: no `sub`, `preferred_username` or `name`.
 * - **invalid**: the handle or the name breaks the identity rules (`shared/identity-rules.ts`).
 * - **taken**: the handle is held in the directory by another user (owned, reserved to its
 *   former owner, or pending for another sign-up).
 * - **created**: `putDirectoryUser` claimed the handle and wrote the profile in one conditional
 *   transaction (status `disabled` for a disabled Cognito user). It may take over the user's
 *   own pending claim (an admin-created user whose pre-sign-up trigger claimed the handle).
 *
 * Idempotent: a second run finds every created user existing and writes nothing. `--dry-run`
 * reads the same and predicts each claim from the handle item, writing nothing.
 */
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { getHandleItem, putDirectoryUser } from "../../shared/directory";
import { canonicalHandle, isValidHandle, normalizeDisplayName } from "../../shared/identity-rules";
import type { HandleItem } from "../../shared/items/handle";
import type { ProfileItem, UserStatus } from "../../shared/items/profile";
import { listPoolUsers, type PoolUser } from "./cognito-users";
import { readProfiles } from "./directory-users";
import { eachLimited } from "./limited";
import type { Progress } from "./progress";

export interface ImportDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
}

export interface ImportOptions {
  /** Read and report only. */
  dryRun: boolean;
  /** Epoch ms "now" (the profiles' created_at; expired claims are free). */
  nowMs: number;
  /** Progress of the listing and of the import (a no-op Progress when not shown). */
  progress?: Progress | undefined;
  /** Users imported at once (default 8). */
  concurrency?: number;
}

/** A user the import wrote (dry run: would write). */
export interface ImportedUser {
  user: PoolUser;
  status: UserStatus;
}

/** A user left without a profile, and why. */
export interface SkippedUser {
  user: PoolUser;
  /** One line: what is wrong (e.g. `display_name_invalid`, `no name`, `owned by <uuid>`). */
  reason: string;
}

/** A handle claimed by several users of the pool, none of whom was given it. */
export interface DuplicateHandle {
  /** The canonical (lower-case) handle. */
  handle: string;
  users: PoolUser[];
  /** Who holds it in the directory already, if anyone (one line). */
  holder: string | undefined;
}

/** What an import did (or, dry run, would do). */
export interface ImportReport {
  dryRun: boolean;
  /** Users of the pool. */
  poolUsers: number;
  created: ImportedUser[];
  /** Users that already had a profile. */
  existing: number;
  /** Users whose Cognito user is disabled while their profile is active. */
  disabledInCognitoOnly: { user: PoolUser; profile: ProfileItem }[];
  unconfirmed: PoolUser[];
  duplicates: DuplicateHandle[];
  missing: SkippedUser[];
  invalid: SkippedUser[];
  taken: SkippedUser[];
}

/** Users of the pool left without a profile that the operator has to look at. */
export function notImported(report: ImportReport): number {
  return (
    report.duplicates.reduce((n, d) => n + d.users.length, 0) +
    report.missing.length +
    report.invalid.length +
    report.taken.length
  );
}

/** Keys per profile read (one BatchGetItem). */
const PROFILE_CHUNK = 100;

/** Code-unit order (the same on every machine, unlike a locale's). */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** By handle without regard to case (so `Bob` and `bob` sit together), then as written, then username. */
const byHandle = (a: PoolUser, b: PoolUser) =>
  compare((a.handle ?? "").toLowerCase(), (b.handle ?? "").toLowerCase()) ||
  compare(a.handle ?? "", b.handle ?? "") ||
  compare(a.username, b.username);

/** Who holds a handle item, for the report. */
function holderOf(item: HandleItem): string {
  const until = item.expires_at === undefined ? "" : ` until ${new Date(item.expires_at * 1000).toISOString()}`;
  if (item.state === "owned") return `owned by ${item.user_uuid}`;
  if (item.state === "reserved") return `reserved to its former owner ${item.user_uuid}${until}`;
  return `pending for the unconfirmed sign-up of ${item.pending_username}${until}`;
}

/**
 * True when `putDirectoryUser` would claim the handle item for `user`: the same condition as its
 * transaction (free, expired, already this user's, or this user's own pending sign-up).
 */
function claimable(item: HandleItem | undefined, user: { uuid: string; username: string }, nowMs: number): boolean {
  if (item === undefined) return true;
  if (item.expires_at !== undefined && item.expires_at < Math.floor(nowMs / 1000)) return true;
  if (item.user_uuid === user.uuid) return true;
  return item.state === "pending" && item.pending_username === user.username;
}

/** The identity rules' codes of a user's handle and name (empty when both are valid). */
function identityCodes(handle: string, displayName: string): string[] {
  const codes: string[] = [];
  if (!isValidHandle(handle)) codes.push("handle_invalid");
  if (normalizeDisplayName(displayName) === undefined) codes.push("display_name_invalid");
  return codes;
}

/**
 * Imports the users of the pool into the directory. See the module documentation for what
 * happens to each user.
 * @returns the report (also for a dry run); lists are sorted by handle, then username.
 * @throws Cognito and DynamoDB errors (unknown pool, missing table, throttling after retries).
 */
export async function importUsers(deps: ImportDeps, options: ImportOptions): Promise<ImportReport> {
  const { progress, nowMs } = options;
  const directory = { ddb: deps.doc, tableName: deps.tableName };

  progress?.start("listing the pool", { unit: "users" });
  let listed = 0;
  const users = await listPoolUsers(deps.cognito, deps.userPoolId, {
    onPage: (n) => {
      progress?.tick(n - listed);
      listed = n;
    },
  });
  progress?.done();

  const report: ImportReport = {
    dryRun: options.dryRun,
    poolUsers: users.length,
    created: [],
    existing: 0,
    disabledInCognitoOnly: [],
    unconfirmed: [],
    duplicates: [],
    missing: [],
    invalid: [],
    taken: [],
  };

  // Who has a profile already (read in chunks, so that progress moves on a large pool).
  progress?.start("reading the directory", { total: users.length, unit: "users" });
  const profiles = new Map<string, ProfileItem>();
  for (let i = 0; i < users.length; i += PROFILE_CHUNK) {
    const chunk = users.slice(i, i + PROFILE_CHUNK);
    const uuids = chunk.flatMap((u) => (u.uuid === undefined ? [] : [u.uuid]));
    for (const [uuid, profile] of await readProfiles(deps.doc, deps.tableName, uuids)) profiles.set(uuid, profile);
    progress?.tick(chunk.length);
  }
  progress?.done();

  const candidates: PoolUser[] = [];
  for (const user of users) {
    const profile = user.uuid === undefined ? undefined : profiles.get(user.uuid);
    if (profile !== undefined) {
      report.existing += 1;
      if (!user.enabled && profile.status === "active") report.disabledInCognitoOnly.push({ user, profile });
    } else if (user.status === "UNCONFIRMED") {
      report.unconfirmed.push(user);
    } else {
      candidates.push(user);
    }
  }

  // Handles claimed twice: every candidate whose preferred_username is a valid handle takes part,
  // whatever else is wrong with it, so that fixing one user's name never hands the handle over silently.
  const claimants = new Map<string, PoolUser[]>();
  for (const user of candidates) {
    if (user.handle === undefined || !isValidHandle(user.handle)) continue;
    const key = canonicalHandle(user.handle);
    claimants.set(key, [...(claimants.get(key) ?? []), user]);
  }
  const duplicated = new Set<PoolUser>();
  for (const [handle, group] of claimants) {
    if (group.length < 2) continue;
    const item = await getHandleItem(directory, handle);
    report.duplicates.push({
      handle,
      users: group.sort(byHandle),
      holder: item === undefined ? undefined : holderOf(item),
    });
    for (const user of group) duplicated.add(user);
  }

  const toClaim: { user: PoolUser; uuid: string; handle: string; displayName: string }[] = [];
  for (const user of candidates) {
    if (duplicated.has(user)) continue;
    const absent = [
      ...(user.uuid === undefined ? ["sub"] : []),
      ...(user.handle === undefined ? ["preferred_username"] : []),
      ...(user.display_name === undefined ? ["name"] : []),
    ];
    if (user.uuid === undefined || user.handle === undefined || user.display_name === undefined) {
      report.missing.push({ user, reason: `no ${absent.join(", no ")}` });
      continue;
    }
    const codes = identityCodes(user.handle, user.display_name);
    if (codes.length > 0) {
      report.invalid.push({ user, reason: codes.join(", ") });
      continue;
    }
    toClaim.push({ user, uuid: user.uuid, handle: user.handle, displayName: user.display_name });
  }

  progress?.start(options.dryRun ? "checking handles" : "importing", { total: toClaim.length, unit: "users" });
  await eachLimited(toClaim, options.concurrency ?? 8, async ({ user, uuid, handle, displayName }) => {
    const status: UserStatus = user.enabled ? "active" : "disabled";
    if (options.dryRun) {
      const item = await getHandleItem(directory, handle);
      if (claimable(item, { uuid, username: user.username }, nowMs)) report.created.push({ user, status });
      else report.taken.push({ user, reason: holderOf(item as HandleItem) });
    } else {
      const outcome = await putDirectoryUser(
        directory,
        { uuid, handle, display_name: displayName, status, username: user.username },
        nowMs,
      );
      if (outcome === "created") report.created.push({ user, status });
      else if (outcome === "exists") report.existing += 1;
      else if (outcome === "invalid") report.invalid.push({ user, reason: "refused by the identity rules" });
      else {
        const item = await getHandleItem(directory, handle);
        report.taken.push({ user, reason: item === undefined ? "taken meanwhile" : holderOf(item) });
      }
    }
    progress?.tick();
  });
  progress?.done();

  report.created.sort((a, b) => byHandle(a.user, b.user));
  for (const list of [report.missing, report.invalid, report.taken]) list.sort((a, b) => byHandle(a.user, b.user));
  report.unconfirmed.sort(byHandle);
  report.duplicates.sort((a, b) => compare(a.handle, b.handle));
  report.disabledInCognitoOnly.sort((a, b) => byHandle(a.user, b.user));
  return report;
}
