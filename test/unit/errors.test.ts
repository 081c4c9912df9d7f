import { describe, expect, it } from "vitest";
import { isLostRace } from "../../shared/errors";

const cancelled = (...codes: string[]) =>
  Object.assign(new Error("cancelled"), {
    name: "TransactionCanceledException",
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe("isLostRace", () => {
  it("is true for a failed condition or a conflicting transaction, and nothing else", () => {
    expect(isLostRace(Object.assign(new Error("x"), { name: "ConditionalCheckFailedException" }))).toBe(true);
    expect(isLostRace(cancelled("None", "ConditionalCheckFailed"))).toBe(true);
    expect(isLostRace(cancelled("TransactionConflict", "None"))).toBe(true);
    expect(isLostRace(cancelled("None", "ThrottlingError"))).toBe(false);
    expect(isLostRace(Object.assign(new Error("x"), { name: "ProvisionedThroughputExceededException" }))).toBe(false);
    expect(isLostRace("ConditionalCheckFailed")).toBe(false);
  });
});
