/**
 * Request validation for the HTTP API, with zod: every rule of a body, query or path parameter
 * is a schema below (only reading the body as JSON is done by hand). Every failure becomes an
 * AppError whose codes are all that apply (DESIGN.md "HTTP API"), each issue's message being its
 * code: 400 for a request that cannot be read (body not JSON, not an object, bad path or query
 * parameter), 422 for body fields that fail the rules.
 */
import * as z from "zod/mini";
import { badRequest, unprocessable } from "./errors";
import { HANDLE_PATTERN, normalizeDisplayName } from "./identity-rules";
import { UUID_PATTERN } from "./ids";

/** Longest message, in characters (Unicode code points), from the Cruddur API contract. */
export const MAX_MESSAGE_CHARS = 1024;
/** Page size of the list routes when `?limit=` is absent. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest `?limit=`. */
export const MAX_PAGE_SIZE = 100;

/** Length in characters (code points), so an emoji counts once, not as two UTF-16 units. */
export const charLength = (text: string): number => [...text].length;

/**
 * Characters that show nothing: Unicode White_Space (what `String.prototype.trim` removes) and the
 * format characters (general category Cf: zero-width space/joiners, bidi controls and isolates,
 * the BOM, soft hyphen, invisible operators, tag characters), plus the Hangul fillers and the
 * braille blank, which render as blank glyphs. A message made only of these is blank.
 */
const INVISIBLE = /[\p{White_Space}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]/gu;

/** True when `text` shows nothing once white space and invisible format characters are removed. */
export const isBlankText = (text: string): boolean => text.replace(INVISIBLE, "").length === 0;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (UTF-16 units, no `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `text` cannot be stored and shown as text: a NUL, or a lone UTF-16 surrogate (not
 * valid Unicode: it cannot be encoded as UTF-8, which DynamoDB and JSON consumers expect).
 */
export const isInvalidText = (text: string): boolean => text.includes("\u0000") || LONE_SURROGATE.test(text);

const message = z
  .string({ error: (issue) => (issue.input === undefined ? "message_blank" : "message_invalid") })
  .check(z.refine((s) => !isInvalidText(s), { error: "message_invalid", abort: true }))
  .check(z.refine((s) => !isBlankText(s), "message_blank"))
  .check(z.refine((s) => charLength(s) <= MAX_MESSAGE_CHARS, "message_exceed_max_chars"));

const messageGroupUuid = z
  .string({ error: "message_group_uuid_invalid" })
  .check(z.regex(UUID_PATTERN, "message_group_uuid_invalid"));

/** A handle in a body or in the users route's path may carry the `@` the frontend shows. */
const handle = z
  .pipe(
    z.string({ error: "handle_invalid" }),
    z.transform((h: string) => (h.startsWith("@") ? h.slice(1) : h)),
  )
  .check(z.refine((h) => HANDLE_PATTERN.test(h), "handle_invalid"));

/** A display name by the rules of `shared/identity-rules.ts`, as it is stored (trimmed, NFC). */
const displayName = z.pipe(
  z.string({ error: "display_name_invalid" }),
  z.transform((s: string, ctx) => {
    const name = normalizeDisplayName(s);
    if (name === undefined) ctx.issues.push({ code: "custom", message: "display_name_invalid", input: s });
    return name ?? z.NEVER;
  }),
);

/** A field is given when it is neither absent nor null (the frontend sends `null` for "none"). */
const given = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * Runs a rule over the whole body even when a field failed, so every code that applies is given
 * (zod skips such rules by default). The rule then sees a failed field as it was sent.
 */
const always = { when: () => true } as const;

const createMessageBody = z
  .object({
    message,
    message_group_uuid: z.nullish(messageGroupUuid),
    handle: z.nullish(handle),
  })
  .check(
    z.refine((b) => !(given(b.message_group_uuid) && given(b.handle)), {
      error: "message_group_uuid_and_handle_exclusive",
      ...always,
    }),
  )
  .check(
    z.refine((b) => given(b.message_group_uuid) || given(b.handle), {
      error: "message_group_uuid_or_handle_required",
      ...always,
    }),
  );

const profileChangeBody = z
  .object({ handle: z.nullish(handle), display_name: z.nullish(displayName) })
  .check(z.refine((b) => given(b.handle) || given(b.display_name), "handle_or_display_name_required"));

/** `?limit=`: 1 to 3 ASCII digits (no sign, exponent or hex), 1 to {@link MAX_PAGE_SIZE}. */
const pageLimit = z
  .pipe(z.string().check(z.regex(/^[0-9]{1,3}$/, "limit_invalid")), z.transform(Number))
  // A refine, not z.number() with checks: z.number() alone adds to every route's bundle.
  .check(z.refine((n) => n >= 1 && n <= MAX_PAGE_SIZE, "limit_invalid"));

const pageQuery = z.object({
  limit: z._default(pageLimit, DEFAULT_PAGE_SIZE),
  cursor: z.optional(z.string().check(z.minLength(1, "cursor_invalid"))),
});

/**
 * The error codes of a failed parse, each once: first those of rules over the whole body (which
 * target, at least one field), then the fields' in the order of the schema. The API has always
 * answered in this order.
 */
function codesOf(error: z.core.$ZodError): string[] {
  const whole = error.issues.filter((i) => i.path.length === 0);
  const fields = error.issues.filter((i) => i.path.length > 0);
  return [...new Set([...whole, ...fields].map((i) => i.message))];
}

/**
 * A request body that must be a JSON object.
 * @throws AppError 400 `["body_malformed_json"]` or `["body_not_object"]`.
 */
function parseJsonObject(body: string | undefined): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    throw badRequest("body_malformed_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw badRequest("body_not_object");
  return json as Record<string, unknown>;
}

/** A valid POST /api/messages body: either pattern C (to a group) or D (to a user by handle). */
export type CreateMessageRequest =
  | { kind: "to_group"; message: string; message_group_uuid: string }
  | { kind: "to_handle"; message: string; handle: string };

/**
 * Parses the body of POST /api/messages.
 * @param body the raw request body (already base64-decoded), or undefined when absent.
 * @throws AppError 400 `["body_malformed_json"]` or `["body_not_object"]`; 422 with every code
 *   that applies, the target's first (`message_group_uuid_and_handle_exclusive`,
 *   `message_group_uuid_or_handle_required`), then among `message_blank`, `message_invalid`,
 *   `message_exceed_max_chars`, `message_group_uuid_invalid`, `handle_invalid`.
 */
export function parseCreateMessage(body: string | undefined): CreateMessageRequest {
  const parsed = createMessageBody.safeParse(parseJsonObject(body));
  if (!parsed.success) throw unprocessable(...codesOf(parsed.error));
  const { data } = parsed;
  if (data.message_group_uuid !== undefined && data.message_group_uuid !== null) {
    return { kind: "to_group", message: data.message, message_group_uuid: data.message_group_uuid };
  }
  return { kind: "to_handle", message: data.message, handle: data.handle ?? "" };
}

/** Paging of the list routes. */
export interface PageRequest {
  /** Rows per page, 1 to {@link MAX_PAGE_SIZE}. */
  limit: number;
  /** Opaque cursor from the previous page's `x-next-cursor` header. */
  cursor: string | undefined;
}

/**
 * Parses `?limit=` (integer 1-100, default 20) and `?cursor=` of a list route; other query
 * parameters are ignored.
 * @throws AppError 400 with `limit_invalid` and/or `cursor_invalid` (empty cursor), in that order.
 */
export function parsePageRequest(query: Record<string, string | undefined> | undefined): PageRequest {
  const parsed = pageQuery.safeParse(query ?? {});
  if (!parsed.success) throw badRequest(...codesOf(parsed.error));
  return { limit: parsed.data.limit, cursor: parsed.data.cursor };
}

/**
 * Checks the `{message_group_uuid}` path parameter.
 * @throws AppError 400 `["message_group_uuid_invalid"]` when it is not a lowercase canonical uuid.
 */
export function parseMessageGroupUuidParam(value: string | undefined): string {
  const parsed = messageGroupUuid.safeParse(value);
  if (!parsed.success) throw badRequest("message_group_uuid_invalid");
  return parsed.data;
}

/**
 * Reads the `{handle}` path parameter of GET /api/users/@{handle}/short: the frontend sends
 * `@handle`; a bare handle is accepted too.
 * @returns the handle without `@`, or `undefined` when it cannot be a handle (answered 404).
 */
export function parseHandleParam(value: string | undefined): string | undefined {
  const parsed = handle.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A valid PATCH /api/users/me body: at least one of the two fields, each already checked. */
export interface ProfileChangeRequest {
  handle?: string;
  display_name?: string;
}

/**
 * Parses the body of PATCH /api/users/me `{handle?, display_name?}` (a leading `@` of the handle
 * is dropped, as in POST /api/messages; a field that is `null` is absent). The rules are those
 * of `shared/identity-rules.ts`.
 * @throws AppError 400 `["body_malformed_json"]` / `["body_not_object"]`; 422 with every code that
 *   applies among `handle_invalid`, `display_name_invalid` (in that order), or
 *   `["handle_or_display_name_required"]` when neither is given.
 */
export function parseProfileChange(body: string | undefined): ProfileChangeRequest {
  const parsed = profileChangeBody.safeParse(parseJsonObject(body));
  if (!parsed.success) throw unprocessable(...codesOf(parsed.error));
  const { handle, display_name } = parsed.data;
  return {
    ...(handle === undefined || handle === null ? {} : { handle }),
    ...(display_name === undefined || display_name === null ? {} : { display_name }),
  };
}

/** A valid POST /api/message_groups/{message_group_uuid}/read body. */
export interface MarkReadRequest {
  /** The message to mark read up to; `undefined`: the group's newest message. */
  message_uuid: string | undefined;
}

const markReadBody = z.object({
  message_uuid: z.nullish(
    z.string({ error: "message_uuid_invalid" }).check(z.regex(UUID_PATTERN, "message_uuid_invalid")),
  ),
});

/**
 * Parses the optional body of POST /api/message_groups/{message_group_uuid}/read:
 * `{"message_uuid": "<uuid>"}`, or no body (or `{}`) for the newest message.
 * @throws AppError 400 `["body_malformed_json"]` / `["body_not_object"]`; 422 `["message_uuid_invalid"]`.
 */
export function parseMarkRead(body: string | undefined): MarkReadRequest {
  if (body === undefined || body.trim() === "") return { message_uuid: undefined };
  const parsed = markReadBody.safeParse(parseJsonObject(body));
  if (!parsed.success) throw unprocessable(...codesOf(parsed.error));
  return { message_uuid: parsed.data.message_uuid ?? undefined };
}

/** Longest `Idempotency-Key`, characters (IETF httpapi draft "The Idempotency-Key HTTP Header Field"; our bound). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

/** 1 to 255 visible ASCII characters (0x21-0x7E): no space, no control, nothing outside ASCII. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

/**
 * Reads the `Idempotency-Key` request header of POST /api/messages.
 * @param value the header as received (`undefined` when absent).
 * @returns the key, or `undefined` when the header is absent (the request is then not idempotent).
 * @throws AppError 400 `["idempotency_key_invalid"]` when it is present but empty, longer than
 *   {@link MAX_IDEMPOTENCY_KEY_CHARS} characters, or not visible ASCII.
 */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) throw badRequest("idempotency_key_invalid");
  return value;
}

/**
 * The request schemas above, for the API document (`shared/openapi.ts`, which turns them into
 * JSON Schema with zod's `toJSONSchema`) and its tests. The Lambda bundles do not use this
 * object, so esbuild leaves it out of them.
 */
export const REQUEST_SCHEMAS = {
  message,
  messageGroupUuid,
  handle,
  displayName,
  createMessageBody,
  profileChangeBody,
  pageLimit,
  pageQuery,
  markReadBody,
} as const;
