/**
 * The credentials a Lambda bundle gets in place of the SDK's default chain
 * (infra/env-credentials.ts): the SDK's environment provider, reading the variables Lambda sets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultProvider } from "../../infra/env-credentials";

const NAMES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));

afterEach(() => {
  for (const n of NAMES) {
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  }
});

describe("env-only credentials of the bundles", () => {
  it("resolves the execution role's session from the environment", async () => {
    process.env.AWS_ACCESS_KEY_ID = "ASIAEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    process.env.AWS_SESSION_TOKEN = "token";
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "token",
    });
  });

  it("rejects with the SDK's CredentialsProviderError when the environment has none", async () => {
    for (const n of NAMES) delete process.env[n];
    await expect(defaultProvider()()).rejects.toMatchObject({ name: "CredentialsProviderError" });
  });
});
