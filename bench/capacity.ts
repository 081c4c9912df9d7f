/**
 * Capacity per route: each route's domain call (`shared/messages.ts`, what the route function
 * calls) on a metered DocumentClient, next to the minimum the data model allows, and the price
 * of a message at on-demand rates.
 */

import { randomUUID } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { SeededUser } from "../local/seed";
import { putDirectoryUser } from "../shared/directory";
import { listMessageGroups, listMessages, type MessagingDeps, postToGroup, postToHandle } from "../shared/messages";
import { grpPk, msgPk } from "../shared/table";
import { createUserDirectory } from "../shared/users";
import { type CapacityTotals, meterCapacity } from "./capacity-meter";
import type { Fixture } from "./fixture";
import { eventuallyConsistentReadUnits, itemBytes } from "./item-size";
import { seededPair } from "./requests";

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
  /** DynamoDB calls of one request (`GetItem + Query`). */
  calls: string;
  readUnits: number;
  localWriteUnits: number;
  cloudWriteUnits: number;
  /** The least the data model allows for this request, and why. */
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

const profile = (u: SeededUser) => ({ uuid: u.uuid, handle: u.handle, display_name: u.display_name });

function describeCalls(calls: Record<string, number>, runs: number): string {
  return Object.entries(calls)
    .map(([op, n]) => (n / runs === 1 ? op : `${n / runs}× ${op}`))
    .join(" + ");
}

/** Runs each route's domain call `runs` times on a metered client (writes go to the seeded group). */
export async function measureRouteCapacity(fixture: Fixture, runs: number): Promise<RouteCapacity[]> {
  const ddb = fixture.newDocumentClient();
  const meter = meterCapacity(ddb);
  const deps: MessagingDeps = { ddb, tableName: fixture.tableName };
  // The directory as a cold container reads it (no cache): the worst case of every lookup.
  const users = createUserDirectory({ ddb, tableName: fixture.tableName }, { ttlMs: 0 });
  const setup = fixture.newDocumentClient();
  const newUser = async () => {
    const id = randomUUID();
    const user = { uuid: id, handle: `cap${id.slice(0, 8)}`, display_name: "Capacity" };
    await putDirectoryUser({ ddb: setup, tableName: fixture.tableName }, user, Date.now());
    return user;
  };
  const { a, b } = seededPair(fixture);
  const page = { limit: PAGE_SIZE, cursor: undefined };
  const groupsPage = await pageBytes(fixture, grpPk(a.uuid));
  const messagesPage = await pageBytes(fixture, msgPk(fixture.groupUuid));
  const pageWhy = (bytes: number) => `eventually consistent Query of the ${PAGE_SIZE}-row page (${bytes} B)`;
  // New pairs for D, written before the meter runs (the writes of setting them up are not D's).
  const pairs: (readonly [{ uuid: string; handle: string; display_name: string }, { handle: string }])[] = [];
  for (let i = 0; i < runs; i++) pairs.push([await newUser(), await newUser()]);
  const routes: { route: string; run: () => Promise<unknown>; minimum: RouteCapacity["minimum"] }[] = [
    {
      route: "GET /api/message_groups (B)",
      run: () => listMessageGroups(deps, a.uuid, page),
      minimum: { readUnits: eventuallyConsistentReadUnits(groupsPage), writeUnits: 0, why: pageWhy(groupsPage) },
    },
    {
      route: "GET /api/messages/{id} (A)",
      run: () => listMessages(deps, a.uuid, fixture.groupUuid, page),
      minimum: {
        readUnits: 1 + eventuallyConsistentReadUnits(messagesPage),
        writeUnits: 0,
        why: `membership: strongly consistent GetItem (1); ${pageWhy(messagesPage)}`,
      },
    },
    {
      route: "POST /api/messages to a group (C)",
      run: () => postToGroup(deps, profile(a), fixture.groupUuid, "How much does it cost?"),
      minimum: { readUnits: 1, writeUnits: 1, why: "membership GetItem (1); the MSG row ≤ 1 KB, no index (1)" },
    },
    {
      route: "POST /api/messages to a new handle (D)",
      run: () => {
        const [x, y] = pairs.pop() ?? [];
        if (x === undefined || y === undefined) throw new Error("no new pair left");
        return postToHandle({ ...deps, users }, x, y.handle, "Hello!");
      },
      minimum: {
        readUnits: 5,
        writeUnits: 6,
        why:
          "handle item + profile of the other (2), group GetItem (1), both profiles fresh (2), all strongly consistent; " +
          "group item + MSG row (1 each) + 2 GRP rows (1 + 1 index each); the transaction doubles it",
      },
    },
    {
      route: "POST /api/messages to a known handle (D, group exists)",
      run: () => postToHandle({ ...deps, users }, profile(a), b.handle, "Again"),
      minimum: {
        readUnits: 3,
        writeUnits: 1,
        why: "handle item + profile (2, none when cached); GetItem finds the group (1); the MSG row (1)",
      },
    },
    {
      route: "GET /api/users/@{handle}/short (public)",
      run: () => users.byHandle(b.handle),
      minimum: {
        readUnits: 2,
        writeUnits: 0,
        why: "strongly consistent GetItem of the handle item and of the profile (1 each; none when cached)",
      },
    },
    {
      route: "caller profile (every authenticated route, once per cache TTL)",
      run: () => users.caller({ sub: a.uuid, username: a.username }),
      minimum: { readUnits: 1, writeUnits: 0, why: "strongly consistent GetItem of the profile (1)" },
    },
  ];
  const figures: RouteCapacity[] = [];
  for (const r of routes) {
    meter.reset();
    for (let i = 0; i < runs; i++) await r.run();
    const used: CapacityTotals = meter.snapshot();
    figures.push({
      route: r.route,
      calls: describeCalls(used.calls, runs) || "none",
      readUnits: used.readUnits / runs,
      localWriteUnits: used.writeUnits / runs,
      cloudWriteUnits: used.cloudWriteUnits / runs,
      minimum: r.minimum,
    });
  }
  ddb.destroy();
  setup.destroy();
  return figures;
}
