/** The one request the bench sends each function (cold start and warm runs alike). */
import { randomUUID } from "node:crypto";
import type { DynamoDBStreamEvent, PostConfirmationTriggerEvent, PreSignUpTriggerEvent } from "aws-lambda";
import type { SeededUser } from "../local/seed";
import { insertRecord } from "../local/stream-records";
import { claimSignUpHandle } from "../shared/directory";
import type { HttpEvent } from "../shared/http";
import { messageGroupUuidFor } from "../shared/ids";
import { messageItem } from "../shared/items/message";
import { messageGroupItem } from "../shared/items/message-group";
import { summaryItems } from "../shared/items/message-group-summary";
import type { UserProfile } from "../shared/model";
import { FAN_OUT_FUNCTION, PUBLISH_FUNCTION } from "../shared/routes";
import { toTimestamp } from "../shared/time";
import { httpEvent, newSignUp, postConfirmationEvent, preSignUpEvent } from "./events";
import type { Fixture } from "./fixture";

/** A bench user with a fresh uuid (display name = handle), not in any directory. */
export function benchUser(handle: string): UserProfile {
  return { uuid: randomUUID(), handle, display_name: handle };
}

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
 * A new conversation of two new bench users whose handles start with `handlePrefix`: the group
 * item and both GRP rows on a first message 60 s ago, for the fan-out benches to move.
 * @returns the group's uuid, its first sender (as a seeded user), both members' uuids, the first
 *   message and the items to put.
 */
export function benchConversation(handlePrefix: string) {
  const x = benchUser(`${handlePrefix}x`);
  const y = benchUser(`${handlePrefix}y`);
  const uuid = messageGroupUuidFor(x.uuid, y.uuid);
  const sender: SeededUser = { ...x, username: x.handle, password: "" };
  const first = newMessageItem(uuid, sender, Date.now() - 60_000);
  const group = messageGroupItem({
    messageGroupUuid: uuid,
    members: [x, y],
    shown: first,
    createdAt: first.created_at,
  });
  return {
    uuid,
    sender,
    memberUuids: [x.uuid, y.uuid] as [string, string],
    first,
    items: [group, ...summaryItems(uuid, group.members, first)],
  };
}

let renames = 0;

/**
 * A display name for the renamer that differs from every one before in this run, so that each
 * PATCH /api/users/me (of the function or of its baseline) is a real change that propagates.
 */
export function nextRenamerName(fixture: Fixture): string {
  renames += 1;
  return `${fixture.renamer.display_name} ${renames}`;
}

/** Every event {@link typicalEvent} makes. */
export type BenchEvent = HttpEvent | DynamoDBStreamEvent | PreSignUpTriggerEvent | PostConfirmationTriggerEvent;

/**
 * A typical request of function `fn`: B lists `a`'s groups, A lists the seeded group, C posts
 * into it, the users route looks `b` up by handle (no token: the route is public), the rename
 * route gives the renamer a new display name (one conversation to propagate it to), the fan-out
 * gets one new MSG row insert, the pre-sign-up trigger a new sign-up, the post-confirmation
 * trigger the confirmation of a new sign-up whose handle is claimed (pending) as the pre-sign-up
 * trigger leaves it (the claim is written here, before the request); mark-read marks `a` read to
 * the newest message, the block routes have the renamer block, unblock and list its blocks of
 * `a`, and the publish function gets the same insert as the fan-out (it publishes to the local
 * events emulator).
 */
export async function typicalEvent(fn: string, fixture: Fixture): Promise<BenchEvent> {
  const { a, b } = seededPair(fixture);
  switch (fn) {
    case "list-message-groups":
      return httpEvent(fn, a);
    case "list-messages":
      return httpEvent(fn, a, { pathParameters: { message_group_uuid: fixture.groupUuid } });
    case "create-message":
      return httpEvent(fn, a, { body: { message: "How fast is it?", message_group_uuid: fixture.groupUuid } });
    case "get-user-short":
      return httpEvent(fn, undefined, { pathParameters: { handle: `@${b.handle}` } });
    case "update-profile":
      return httpEvent(fn, fixture.renamer, { body: { display_name: nextRenamerName(fixture) } });
    case "mark-read":
      return httpEvent(fn, a, { pathParameters: { message_group_uuid: fixture.groupUuid } });
    // The renamer blocks and unblocks `a` (never `b`: `a` and `b` post to each other above).
    case "block-user":
    case "unblock-user":
      return httpEvent(fn, fixture.renamer, { pathParameters: { handle: `@${a.handle}` } });
    case "list-blocks":
      return httpEvent(fn, fixture.renamer);
    case FAN_OUT_FUNCTION.fn:
    case PUBLISH_FUNCTION.fn:
      return { Records: [insertRecord(newMessageItem(fixture.groupUuid, a))] };
    case "pre-sign-up":
      return preSignUpEvent(fixture.region, fixture.userPoolId, newSignUp());
    case "post-confirmation": {
      const signUp = newSignUp();
      const ddb = fixture.newDocumentClient();
      try {
        await claimSignUpHandle({ ddb, tableName: fixture.tableName }, signUp, Date.now());
      } finally {
        ddb.destroy();
      }
      return postConfirmationEvent(fixture.region, fixture.userPoolId, signUp, randomUUID());
    }
    default:
      throw new Error(`no typical request for ${fn}`);
  }
}
