/**
 * Request validation for the HTTP API, with zod. Every failure becomes an AppError whose codes
 * are all that apply (DESIGN.md "HTTP API"): 400 for a request that cannot be read (body not
 * JSON, not an object, bad path or query parameter), 422 for body fields that fail the rules.
 */
import * as z from "zod";
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

const message = z
  .string({ error: (issue) => (issue.input === undefined ? "message_blank" : "message_invalid") })
  .refine((s) => s.trim().length > 0, "message_blank")
  .refine((s) => charLength(s) <= MAX_MESSAGE_CHARS, "message_exceed_max_chars");

const messageGroupUuid = z
  .string({ error: "message_group_uuid_invalid" })
  .regex(UUID_PATTERN, "message_group_uuid_invalid");

/** A handle in a body may carry the `@` the frontend shows. */
const handle = z
  .string({ error: "handle_invalid" })
  .transform((h) => (h.startsWith("@") ? h.slice(1) : h))
  .refine((h) => HANDLE_PATTERN.test(h), "handle_invalid");

const createMessageBody = z.object({
  message,
  message_group_uuid: messageGroupUuid.nullish(),
  handle: handle.nullish(),
});

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
 *   that applies among `message_blank`, `message_invalid`, `message_exceed_max_chars`,
 *   `message_group_uuid_invalid`, `handle_invalid`, `message_group_uuid_or_handle_required`,
 *   `message_group_uuid_and_handle_exclusive`.
 */
export function parseCreateMessage(body: string | undefined): CreateMessageRequest {
  const raw = parseJsonObject(body);
  const codes = new Set<string>();
  const hasGroup = raw.message_group_uuid !== undefined && raw.message_group_uuid !== null;
  const hasHandle = raw.handle !== undefined && raw.handle !== null;
  if (hasGroup && hasHandle) codes.add("message_group_uuid_and_handle_exclusive");
  if (!hasGroup && !hasHandle) codes.add("message_group_uuid_or_handle_required");
  const parsed = createMessageBody.safeParse(raw);
  if (!parsed.success) for (const issue of parsed.error.issues) codes.add(issue.message);
  if (codes.size > 0 || !parsed.success) throw unprocessable(...codes);
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
 * Parses `?limit=` (integer 1-100, default 20) and `?cursor=` of a list route.
 * @throws AppError 400 with `limit_invalid` and/or `cursor_invalid` (empty cursor).
 */
export function parsePageRequest(query: Record<string, string | undefined> | undefined): PageRequest {
  const codes: string[] = [];
  const limitText = query?.limit;
  let limit = DEFAULT_PAGE_SIZE;
  if (limitText !== undefined) {
    limit = /^[0-9]{1,3}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) codes.push("limit_invalid");
  }
  const cursor = query?.cursor;
  if (cursor === "") codes.push("cursor_invalid");
  if (codes.length > 0) throw badRequest(...codes);
  return { limit, cursor };
}

/**
 * Checks the `{message_group_uuid}` path parameter.
 * @throws AppError 400 `["message_group_uuid_invalid"]` when it is not a lowercase canonical uuid.
 */
export function parseMessageGroupUuidParam(value: string | undefined): string {
  if (value === undefined || !UUID_PATTERN.test(value)) throw badRequest("message_group_uuid_invalid");
  return value;
}

/**
 * Reads the `{handle}` path parameter of GET /api/users/@{handle}/short: the frontend sends
 * `@handle`; a bare handle is accepted too.
 * @returns the handle without `@`, or `undefined` when it cannot be a handle (answered 404).
 */
export function parseHandleParam(value: string | undefined): string | undefined {
  const handle = value?.startsWith("@") ? value.slice(1) : value;
  return handle !== undefined && HANDLE_PATTERN.test(handle) ? handle : undefined;
}

/** A valid PATCH /api/users/me body: at least one of the two fields, each already checked. */
export interface ProfileChangeRequest {
  handle?: string;
  display_name?: string;
}

/**
 * Parses the body of PATCH /api/users/me `{handle?, display_name?}` (a leading `@` of the handle
 * is dropped, as in POST /api/messages). The rules are those of `shared/identity-rules.ts`.
 * @throws AppError 400 `["body_malformed_json"]` / `["body_not_object"]`; 422 with every code that
 *   applies among `handle_invalid`, `display_name_invalid`, `handle_or_display_name_required`.
 */
export function parseProfileChange(body: string | undefined): ProfileChangeRequest {
  const raw = parseJsonObject(body);
  const codes: string[] = [];
  const change: ProfileChangeRequest = {};
  if (raw.handle !== undefined && raw.handle !== null) {
    const parsed = handle.safeParse(raw.handle);
    if (parsed.success) change.handle = parsed.data;
    else codes.push("handle_invalid");
  }
  if (raw.display_name !== undefined && raw.display_name !== null) {
    const name = normalizeDisplayName(raw.display_name);
    if (name === undefined) codes.push("display_name_invalid");
    else change.display_name = name;
  }
  if (codes.length === 0 && change.handle === undefined && change.display_name === undefined) {
    codes.push("handle_or_display_name_required");
  }
  if (codes.length > 0) throw unprocessable(...codes);
  return change;
}
