/**
 * The rules of a user's identity: which handles and display names may exist. The same rules
 * apply at sign-up (the pre-sign-up trigger), on rename (PATCH /api/users/me), on import
 * (`users import`) and on lookup, so a handle or name that breaks them can never be stored.
 *
 * - **Handle**: {@link HANDLE_PATTERN} (1 to 32 of `A-Z a-z 0-9 _ . -`), ASCII only, so
 *   look-alike Unicode handles cannot exist. Unique without regard to case: the handle item is
 *   keyed by {@link canonicalHandle} (lower case) while views show the handle as its owner wrote it.
 * - **Display name**: trimmed of spaces (U+0020) at both ends and NFC-normalised, then 1 to
 *   {@link MAX_DISPLAY_NAME_CHARS} characters (Unicode code points). Refused anywhere in it:
 *   Unicode general categories Cc (control), Cf (format: zero-width space/joiners, bidi
 *   embeddings/overrides/isolates, BOM, soft hyphen), Cs (lone surrogates), Co (private use),
 *   Cn (unassigned), Zl and Zp (line/paragraph separators), every space separator (Zs) but
 *   U+0020, the blank "filler" letters U+115F, U+1160, U+3164, U+FFA0 and U+2800, the markup
 *   characters `<` and `>`, and a run of more than {@link MAX_COMBINING_MARKS} combining marks.
 */
import { HANDLE_PATTERN } from "./user-pool";

export { HANDLE_PATTERN };

/** Longest display name, characters (code points) after trimming. */
export const MAX_DISPLAY_NAME_CHARS = 64;
/** Most combining marks (category M) in a row: more is "zalgo" text that overflows its line. */
export const MAX_COMBINING_MARKS = 3;

/** Characters a display name may never contain (see the module documentation). */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800<>]/u;
const OTHER_SPACES = /[^\P{Zs} ]/u;
const MARK_RUN = new RegExp(`\\p{M}{${MAX_COMBINING_MARKS + 1},}`, "u");
/** A lone surrogate is not matched by `\p{Cs}` in a `u` regex over a well-formed view: check it too. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `handle` is a valid handle (no `@`). */
export function isValidHandle(handle: string): boolean {
  return HANDLE_PATTERN.test(handle);
}

/**
 * The canonical form of a valid handle: lower case. Two handles with the same canonical form
 * are the same handle (one owner).
 */
export function canonicalHandle(handle: string): string {
  return handle.toLowerCase();
}

/**
 * The display name as it is stored, or `undefined` when it breaks the rules of the module
 * documentation (answered 422 `display_name_invalid`).
 * @param value any input; only a string can be valid.
 */
export function normalizeDisplayName(value: unknown): string | undefined {
  if (typeof value !== "string" || LONE_SURROGATE.test(value)) return undefined;
  // Only spaces are trimmed: any other character at the ends is judged by the rules below.
  const name = value.replace(/^ +| +$/g, "").normalize("NFC");
  const length = [...name].length;
  if (length < 1 || length > MAX_DISPLAY_NAME_CHARS) return undefined;
  if (REFUSED.test(name) || OTHER_SPACES.test(name) || MARK_RUN.test(name)) return undefined;
  if (/^\p{M}/u.test(name)) return undefined;
  return name;
}
