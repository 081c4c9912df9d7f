/**
 * Suite 13, unread counts under the fan-out's faults: generated runs on DynamoDB Local of a
 * two-member conversation in which posts, read-marker moves, fan-out batches and listings
 * (pattern B) interleave, with
 *
 * - fan-out batches of any subset of the messages, duplicated and in any order, some invocations
 *   crashing at a generated DynamoDB call (and not retried: the next batch or nothing catches up);
 * - posts whose sender-marker move fails after the MSG row is written (the post still succeeds);
 * - a read and a post of the other member running at the same time;
 * - read requests naming the newest message, an older one (forward only), or one already read.
 *
 * After every step, each member's listing holds the group exactly once and its `unread_count` is
 * exactly the model's: the other member's messages after the member's marker (capped at 100),
 * never negative; `last_read_at` / `other_last_read_at` are the two markers.
 */
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { insertRecord } from "../../local/stream-records";
import { createBatchFanOut } from "../../shared/fan-out";
import type { MessageItem } from "../../shared/items/message";
import { listMessageGroups, markGroupRead } from "../../shared/messages";
import { UNREAD_COUNT_CAP } from "../../shared/read-markers";
import { sendMessage } from "../../shared/send";
import { msgPk, READ_MARKER_PREFIX } from "../../shared/table";
import { generatedRuns } from "../support/runs";
import { UNLIMITED_SENDS } from "../support/stack";
import { interceptSend, useTestTable } from "../support/table";
import { directoryOf, makeUser } from "../support/users";

const table = useTestTable();

/** Runs of the suite (each 4 to 16 steps; 50 under `npm run test:full`). */
const RUNS = generatedRuns(50);

type Step =
  | { kind: "post"; by: 0 | 1; markerFails: boolean }
  | { kind: "read"; by: 0 | 1; target: "newest" | number }
  | { kind: "read_while_posting"; by: 0 | 1 }
  | { kind: "fan_out"; picks: number[]; crashAtCall: number | undefined };

const member = fc.constantFrom(0 as const, 1 as const);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("post" as const), by: member, markerFails: fc.boolean() }),
  fc.record({
    kind: fc.constant("read" as const),
    by: member,
    target: fc.oneof(fc.constant("newest" as const), fc.nat({ max: 20 })),
  }),
  fc.record({ kind: fc.constant("read_while_posting" as const), by: member }),
  fc.record({
    kind: fc.constant("fan_out" as const),
    picks: fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 8 }),
    crashAtCall: fc.option(fc.nat({ max: 4 }), { nil: undefined }),
  }),
);

class Crash extends Error {
  override name = "Crash";
}

let runNo = 0;

describe("unread counts under fan-out faults, with read markers moving concurrently", () => {
  it(`stay exact in ${RUNS} generated runs`, { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 16 }), async (steps) => {
        runNo += 1;
        const users = [makeUser(`uc_a${runNo}`), makeUser(`uc_b${runNo}`)] as const;
        let now = Date.parse("2026-12-02T08:00:00.000Z");
        const clock = () => (now += 1);
        const base = {
          ddb: table.ddb,
          tableName: table.tableName,
          users: directoryOf(...users),
          sendLimits: UNLIMITED_SENDS,
          clock,
        };
        // The model: messages in order (sender index, item), and each member's marker (an index).
        const messages: { by: 0 | 1; item: MessageItem }[] = [];
        const markers: (number | undefined)[] = [undefined, undefined];
        const itemOf = async (group: string, uuid: string): Promise<MessageItem> => {
          const { QueryCommand } = await import("@aws-sdk/lib-dynamodb");
          const out = await table.ddb.send(
            new QueryCommand({
              TableName: table.tableName,
              KeyConditionExpression: "pk = :pk",
              FilterExpression: "message_uuid = :u",
              ExpressionAttributeValues: { ":pk": msgPk(group), ":u": uuid },
              ConsistentRead: true,
            }),
          );
          return out.Items?.[0] as MessageItem;
        };
        const forward = (by: 0 | 1, index: number) => {
          const current = markers[by];
          if (current === undefined || current < index) markers[by] = index;
        };
        const post = async (by: 0 | 1, markerFails: boolean) => {
          const ddb = markerFails
            ? interceptSend(table.ddb, async (command, send) => {
                const key = (command.input as { Key?: { pk?: string } }).Key;
                if (command.constructor.name === "UpdateCommand" && key?.pk?.startsWith(READ_MARKER_PREFIX)) {
                  throw new Crash("marker write lost");
                }
                return send(command);
              })
            : table.ddb;
          const other = users[by === 0 ? 1 : 0];
          const sent = await sendMessage({ ...base, ddb }, users[by], {
            kind: "to_handle",
            message: `m${messages.length}`,
            handle: other.handle,
          });
          messages.push({ by, item: await itemOf(sent.message.message_group_uuid, sent.message.uuid) });
          if (!markerFails) forward(by, messages.length - 1);
          return sent.message.message_group_uuid;
        };

        // The conversation starts with a message of member 0 (pattern D).
        const groupUuid = await post(0, false);

        const check = async () => {
          for (const by of [0, 1] as const) {
            const page = await listMessageGroups(base, users[by].uuid, { limit: 100, cursor: undefined });
            const listed = page.items.filter((g) => g.uuid === groupUuid);
            expect(listed).toHaveLength(1);
            const mine = markers[by];
            const expected = messages.filter((m, i) => m.by !== by && (mine === undefined || i > mine)).length;
            const view = listed[0];
            expect(view?.unread_count).toBeGreaterThanOrEqual(0);
            expect(view?.unread_count).toBe(Math.min(expected, UNREAD_COUNT_CAP));
            const at = (i: number | undefined) => (i === undefined ? null : (messages[i]?.item.created_at ?? null));
            expect(view?.last_read_at).toBe(at(mine));
            expect(view?.other_last_read_at).toBe(at(markers[by === 0 ? 1 : 0]));
          }
        };

        const applyRead = (by: 0 | 1, lastReadAt: string | null) => {
          if (lastReadAt === null) return;
          const index = messages.findIndex((m) => m.item.created_at === lastReadAt);
          expect(index).toBeGreaterThanOrEqual(0);
          forward(by, index);
          expect(markers[by]).toBe(index);
        };

        for (const s of steps) {
          if (s.kind === "post") {
            await post(s.by, s.markerFails);
          } else if (s.kind === "read") {
            const target = s.target === "newest" ? undefined : messages[s.target % messages.length];
            const read = await markGroupRead(base, users[s.by].uuid, groupUuid, target?.item.message_uuid);
            applyRead(s.by, read.last_read_at);
          } else if (s.kind === "read_while_posting") {
            // The read sees the newest message before or after the concurrent post: the answer says which.
            const other = s.by === 0 ? 1 : 0;
            const [read] = await Promise.all([
              markGroupRead(base, users[s.by].uuid, groupUuid, undefined),
              post(other, false),
            ]);
            applyRead(s.by, read.last_read_at);
          } else {
            const records: DynamoDBRecord[] = s.picks
              .map((i) => messages[i % messages.length])
              .filter((m) => m !== undefined)
              .map((m) => insertRecord(m.item) as DynamoDBRecord);
            let calls = 0;
            const ddb = interceptSend(table.ddb, async (command, send) => {
              calls += 1;
              if (s.crashAtCall !== undefined && calls === s.crashAtCall + 1) throw new Crash("fan-out died");
              return send(command);
            });
            const handle = createBatchFanOut({ ddb, tableName: table.tableName }, records);
            await Promise.allSettled(records.map((r) => handle(r)));
          }
          await check();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
