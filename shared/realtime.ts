/**
 * The real-time contract (AWS AppSync Events): the channel namespace, the one channel rule and
 * the events: a new message (`message.new`) and a read marker's move (`message_group.read`). One definition for the cloud (the Event API's handler or
 * authorizer, the publish function) and the local emulator, like `shared/routes.ts` is for the
 * HTTP API.
 *
 * Channels: each user has exactly one, `/users/<their uuid>` (the uuid is the Cognito `sub`,
 * `shared/directory.ts`). A user may subscribe to their own channel and to nothing else, no
 * wildcard; no client may publish (only the publish function, IAM-signed).
 */
import * as z from "zod/mini";
import type { MessageItem } from "./items/message";
import type { ReadMarkerItem } from "./items/read-marker";
import { type MessageView, toMessageView } from "./model";

/** The Event API's one channel namespace. */
export const EVENTS_NAMESPACE = "users";

/**
 * The HTTP publish API takes at most 5 events per request (AWS AppSync Events developer guide,
 * "Publish events via HTTP").
 */
export const MAX_EVENTS_PER_PUBLISH = 5;

/** A user's channel: `/users/<userUuid>`. */
export function userChannel(userUuid: string): string {
  return `/${EVENTS_NAMESPACE}/${userUuid}`;
}

/**
 * The channel rule: true only when `channel` is exactly the caller's own channel
 * (`/users/<sub>`): no wildcard (`/users/*`), no other segment, no trailing slash, no other
 * user's uuid. `sub` is the verified token's subject; an empty one is never allowed.
 */
export function maySubscribe(channel: string, sub: string): boolean {
  return sub.length > 0 && !sub.includes("/") && !sub.includes("*") && channel === userChannel(sub);
}

/** What a client receives on its channel when a message is posted to one of its groups. */
export const messageNewEventSchema = /* @__PURE__ */ (() =>
  z.object({
    type: z.literal("message.new"),
    /** The message_uuid: replays and retries may deliver an event twice, never change it. */
    id: z.string().check(z.minLength(1)),
    message_group_uuid: z.string().check(z.minLength(1)),
    message: z.object({
      uuid: z.string(),
      user_uuid: z.string(),
      display_name: z.string(),
      handle: z.string(),
      message: z.string(),
      created_at: z.string(),
    }),
  }))();
export type MessageNewEvent = z.infer<typeof messageNewEventSchema> & { message: MessageView };

/**
 * The event for a MSG row (the message view of pattern A with `user_uuid`). Built only from the
 * row, so every replay of one stream record builds the same event, byte for byte.
 */
export function messageNewEvent(messageGroupUuid: string, item: MessageItem): MessageNewEvent {
  return {
    type: "message.new",
    id: item.message_uuid,
    message_group_uuid: messageGroupUuid,
    message: toMessageView(item),
  };
}

/**
 * What the other member receives on their channel when a member's read marker moves (the read
 * receipt). A replay may deliver an older marker after a newer one: clients keep the newest
 * `last_read_at` they have seen.
 */
export const messageGroupReadEventSchema = /* @__PURE__ */ (() =>
  z.object({
    type: z.literal("message_group.read"),
    /** `<message_group_uuid>:<user_uuid>:<message_uuid read up to>`: the same for every replay of one move. */
    id: z.string().check(z.minLength(1)),
    message_group_uuid: z.string().check(z.minLength(1)),
    /** The member who read. */
    user_uuid: z.string().check(z.minLength(1)),
    /** created_at of the message read up to. */
    last_read_at: z.string(),
  }))();
export type MessageGroupReadEvent = z.infer<typeof messageGroupReadEventSchema>;

/** The event for a read marker as written (built from the item only, so replays build the same bytes). */
export function messageGroupReadEvent(
  messageGroupUuid: string,
  marker: Pick<ReadMarkerItem, "user_uuid" | "last_read_at" | "last_read_message_uuid">,
): MessageGroupReadEvent {
  return {
    type: "message_group.read",
    id: `${messageGroupUuid}:${marker.user_uuid}:${marker.last_read_message_uuid}`,
    message_group_uuid: messageGroupUuid,
    user_uuid: marker.user_uuid,
    last_read_at: marker.last_read_at,
  };
}
