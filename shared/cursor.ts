/**
 * Opaque paging cursors. A cursor carries only the sort key of the last row of a page and the
 * scope of the query that produced it (`messages:<message_group_uuid>` or
 * `message_groups:<user uuid>`). The partition key of the next query is always rebuilt from the
 * authorized request, never from the cursor, so a forged cursor cannot read another partition;
 * a cursor of another scope or of the wrong form is rejected with 400 `["cursor_invalid"]`.
 */
import { badRequest } from "./errors";

/** Longest cursor accepted, characters (a real one is under 200). */
export const MAX_CURSOR_LENGTH = 512;

interface CursorBody {
  v: 1;
  scope: string;
  sk: string;
}

/** Encodes a cursor (base64url of a small JSON document). */
export function encodeCursor(scope: string, sk: string): string {
  const body: CursorBody = { v: 1, scope, sk };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/**
 * Decodes a cursor produced by {@link encodeCursor} for the same `scope`.
 * @param isValidSk the sort-key format the query expects.
 * @returns the sort key to resume after.
 * @throws AppError 400 `["cursor_invalid"]` when the cursor is malformed, too long, of another
 *   scope, or its sort key has the wrong format.
 */
export function decodeCursor(cursor: string, scope: string, isValidSk: (sk: string) => boolean): string {
  const invalid = () => badRequest("cursor_invalid");
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof body !== "object" || body === null) throw invalid();
  const { v, scope: got, sk } = body as Partial<Record<keyof CursorBody, unknown>>;
  if (v !== 1 || got !== scope || typeof sk !== "string" || !isValidSk(sk)) throw invalid();
  return sk;
}
