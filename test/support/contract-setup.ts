/**
 * Setup file of the e2e and reliability tiers (vitest.config.ts): after each test, and after the
 * file's last hook, fails when an answer of a test stack's API broke the OpenAPI document
 * (`test/support/contract.ts`), listing every violation.
 */
import { afterAll, afterEach, expect } from "vitest";
import { takeContractViolations } from "./contract";

const expectNone = () => {
  expect(takeContractViolations(), "answers of the local API that docs/openapi.json does not describe").toEqual([]);
};

afterEach(expectNone);
afterAll(expectNone);
