/**
 * SigV4 verification of the local events emulator's publish endpoint: a request the SDK's signer
 * signed with the right credentials passes; any change to what was signed, or a signature of other
 * credentials, scope or time, fails.
 */
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { MAX_CLOCK_SKEW_MS, type ReceivedRequest, verifySigV4 } from "../../local/events-sigv4";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const region = "us-east-1";
const body = JSON.stringify({ channel: "/users/a", events: ['{"x":1}'] });

/** A request as the server receives it, signed by the SDK's signer with `overrides`. */
async function signed(
  overrides: {
    credentials?: typeof credentials & { sessionToken?: string };
    region?: string;
    service?: string;
    date?: Date;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<ReceivedRequest> {
  const signer = new SignatureV4({
    credentials: overrides.credentials ?? credentials,
    region: overrides.region ?? region,
    service: overrides.service ?? "appsync",
    sha256: Sha256,
  });
  const request = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4568,
      path: "/event",
      query: overrides.query ?? {},
      headers: { host: "127.0.0.1:4568", "content-type": "application/json", ...overrides.headers },
      body,
    },
    overrides.date === undefined ? {} : { signingDate: overrides.date },
  );
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const rawQuery = new URLSearchParams(overrides.query ?? {}).toString();
  return { method: "POST", path: "/event", rawQuery, headers, body: Buffer.from(body) };
}

const verify = (request: ReceivedRequest, now?: number) =>
  verifySigV4(request, { credentials, region, ...(now === undefined ? {} : { now }) });

describe("verifySigV4", () => {
  it("accepts what the SDK's signer signed with the local credentials (query and extra headers included)", async () => {
    expect(await verify(await signed())).toEqual({ ok: true, accessKeyId: "local" });
    expect(await verify(await signed({ query: { a: "1 2", b: "é" }, headers: { "x-custom": "v" } }))).toMatchObject({
      ok: true,
    });
  });

  it("accepts a signature within the clock skew, refuses one beyond", async () => {
    const date = new Date("2026-06-01T12:00:00Z");
    const request = await signed({ date });
    expect(await verify(request, date.getTime() + MAX_CLOCK_SKEW_MS - 1000)).toMatchObject({ ok: true });
    expect(await verify(request, date.getTime() + MAX_CLOCK_SKEW_MS + 1000)).toMatchObject({ ok: false });
    expect(await verify(request, date.getTime() - MAX_CLOCK_SKEW_MS - 1000)).toMatchObject({ ok: false });
  });

  it.each<[string, () => Promise<ReceivedRequest>]>([
    ["another secret", () => signed({ credentials: { accessKeyId: "local", secretAccessKey: "other" } })],
    ["another access key", () => signed({ credentials: { accessKeyId: "other", secretAccessKey: "local" } })],
    ["a session token the stack has none of", () => signed({ credentials: { ...credentials, sessionToken: "t" } })],
    ["another region", () => signed({ region: "eu-west-1" })],
    ["another service", () => signed({ service: "execute-api" })],
    ["a changed body", async () => ({ ...(await signed()), body: Buffer.from(body.replace("1", "2")) })],
    [
      "a changed body with its hash header changed to match",
      async () => {
        const request = await signed();
        const other = body.replace("1", "2");
        const { createHash } = await import("node:crypto");
        return {
          ...request,
          body: Buffer.from(other),
          headers: { ...request.headers, "x-amz-content-sha256": createHash("sha256").update(other).digest("hex") },
        };
      },
    ],
    ["a changed path", async () => ({ ...(await signed()), path: "/event/x" })],
    ["a changed query", async () => ({ ...(await signed({ query: { a: "1" } })), rawQuery: "a=2" })],
    [
      "a changed signed header",
      async () => ({ ...(await signed()), headers: { ...(await signed()).headers, host: "evil:1" } }),
    ],
    [
      "a signed header left out",
      async () => {
        const request = await signed();
        const { "content-type": _, ...headers } = request.headers;
        return { ...request, headers };
      },
    ],
    [
      "a changed x-amz-date",
      async () => {
        const request = await signed({ date: new Date() });
        return {
          ...request,
          headers: {
            ...request.headers,
            "x-amz-date": new Date(Date.now() + 1000).toISOString().replace(/[:-]|\.\d{3}/g, ""),
          },
        };
      },
    ],
    [
      "a flipped signature digit",
      async () => {
        const request = await signed();
        const authorization = String(request.headers.authorization);
        return {
          ...request,
          headers: { ...request.headers, authorization: authorization.replace(/.$/, (c) => (c === "a" ? "b" : "a")) },
        };
      },
    ],
    [
      "no Authorization header",
      async () => {
        const { authorization: _, ...headers } = (await signed()).headers;
        return { ...(await signed()), headers };
      },
    ],
    [
      "a Cognito token as Authorization",
      async () => ({ ...(await signed()), headers: { ...(await signed()).headers, authorization: "eyJhbGciOi.x.y" } }),
    ],
    [
      "a Bearer token",
      async () => ({ ...(await signed()), headers: { ...(await signed()).headers, authorization: "Bearer eyJ.x.y" } }),
    ],
  ])("refuses %s", async (_name, request) => {
    expect(await verify(await request())).toEqual({ ok: false, reason: expect.any(String) });
  });
});
