/**
 * The shapes of the HTTP API and of the real-time events, as a client sees them. Written out here
 * so the client imports nothing of the server; `test/unit/client-contract.test.ts` holds each one
 * to the contract (the zod schemas of `shared/api-schemas.ts` that generate docs/openapi.json and
 * docs/asyncapi.json) at compile time, so a field added to the API and not here fails the typecheck.
 */

/** A user's public profile (GET /api/users/@{handle}/short, PATCH /api/users/me). */
export interface UserProfile {
  /** The Cognito `sub`; the user's real-time channel is `/users/<uuid>`. */
  uuid: string;
  handle: string;
  display_name: string;
}

/** A message of a group (pattern A, and the `message.new` event). */
export interface MessageView {
  /** The message_uuid. */
  uuid: string;
  /** The sender's uuid. */
  user_uuid: string;
  /** The sender's display name and handle, as the sender is named now. */
  display_name: string;
  handle: string;
  message: string;
  /** ISO 8601 UTC with milliseconds: string order is time order. */
  created_at: string;
}

/** A conversation of the caller (pattern B): user_uuid, handle and display_name are the OTHER member's. */
export interface MessageGroupView {
  /** The message_group_uuid. */
  uuid: string;
  user_uuid: string;
  display_name: string;
  handle: string;
  /** Text and time of the group's newest message. */
  message: string;
  created_at: string;
  /** The other member's messages after the caller's read marker; 100 means "100 or more". */
  unread_count: number;
  /** The caller's read marker (`created_at` of the message read up to), or null. */
  last_read_at: string | null;
  /** The other member's read marker: the read receipt. */
  other_last_read_at: string | null;
}

/** What POST /api/messages answers. */
export interface CreatedMessageView extends MessageView {
  message_group_uuid: string;
}

/** What POST /api/message_groups/{id}/read answers. */
export interface MarkReadView {
  message_group_uuid: string;
  last_read_at: string | null;
  unread_count: number;
}

/** A user the caller blocks. */
export interface BlockView extends UserProfile {
  blocked_at: string;
}

/** Where a message goes: an existing group (pattern C) or the conversation with a handle (pattern D). */
export type SendTarget =
  | { message_group_uuid: string; handle?: undefined }
  | { handle: string; message_group_uuid?: undefined };

/** A change of the caller's profile: at least one field. */
export interface ProfileChange {
  handle?: string;
  display_name?: string;
}

/** One page of a list route: `items` in the order the API answers, `cursor` for the next older page. */
export interface Page<T> {
  items: T[];
  /** The `x-next-cursor` header; undefined on the last page. */
  cursor: string | undefined;
}

/** Paging of a list route. */
export interface PageOptions {
  /** Rows per page, 1 to 100 (the API's default is 20). */
  limit?: number;
  /** The cursor of the previous page (`Page.cursor`). */
  cursor?: string;
}

/** A message was posted to one of the user's groups (on both members' channels). */
export interface MessageNewEvent {
  type: "message.new";
  /** The message_uuid. */
  id: string;
  message_group_uuid: string;
  message: MessageView;
}

/** The other member's read marker moved (a read receipt). */
export interface MessageGroupReadEvent {
  type: "message_group.read";
  /** `<message_group_uuid>:<user_uuid>:<message_uuid read up to>` on the wire. */
  id: string;
  message_group_uuid: string;
  /** The member who read. */
  user_uuid: string;
  last_read_at: string;
}

/** Every event a user's channel carries (docs/asyncapi.json). */
export type RealtimeEvent = MessageNewEvent | MessageGroupReadEvent;

/** Every error code the API answers with (the body of a non-2xx answer is an array of them). */
export type ErrorCode =
  | "body_malformed_json"
  | "body_not_object"
  | "limit_invalid"
  | "cursor_invalid"
  | "message_group_uuid_invalid"
  | "unauthorized"
  | "message_group_not_found"
  | "handle_not_found"
  | "message_not_found"
  | "message_uuid_invalid"
  | "idempotency_key_invalid"
  | "idempotency_key_reused"
  | "idempotency_request_in_progress"
  | "cannot_message_user"
  | "cannot_block_self"
  | "rate_limited"
  | "user_not_found"
  | "message_blank"
  | "message_invalid"
  | "message_exceed_max_chars"
  | "message_group_uuid_or_handle_required"
  | "message_group_uuid_and_handle_exclusive"
  | "handle_invalid"
  | "cannot_message_self"
  | "display_name_invalid"
  | "handle_or_display_name_required"
  | "handle_taken"
  | "route_not_found"
  | "payload_too_large"
  | "throttled"
  | "internal_error";
