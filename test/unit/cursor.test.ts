import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from "../../shared/cursor";
import { AppError } from "../../shared/errors";

const anySk = () => true;

describe("paging cursors", () => {
  it("round-trips the sort key for the same scope", () => {
    const cursor = encodeCursor("messages:g1", "2026-01-01T00:00:00.000Z#m1");
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, "messages:g1", anySk)).toBe("2026-01-01T00:00:00.000Z#m1");
  });

  it.each([
    ["another scope", encodeCursor("messages:g2", "s"), anySk],
    ["a bad sort key", encodeCursor("messages:g1", "GRP#x"), (sk: string) => sk.startsWith("2")],
    ["not base64url", "a+b/c=", anySk],
    ["not JSON", Buffer.from("hello").toString("base64url"), anySk],
    [
      "another version",
      Buffer.from(JSON.stringify({ v: 2, scope: "messages:g1", sk: "s" })).toString("base64url"),
      anySk,
    ],
    ["too long", "a".repeat(MAX_CURSOR_LENGTH + 1), anySk],
  ])("refuses %s with 400 cursor_invalid", (_, cursor, isValidSk) => {
    expect(() => decodeCursor(cursor, "messages:g1", isValidSk)).toThrow(AppError);
    try {
      decodeCursor(cursor, "messages:g1", isValidSk);
    } catch (error) {
      expect([(error as AppError).status, (error as AppError).codes]).toEqual([400, ["cursor_invalid"]]);
    }
  });
});
