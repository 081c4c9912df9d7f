/**
 * The typed client's SRP sign-in (`client/srp.ts`, on amazon-cognito-identity-js's
 * AuthenticationHelper) against a stand-in of Cognito's side of `USER_SRP_AUTH` written here
 * with Node's crypto and BigInt (its hashes, HMAC and RFC 5869 HKDF; none of the SDK's code):
 * the verifier `v = g^x`, `B = k v + g^b`, the server's `S = (A v^u)^b`, and the check of the
 * password claim. cognito-local has no SRP, so this is where the client's side of the protocol is
 * held to the server's math: a wrong password, pool name or user id gives a wrong claim, refused.
 */
import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthError } from "../../client/errors";
import { signInWithSrp } from "../../client/srp";

/** The 3072-bit prime of RFC 3526 (section 4), the group of Cognito's SRP; the generator is 2. */
const SRP_N = BigInt(
  "0x" +
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
const SRP_G = 2n;

/** `base ** exponent mod modulus`, square and multiply (the stand-in server's). */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

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
function fakeCognito(options: { srpB?: string } = {}): {
  fetch: typeof fetch;
  claims: number;
  timestamps: string[];
} {
  const salt = randomBytes(16).toString("hex");
  const inner = createHash("sha256").update(`${POOL_NAME}${USER_ID}:${PASSWORD}`).digest("hex");
  const x = H(pad(BigInt(`0x${salt}`)), inner);
  const v = modPow(SRP_G, x, SRP_N);
  const k = H(pad(SRP_N), pad(SRP_G));
  const b = BigInt(`0x${randomBytes(64).toString("hex")}`);
  const B = (k * v + modPow(SRP_G, b, SRP_N)) % SRP_N;
  const secretBlock = randomBytes(48).toString("base64");
  let A = 0n;
  const state = { claims: 0, timestamps: [] as string[], fetch: undefined as unknown as typeof fetch };
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
          SRP_B: options.srpB ?? B.toString(16),
          SECRET_BLOCK: secretBlock,
          USER_ID_FOR_SRP: USER_ID,
          USERNAME: USER_ID,
        },
      });
    }
    state.claims += 1;
    const responses = body.ChallengeResponses ?? {};
    state.timestamps.push(responses.TIMESTAMP ?? "");
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

  it("refuses a server whose B is 0 mod N, before sending any claim", async () => {
    const cognito = fakeCognito({ srpB: SRP_N.toString(16) });
    const refused = await signInWithSrp(
      { region: "us-east-1", userPoolClientId: "client-1", userPoolId: POOL_ID, fetch: cognito.fetch },
      "bayko",
      PASSWORD,
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe("InvalidSrpParameters");
    expect(cognito.claims).toBe(0);
  });

  describe("the claim's timestamp", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each([
      ["2026-12-02T03:05:09Z", "Wed Dec 2 03:05:09 UTC 2026"],
      ["2027-01-31T23:59:59Z", "Sun Jan 31 23:59:59 UTC 2027"],
    ])("is written as Cognito reads it (UTC, day unpadded): %s", async (now, expected) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date(now));
      const cognito = fakeCognito();
      await signInWithSrp(
        { region: "us-east-1", userPoolClientId: "client-1", userPoolId: POOL_ID, fetch: cognito.fetch },
        "bayko",
        PASSWORD,
      );
      expect(cognito.timestamps).toEqual([expected]);
    });
  });
});
