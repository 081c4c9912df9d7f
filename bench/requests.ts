/** The one request the bench sends each function (cold start and warm runs alike). */
import { randomUUID } from "node:crypto";
import type { DynamoDBStreamEvent, PostConfirmationTriggerEvent, PreSignUpTriggerEvent } from "aws-lambda";
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
 * into it, the users route looks `b` up by handle, the rename sets `a`'s current name again,
 * the fan-out gets one new MSG row insert, and each trigger a sign-up of a new user (a fresh
 * handle every call, so each run claims one).
 */
export function typicalEvent(
  fn: string,
  fixture: Fixture,
): HttpEvent | DynamoDBStreamEvent | PreSignUpTriggerEvent | PostConfirmationTriggerEvent {
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
    case "update-profile":
      // The caller's current name: the rename changes nothing, but runs every step (the directory
      // read, the propagation over the caller's groups, the Cognito update).
      return httpEvent(fn, a, { body: { display_name: a.display_name } });
    case FAN_OUT_FUNCTION.fn:
      return { Records: [insertRecord(newMessageItem(fixture.groupUuid, a))] };
    case "pre-sign-up":
    case "post-confirmation":
      return triggerEvent(fn, fixture);
    default:
      throw new Error(`no typical request for ${fn}`);
  }
}

/**
 * The event Cognito gives a sign-up trigger (Cognito developer guide, "Pre sign-up Lambda
 * trigger" / "Post confirmation Lambda trigger"), for a new user with a fresh handle.
 */
function triggerEvent(fn: string, fixture: Fixture): PreSignUpTriggerEvent | PostConfirmationTriggerEvent {
  const id = randomUUID();
  const common = {
    version: "1",
    region: fixture.region,
    userPoolId: fixture.userPoolId,
    userName: id,
    callerContext: { awsSdkVersion: "aws-sdk-js-3", clientId: "bench" },
  };
  const userAttributes = {
    sub: id,
    preferred_username: `bench${id.slice(0, 8)}`,
    name: "Bench User",
    email: `${id}@example.com`,
  };
  return fn === "pre-sign-up"
    ? {
        ...common,
        triggerSource: "PreSignUp_SignUp",
        request: { userAttributes },
        response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
      }
    : { ...common, triggerSource: "PostConfirmation_ConfirmSignUp", request: { userAttributes }, response: {} };
}
