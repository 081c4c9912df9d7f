/** The one request the bench sends each function (cold start and warm runs alike). */
import { randomUUID } from "node:crypto";
import type { DynamoDBStreamEvent } from "aws-lambda";
import type { SeededUser } from "../local/seed";
import type { HttpEvent } from "../shared/http";
import { messageItem } from "../shared/items/message";
import { FAN_OUT_FUNCTION } from "../shared/routes";
import { toTimestamp } from "../shared/time";
import { insertRecord } from "../test/support/records";
import { httpEvent } from "./events";
import type { Fixture } from "./fixture";

/** The seeded pair: `a` is the caller of every route request, `b` the other member. */
export function seededPair(fixture: Fixture): { a: SeededUser; b: SeededUser } {
  const [a, b] = fixture.users;
  if (a === undefined || b === undefined) throw new Error("the fixture seeds at least two users");
  return { a, b };
}

/**
 * A new MSG row of `sender` in group `groupUuid`, created at `atMs` (epoch ms; default now).
 */
export function newMessageItem(groupUuid: string, sender: SeededUser, atMs = Date.now()) {
  return messageItem({
    messageGroupUuid: groupUuid,
    messageUuid: randomUUID(),
    sender,
    text: "How fast is it?",
    createdAt: toTimestamp(atMs),
  });
}

/**
 * A typical request of function `fn`: B lists `a`'s groups, A lists the seeded group, C posts
 * into it, the users route looks `b` up by handle, the fan-out gets one new MSG row insert.
 */
export function typicalEvent(fn: string, fixture: Fixture): HttpEvent | DynamoDBStreamEvent {
  const { a, b } = seededPair(fixture);
  switch (fn) {
    case "list-message-groups":
      return httpEvent(fn, a);
    case "list-messages":
      return httpEvent(fn, a, { pathParameters: { message_group_uuid: fixture.groupUuid } });
    case "create-message":
      return httpEvent(fn, a, { body: { message: "How fast is it?", message_group_uuid: fixture.groupUuid } });
    case "get-user-short":
      return httpEvent(fn, a, { pathParameters: { handle: `@${b.handle}` } });
    case FAN_OUT_FUNCTION.fn:
      return { Records: [insertRecord(newMessageItem(fixture.groupUuid, a))] };
    default:
      throw new Error(`no typical request for ${fn}`);
  }
}
