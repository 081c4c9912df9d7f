import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors";
import {
  charLength,
  isBlankText,
  isInvalidText,
  MAX_MESSAGE_CHARS,
  parseCreateMessage,
  parseHandleParam,
  parseIdempotencyKey,
  parseMarkRead,
  parseMessageGroupUuidParam,
  parsePageRequest,
} from "../../shared/validation";

const uuid = "0b6e1a52-5d7e-4a55-9d0b-3c0c2b8e7a14";

function failure(fn: () => unknown): [number, readonly string[]] {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return [error.status, error.codes];
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("parseCreateMessage", () => {
  it("reads pattern C and pattern D bodies", () => {
    expect(parseCreateMessage(JSON.stringify({ message: "hi", message_group_uuid: uuid }))).toEqual({
      kind: "to_group",
      message: "hi",
      message_group_uuid: uuid,
    });
    expect(parseCreateMessage(JSON.stringify({ message: "hi", handle: "@bayko", message_group_uuid: null }))).toEqual({
      kind: "to_handle",
      message: "hi",
      handle: "bayko",
    });
  });

  it.each([
    [undefined, 400, ["body_malformed_json"]],
    ["{not json", 400, ["body_malformed_json"]],
    ["[1,2]", 400, ["body_not_object"]],
    ["null", 400, ["body_not_object"]],
    ['"text"', 400, ["body_not_object"]],
    [JSON.stringify({ handle: "bayko" }), 422, ["message_blank"]],
    [JSON.stringify({ message: "   \n", handle: "bayko" }), 422, ["message_blank"]],
    [JSON.stringify({ message: 42, handle: "bayko" }), 422, ["message_invalid"]],
    [
      JSON.stringify({ message: "x".repeat(MAX_MESSAGE_CHARS + 1), handle: "bayko" }),
      422,
      ["message_exceed_max_chars"],
    ],
    [JSON.stringify({ message: "hi" }), 422, ["message_group_uuid_or_handle_required"]],
    [
      JSON.stringify({ message: "hi", handle: "bayko", message_group_uuid: uuid }),
      422,
      ["message_group_uuid_and_handle_exclusive"],
    ],
    [JSON.stringify({ message: "hi", message_group_uuid: "not-a-uuid" }), 422, ["message_group_uuid_invalid"]],
    [JSON.stringify({ message: "hi", message_group_uuid: uuid.toUpperCase() }), 422, ["message_group_uuid_invalid"]],
    [JSON.stringify({ message: "hi", handle: 7 }), 422, ["handle_invalid"]],
    [JSON.stringify({ message: "hi", handle: 'x" or "1' }), 422, ["handle_invalid"]],
  ])("refuses %s with %i %j", (body, status, codes) => {
    expect(failure(() => parseCreateMessage(body))).toEqual([status, codes]);
  });

  it("gives every code that applies at once", () => {
    const [status, codes] = failure(() => parseCreateMessage(JSON.stringify({ message: "", handle: "a b" })));
    expect(status).toBe(422);
    expect([...codes].sort()).toEqual(["handle_invalid", "message_blank"]);
  });

  it("answers the target's code before the fields' codes", () => {
    expect(failure(() => parseCreateMessage(JSON.stringify({ message: 42 })))).toEqual([
      422,
      ["message_group_uuid_or_handle_required", "message_invalid"],
    ]);
    expect(
      failure(() => parseCreateMessage(JSON.stringify({ message: "", handle: "a b", message_group_uuid: "x" }))),
    ).toEqual([
      422,
      ["message_group_uuid_and_handle_exclusive", "message_blank", "message_group_uuid_invalid", "handle_invalid"],
    ]);
  });

  it("counts characters as code points, so 1024 emoji are allowed and 1025 are not", () => {
    expect(charLength("👋")).toBe(1);
    const ok = "👋".repeat(MAX_MESSAGE_CHARS);
    expect(parseCreateMessage(JSON.stringify({ message: ok, handle: "bayko" })).message).toBe(ok);
    expect(failure(() => parseCreateMessage(JSON.stringify({ message: `${ok}👋`, handle: "bayko" })))).toEqual([
      422,
      ["message_exceed_max_chars"],
    ]);
  });
});

describe("parsePageRequest", () => {
  it("defaults to 20 and accepts 1 to 100", () => {
    expect(parsePageRequest(undefined)).toEqual({ limit: 20, cursor: undefined });
    expect(parsePageRequest({ limit: "1" }).limit).toBe(1);
    expect(parsePageRequest({ limit: "100", cursor: "abc" })).toEqual({ limit: 100, cursor: "abc" });
  });

  it.each(["0", "101", "-1", "1.5", "ten", "", "1e2", "0x10"])("refuses limit=%s", (limit) => {
    expect(failure(() => parsePageRequest({ limit }))).toEqual([400, ["limit_invalid"]]);
  });

  it("refuses an empty cursor", () => {
    expect(failure(() => parsePageRequest({ cursor: "" }))).toEqual([400, ["cursor_invalid"]]);
  });
});

describe("path parameters", () => {
  it("accepts only canonical lowercase uuids for a message group", () => {
    expect(parseMessageGroupUuidParam(uuid)).toBe(uuid);
    for (const bad of [undefined, "", "x", `${uuid}x`, uuid.toUpperCase()]) {
      expect(failure(() => parseMessageGroupUuidParam(bad))).toEqual([400, ["message_group_uuid_invalid"]]);
    }
  });

  it("reads @handle and bare handles, and nothing that cannot be a handle", () => {
    expect(parseHandleParam("@bayko")).toBe("bayko");
    expect(parseHandleParam("bayko")).toBe("bayko");
    expect(parseHandleParam("@")).toBeUndefined();
    expect(parseHandleParam('@a"b')).toBeUndefined();
    expect(parseHandleParam(undefined)).toBeUndefined();
  });
});

describe("blank and invalid message text", () => {
  it("is blank with only white space and invisible format characters, a message with anything visible", () => {
    for (const blank of [
      "",
      " ",
      "\u200B",
      "\u200C\u200D\u2060",
      "\uFEFF",
      "\u202A\u202E\u2066\u2069",
      "\u00AD",
      "\u3164",
      "\u2800 \t\n",
    ]) {
      expect(isBlankText(blank), JSON.stringify(blank)).toBe(true);
    }
    for (const text of ["a", "\u200Ba", "👩\u200D💻", "١", "\u0301x"]) expect(isBlankText(text), text).toBe(false);
  });

  it("is invalid with a NUL or a lone surrogate, valid with surrogate pairs", () => {
    for (const bad of ["\u0000", "a\u0000b", "\uD800", "x\uDBFFy", "\uDC00", "\uDFFFz"]) {
      expect(isInvalidText(bad), JSON.stringify(bad)).toBe(true);
    }
    for (const good of ["😀", "a😀b", "\uD83D\uDE00"]) expect(isInvalidText(good)).toBe(false);
  });
});

describe("Idempotency-Key and the read body", () => {
  it("takes 1 to 255 visible ASCII characters, nothing else", () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey("a")).toBe("a");
    expect(parseIdempotencyKey("~".repeat(255))).toBe("~".repeat(255));
    for (const bad of ["", " ", "a b", "x".repeat(256), "tab\t", "é", "\u0000"]) {
      expect(() => parseIdempotencyKey(bad), JSON.stringify(bad)).toThrow(AppError);
    }
  });

  it("reads an optional message_uuid", () => {
    expect(parseMarkRead(undefined)).toEqual({ message_uuid: undefined });
    expect(parseMarkRead("")).toEqual({ message_uuid: undefined });
    expect(parseMarkRead("{}")).toEqual({ message_uuid: undefined });
    expect(parseMarkRead('{"message_uuid":null}')).toEqual({ message_uuid: undefined });
    expect(parseMarkRead(JSON.stringify({ message_uuid: uuid }))).toEqual({ message_uuid: uuid });
    expect(() => parseMarkRead('{"message_uuid":"x"}')).toThrow(AppError);
    expect(() => parseMarkRead("[]")).toThrow(AppError);
  });
});
