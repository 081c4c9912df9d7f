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

describe("memoized as the default chain memoizes", () => {
  it("reads the environment once, as the default chain does, and reads it again after a refusal", async () => {
    for (const n of NAMES) delete process.env[n];
    const provider = defaultProvider();
    await expect(provider()).rejects.toMatchObject({ name: "CredentialsProviderError" });
    process.env.AWS_ACCESS_KEY_ID = "ASIAFIRST";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    await expect(provider()).resolves.toMatchObject({ accessKeyId: "ASIAFIRST" });
    process.env.AWS_ACCESS_KEY_ID = "ASIASECOND";
    await expect(provider()).resolves.toMatchObject({ accessKeyId: "ASIAFIRST" });
    await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: "ASIASECOND" });
  });

  it("reads again credentials within 5 minutes of their expiration", async () => {
    process.env.AWS_ACCESS_KEY_ID = "ASIAFIRST";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() + 60_000).toISOString();
    try {
      const provider = defaultProvider();
      await expect(provider()).resolves.toMatchObject({ accessKeyId: "ASIAFIRST" });
      process.env.AWS_ACCESS_KEY_ID = "ASIASECOND";
      await expect(provider()).resolves.toMatchObject({ accessKeyId: "ASIASECOND" });
    } finally {
      delete process.env.AWS_CREDENTIAL_EXPIRATION;
    }
  });
});
