/**
 * The typed client's SRP sign-in (`client/srp.ts`) against a stand-in of Cognito's side of
 * `USER_SRP_AUTH` built here with Node's crypto (its hashes, HMAC and RFC 5869 HKDF, not the
 * client's Web Crypto code): the verifier `v = g^x`, `B = k v + g^b`, the server's
 * `S = (A v^u)^b`, and the check of the password claim. cognito-local has no SRP, so this is
 * where the client's side of the protocol is held to the server's math.
 */
import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../client/errors";
import { modPow, SRP_G, SRP_N, signInWithSrp, srpTimestamp } from "../../client/srp";

const POOL_ID = "us-east-1_AbCdEf123";
const POOL_NAME = "AbCdEf123";
const USER_ID = "9e821e92-134a-45f0-bbc2-4f6fde79682d";
const PASSWORD = "Correct-horse-1!";

/** Cognito's padHex, written again. */
const pad = (n: bigint) => {
  const hex = n.toString(16);
  return hex.length % 2 === 1 ? `0${hex}` : /^[89a-f]/.test(hex) ? `00${hex}` : hex;
};
const H = (...hexParts: string[]) =>
  BigInt(
    `0x${createHash("sha256")
      .update(Buffer.from(hexParts.join(""), "hex"))
      .digest("hex")}`,
  );

/** A fake Cognito endpoint that knows one user's verifier. */
function fakeCognito(): { fetch: typeof fetch; claims: number } {
  const salt = randomBytes(16).toString("hex");
  const inner = createHash("sha256").update(`${POOL_NAME}${USER_ID}:${PASSWORD}`).digest("hex");
  const x = H(pad(BigInt(`0x${salt}`)), inner);
  const v = modPow(SRP_G, x, SRP_N);
  const k = H(pad(SRP_N), pad(SRP_G));
  const b = BigInt(`0x${randomBytes(64).toString("hex")}`);
  const B = (k * v + modPow(SRP_G, b, SRP_N)) % SRP_N;
  const secretBlock = randomBytes(48).toString("base64");
  let A = 0n;
  const state = { claims: 0, fetch: undefined as unknown as typeof fetch };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/x-amz-json-1.1" } });
  state.fetch = async (_url, init) => {
    const target = new Headers(init?.headers).get("x-amz-target");
    const body = JSON.parse(String(init?.body)) as Record<string, Record<string, string>>;
    if (target === "AWSCognitoIdentityProviderService.InitiateAuth") {
      expect(body).toMatchObject({ AuthFlow: "USER_SRP_AUTH", ClientId: "client-1" });
      A = BigInt(`0x${body.AuthParameters?.SRP_A}`);
      return json(200, {
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeParameters: {
          SALT: salt,
          SRP_B: B.toString(16),
          SECRET_BLOCK: secretBlock,
          USER_ID_FOR_SRP: USER_ID,
          USERNAME: USER_ID,
        },
      });
    }
    state.claims += 1;
    const responses = body.ChallengeResponses ?? {};
    const u = H(pad(A), pad(B));
    const S = modPow(A * modPow(v, u, SRP_N), b, SRP_N);
    const key = Buffer.from(
      hkdfSync("sha256", Buffer.from(pad(S), "hex"), Buffer.from(pad(u), "hex"), "Caldera Derived Key", 16),
    );
    const expected = createHmac("sha256", key)
      .update(
        Buffer.concat([
          Buffer.from(POOL_NAME + USER_ID),
          Buffer.from(secretBlock, "base64"),
          Buffer.from(responses.TIMESTAMP ?? ""),
        ]),
      )
      .digest("base64");
    if (responses.PASSWORD_CLAIM_SIGNATURE !== expected || responses.USERNAME !== USER_ID) {
      return json(400, { __type: "NotAuthorizedException", message: "Incorrect username or password." });
    }
    return json(200, {
      AuthenticationResult: { AccessToken: "a.b.c", IdToken: "i.d.t", RefreshToken: "r", ExpiresIn: 3600 },
    });
  };
  return state;
}

describe("SRP sign-in of the typed client", () => {
  it("proves the password to a verifier built with Node's crypto, and gets the tokens", async () => {
    const cognito = fakeCognito();
    const tokens = await signInWithSrp(
      { region: "us-east-1", userPoolClientId: "client-1", userPoolId: POOL_ID, fetch: cognito.fetch },
      "bayko",
      PASSWORD,
    );
    expect(tokens).toMatchObject({ accessToken: "a.b.c", idToken: "i.d.t", refreshToken: "r" });
    expect(cognito.claims).toBe(1);
  });

  it("is refused with Cognito's code for a wrong password", async () => {
    const cognito = fakeCognito();
    const refused = await signInWithSrp(
      { region: "us-east-1", userPoolClientId: "client-1", userPoolId: POOL_ID, fetch: cognito.fetch },
      "bayko",
      `${PASSWORD}x`,
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe("NotAuthorizedException");
  });

  it("writes the timestamp as Cognito reads it (UTC, day unpadded)", () => {
    expect(srpTimestamp(new Date("2026-12-02T03:05:09Z"))).toBe("Wed Dec 2 03:05:09 UTC 2026");
    expect(srpTimestamp(new Date("2027-01-31T23:59:59Z"))).toBe("Sun Jan 31 23:59:59 UTC 2027");
  });

  it("uses the RFC 3526 3072-bit group", () => {
    expect(SRP_N.toString(16).length).toBe(768);
    expect(SRP_N.toString(16).slice(0, 16)).toBe("ffffffffffffffff");
    expect(SRP_N.toString(16).slice(16, 48)).toBe("c90fdaa22168c234c4c6628b80dc1cd1");
  });
});
