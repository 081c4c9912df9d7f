/**
 * Setup file of the e2e and reliability tiers (vitest.config.ts): after each test, and after the
 * file's last hook, fails when an answer of a test stack's API broke the OpenAPI document
 * (`test/support/contract.ts`), listing every violation. `CONTRACT_REPORT=1` prints how many
 * answers each file had checked, by route and status.
 */
import { afterAll, afterEach, expect } from "vitest";
import { checkedAnswers, takeContractViolations } from "./contract";

const expectNone = () => {
  expect(takeContractViolations(), "answers of the local API that docs/openapi.json does not describe").toEqual([]);
};

afterEach(expectNone);
afterAll(() => {
  if (process.env.CONTRACT_REPORT === "1") {
    const checked = [...checkedAnswers()].sort(([a], [b]) => a.localeCompare(b));
    const total = checked.reduce((sum, [, n]) => sum + n, 0);
    console.info(`contract check: ${total} answers checked ${JSON.stringify(Object.fromEntries(checked))}`);
  }
  expectNone();
});
