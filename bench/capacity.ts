/**
 * Capacity per request: each route's (and each Cognito trigger's) work as its function does it,
 * the same shared calls in the same order (the caller's profile, then the domain call of
 * `shared/messages.ts`, `shared/directory.ts`, `shared/renames.ts` or `shared/sign-up.ts`), on a
 * metered DocumentClient with a real user directory (`createUserDirectory`), next to the minimum
 * the data model allows, and the price of a message at on-demand rates.
 *
 * The routes that read the directory are measured twice: with the container's user cache warm
 * (the caller, and for a known handle its owner, looked up before, unmetered: a warm container
 * within USER_CACHE_TTL_MS) and with no user cache (USER_CACHE_TTL_MS=0, or the first request of
 * a container: every lookup reads the table). Writes are the same either way.
 */
import { randomUUID } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { blockUser, listBlocks, unblockUser } from "../shared/blocks";
import {
  claimSignUpHandle,
  DEFAULT_HANDLE_RESERVATION_MS,
  type DirectoryDeps,
  getProfile,
  type ProfileChange,
  putDirectoryUser,
  renameUser,
  toUserProfile,
} from "../shared/directory";
import { listMessageGroups, listMessages, type MessagingDeps, markGroupRead } from "../shared/messages";
import type { UserProfile } from "../shared/model";
import { propagateRename } from "../shared/renames";
import { sendMessage } from "../shared/send";
import { postConfirmation, preSignUp } from "../shared/sign-up";
import { grpPk, msgPk } from "../shared/table";
import { type CallerClaims, createUserDirectory, type UserDirectory } from "../shared/users";
import { type CapacityTotals, meterCapacity } from "./capacity-meter";
import { newSignUp, postConfirmationEvent, preSignUpEvent, type SignUp } from "./events";
import { type Fixture, UNLIMITED_SEND_LIMITS } from "./fixture";
import { eventuallyConsistentReadUnits, itemBytes } from "./item-size";
import { benchUser, nextRenamerName, seededPair } from "./requests";

/**
 * DynamoDB on-demand prices, us-east-1, as of late 2024 (after the November 2024 price cut),
 * USD per million request units; taken from the AWS DynamoDB pricing page as of that date:
 * check them before relying on the dollar figures.
 */
export const ON_DEMAND_PRICES = {
  asOf: "late 2024 (after the November 2024 price cut)",
  region: "us-east-1",
  writePerMillionUnits: 0.625,
  readPerMillionUnits: 0.125,
} as const;

/** Capacity of one request of a route, averaged over the runs. */
export interface RouteCapacity {
  route: string;
  /** DynamoDB calls of one request with the user cache warm (`GetItem + Query`). */
  calls: string;
  /** Read units of one request with the user cache warm. */
  readUnits: number;
  /** The same request with no user cache: every user lookup reads the table. */
  noCache: { calls: string; readUnits: number };
  localWriteUnits: number;
  cloudWriteUnits: number;
  /** The least the data model allows for this request (user cache warm), and why. */
  minimum: { readUnits: number; writeUnits: number; why: string };
}

/** USD for `readUnits` and `writeUnits` request units, per million of them at the on-demand prices. */
export function dollarsPerMillion(readUnits: number, writeUnits: number): number {
  return readUnits * ON_DEMAND_PRICES.readPerMillionUnits + writeUnits * ON_DEMAND_PRICES.writePerMillionUnits;
}

/** Page size of the list requests measured (the routes' default). */
const PAGE_SIZE = 20;

/** Bytes of the `PAGE_SIZE` newest rows of partition `pk` (what a page has to read at least). */
async function pageBytes(fixture: Fixture, pk: string): Promise<number> {
  const ddb = fixture.newDocumentClient();
  const out = await ddb.send(
    new QueryCommand({
      TableName: fixture.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      ScanIndexForward: false,
      Limit: PAGE_SIZE,
    }),
  );
  ddb.destroy();
  return (out.Items ?? []).reduce((sum, item) => sum + itemBytes(item), 0);
}

/** Rows of the `PAGE_SIZE`-row page of partition `pk` (at most `PAGE_SIZE`). */
async function pageRows(fixture: Fixture, pk: string): Promise<number> {
  const ddb = fixture.newDocumentClient();
  const out = await ddb.send(
    new QueryCommand({
      TableName: fixture.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      Limit: PAGE_SIZE,
      Select: "COUNT",
    }),
  );
  ddb.destroy();
  return out.Count ?? 0;
}

function describeCalls(calls: Record<string, number>, runs: number): string {
  return Object.entries(calls)
    .map(([op, n]) => (n / runs === 1 ? op : `${n / runs}× ${op}`))
    .join(" + ");
}

/** The claims of a seeded user's access token, as the route functions read them. */
const claimsOf = (u: { uuid: string; username?: string; handle: string }): CallerClaims => ({
  sub: u.uuid,
  username: u.username ?? u.handle,
});

/** One request measured: made ready unmetered, then run metered with the function's user directory. */
interface Request<T> {
  route: string;
  /** Calls the request makes outside DynamoDB (not metered), appended to the calls. */
  otherCalls?: string;
  /** What the request needs that a client or an earlier request made (unmetered): new users, a claim. */
  prepare: () => Promise<T>;
  /** With the cache warm: the lookups a warm container answers from its cache (unmetered). */
  warm?: (users: UserDirectory, input: T) => Promise<unknown>;
  /** The request, as its function makes it. */
  run: (users: UserDirectory, input: T) => Promise<unknown>;
  minimum: RouteCapacity["minimum"];
}

/** A user written straight into the directory (unmetered client), as a sign-up would have. */
async function directoryUser(deps: DirectoryDeps, prefix: string): Promise<UserProfile> {
  const user = benchUser(`${prefix}${Math.random().toString(36).slice(2, 8)}`);
  const outcome = await putDirectoryUser(deps, user, Date.now());
  if (outcome !== "created") throw new Error(`bench: could not create ${user.handle} (${outcome})`);
  return user;
}

/**
 * Runs each request `runs` times with the user cache warm and `runs` times with no user cache,
 * on a metered client (the writes go to the seeded groups, the renamer and new users).
 */
export async function measureRouteCapacity(fixture: Fixture, runs: number): Promise<RouteCapacity[]> {
  const ddb = fixture.newDocumentClient();
  const meter = meterCapacity(ddb);
  const deps: MessagingDeps & DirectoryDeps = { ddb, tableName: fixture.tableName };
  const plain = fixture.newDocumentClient();
  const plainDeps: DirectoryDeps = { ddb: plain, tableName: fixture.tableName };
  const { a, b } = seededPair(fixture);
  const renamer = fixture.renamer;
  const page = { limit: PAGE_SIZE, cursor: undefined };
  const groupsPage = await pageBytes(fixture, grpPk(a.uuid));
  const groupsRows = await pageRows(fixture, grpPk(a.uuid));
  const messagesPage = await pageBytes(fixture, msgPk(fixture.groupUuid));
  const pageWhy = (bytes: number) => `eventually consistent Query of the ${PAGE_SIZE}-row page (${bytes} B)`;
  const none = async () => undefined;
  const warmCaller = (users: UserDirectory) => users.caller(claimsOf(a));
  const rename = async (change: ProfileChange) => {
    const { after } = await renameUser(deps, renamer.uuid, change, Date.now(), DEFAULT_HANDLE_RESERVATION_MS);
    return propagateRename(deps, toUserProfile(after));
  };
  const renameWhy =
    "profile GetItem (1), GRP Query (0.5), group item GetItem (1: the GRP rows' key); profile update (1), group item update (1), the other member's GRP row update (1 + 1 index); no transaction, no re-read of the GRP rows, no second pass";
  const requests: Request<unknown>[] = [
    {
      route: "GET /api/message_groups (B)",
      prepare: none,
      warm: warmCaller,
      run: async (users) => listMessageGroups(deps, (await users.caller(claimsOf(a))).uuid, page),
      minimum: {
        readUnits: eventuallyConsistentReadUnits(groupsPage) + groupsRows * 1.5,
        writeUnits: 0,
        why: `${pageWhy(groupsPage)}; per group (${groupsRows}): both read markers, eventually consistent (0.5 + 0.5), and the unread count's Query (0.5 with nothing unread)`,
      },
    },
    {
      route: "GET /api/messages/{id} (A)",
      prepare: none,
      warm: warmCaller,
      run: async (users) => listMessages(deps, (await users.caller(claimsOf(a))).uuid, fixture.groupUuid, page),
      minimum: {
        readUnits: 1 + eventuallyConsistentReadUnits(messagesPage),
        writeUnits: 0,
        why: `membership: strongly consistent GetItem (1); ${pageWhy(messagesPage)}`,
      },
    },
    {
      route: "POST /api/messages to a group (C)",
      prepare: none,
      warm: warmCaller,
      run: async (users) =>
        sendMessage({ ...deps, users, sendLimits: UNLIMITED_SEND_LIMITS }, await users.caller(claimsOf(a)), {
          kind: "to_group",
          message_group_uuid: fixture.groupUuid,
          message: "How much does it cost?",
        }),
      minimum: {
        readUnits: 4,
        writeUnits: 3,
        why: "membership GetItem (1); both block keys, strongly consistent (1 + 1); the send limits (1); the MSG row ≤ 1 KB, no index (1); the send limits (1); the sender's read marker (1)",
      },
    },
    {
      route: "POST /api/messages to a new handle (D)",
      prepare: async () => ({ x: await directoryUser(plainDeps, "capx"), y: await directoryUser(plainDeps, "capy") }),
      // The sender is cached; the other user is new to this container (a first message to them).
      warm: (users, input) => users.caller(claimsOf((input as { x: UserProfile }).x)),
      run: async (users, input) => {
        const { x, y } = input as { x: UserProfile; y: UserProfile };
        return sendMessage({ ...deps, users, sendLimits: UNLIMITED_SEND_LIMITS }, await users.caller(claimsOf(x)), {
          kind: "to_handle",
          handle: y.handle,
          message: "Hello!",
        });
      },
      minimum: {
        readUnits: 7,
        writeUnits: 8,
        why: "handle item (1); both members' profiles, strongly consistent, since their names go into the rows (2); group item (1); blocks (2) and send limits (1); group item + MSG row (1 each) + 2 GRP rows (1 + 1 index each), doubled by the transaction; send limits and read marker (1 + 1)",
      },
    },
    {
      route: "POST /api/messages to a known handle (D, group exists)",
      prepare: none,
      warm: async (users) => {
        await warmCaller(users);
        await users.byHandle(b.handle);
      },
      run: async (users) =>
        sendMessage({ ...deps, users, sendLimits: UNLIMITED_SEND_LIMITS }, await users.caller(claimsOf(a)), {
          kind: "to_handle",
          handle: b.handle,
          message: "Again",
        }),
      minimum: {
        readUnits: 4,
        writeUnits: 3,
        why: "GetItem finds the group (1); blocks (2) and send limits (1); the MSG row, send limits and read marker (1 each)",
      },
    },
    {
      route: "POST /api/message_groups/{id}/read (newest)",
      prepare: none,
      warm: warmCaller,
      run: async (users) => markGroupRead(deps, (await users.caller(claimsOf(b))).uuid, fixture.groupUuid, undefined),
      minimum: {
        readUnits: 3.5,
        writeUnits: 1,
        why: "membership GetItem (1); the marker (1); the newest MSG row, consistent (1); the count after it (0.5); the marker update (1)",
      },
    },
    {
      route: "POST + DELETE /api/users/@{handle}/block",
      prepare: none,
      warm: async (users) => {
        await warmCaller(users);
        await users.byHandle(b.handle);
      },
      run: async (users) => {
        const caller = await users.caller(claimsOf(a));
        await blockUser({ ...deps, users }, caller, b.handle);
        await unblockUser({ ...deps, users }, caller, b.handle);
      },
      minimum: {
        readUnits: 4,
        writeUnits: 2,
        why: "the target read fresh, twice (handle item + profile, 1 each, strongly consistent); the block put and its delete (1 + 1)",
      },
    },
    {
      route: "GET /api/users/me/blocks (none)",
      prepare: none,
      warm: warmCaller,
      run: async (users) => listBlocks({ ...deps, users }, (await users.caller(claimsOf(a))).uuid, page),
      minimum: { readUnits: 0.5, writeUnits: 0, why: "one eventually consistent Query (0.5)" },
    },
    {
      route: "GET /api/users/@{handle}/short (public)",
      prepare: none,
      warm: (users) => users.byHandle(b.handle),
      run: async (users) => {
        if ((await users.byHandle(b.handle)) === undefined) throw new Error(`bench: ${b.handle} not found`);
      },
      minimum: {
        readUnits: 0,
        writeUnits: 0,
        why: "the container's cache answers; on a miss 1: handle item and profile eventually consistent (0.5 each), enough for a public view that is itself cacheable",
      },
    },
    {
      route: "GET /api/users/@{unknown handle}/short (public, 404)",
      prepare: async () => `nobody${Math.random().toString(36).slice(2, 8)}`,
      run: async (users, input) => {
        if ((await users.byHandle(input as string)) !== undefined) throw new Error("bench: unknown handle found");
      },
      minimum: {
        readUnits: 0.5,
        writeUnits: 0,
        why: "unknown handles are never cached: one GetItem of the handle item, eventually consistent (0.5)",
      },
    },
    {
      route: "PATCH /api/users/me {display_name}, 1 conversation",
      otherCalls: "Cognito AdminUpdateUserAttributes",
      prepare: none,
      run: () => rename({ display_name: nextRenamerName(fixture) }),
      minimum: { readUnits: 2.5, writeUnits: 4, why: renameWhy },
    },
    {
      route: "PATCH /api/users/me {handle}, 1 conversation",
      otherCalls: "Cognito AdminUpdateUserAttributes",
      // Back and forth between two handles (taking back the one it left is allowed).
      prepare: async () => {
        const now = await getProfile(plainDeps, renamer.uuid);
        return now?.handle === renamer.handle ? `${renamer.handle}-b` : renamer.handle;
      },
      run: (_users, input) => rename({ handle: input as string }),
      minimum: {
        readUnits: 2.5,
        writeUnits: 9,
        why: "as for a display name, but the handle swap is one transaction of 3 items (6): profile, new handle item, old handle item",
      },
    },
    {
      route: "Cognito pre-sign-up trigger",
      prepare: async () => newSignUp(),
      run: (_users, input) =>
        preSignUp(deps, preSignUpEvent(fixture.region, fixture.userPoolId, input as SignUp), Date.now()),
      minimum: { readUnits: 0, writeUnits: 1, why: "the conditional put of the pending handle claim (1)" },
    },
    {
      route: "Cognito post-confirmation trigger",
      // As the pre-sign-up trigger left it: the handle claimed, pending, for this sign-up.
      prepare: async () => {
        const signUp = newSignUp();
        await claimSignUpHandle(plainDeps, signUp, Date.now());
        return signUp;
      },
      run: (_users, input) =>
        postConfirmation(
          deps,
          postConfirmationEvent(fixture.region, fixture.userPoolId, input as SignUp, randomUUID()),
          Date.now(),
        ),
      minimum: {
        readUnits: 0,
        writeUnits: 4,
        why: "the owned handle item and the profile in one transaction (2 × 2); the GetItems before and after are answered by the transaction's conditions",
      },
    },
  ];

  const measure = async (r: Request<unknown>, cached: boolean): Promise<CapacityTotals> => {
    const users = createUserDirectory(deps, { ttlMs: cached ? 3_600_000 : 0 });
    meter.reset();
    for (let i = 0; i < runs; i++) {
      const input = await meter.unmetered(r.prepare);
      if (cached && r.warm !== undefined) {
        const warm = r.warm;
        await meter.unmetered(() => warm(users, input));
      }
      await r.run(users, input);
    }
    return meter.snapshot();
  };
  const callsOf = (r: Request<unknown>, used: CapacityTotals) =>
    [describeCalls(used.calls, runs) || "none", ...(r.otherCalls === undefined ? [] : [r.otherCalls])].join(" + ");

  const figures: RouteCapacity[] = [];
  for (const r of requests) {
    const warm = await measure(r, true);
    const cold = await measure(r, false);
    figures.push({
      route: r.route,
      calls: callsOf(r, warm),
      readUnits: warm.readUnits / runs,
      noCache: { calls: callsOf(r, cold), readUnits: cold.readUnits / runs },
      localWriteUnits: warm.writeUnits / runs,
      cloudWriteUnits: warm.cloudWriteUnits / runs,
      minimum: r.minimum,
    });
  }
  ddb.destroy();
  plain.destroy();
  return figures;
}
