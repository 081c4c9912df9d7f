/**
 * The HTTP API's contract as data, for the API document (`shared/openapi.ts`, written by
 * `npm run openapi` to docs/openapi.json) and the contract check of the end-to-end and
 * reliability suites (`test/support/contract.ts`):
 * - zod schemas of the answers' bodies: the views of `shared/model.ts`, held to those types at
 *   compile time (a field added to a view and not here fails the typecheck);
 * - what JSON Schema cannot learn from the request schemas of `shared/validation.ts` (their
 *   refinements: code-point lengths, the optional `@` of a handle) and their meaning;
 * - the response headers, every error code with its meaning, and for each route of
 *   `shared/routes.ts` its operation: parameters, body, success answers, and the error codes
 *   each status can carry, as thrown by the code named next to them.
 *
 * No Lambda bundle imports this module: the route functions build their answers with
 * `shared/model.ts`, and this only describes them. To add a route: its entry in
 * `shared/routes.ts`, its operation in {@link OPERATIONS} (the generator refuses a route
 * without one, and an operation without a route), any new code in {@link ERROR_CODES}, then
 * `npm run openapi` (CI fails while docs/openapi.json is stale).
 */
import * as z from "zod/mini";
import { CORS, IDEMPOTENCY_KEY_HEADER, NEXT_CURSOR_HEADER, PUBLIC_CACHE_SECONDS } from "./api-contract";
import type { BlockView } from "./blocks";
import { MAX_CURSOR_LENGTH } from "./cursor";
import { MAX_DISPLAY_NAME_CHARS } from "./identity-rules";
import { UUID_PATTERN } from "./ids";
import type { CreatedMessageView, MessageGroupView, MessageView, UserProfile } from "./model";
import type { MarkReadView, ReadState } from "./read-markers";
import { UNREAD_COUNT_CAP } from "./read-markers";
import {
  type MessageGroupReadEvent,
  type MessageNewEvent,
  messageGroupReadEventSchema,
  messageNewEventSchema,
} from "./realtime";
import { TIMESTAMP_PATTERN } from "./time";
import { HANDLE_PATTERN } from "./user-pool";
import {
  DEFAULT_PAGE_SIZE,
  IDEMPOTENCY_KEY_PATTERN,
  MAX_IDEMPOTENCY_KEY_CHARS,
  MAX_MESSAGE_CHARS,
  MAX_PAGE_SIZE,
  REQUEST_SCHEMAS,
} from "./validation";

/** The version of the HTTP API contract (`info.version` of the document): raise it with a change of the contract. */
export const API_VERSION = "1.0.0";

// ---------------------------------------------------------------------------------------------
// Answers

/**
 * `schema` with a description for the documents: a copy of it registered in zod's global
 * registry, which `toJSONSchema` reads (what classic zod's `.describe()` does; `zod/mini` has no
 * such method).
 */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy, { description });
  return copy;
}

const uuid = (description: string) => described(z.string().check(z.regex(UUID_PATTERN)), description);
const timestamp = (description: string) => described(z.string().check(z.regex(TIMESTAMP_PATTERN)), description);

/** A user as the API shows one (GET /api/users/@{handle}/short, PATCH /api/users/me). */
export const userProfileSchema = described(
  z.object({
    uuid: uuid("The user's uuid (the Cognito `sub`); the user's real-time channel is `/users/<uuid>`."),
    handle: described(z.string(), "The handle as its owner wrote it (no `@`); unique without regard to case."),
    display_name: described(z.string(), "The display name."),
  }),
  "A user's public profile.",
);

/** A message as pattern A lists it, and as the real-time `message.new` event carries it. */
export const messageViewSchema = described(
  z.object({
    uuid: uuid("The message_uuid."),
    user_uuid: uuid("The sender's uuid."),
    display_name: described(z.string(), "The sender's display name, as the sender is named now."),
    handle: described(z.string(), "The sender's handle, as the sender is named now."),
    message: described(z.string(), "The text."),
    created_at: timestamp("When it was posted: ISO 8601 UTC with milliseconds (`2026-11-21T14:05:09.123Z`)."),
  }),
  "A message of a group.",
);

const unreadCount = described(
  z.int().check(z.gte(0)).check(z.lte(UNREAD_COUNT_CAP)),
  `The caller's unread messages: the other member's messages after the caller's read marker; exact from 0 to ${UNREAD_COUNT_CAP - 1}, ${UNREAD_COUNT_CAP} means "${UNREAD_COUNT_CAP} or more".`,
);
const marker = (description: string) =>
  described(z.nullable(z.string().check(z.regex(TIMESTAMP_PATTERN))), description);
const lastReadAt = marker(
  "The caller's read marker: `created_at` of the message read up to, or null when nothing is read yet.",
);

/** A message group as pattern B lists it, with the caller's read state. */
export const messageGroupViewSchema = described(
  z.object({
    uuid: uuid("The message_group_uuid."),
    user_uuid: uuid("The OTHER member's uuid."),
    display_name: described(z.string(), "The OTHER member's display name."),
    handle: described(z.string(), "The OTHER member's handle."),
    message: described(z.string(), "The text of the group's newest message."),
    created_at: timestamp("When the group's newest message was posted (ISO 8601 UTC with milliseconds)."),
    unread_count: unreadCount,
    last_read_at: lastReadAt,
    other_last_read_at: marker("The OTHER member's read marker (the read receipt), or null."),
  }),
  "A message group (conversation) of the caller, as its summary shows it.",
);

/** What POST /api/messages answers (patterns C and D). */
export const createdMessageViewSchema = described(
  z.extend(messageViewSchema, {
    message_group_uuid: uuid("The group the message was posted to (new or existing)."),
  }),
  "The message just posted.",
);

/** What POST /api/message_groups/{message_group_uuid}/read answers. */
export const markReadViewSchema = described(
  z.object({
    message_group_uuid: uuid("The group."),
    last_read_at: lastReadAt,
    unread_count: unreadCount,
  }),
  "The caller's read state of the group after the call.",
);

/** A user the caller blocks. */
export const blockViewSchema = described(
  z.extend(userProfileSchema, { blocked_at: timestamp("When the block was made (ISO 8601 UTC with milliseconds).") }),
  "A user the caller blocks, as the directory names them now.",
);

export const blockListSchema = described(
  z.array(blockViewSchema),
  "One page of the users the caller blocks, the newest block first.",
);

export const messageListSchema = described(
  z.array(messageViewSchema),
  "One page of a group's messages: the newest page first, each page oldest first.",
);
export const messageGroupListSchema = described(
  z.array(messageGroupViewSchema),
  "One page of the caller's message groups, the most recent activity first.",
);

/** The body API Gateway itself answers with, in the cloud (docs/deploy.md "Response headers"). */
export const gatewayMessageSchema = described(
  z.object({ message: z.string() }),
  "An answer API Gateway gives itself in the cloud (its JWT authorizer's 401, its throttling's 429, " +
    "404 of no route, 413, 500 of a function that crashed): a fixed text, not an array of codes. " +
    "The local stack answers these with arrays of codes.",
);

/** True when the two types are the same (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only when every schema above describes exactly its view of `shared/model.ts`. */
const viewsMatchModel: [
  Same<z.infer<typeof userProfileSchema>, UserProfile>,
  Same<z.infer<typeof messageViewSchema>, MessageView>,
  Same<z.infer<typeof messageGroupViewSchema>, MessageGroupView & ReadState>,
  Same<z.infer<typeof createdMessageViewSchema>, CreatedMessageView>,
  Same<z.infer<typeof markReadViewSchema>, MarkReadView>,
  Same<z.infer<typeof blockViewSchema>, BlockView>,
] = [true, true, true, true, true, true];
void viewsMatchModel;

/**
 * The named schemas of the document (`components.schemas`), by name: every request and answer
 * body is one of them. `io` is the side zod converts: `input` for requests (what a client may
 * send: extra fields are ignored), `output` for answers (exactly the fields the API sends: an
 * object lists every field and allows no other).
 */
export const COMPONENT_SCHEMAS: Readonly<Record<string, { schema: z.ZodMiniType; io: "input" | "output" }>> = {
  UserProfile: { schema: userProfileSchema, io: "output" },
  MessageView: { schema: messageViewSchema, io: "output" },
  MessageList: { schema: messageListSchema, io: "output" },
  MessageGroupView: { schema: messageGroupViewSchema, io: "output" },
  MessageGroupList: { schema: messageGroupListSchema, io: "output" },
  CreatedMessageView: { schema: createdMessageViewSchema, io: "output" },
  MarkReadView: { schema: markReadViewSchema, io: "output" },
  BlockView: { schema: blockViewSchema, io: "output" },
  BlockList: { schema: blockListSchema, io: "output" },
  GatewayMessage: { schema: gatewayMessageSchema, io: "output" },
  CreateMessageRequest: { schema: REQUEST_SCHEMAS.createMessageBody, io: "input" },
  ProfileChangeRequest: { schema: REQUEST_SCHEMAS.profileChangeBody, io: "input" },
  MarkReadRequest: { schema: REQUEST_SCHEMAS.markReadBody, io: "input" },
};

// ---------------------------------------------------------------------------------------------
// Requests: what the JSON Schema of a request schema of `shared/validation.ts` lacks

/** A JSON Schema object as zod emits it. */
export type JsonSchema = Record<string, unknown>;

/**
 * For each request schema of `shared/validation.ts` whose rules are refinements (which zod
 * cannot turn into JSON Schema), the JSON Schema that says the same, from the same constants.
 * JSON Schema counts a string's length in code points, as the API does. The document generator
 * applies it to the schema's JSON Schema wherever the schema appears.
 */
export const REQUEST_SCHEMA_RULES: ReadonlyMap<z.ZodMiniType, (json: JsonSchema) => JsonSchema> = new Map<
  z.ZodMiniType,
  (json: JsonSchema) => JsonSchema
>([
  [
    REQUEST_SCHEMAS.message,
    (json) => ({
      ...json,
      minLength: 1,
      maxLength: MAX_MESSAGE_CHARS,
      description:
        `The text: at most ${MAX_MESSAGE_CHARS} characters (Unicode code points), not blank once white space and ` +
        "invisible format characters are removed, no NUL and no lone UTF-16 surrogate.",
    }),
  ],
  [
    REQUEST_SCHEMAS.messageGroupUuid,
    (json) => ({ ...json, description: "A message_group_uuid: a lowercase canonical uuid." }),
  ],
  [
    REQUEST_SCHEMAS.handle,
    (json) => ({
      ...json,
      pattern: `^@?${HANDLE_PATTERN.source.slice(1)}`,
      description:
        "A handle, with or without the leading `@`: 1 to 32 of `A-Z a-z 0-9 _ . -`, any case (handles are unique without regard to case).",
    }),
  ],
  [
    REQUEST_SCHEMAS.displayName,
    (json) => ({
      ...json,
      description:
        `A display name: 1 to ${MAX_DISPLAY_NAME_CHARS} characters (code points) after trimming spaces, NFC-normalised; ` +
        "no control, format, private-use or unassigned characters, no space but U+0020, no `<` or `>`, " +
        'at most three combining marks in a row (README "Identity").',
    }),
  ],
  [
    REQUEST_SCHEMAS.pageLimit,
    () => ({
      type: "integer",
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: DEFAULT_PAGE_SIZE,
      description: `Rows per page, 1 to ${MAX_PAGE_SIZE} (ASCII digits only).`,
    }),
  ],
  [
    REQUEST_SCHEMAS.createMessageBody,
    (json) => ({
      ...json,
      description:
        "A message to post: exactly one target, either `message_group_uuid` (pattern C: an existing group of " +
        "the caller) or `handle` (pattern D: the conversation with that user, created if needed). A target " +
        "that is `null` is absent. Other fields are ignored.",
    }),
  ],
  [
    REQUEST_SCHEMAS.markReadBody,
    (json) => ({
      ...json,
      description:
        "Optional: `message_uuid` is the message to mark read up to (a message of the group); absent, `null`, " +
        "an empty body or `{}`: the group's newest message. The marker only moves forward.",
    }),
  ],
  [
    REQUEST_SCHEMAS.profileChangeBody,
    (json) => ({
      ...json,
      description:
        "A change of the caller's profile: at least one of `handle` and `display_name` (`null` is absent). " +
        "Other fields are ignored.",
    }),
  ],
]);

// ---------------------------------------------------------------------------------------------
// Headers

/** A response header of the document (`components.headers`). */
export interface HeaderSpec {
  description: string;
  schema: z.ZodMiniType;
}

/** Every response header the document describes, by (lowercase) name. */
export const RESPONSE_HEADERS = {
  [NEXT_CURSOR_HEADER]: {
    description:
      "The opaque cursor of the next (older) page; absent on the last page. Pass it back as `?cursor=`. Exposed by CORS.",
    schema: z
      .string()
      .check(z.regex(/^[A-Za-z0-9_-]+$/))
      .check(z.maxLength(MAX_CURSOR_LENGTH)),
  },
  "cache-control": {
    description:
      `\`public, max-age=${PUBLIC_CACHE_SECONDS}\` on a 2xx of the public route, \`no-store\` on every other answer ` +
      "of a route function and of the local stack (API Gateway's own answers in the cloud carry none).",
    schema: z.enum(["no-store", `public, max-age=${PUBLIC_CACHE_SECONDS}`]),
  },
  "x-content-type-options": {
    description: "Always `nosniff` on the answers of the route functions and of the local stack.",
    schema: z.literal("nosniff"),
  },
  "retry-after": {
    description: "Seconds to wait before trying again (RFC 9110, 10.2.3).",
    schema: z.string().check(z.regex(/^[0-9]+$/)),
  },
  "ratelimit-policy": {
    description:
      'The send limits (IETF httpapi draft "RateLimit header fields for HTTP"): each policy\'s quota and the ' +
      'window that refills it, seconds, e.g. `"messages";q=10;w=20, "new_groups";q=10;w=3600`. Exposed by CORS.',
    schema: z.string().check(z.regex(/^"[a-z_]+";q=[0-9]+;w=[0-9]+(, "[a-z_]+";q=[0-9]+;w=[0-9]+)*$/)),
  },
  ratelimit: {
    description:
      "What is left of each quota after this request, and seconds until it is whole again, e.g. " +
      '`"messages";r=9;t=2, "new_groups";r=9;t=360`. Exposed by CORS.',
    schema: z.string().check(z.regex(/^"[a-z_]+";r=[0-9]+;t=[0-9]+(, "[a-z_]+";r=[0-9]+;t=[0-9]+)*$/)),
  },
  "access-control-allow-origin": {
    description: "The web frontend's origin (the API's CORS configuration).",
    schema: z.string(),
  },
  "access-control-allow-methods": {
    description: "The methods of the routes, and OPTIONS.",
    schema: z.string(),
  },
  "access-control-allow-headers": {
    description: `The request headers a browser may send: ${CORS.allowHeaders.join(", ")}.`,
    schema: z.string(),
  },
  "access-control-max-age": {
    description: `How long a browser may cache the preflight answer, seconds (${CORS.maxAgeSeconds}).`,
    schema: z.string().check(z.regex(/^[0-9]+$/)),
  },
} as const satisfies Record<string, HeaderSpec>;
export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

/** Headers of every answer of a route function (`responseHeaders` of `shared/api-contract.ts`). */
export const EVERY_ANSWER_HEADERS: readonly ResponseHeaderName[] = ["cache-control", "x-content-type-options"];

// ---------------------------------------------------------------------------------------------
// Error codes

/**
 * Every error code the HTTP API answers with, and what it means. The body of every non-2xx
 * answer is a JSON array of the codes that apply (DESIGN.md "HTTP API").
 */
export const ERROR_CODES = {
  body_malformed_json: "The body is not JSON (or is absent).",
  body_not_object: "The body is JSON but not an object.",
  limit_invalid: `\`?limit=\` is not an integer from 1 to ${MAX_PAGE_SIZE} written in ASCII digits.`,
  cursor_invalid:
    "`?cursor=` is empty, malformed, too long, or was not made by this query (same route, same group or user).",
  message_group_uuid_invalid: "A message_group_uuid (in the path or the body) is not a lowercase canonical uuid.",
  unauthorized:
    "No valid Cognito access token (missing, malformed, expired, tampered, an ID token), or the caller has no active profile.",
  message_group_not_found:
    "The group does not exist, or the caller is not one of its members (the two are indistinguishable on purpose).",
  handle_not_found: "No active user has this handle.",
  message_not_found: "`message_uuid` is not a message of the group.",
  message_uuid_invalid: "`message_uuid` is not a lowercase canonical uuid.",
  idempotency_key_invalid: `The \`${IDEMPOTENCY_KEY_HEADER}\` header is empty, over ${MAX_IDEMPOTENCY_KEY_CHARS} characters, or not visible ASCII.`,
  idempotency_key_reused: `The \`${IDEMPOTENCY_KEY_HEADER}\` was used by the caller for another body within 24 h.`,
  idempotency_request_in_progress: `A request with the same \`${IDEMPOTENCY_KEY_HEADER}\` is still being answered: retry after \`Retry-After\`.`,
  cannot_message_user: "One of the two users blocks the other: nothing is posted.",
  cannot_block_self: "The handle is the caller's own.",
  rate_limited: "The caller's send limits are spent: retry after `Retry-After` seconds (see the RateLimit fields).",
  user_not_found: "No active user has this handle (the public profile route).",
  message_blank: "The message is missing, or blank once white space and invisible format characters are removed.",
  message_invalid: "The message is not a string, or holds a NUL or a lone UTF-16 surrogate.",
  message_exceed_max_chars: `The message is over ${MAX_MESSAGE_CHARS} characters (Unicode code points).`,
  message_group_uuid_or_handle_required: "Neither `message_group_uuid` nor `handle` is given.",
  message_group_uuid_and_handle_exclusive: "Both `message_group_uuid` and `handle` are given.",
  handle_invalid: "The handle breaks the handle rules (1 to 32 of `A-Z a-z 0-9 _ . -`).",
  cannot_message_self: "The handle is the caller's own.",
  display_name_invalid: "The display name breaks the display-name rules.",
  handle_or_display_name_required: "Neither `handle` nor `display_name` is given.",
  handle_taken:
    "Another user holds the handle (in any case), or it is reserved to the user who left it, or a sign-up claimed it.",
  route_not_found: "No route has this method and path (an HTTP API has no 405).",
  payload_too_large: "The body is over the API's limit (1 MiB on the local stack).",
  throttled:
    "DynamoDB (or, renaming, Cognito) throttled the request after the SDK's retries, or (renaming) concurrent " +
    "changes of the same profile won 10 races in a row; try again after `retry-after` seconds.",
  internal_error: "Anything else; the details go to the log, never to the client.",
} as const satisfies Record<string, string>;
export type ErrorCode = keyof typeof ERROR_CODES;

/** Error answers any route can give, besides its own (`OperationSpec.errors`), merged into each. */
export interface CommonError {
  status: number;
  codes: readonly ErrorCode[];
  /** `auth`: only routes with `auth: true` (`shared/routes.ts`) answer it. */
  routes: "all" | "auth";
  /** True when API Gateway itself may give it in the cloud: then its body may be {@link gatewayMessageSchema}. */
  gateway: boolean;
  headers?: readonly ResponseHeaderName[];
}

export const COMMON_ERRORS: readonly CommonError[] = [
  // The JWT authorizer (or locally `local/http-api.ts`), `callerClaims` of `shared/http.ts`, and
  // `UserDirectory.caller` of `shared/users.ts` for a caller without an active profile.
  { status: 401, codes: ["unauthorized"], routes: "auth", gateway: true },
  // `local/http-api.ts` (`DEFAULT_MAX_BODY_BYTES`); API Gateway's payload limit in the cloud.
  { status: 413, codes: ["payload_too_large"], routes: "all", gateway: true },
  // `httpHandler` of `shared/http.ts` for SDK throttling; API Gateway's stage and route throttling.
  { status: 429, codes: ["throttled"], routes: "all", gateway: true, headers: ["retry-after"] },
  // `httpHandler` of `shared/http.ts`, `local/http-api.ts` for a handler that threw.
  { status: 500, codes: ["internal_error"], routes: "all", gateway: true },
];

/** The answer to a method and path of no route (`local/http-api.ts`; API Gateway's 404 in the cloud). */
export const NO_ROUTE_ERROR = { status: 404, codes: ["route_not_found"] } as const satisfies {
  status: number;
  codes: readonly ErrorCode[];
};

// ---------------------------------------------------------------------------------------------
// Operations

/** A path, query or header parameter. */
export interface ParameterSpec {
  schema: z.ZodMiniType;
  description: string;
}

/** A success answer. */
export interface SuccessSpec {
  description: string;
  /** Its body: a schema of {@link COMPONENT_SCHEMAS}; none for a bodyless answer (204). */
  body?: z.ZodMiniType;
  /** Headers besides {@link EVERY_ANSWER_HEADERS} that may be absent. */
  headers?: readonly ResponseHeaderName[];
  /** Headers besides {@link EVERY_ANSWER_HEADERS} that every such answer carries. */
  requiredHeaders?: readonly ResponseHeaderName[];
}

/** What the document says of one route of `shared/routes.ts`. */
export interface OperationSpec {
  operationId: string;
  summary: string;
  description: string;
  tags: readonly string[];
  /** Each `{name}` of the route's path: its schema (input side) and meaning. */
  pathParameters?: Readonly<Record<string, ParameterSpec>>;
  /** The query: an object schema (one parameter per property, required as the schema says) and each parameter's meaning. */
  query?: { schema: z.ZodMiniObject; descriptions: Readonly<Record<string, string>> };
  /** Request headers the route reads, besides `Authorization`. */
  requestHeaders?: Readonly<Record<string, ParameterSpec & { required: boolean }>>;
  /** The JSON body: a schema of {@link COMPONENT_SCHEMAS}; `required` unless said otherwise. */
  body?: { schema: z.ZodMiniType; description: string; required?: boolean };
  /** The success answers, by status. */
  responses: Readonly<Record<number, SuccessSpec>>;
  /** The codes each error status of the route can carry ({@link COMMON_ERRORS} are added). */
  errors: Readonly<Record<number, readonly ErrorCode[]>>;
  /** Headers of an error status besides {@link EVERY_ANSWER_HEADERS} (and those of {@link COMMON_ERRORS}). */
  errorHeaders?: Readonly<Record<number, readonly ResponseHeaderName[]>>;
}

const PAGE_QUERY: OperationSpec["query"] = {
  schema: REQUEST_SCHEMAS.pageQuery,
  descriptions: {
    limit: `Rows per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`,
    cursor: `The \`${NEXT_CURSOR_HEADER}\` header of the previous page: the next older page. Opaque; only for the query that made it.`,
  },
};

const PAGE_ANSWER_HEADERS: readonly ResponseHeaderName[] = [NEXT_CURSOR_HEADER];

/** The send limits' fields (`shared/send-limits.ts`). */
const RATE_LIMIT_HEADERS: readonly ResponseHeaderName[] = ["ratelimit-policy", "ratelimit"];

const handleParameter: ParameterSpec = {
  schema: REQUEST_SCHEMAS.handle,
  description: "The handle, usually with its `@` (`@bayko`).",
};

/** The operations, by route key (`METHOD /path` of `shared/routes.ts`). */
export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  "GET /api/message_groups": {
    operationId: "listMessageGroups",
    summary: "List the caller's message groups (pattern B)",
    description:
      "The caller's conversations, the most recent activity first; `user_uuid`, `handle` and `display_name` are the " +
      `OTHER member's. Paged: older pages through the \`${NEXT_CURSOR_HEADER}\` header.`,
    tags: ["messages"],
    query: PAGE_QUERY,
    responses: {
      200: { description: "One page of groups.", body: messageGroupListSchema, headers: PAGE_ANSWER_HEADERS },
    },
    errors: {
      // parsePageRequest (shared/validation.ts), decodeCursor (shared/cursor.ts).
      400: ["limit_invalid", "cursor_invalid"],
    },
  },
  "GET /api/messages/{message_group_uuid}": {
    operationId: "listMessages",
    summary: "List the messages of a group (pattern A)",
    description:
      "The newest page of the group's messages, oldest first; older pages through the " +
      `\`${NEXT_CURSOR_HEADER}\` header. The senders are shown as they are named now.`,
    tags: ["messages"],
    pathParameters: {
      message_group_uuid: { schema: REQUEST_SCHEMAS.messageGroupUuid, description: "The group." },
    },
    query: PAGE_QUERY,
    responses: { 200: { description: "One page of messages.", body: messageListSchema, headers: PAGE_ANSWER_HEADERS } },
    errors: {
      // parseMessageGroupUuidParam, parsePageRequest (shared/validation.ts), decodeCursor (shared/cursor.ts).
      400: ["message_group_uuid_invalid", "limit_invalid", "cursor_invalid"],
      // listMessages (shared/messages.ts).
      404: ["message_group_not_found"],
    },
  },
  "POST /api/messages": {
    operationId: "createMessage",
    summary: "Post a message (patterns C and D)",
    description:
      "`{message, message_group_uuid}` posts to an existing group of the caller (pattern C); `{message, handle}` " +
      "to the conversation with that user, created the first time (pattern D). Nothing is written on any error.",
    tags: ["messages"],
    requestHeaders: {
      [IDEMPOTENCY_KEY_HEADER]: {
        schema: z.string().check(z.regex(IDEMPOTENCY_KEY_PATTERN)),
        required: false,
        description:
          `Makes the send idempotent (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} ` +
          "visible ASCII characters, scoped to the caller. A retry with the same key within 24 h answers exactly the " +
          "first answer (status, headers and body) and writes nothing.",
      },
    },
    body: { schema: REQUEST_SCHEMAS.createMessageBody, description: "The message and its target." },
    responses: {
      200: { description: "The message, posted.", body: createdMessageViewSchema, requiredHeaders: RATE_LIMIT_HEADERS },
    },
    errors: {
      // parseCreateMessage, parseIdempotencyKey (shared/validation.ts).
      400: ["body_malformed_json", "body_not_object", "idempotency_key_invalid"],
      // assertMayMessage (shared/blocks.ts).
      403: ["cannot_message_user"],
      // postToGroup, postToHandle (shared/messages.ts).
      404: ["message_group_not_found", "handle_not_found"],
      // createIdempotentSend (shared/idempotent-send.ts): the same key while the first runs.
      409: ["idempotency_request_in_progress"],
      // spendSendLimit (shared/send-limits.ts).
      429: ["rate_limited"],
      // parseCreateMessage (the target's codes first), postToHandle (cannot_message_self),
      // createIdempotentSend (idempotency_key_reused).
      422: [
        "message_group_uuid_and_handle_exclusive",
        "message_group_uuid_or_handle_required",
        "message_blank",
        "message_invalid",
        "message_exceed_max_chars",
        "message_group_uuid_invalid",
        "handle_invalid",
        "cannot_message_self",
        "idempotency_key_reused",
      ],
    },
    errorHeaders: { 409: ["retry-after"], 429: RATE_LIMIT_HEADERS },
  },
  "GET /api/users/{handle}/short": {
    operationId: "getUserShort",
    summary: "A user's public profile",
    description:
      "The public profile of the active user with this handle, in any case. Public: no token (the Cruddur frontend " +
      "calls it without one). The frontend sends `@handle`; a bare handle is accepted too. A found profile may be " +
      `cached for ${PUBLIC_CACHE_SECONDS} s.`,
    tags: ["users"],
    pathParameters: { handle: handleParameter },
    responses: { 200: { description: "The profile.", body: userProfileSchema } },
    errors: {
      // functions/get-user-short.ts: an unknown handle, and one that cannot be a handle.
      404: ["user_not_found"],
    },
  },
  "PATCH /api/users/me": {
    operationId: "updateProfile",
    summary: "Rename the caller",
    description:
      "Changes the caller's handle and/or display name. A new handle is claimed and the old one reserved to the " +
      "caller for 30 days (by default); the caller's conversations then show the new names. Idempotent: asking for " +
      "the current values changes nothing.",
    tags: ["users"],
    body: { schema: REQUEST_SCHEMAS.profileChangeBody, description: "The new handle and/or display name." },
    responses: { 200: { description: "The caller's new profile.", body: userProfileSchema } },
    errors: {
      // parseProfileChange (shared/validation.ts).
      400: ["body_malformed_json", "body_not_object"],
      // renameUser (shared/directory.ts).
      409: ["handle_taken"],
      // parseProfileChange, checkIdentity (shared/directory.ts).
      422: ["handle_invalid", "display_name_invalid", "handle_or_display_name_required"],
    },
  },
  "POST /api/message_groups/{message_group_uuid}/read": {
    operationId: "markRead",
    summary: "Mark a group read",
    description:
      "Moves the caller's read marker forward to a message of the group (default: its newest message); a message " +
      "at or before the marker changes nothing. The other member receives a `message_group.read` event (the read " +
      "receipt). Posting marks the sender's own side read too.",
    tags: ["messages"],
    pathParameters: {
      message_group_uuid: { schema: REQUEST_SCHEMAS.messageGroupUuid, description: "The group." },
    },
    body: { schema: REQUEST_SCHEMAS.markReadBody, description: "The message read up to (optional).", required: false },
    responses: { 200: { description: "The caller's read state after the call.", body: markReadViewSchema } },
    errors: {
      // parseMessageGroupUuidParam, parseMarkRead (shared/validation.ts).
      400: ["message_group_uuid_invalid", "body_malformed_json", "body_not_object"],
      // markGroupRead (shared/messages.ts), markRead (shared/read-markers.ts).
      404: ["message_group_not_found", "message_not_found"],
      // parseMarkRead.
      422: ["message_uuid_invalid"],
    },
  },
  "POST /api/users/{handle}/block": {
    operationId: "blockUser",
    summary: "Block a user",
    description:
      "While either of two users blocks the other, posts between them are refused (403 `cannot_message_user`); " +
      "existing messages stay readable. Idempotent: blocking again keeps the first `blocked_at`.",
    tags: ["users"],
    pathParameters: { handle: handleParameter },
    responses: { 200: { description: "The user blocked.", body: blockViewSchema } },
    errors: {
      // functions/block-user.ts (a path that cannot be a handle), blockUser (shared/blocks.ts).
      404: ["handle_not_found"],
      422: ["cannot_block_self"],
    },
  },
  "DELETE /api/users/{handle}/block": {
    operationId: "unblockUser",
    summary: "Unblock a user",
    description: "Idempotent: unblocking a user not blocked changes nothing.",
    tags: ["users"],
    pathParameters: { handle: handleParameter },
    responses: { 204: { description: "Not blocked (any more)." } },
    errors: {
      // functions/unblock-user.ts, unblockUser (shared/blocks.ts).
      404: ["handle_not_found"],
      422: ["cannot_block_self"],
    },
  },
  "GET /api/users/me/blocks": {
    operationId: "listBlocks",
    summary: "List the users the caller blocks",
    description: `The newest block first. Paged: older pages through the \`${NEXT_CURSOR_HEADER}\` header.`,
    tags: ["users"],
    query: PAGE_QUERY,
    responses: { 200: { description: "One page of blocks.", body: blockListSchema, headers: PAGE_ANSWER_HEADERS } },
    errors: {
      // parsePageRequest (shared/validation.ts), listBlocks (shared/blocks.ts).
      400: ["limit_invalid", "cursor_invalid"],
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Real-time events (AWS AppSync Events; `shared/realtime.ts`)

/** An event a user's channel carries. */
export interface EventSpec {
  /** Its `type` field. */
  type: string;
  /** Its schema's name in the AsyncAPI document (`components.schemas`) and the message's key. */
  id: string;
  /** The event's schema (`shared/realtime.ts`). */
  schema: z.ZodMiniType;
  summary: string;
  description: string;
}

/**
 * The `message.new` event of `shared/realtime.ts`, its fields described and held to the shapes of
 * the HTTP API (the message is pattern A's view).
 */
export const messageNewEventViewSchema = described(
  z.extend(messageNewEventSchema, {
    id: described(z.string().check(z.minLength(1)), "The message_uuid: the same for every delivery of one message."),
    message_group_uuid: uuid("The group the message was posted to."),
    message: messageViewSchema,
  }),
  "A message was posted to one of the user's groups.",
);

/** The `message_group.read` event of `shared/realtime.ts` (the read receipt), its fields described. */
export const messageGroupReadEventViewSchema = described(
  z.extend(messageGroupReadEventSchema, {
    id: described(
      z.string().check(z.minLength(1)),
      "`<message_group_uuid>:<user_uuid>:<message_uuid read up to>`: the same for every delivery of one move.",
    ),
    message_group_uuid: uuid("The group."),
    user_uuid: uuid("The member who read (the other member, for the receiver)."),
    last_read_at: timestamp(
      "`created_at` of the message read up to. A replay may deliver an older marker after a newer one: keep the newest.",
    ),
  }),
  "The other member's read marker moved (a read receipt).",
);

/** Compiles only when the event schemas above describe exactly the events `shared/realtime.ts` builds. */
const eventsMatchRealtime: [
  Same<z.infer<typeof messageNewEventViewSchema>, MessageNewEvent>,
  Same<z.infer<typeof messageGroupReadEventViewSchema>, MessageGroupReadEvent>,
] = [true, true];
void eventsMatchRealtime;

/** Every event of the real-time channels, for the AsyncAPI document. */
export const REALTIME_EVENTS: readonly EventSpec[] = [
  {
    type: "message.new",
    id: "MessageNewEvent",
    schema: messageNewEventViewSchema,
    summary: "A message was posted to one of the user's groups.",
    description:
      "Sent to both members' channels for every new message (theirs too), with the message as " +
      "GET /api/messages/{message_group_uuid} lists it. `id` is the message_uuid: a retry may deliver an event " +
      "twice, never changed, so drop duplicates by `id`.",
  },
  {
    type: "message_group.read",
    id: "MessageGroupReadEvent",
    schema: messageGroupReadEventViewSchema,
    summary: "The other member of a group read up to a message (a read receipt).",
    description:
      "Sent to the other member's channel when a member's read marker moves forward (POST " +
      "/api/message_groups/{message_group_uuid}/read, or posting). Drop duplicates by `id`; keep the newest " +
      "`last_read_at` per group.",
  },
];
