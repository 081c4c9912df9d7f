/**
 * Terminal formatting of the operator commands: dates, previews, columns, JSON lines, and the
 * one-line views of items, messages and message groups. The data functions (`scan.ts`,
 * `conversations.ts`) return data; the commands render it with these.
 */
import type { MessageGroupView, MessageView } from "../../shared/model";
import { PARTITION_KEY, SORT_KEY } from "../../shared/table";
import type { Item } from "./scan";

/**
 * A table timestamp (ISO 8601 UTC) as local date-time `YYYY-MM-DD HH:MM:SS`.
 * @param timeZone IANA zone (default: the machine's, i.e. env TZ).
 * @returns the input unchanged when it is not a date.
 */
export function localDateTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "??";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}:${part("second")}`;
}

/** Length in code points (an emoji counts once). */
const codePoints = (text: string): number => [...text].length;

/**
 * One line of at most `max` characters (code points): whitespace runs, newlines included,
 * become one space; a longer text ends with `…`.
 */
export function preview(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** Pads `text` to `width` code points. */
function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - codePoints(text)));
}

/**
 * Rows as aligned columns separated by two spaces; the last column is not padded.
 * @param header column titles, printed first when given.
 */
export function columns(rows: readonly (readonly string[])[], header?: readonly string[]): string[] {
  const all = header === undefined ? rows : [header, ...rows];
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, codePoints(cell));
    });
  }
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** One JSON line; Sets become arrays and bigints strings, so any DynamoDB item prints. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Set) return [...v];
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
    return v;
  });
}

/** A value for a one-line item view: strings as is (previewed), the rest as compact JSON. */
export function inlineValue(value: unknown, max = 60): string {
  if (typeof value === "string") return JSON.stringify(preview(value, max));
  const text = jsonLine(value) ?? String(value);
  return codePoints(text) <= max * 2 ? text : `${[...text].slice(0, max * 2 - 1).join("")}…`;
}

/** Characters that would act on a terminal instead of showing: controls, format (bidi, zero-width), separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * `text` safe to print on a terminal: control, format (bidi overrides, zero-width) and line or
 * paragraph separator characters written as `\u{XXXX}`, so that an invalid display name shows
 * what is wrong with it instead of acting on the terminal.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}}`);
}

/** Width the pk column is padded to: `MSG#` or `GRP#` plus a uuid. */
const PK_WIDTH = 40;

/**
 * One item on one line for a terminal: `pk  sk  name=value ...`, the other attributes in
 * alphabetical order, strings quoted and cut to 60 characters, lists and maps as compact JSON.
 */
export function itemLine(item: Item): string {
  const pk = String(item[PARTITION_KEY] ?? "");
  const sk = String(item[SORT_KEY] ?? "");
  const rest = Object.keys(item)
    .filter((k) => k !== PARTITION_KEY && k !== SORT_KEY)
    .sort()
    .map((k) => `${k}=${inlineValue(item[k])}`);
  return [pk.padEnd(PK_WIDTH), sk, ...rest].join("  ");
}

/** Message lines: `local date-time  @handle  preview`, aligned. */
export function messageLines(messages: readonly MessageView[], timeZone?: string): string[] {
  return columns(messages.map((m) => [localDateTime(m.created_at, timeZone), `@${m.handle}`, preview(m.message)]));
}

/** Message group lines: `local date-time  @handle  display name  preview  message_group_uuid`. */
export function messageGroupLines(groups: readonly MessageGroupView[], timeZone?: string): string[] {
  return columns(
    groups.map((g) => [
      localDateTime(g.created_at, timeZone),
      `@${g.handle}`,
      g.display_name,
      preview(g.message, 40),
      g.uuid,
    ]),
  );
}

/** A user as the commands name them: `@handle (Display Name)`. */
export function userLabel(user: { handle: string; display_name: string }): string {
  return `@${user.handle} (${user.display_name})`;
}

/**
 * Prints each problem a command left alone on stderr (`problem: ...`), then `hint` when there is
 * one. @returns the command's exit code: 1 when any problem was left, else 0.
 */
export function reportProblems(ctx: { note(line: string): void }, problems: readonly string[], hint: string): 0 | 1 {
  for (const p of problems) ctx.note(`problem: ${p}`);
  if (problems.length === 0) return 0;
  ctx.note(`  hint: ${hint}`);
  return 1;
}
