import { describe, expect, it } from "vitest";
import { SEED_CONVERSATION, SEED_CONVERSATION_MEMBERS, SEED_USERS } from "../../shared/seed-data";
import { HANDLE_PATTERN, PASSWORD_POLICY } from "../../shared/user-pool";
import { charLength, MAX_MESSAGE_CHARS } from "../../shared/validation";

describe("seed data", () => {
  it("has users with valid handles and passwords that satisfy the pool's password policy", () => {
    for (const user of SEED_USERS) {
      expect(user.handle).toMatch(HANDLE_PATTERN);
      expect(user.password.length).toBeGreaterThanOrEqual(PASSWORD_POLICY.minimumLength);
      expect(user.password).toMatch(/[a-z]/);
      expect(user.password).toMatch(/[A-Z]/);
      expect(user.password).toMatch(/[0-9]/);
      expect(user.password).toMatch(/[^A-Za-z0-9]/);
    }
    expect(SEED_USERS.map((u) => u.handle)).toEqual(["andrewbrown", "bayko", "londo"]);
  });

  it("has a conversation of at least 100 valid messages between two seeded users, both speaking", () => {
    expect(SEED_CONVERSATION.length).toBeGreaterThanOrEqual(100);
    const handles = SEED_USERS.map((u) => u.handle) as string[];
    expect(handles).toContain(SEED_CONVERSATION_MEMBERS.a);
    expect(handles).toContain(SEED_CONVERSATION_MEMBERS.b);
    expect(new Set(SEED_CONVERSATION.map((m) => m.from))).toEqual(new Set(["a", "b"]));
    for (const { text } of SEED_CONVERSATION) {
      expect(text.trim()).not.toBe("");
      expect(charLength(text)).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    }
    expect(new Set(SEED_CONVERSATION.map((m) => m.text)).size).toBe(SEED_CONVERSATION.length);
  });
});
