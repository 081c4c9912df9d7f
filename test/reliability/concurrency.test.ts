/**
 * Suite 5, concurrency, through the local HTTP API: many clients posting into one group at once
 * (every message kept, listed in time order, each client's messages in the order it sent them),
 * and both users of several new pairs starting the same conversation at once (exactly one group
 * per pair, every message in it). Afterwards both summaries of every group show its newest message.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/stack";
import { messageGroupUuidFor } from "../../shared/ids";
import type { CreatedMessageView, MessageGroupView, MessageView } from "../../shared/model";
import { SEED_CONVERSATION_MEMBERS } from "../../shared/seed-data";
import { GRP_PREFIX, MESSAGE_GROUP_PREFIX, MSG_PREFIX, messageGroupKey, msgPk } from "../../shared/table";
import { type Caller, newCaller, scanStackTable, seededCaller } from "../support/callers";
import { callApi, listAllMessages, pollUntil, startTestStack } from "../support/stack";

/** Clients posting into one group at once, and messages each posts one after the other. */
const CLIENTS = 20;
const MESSAGES_PER_CLIENT = 10;
/** New pairs racing to start their conversation, and posts per user of a pair. */
const PAIRS = 5;
const RACERS_PER_USER = 10;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

async function post(from: Caller, body: Record<string, unknown>): Promise<CreatedMessageView> {
  const response = await callApi(stack, "POST", "/api/messages", { token: from.accessToken, body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as CreatedMessageView;
}

/** Waits until both members' summaries of `group` show `newest` (the fan-out is asynchronous). */
async function expectSummariesShow(members: Caller[], group: string, newest: MessageView): Promise<void> {
  await pollUntil(30_000, async () => {
    for (const member of members) {
      const response = await callApi(stack, "GET", "/api/message_groups?limit=100", { token: member.accessToken });
      const rows = (response.body as MessageGroupView[]).filter((g) => g.uuid === group);
      if (rows.length !== 1 || rows[0]?.message !== newest.message || rows[0]?.created_at !== newest.created_at) {
        return undefined;
      }
    }
    return true;
  });
}

describe("concurrency through the HTTP API", () => {
  it(`keeps every message of ${CLIENTS} clients posting into one group at once, in order`, async () => {
    const a = await seededCaller(stack, SEED_CONVERSATION_MEMBERS.a);
    const b = await seededCaller(stack, SEED_CONVERSATION_MEMBERS.b);
    const groups = await callApi(stack, "GET", "/api/message_groups", { token: a.accessToken });
    const group = (groups.body as MessageGroupView[])[0]?.uuid ?? "";
    const before = (await listAllMessages(stack, a.accessToken, group)).length;

    const sent = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const sender = client % 2 === 0 ? a : b;
        const created: CreatedMessageView[] = [];
        for (let i = 0; i < MESSAGES_PER_CLIENT; i++) {
          created.push(await post(sender, { message: `client ${client} message ${i}`, message_group_uuid: group }));
        }
        return created;
      }),
    );

    const listed = await listAllMessages(stack, b.accessToken, group);
    expect(listed).toHaveLength(before + CLIENTS * MESSAGES_PER_CLIENT);
    const position = new Map(listed.map((m, i) => [m.uuid, i]));
    // Listed in time order.
    const times = listed.map((m) => m.created_at);
    expect(times).toEqual([...times].sort());
    for (const created of sent) {
      // Every message kept as sent, and each client's messages in the order it sent them.
      const positions = created.map((m) => position.get(m.uuid));
      for (const [i, m] of created.entries()) {
        expect(listed[positions[i] ?? -1]).toEqual({
          uuid: m.uuid,
          user_uuid: m.user_uuid,
          display_name: m.display_name,
          handle: m.handle,
          message: m.message,
          created_at: m.created_at,
        });
      }
      // Time order per client; two of its posts in one millisecond are ordered by message uuid (README).
      for (let i = 1; i < created.length; i++) {
        const [earlier, later] = [created[i - 1] as CreatedMessageView, created[i] as CreatedMessageView];
        expect(earlier.created_at <= later.created_at).toBe(true);
        if (earlier.created_at < later.created_at)
          expect(positions[i - 1] as number).toBeLessThan(positions[i] as number);
      }
    }
    await expectSummariesShow([a, b], group, listed.at(-1) as MessageView);
  });

  it(`creates exactly one group per pair when both users of ${PAIRS} new pairs start it at once`, async () => {
    const pairs = await Promise.all(
      Array.from(
        { length: PAIRS },
        async (_, p) => [await newCaller(stack, `racer${p}x`), await newCaller(stack, `racer${p}y`)] as const,
      ),
    );
    const results = await Promise.all(
      pairs.map(([x, y]) =>
        Promise.all(
          Array.from({ length: RACERS_PER_USER * 2 }, (_, i) => {
            const [from, to] = i % 2 === 0 ? [x, y] : [y, x];
            return post(from, { message: `race ${i} from ${from.handle}`, handle: to.handle });
          }),
        ),
      ),
    );

    const items = await scanStackTable(stack);
    for (const [p, [x, y]] of pairs.entries()) {
      const group = messageGroupUuidFor(x.uuid, y.uuid);
      const created = results[p] ?? [];
      expect(new Set(created.map((c) => c.message_group_uuid))).toEqual(new Set([group]));
      const groupItems = items.filter((i) => i.pk === messageGroupKey(group).pk);
      expect(groupItems).toHaveLength(1);
      // No other group between the two.
      const theirGroups = items.filter(
        (i) =>
          i.sk === messageGroupKey(group).sk &&
          JSON.stringify(i.members).includes(x.uuid) &&
          JSON.stringify(i.members).includes(y.uuid),
      );
      expect(theirGroups).toHaveLength(1);
      const messages = items.filter((i) => i.pk === msgPk(group));
      expect(new Set(messages.map((m) => m.message_uuid))).toEqual(new Set(created.map((c) => c.uuid)));
      for (const member of [x, y]) {
        const summaries = items.filter((i) => i.pk === `${GRP_PREFIX}${member.uuid}`);
        expect(summaries.map((s) => s.message_group_uuid)).toEqual([group]);
      }
      const listed = await listAllMessages(stack, x.accessToken, group);
      expect(listed).toHaveLength(RACERS_PER_USER * 2);
      await expectSummariesShow([x, y], group, listed.at(-1) as MessageView);
    }
    // Every MSG row in the table belongs to a group that exists.
    const groupsWithItem = new Set(
      items
        .filter((i) => String(i.pk).startsWith(MESSAGE_GROUP_PREFIX))
        .map((i) => String(i.pk).slice(MESSAGE_GROUP_PREFIX.length)),
    );
    for (const m of items.filter((i) => String(i.pk).startsWith(MSG_PREFIX))) {
      expect(groupsWithItem.has(String(m.pk).slice(MSG_PREFIX.length))).toBe(true);
    }
  });
});
