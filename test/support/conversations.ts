/** Conversations written through the domain, for the stream consumers' tests (fan-out, publish). */

import { type MessageItem, messageItem } from "../../shared/items/message";
import { postToHandle } from "../../shared/messages";
import type { UserProfile } from "../../shared/model";
import { toTimestamp } from "../../shared/time";
import type { TestTable } from "./table";
import { directoryOf, makeUser } from "./users";

/** The clock of the test conversations unless told otherwise: epoch ms. */
export const TEST_START_MS = Date.parse("2026-11-01T00:00:00.000Z");

/** A message group, its two members, and MSG rows not yet fanned out (oldest first). */
export interface Conversation {
  groupUuid: string;
  members: UserProfile[];
  /** Messages after the first, oldest first (not yet fanned out). */
  messages: MessageItem[];
}

/**
 * A group created by pattern D at `startMs` (two fresh users, the first message "first"), plus
 * `count` later MSG rows one second apart, alternating senders, built but not written.
 */
export async function startedConversation(
  table: TestTable,
  count: number,
  startMs = TEST_START_MS,
): Promise<Conversation> {
  const a = makeUser(`a${Math.random().toString(36).slice(2, 10)}`);
  const b = makeUser(`b${Math.random().toString(36).slice(2, 10)}`);
  const created = await postToHandle(
    { ddb: table.ddb, tableName: table.tableName, users: directoryOf(a, b), clock: () => startMs },
    a,
    b.handle,
    "first",
  );
  const messages = Array.from({ length: count }, (_, i) =>
    messageItem({
      messageGroupUuid: created.message_group_uuid,
      messageUuid: crypto.randomUUID(),
      sender: i % 2 === 0 ? b : a,
      text: `message ${i}`,
      createdAt: toTimestamp(startMs + (i + 1) * 1000),
    }),
  );
  return { groupUuid: created.message_group_uuid, members: [a, b], messages };
}

/**
 * A MSG row of a group that has no group item (nobody posted it through the API): what the
 * stream consumers must fail alone.
 */
export function orphanMessage(senderHandle: string, text: string, atMs: number): MessageItem {
  return messageItem({
    messageGroupUuid: crypto.randomUUID(),
    messageUuid: crypto.randomUUID(),
    sender: makeUser(senderHandle),
    text,
    createdAt: toTimestamp(atMs),
  });
}
