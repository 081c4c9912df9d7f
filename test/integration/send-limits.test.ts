/**
 * Send limits on DynamoDB Local with a pinned clock (`shared/send-limits.ts`, `shared/send.ts`):
 * the GCRA arithmetic (burst, refill, Retry-After), the new-conversation limit, state shared by
 * every "container" (two independent sets of deps on one table), and at most one write per post.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { blockUser } from "../../shared/blocks";
import type { SendLimitSettings } from "../../shared/config";
import { AppError } from "../../shared/errors";
import { sendMessage } from "../../shared/send";
import { spendSendLimit } from "../../shared/send-limits";
import { blockKey, sendLimitsKey } from "../../shared/table";
import { interceptSend, useTestTable } from "../support/table";
import { directoryOf, makeUser } from "../support/users";

const table = useTestTable();

/** A clock the test moves by hand, epoch ms. */
function manualClock(start = Date.parse("2026-12-02T10:00:00.000Z")) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** The refusal of `post` (an AppError), having checked that it left the table as it was. */
async function refusedWritingNothing(post: () => Promise<unknown>): Promise<AppError> {
  const before = await table.scanAll();
  const refused = await refusal(post());
  expect(await table.scanAll()).toEqual(before);
  return refused;
}

/** A post of `text` to the group `sent` went to (pattern C). */
function toGroupOf(sent: { message: { message_group_uuid: string } }, text: string) {
  return { kind: "to_group", message: text, message_group_uuid: sent.message.message_group_uuid } as const;
}

const limits: SendLimitSettings = { messagesPerMinute: 30, messageBurst: 10, newGroupsPerHour: 10 };

describe("GCRA send limits", () => {
  it("allows the burst at once, then one message per interval, with Retry-After until the next", async () => {
    const { clock, advance } = manualClock();
    const deps = { ddb: table.ddb, tableName: table.tableName, sendLimits: limits, clock };
    const sender = makeUser("gcra_1").uuid;
    for (let i = 0; i < 10; i++) {
      const headers = await spendSendLimit(deps, sender, { newGroup: false });
      expect(headers.ratelimit).toMatch(new RegExp(`^"messages";r=${9 - i};`));
    }
    const refused = await refusal(spendSendLimit(deps, sender, { newGroup: false }));
    expect(refused.status).toBe(429);
    expect(refused.codes).toEqual(["rate_limited"]);
    expect(refused.headers["retry-after"]).toBe("2");
    advance(1_999);
    expect((await refusal(spendSendLimit(deps, sender, { newGroup: false }))).headers["retry-after"]).toBe("1");
    advance(1);
    await spendSendLimit(deps, sender, { newGroup: false });
    await refusal(spendSendLimit(deps, sender, { newGroup: false }));
    // A minute idle refills 30 messages' worth, capped at the burst.
    advance(60_000);
    for (let i = 0; i < 10; i++) await spendSendLimit(deps, sender, { newGroup: false });
    await refusal(spendSendLimit(deps, sender, { newGroup: false }));
  });

  it("limits new conversations to 10 an hour, separately from messages", async () => {
    const { clock, advance } = manualClock();
    const deps = {
      ddb: table.ddb,
      tableName: table.tableName,
      sendLimits: { messagesPerMinute: 1000, messageBurst: 1000, newGroupsPerHour: 10 },
      clock,
    };
    const sender = makeUser("gcra_2").uuid;
    for (let i = 0; i < 10; i++) await spendSendLimit(deps, sender, { newGroup: true });
    const refused = await refusal(spendSendLimit(deps, sender, { newGroup: true }));
    expect(refused.headers["retry-after"]).toBe("360");
    expect(refused.headers.ratelimit).toMatch(/"new_groups";r=0;t=3600$/);
    // Posting to existing groups goes on.
    await spendSendLimit(deps, sender, { newGroup: false });
    advance(360_000);
    await spendSendLimit(deps, sender, { newGroup: true });
  });

  it("holds across containers: two sets of deps on one table share one budget, and a post costs at most one write", async () => {
    const { clock } = manualClock();
    const writes: string[] = [];
    const counted = () =>
      interceptSend(table.ddb, (command, send) => {
        const name = command.constructor.name;
        if (/Put|Update|Delete|Write/.test(name)) writes.push(name);
        return send(command);
      });
    const containers = [0, 1].map(() => ({ ddb: counted(), tableName: table.tableName, sendLimits: limits, clock }));
    const sender = makeUser("gcra_3").uuid;
    {
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          spendSendLimit(containers[i % 2] as (typeof containers)[0], sender, { newGroup: false }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      for (const r of refused) expect((r.reason as AppError).codes).toEqual(["rate_limited"]);
      // Lost races are retried: successful writes are exactly the allowed posts; refusals write nothing.
      const item = await table.ddb.send(new GetCommand({ TableName: table.tableName, Key: sendLimitsKey(sender) }));
      expect(item.Item?.messages_tat).toBe(clock() + 10 * 2_000);
    }
    // Only conditional UpdateItems, and no more successful ones than allowed posts (lost races
    // are conditional failures: no item is written).
    expect(writes.every((w) => w === "UpdateCommand")).toBe(true);
  });

  it("never loses a race while quota is left: 50 concurrent posts of one sender all pass, each with at most 3 UpdateItems", async () => {
    // The load run's shape (issue 11 follow-up): one sender posting from many connections at
    // once. Spends in the busy regime add to the stored TAT, so they commute; only the first
    // decision of each limit (idle, before a post landed on it) can fail, and it then decides
    // again from the item the failed condition returned: two limits, at most two failures.
    const { clock } = manualClock();
    const updates: string[] = [];
    const counted = interceptSend(table.ddb, (command, send) => {
      if (command.constructor.name === "UpdateCommand") updates.push(command.constructor.name);
      return send(command);
    });
    const deps = {
      ddb: counted,
      tableName: table.tableName,
      sendLimits: { messagesPerMinute: 600, messageBurst: 100, newGroupsPerHour: 100 },
      clock,
    };
    const sender = makeUser("gcra_4").uuid;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => spendSendLimit(deps, sender, { newGroup: i % 5 === 0 })),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const item = await table.ddb.send(new GetCommand({ TableName: table.tableName, Key: sendLimitsKey(sender) }));
    expect(item.Item?.messages_tat).toBe(clock() + 50 * 100);
    expect(item.Item?.new_groups_tat).toBe(clock() + 10 * 36_000);
    expect(updates.length).toBeGreaterThanOrEqual(50);
    expect(updates.length).toBeLessThanOrEqual(150);
    // Every answer's RateLimit is what was left when its own write landed: all distinct.
    const remaining = results.map((r) =>
      r.status === "fulfilled" ? /"messages";r=(\d+);/.exec(r.value.ratelimit ?? "")?.[1] : undefined,
    );
    expect(new Set(remaining).size).toBe(50);
  });

  it("decides again from the item a failed condition returns: a busy sender that went idle meanwhile", async () => {
    const { clock, advance } = manualClock();
    const deps = { ddb: table.ddb, tableName: table.tableName, sendLimits: limits, clock };
    const sender = makeUser("gcra_5").uuid;
    await spendSendLimit(deps, sender, { newGroup: false });
    // The read shows busy; by the write, time has passed the TAT (idle): the busy spend fails,
    // and the idle one, decided from the returned item, passes.
    const slow = interceptSend(table.ddb, async (command, send) => {
      const out = await send(command);
      if (command.constructor.name === "GetCommand") advance(5_000);
      return out;
    });
    const headers = await spendSendLimit({ ...deps, ddb: slow }, sender, { newGroup: false });
    expect(headers.ratelimit).toMatch(/^"messages";r=9;t=2,/);
    const item = await table.ddb.send(new GetCommand({ TableName: table.tableName, Key: sendLimitsKey(sender) }));
    expect(item.Item?.messages_tat).toBe(clock() + 2_000);
  });

  it("refuses a post over the limit before anything is written (sendMessage)", async () => {
    const { clock } = manualClock();
    const alice = makeUser("gcra_alice");
    const bob = makeUser("gcra_bob");
    const deps = {
      ddb: table.ddb,
      tableName: table.tableName,
      users: directoryOf(alice, bob),
      sendLimits: { messagesPerMinute: 1, messageBurst: 1, newGroupsPerHour: 1 },
      clock,
    };
    const sent = await sendMessage(deps, alice, { kind: "to_handle", message: "first", handle: "gcra_bob" });
    expect(sent.headers.ratelimit).toBe('"messages";r=0;t=60, "new_groups";r=0;t=3600');
    const refused = await refusedWritingNothing(() => sendMessage(deps, alice, toGroupOf(sent, "second")));
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("60");
  });

  it("reads the limits side by side with the blocks check (sendMessage), and a blocked post spends none", async () => {
    const { clock } = manualClock();
    const alice = makeUser("gcra_par_alice");
    const bob = makeUser("gcra_par_bob");
    const events: string[] = [];
    const traced = interceptSend(table.ddb, async (command, send) => {
      const input = command.input as {
        Key?: { pk: string; sk: string };
        RequestItems?: Record<string, { Keys: unknown[] }>;
      };
      const what =
        command.constructor.name === "GetCommand" && input.Key?.sk === sendLimitsKey(alice.uuid).sk
          ? "limits"
          : JSON.stringify(input.RequestItems ?? {}).includes(blockKey(alice.uuid, bob.uuid).sk)
            ? "blocks"
            : undefined;
      if (what !== undefined) events.push(`${what} start`);
      const out = await send(command);
      if (what !== undefined) events.push(`${what} end`);
      return out;
    });
    const deps = { ddb: traced, tableName: table.tableName, users: directoryOf(alice, bob), sendLimits: limits, clock };
    const sent = await sendMessage(deps, alice, { kind: "to_handle", message: "first", handle: "gcra_par_bob" });
    // Both reads were sent before either answered.
    expect(events.slice(0, 2).sort()).toEqual(["blocks start", "limits start"]);
    const spent = await table.ddb.send(
      new GetCommand({ TableName: table.tableName, Key: sendLimitsKey(alice.uuid), ConsistentRead: true }),
    );
    expect(spent.Item?.messages_tat).toBe(clock() + 2_000);

    await blockUser(
      { ddb: table.ddb, tableName: table.tableName, users: directoryOf(alice, bob) },
      bob,
      "gcra_par_alice",
    );
    const refused = await refusedWritingNothing(() => sendMessage(deps, alice, toGroupOf(sent, "second")));
    expect(refused.status).toBe(403);
    expect(refused.codes).toEqual(["cannot_message_user"]);
  });
});
