/**
 * Suite 7, restart: the persisted local stack (`persist: true`) is stopped while clients are
 * posting into a conversation, and started again on the same state directory. Every message the
 * API acknowledged (200) is still there after the restart, the posts of the second run join them,
 * and the stream poller resumed from its checkpoint: over both runs the fan-out received exactly
 * one record per MSG row in the table (none skipped, none applied twice), nothing went to the
 * dead-letter file, and both summaries end on the newest message.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { deadLetterFilePath } from "../../local/state";
import type { CreatedMessageView, MessageGroupView, MessageView } from "../../shared/model";
import { SEED_CONVERSATION_MEMBERS } from "../../shared/seed-data";
import { MSG_PREFIX } from "../../shared/table";
import { countingLogger, scanStackTable, seededCaller } from "../support/callers";
import { callApi, listAllMessages, pollUntil, startTestStack, tempStateDir } from "../support/stack";

/** Clients posting at once, and how many acknowledged posts of the first run before the stop. */
const POSTERS = 4;
const ACKED_BEFORE_STOP = 40;
const POSTS_AFTER_RESTART = 20;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("restart of the persisted local stack mid-conversation", () => {
  it("loses no acknowledged message, and the poller resumes without skipping or repeating a record", async () => {
    const stateDir = await tempStateDir();
    dirs.push(stateDir);
    const logger = countingLogger();
    const acked: CreatedMessageView[] = [];
    let failedPosts = 0;

    // First run: posters go on until the stack is stopped under them.
    const first = await startTestStack({ stateDir, persist: true, logger });
    let group: string;
    try {
      const a = await seededCaller(first, SEED_CONVERSATION_MEMBERS.a);
      const b = await seededCaller(first, SEED_CONVERSATION_MEMBERS.b);
      const groups = await callApi(first, "GET", "/api/message_groups", { token: a.accessToken });
      group = (groups.body as MessageGroupView[])[0]?.uuid ?? "";
      let stopping = false;
      const posters = Array.from({ length: POSTERS }, async (_, p) => {
        for (let i = 0; !stopping; i++) {
          try {
            const response = await callApi(first, "POST", "/api/messages", {
              token: (p % 2 === 0 ? a : b).accessToken,
              body: { message: `run 1 poster ${p} message ${i}`, message_group_uuid: group },
            });
            if (response.status === 200) acked.push(response.body as CreatedMessageView);
            else failedPosts += 1;
          } catch {
            failedPosts += 1; // the connection closed: the stack is stopping
            return;
          }
        }
      });
      await pollUntil(30_000, async () => (acked.length >= ACKED_BEFORE_STOP ? true : undefined));
      await first.stop();
      stopping = true;
      await Promise.all(posters);
    } finally {
      await first.stop();
    }
    const ackedInFirstRun = acked.length;
    expect(ackedInFirstRun).toBeGreaterThanOrEqual(ACKED_BEFORE_STOP);

    // Second run on the same state.
    const second = await startTestStack({ stateDir, persist: true, logger });
    try {
      const a = await seededCaller(second, SEED_CONVERSATION_MEMBERS.a);
      const b = await seededCaller(second, SEED_CONVERSATION_MEMBERS.b);
      for (let i = 0; i < POSTS_AFTER_RESTART; i++) {
        const response = await callApi(second, "POST", "/api/messages", {
          token: (i % 2 === 0 ? b : a).accessToken,
          body: { message: `run 2 message ${i}`, message_group_uuid: group },
        });
        expect(response.status).toBe(200);
        acked.push(response.body as CreatedMessageView);
      }

      const listed = await listAllMessages(second, b.accessToken, group);
      const listedUuids = new Set(listed.map((m) => m.uuid));
      for (const m of acked) expect(listedUuids.has(m.uuid), `acknowledged ${m.message}`).toBe(true);
      const times = listed.map((m) => m.created_at);
      expect(times).toEqual([...times].sort());

      // Exactly one delivery per MSG row over both runs, once the poller has caught up.
      const msgRows = async () =>
        (await scanStackTable(second)).filter((i) => String(i.pk).startsWith(MSG_PREFIX)).length;
      await pollUntil(30_000, async () => (logger.deliveredRecords() >= (await msgRows()) ? true : undefined));
      const rowsBeforeSentinel = await msgRows();
      // A sentinel, the first message of another conversation: the poller delivers it after any
      // record it could still repeat, so once it is delivered the count is final.
      const sentinel = await callApi(second, "POST", "/api/messages", {
        token: a.accessToken,
        body: { message: "restart sentinel", handle: "londo" },
      });
      expect(sentinel.status).toBe(200);
      await pollUntil(30_000, async () => (logger.deliveredRecords() > rowsBeforeSentinel ? true : undefined));
      expect(logger.deliveredRecords()).toBe(await msgRows());
      expect(listed.length).toBe(rowsBeforeSentinel);
      expect(logger.errors).toEqual([]);
      expect(existsSync(deadLetterFilePath(stateDir))).toBe(false);

      const newest = listed.at(-1) as MessageView;
      expect(newest.uuid).toBe(acked.at(-1)?.uuid);
      await pollUntil(30_000, async () => {
        for (const member of [a, b]) {
          const rows = (await callApi(second, "GET", "/api/message_groups", { token: member.accessToken }))
            .body as MessageGroupView[];
          const row = rows.find((r) => r.uuid === group);
          if (rows.filter((r) => r.uuid === group).length !== 1 || row?.created_at !== newest.created_at) {
            return undefined;
          }
        }
        return true;
      });
      if (process.env.RELIABILITY_REPORT === "1") {
        console.info(
          `restart: ${ackedInFirstRun} acknowledged before the stop, ${failedPosts} cut off by it, ` +
            `${POSTS_AFTER_RESTART} after; ${listed.length} messages listed, ${logger.deliveredRecords()} records delivered`,
        );
      }
    } finally {
      await second.stop();
    }
  });
});
