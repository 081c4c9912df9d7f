/**
 * `users refresh` converges while people keep posting into the very conversations it rewrites.
 * On the local stack (real HTTP API, real stream poller running the fan-out), posters post into
 * every conversation of one user without pause; meanwhile that user is renamed in the directory
 * (without the propagation PATCH /api/users/me does, which is what refresh catches up on) and
 * `users refresh` runs, round after round. Each round must end with no group given up, and with
 * the group items and the other members' summaries naming the user as the directory does, while
 * the posting goes on. At the end every message is kept and each member has one summary per group.
 * The figures (attempts, lost races, posts during the runs) go to docs/reliability.md.
 */
import { rm } from "node:fs/promises";
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshUserNames } from "../../bin/lib/refresh-users";
import type { LocalStack } from "../../local/stack";
import { renameUser } from "../../shared/directory";
import { messageGroupUuidFor } from "../../shared/ids";
import type { MessageGroupItem } from "../../shared/items/message-group";
import type { MessageGroupSummaryItem } from "../../shared/items/message-group-summary";
import { getMessageGroup } from "../../shared/messages";
import type { MessageGroupView, MessageView } from "../../shared/model";
import { RENAME_MAX_ATTEMPTS } from "../../shared/renames";
import { SEED_CONVERSATION_MEMBERS } from "../../shared/seed-data";
import { grpPk, msgPk } from "../../shared/table";
import { type Caller, newCaller, seededCaller, stackDocumentClient } from "../support/callers";
import { callApi, pollUntil, startTestStack } from "../support/stack";

/** Refresh runs, one rename before each. */
const ROUNDS = 8;
/** Posters per conversation, each posting one message after the other without pause. */
const POSTERS_PER_GROUP = 2;

let stack: LocalStack;
let doc: DynamoDBDocumentClient;
/** The renamed user, and the members of their conversations. */
let renamed: Caller;
let others: Caller[];
let groups: string[];

beforeAll(async () => {
  stack = await startTestStack();
  doc = stackDocumentClient(stack);
  renamed = await seededCaller(stack, SEED_CONVERSATION_MEMBERS.b);
  others = [
    await seededCaller(stack, SEED_CONVERSATION_MEMBERS.a),
    await seededCaller(stack, "londo"),
    await newCaller(stack, "refresh_peer"),
  ];
  // The seeded conversation exists; the others start with a first message (pattern D).
  for (const other of others.slice(1)) {
    const first = await callApi(stack, "POST", "/api/messages", {
      token: renamed.accessToken,
      body: { message: `hello ${other.handle}`, handle: other.handle },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
  }
  groups = others.map((o) => messageGroupUuidFor(renamed.uuid, o.uuid));
});
afterAll(async () => {
  doc?.destroy();
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

/** Posters that post into every group until stopped; counts the posts, in all and per group. */
function startTraffic() {
  let stopping = false;
  const failures: string[] = [];
  let posts = 0;
  const postsTo = new Map<string, number>();
  const poster = async (from: Caller, group: string, n: number) => {
    for (let i = 0; !stopping; i++) {
      const response = await callApi(stack, "POST", "/api/messages", {
        token: from.accessToken,
        body: { message: `${from.handle} ${n}.${i}`, message_group_uuid: group },
      });
      if (response.status !== 200) failures.push(`${response.status} ${JSON.stringify(response.body)}`);
      else {
        posts += 1;
        postsTo.set(group, (postsTo.get(group) ?? 0) + 1);
      }
    }
  };
  const running = groups.flatMap((group, g) =>
    Array.from({ length: POSTERS_PER_GROUP }, (_, n) =>
      poster(n % 2 === 0 ? renamed : (others[g] as Caller), group, n),
    ),
  );
  return {
    posts: () => posts,
    postsTo,
    failures,
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}

/** The GRP rows of `owner` for `group` (strongly consistent). */
/** MSG rows of a group. */
async function messageCount(group: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": msgPk(group) },
        Select: "COUNT",
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

async function summaries(owner: Caller, group: string): Promise<MessageGroupSummaryItem[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: "pk = :pk",
      FilterExpression: "message_group_uuid = :g",
      ExpressionAttributeValues: { ":pk": grpPk(owner.uuid), ":g": group },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as MessageGroupSummaryItem[];
}

describe("users refresh under continuous posting", () => {
  it(`converges in each of ${ROUNDS} runs while every conversation of the renamed user keeps moving`, async () => {
    const messagesBefore = await Promise.all(groups.map(messageCount));
    const traffic = startTraffic();
    const figures: { attempts: number; lostRaces: number; posts: number; ms: number }[] = [];
    try {
      // Let the traffic and the fan-out get going before the first run.
      await pollUntil(10_000, async () => (traffic.posts() >= 20 ? true : undefined));
      for (let round = 1; round <= ROUNDS; round++) {
        const name = { handle: `bayko_r${round}`, display_name: `Bayko Round ${round}` };
        await renameUser({ ddb: doc, tableName: stack.tableName }, renamed.uuid, name, Date.now());
        const postsBefore = traffic.posts();
        const started = performance.now();
        const report = await refreshUserNames({ doc, tableName: stack.tableName }, { dryRun: false });
        const ms = performance.now() - started;
        figures.push({
          attempts: report.maxGroupAttempts,
          lostRaces: report.lostRaces,
          posts: traffic.posts() - postsBefore,
          ms,
        });
        expect(report.problems, `round ${round}`).toEqual([]);
        expect(
          report.renames.map((r) => r.to),
          `round ${round}`,
        ).toEqual([{ uuid: renamed.uuid, ...name }]);
        expect(report.updated.groupItems, `round ${round}`).toBeGreaterThanOrEqual(groups.length);
        // Converged, with the posting still going on: the group items and the other members'
        // summaries name the user as the directory does now.
        for (const [g, group] of groups.entries()) {
          const item = (await getMessageGroup({ ddb: doc, tableName: stack.tableName }, group)) as MessageGroupItem;
          expect(
            item.members.find((m) => m.uuid === renamed.uuid),
            `round ${round}`,
          ).toEqual({
            uuid: renamed.uuid,
            ...name,
          });
          // A Query is not a snapshot: it may meet a move half-way (both rows or none); read again then.
          const { value: rows } = await pollUntil(5_000, async () => {
            const found = await summaries(others[g] as Caller, group);
            return found.length === 1 ? found : undefined;
          });
          expect(rows[0], `round ${round}`).toMatchObject({
            user_handle: name.handle,
            user_display_name: name.display_name,
          });
        }
      }
    } finally {
      await traffic.stop();
    }
    expect(traffic.failures).toEqual([]);
    // Posts went on during the runs, and the fan-out did move the groups under the refresh.
    expect(figures.every((f) => f.posts > 0)).toBe(true);
    const maxAttempts = Math.max(...figures.map((f) => f.attempts));
    expect(maxAttempts).toBeLessThan(RENAME_MAX_ATTEMPTS);
    if (process.env.RELIABILITY_REPORT === "1") {
      console.info(
        `refresh under traffic: ${ROUNDS} runs, ${traffic.posts()} posts in all, ` +
          `posts during each run ${figures.map((f) => f.posts).join("/")}, ` +
          `run ms ${figures.map((f) => Math.round(f.ms)).join("/")}, ` +
          `lost races ${figures.map((f) => f.lostRaces).join("/")}, most attempts by one group ${maxAttempts}`,
      );
    }

    // Once the fan-out has caught up: one summary per member and group, showing the last message
    // and the final names.
    const final = { handle: `bayko_r${ROUNDS}`, display_name: `Bayko Round ${ROUNDS}` };
    // The newest message of a group is the one with the highest sort key, not the last one
    // acknowledged: two posters of one group post concurrently. Pattern A's newest page of one says.
    const newestOf = async (group: string): Promise<MessageView | undefined> => {
      const page = await callApi(stack, "GET", `/api/messages/${group}?limit=1`, { token: renamed.accessToken });
      return (page.body as MessageView[])[0];
    };
    await pollUntil(30_000, async () => {
      for (const [g, group] of groups.entries()) {
        const newest = await newestOf(group);
        for (const member of [renamed, others[g] as Caller]) {
          const response = await callApi(stack, "GET", "/api/message_groups?limit=100", { token: member.accessToken });
          const rows = (response.body as MessageGroupView[]).filter((v) => v.uuid === group);
          if (rows.length !== 1 || rows[0]?.message !== newest?.message || rows[0]?.created_at !== newest?.created_at)
            return undefined;
        }
      }
      return true;
    });
    for (const [g, group] of groups.entries()) {
      expect(await messageCount(group)).toBe((messagesBefore[g] ?? 0) + (traffic.postsTo.get(group) ?? 0));
      const rows = await summaries(others[g] as Caller, group);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ user_handle: final.handle, user_display_name: final.display_name });
    }
  });
});
