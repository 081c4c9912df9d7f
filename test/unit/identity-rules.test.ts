/**
 * The identity rules (shared/identity-rules.ts): generated handles and display names of every
 * Unicode category that is refused, and the lengths at the edges, each with its code.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors";
import {
  canonicalHandle,
  isValidHandle,
  MAX_DISPLAY_NAME_CHARS,
  normalizeDisplayName,
} from "../../shared/identity-rules";
import { parseProfileChange } from "../../shared/validation";

/** One character of each refused kind, named for the failure message. */
const REFUSED: [string, string][] = [
  ["NUL (Cc)", "\u0000"],
  ["newline (Cc)", "\n"],
  ["DEL (Cc)", "\u007F"],
  ["zero-width space (Cf)", "\u200B"],
  ["zero-width joiner (Cf)", "\u200D"],
  ["right-to-left override (Cf)", "\u202E"],
  ["left-to-right isolate (Cf)", "\u2066"],
  ["BOM (Cf)", "\uFEFF"],
  ["soft hyphen (Cf)", "\u00AD"],
  ["private use (Co)", "\uE000"],
  ["unassigned (Cn)", "\u0378"],
  ["line separator (Zl)", "\u2028"],
  ["paragraph separator (Zp)", "\u2029"],
  ["no-break space (Zs)", "\u00A0"],
  ["ideographic space (Zs)", "\u3000"],
  ["Hangul filler", "\u3164"],
  ["braille blank", "\u2800"],
  ["markup <", "<"],
  ["markup >", ">"],
  ["lone high surrogate", "\uD800"],
  ["lone low surrogate", "\uDC00"],
];

describe("display names", () => {
  it.each(REFUSED)("refuses a %s anywhere in the name", (_, char) => {
    for (const name of [`${char}Ann`, `An${char}n`, `Ann${char}x`]) expect(normalizeDisplayName(name)).toBeUndefined();
  });

  it("refuses blank, too long, more than three combining marks in a row, and non-strings", () => {
    for (const value of [
      "",
      "   ",
      "\t",
      "a".repeat(MAX_DISPLAY_NAME_CHARS + 1),
      "Z\u0334\u0335\u0336\u0337",
      "\u0301a",
      7,
      null,
    ]) {
      expect(normalizeDisplayName(value)).toBeUndefined();
    }
  });

  it("keeps names of real people: accents, scripts, emoji, spaces inside; trims and NFC-normalises", () => {
    expect(normalizeDisplayName("  Londo Mollari ")).toBe("Londo Mollari");
    expect(normalizeDisplayName("Zoe\u0308")).toBe("Zo\u00EB");
    for (const name of [
      "Renée O'Brien",
      "李小龍",
      "Алёна",
      "محمد",
      "🚀 rocket",
      "a".repeat(MAX_DISPLAY_NAME_CHARS),
      "👩‍💻 Dev",
    ]) {
      // The ZWJ of an emoji sequence is Cf and refused, so "👩‍💻" is not a valid name.
      expect(normalizeDisplayName(name) !== undefined).toBe(!name.includes("\u200D"));
    }
  });

  it("accepts only names whose every character is allowed (generated)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (raw) => {
        const name = normalizeDisplayName(raw);
        if (name === undefined) return;
        expect([...name].length).toBeGreaterThanOrEqual(1);
        expect([...name].length).toBeLessThanOrEqual(MAX_DISPLAY_NAME_CHARS);
        expect(name).toBe(name.trim());
        expect(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}<>]/u.test(name)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("handles", () => {
  it("keeps today's rule: 1 to 32 of A-Z a-z 0-9 _ . -, ASCII only, canonical in lower case", () => {
    for (const ok of ["a", "Andrew_Brown", "x.y-z", "a".repeat(32)]) expect(isValidHandle(ok)).toBe(true);
    for (const bad of ["", "a".repeat(33), "bad handle", "@bob", "bоb" /* Cyrillic o */, "bob\u200B", "ｂｏｂ"]) {
      expect(isValidHandle(bad)).toBe(false);
    }
    expect(canonicalHandle("AndrewBrown")).toBe("andrewbrown");
  });

  it("refuses every generated non-ASCII handle", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), (raw) => {
        if (isValidHandle(raw)) expect(/^[\x21-\x7e]+$/.test(raw)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("PATCH /api/users/me body", () => {
  const codes = (body: string) => {
    try {
      parseProfileChange(body);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      return { status: (error as AppError).status, codes: (error as AppError).codes };
    }
    return undefined;
  };

  it("reads either field, drops a leading @, and answers every code that applies", () => {
    expect(parseProfileChange('{"handle":"@Neo","display_name":" Neo "}')).toEqual({
      handle: "Neo",
      display_name: "Neo",
    });
    expect(parseProfileChange('{"display_name":"Neo"}')).toEqual({ display_name: "Neo" });
    expect(codes("{")).toEqual({ status: 400, codes: ["body_malformed_json"] });
    expect(codes("[]")).toEqual({ status: 400, codes: ["body_not_object"] });
    expect(codes("{}")).toEqual({ status: 422, codes: ["handle_or_display_name_required"] });
    expect(codes('{"handle":7,"display_name":"a\\u202Eb"}')).toEqual({
      status: 422,
      codes: ["handle_invalid", "display_name_invalid"],
    });
  });
});
