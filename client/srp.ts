/**
 * Cognito's SRP sign-in (`USER_SRP_AUTH`, then the `PASSWORD_VERIFIER` challenge), the flow of the
 * stack's web client in the cloud (`CLIENT_AUTH_FLOWS` of `shared/user-pool.ts`): the password
 * never leaves the browser. The SRP math (the 3072-bit group, `a` and `A`, `u`, `x`, the shared
 * secret and the HKDF key) is `amazon-cognito-identity-js`'s `AuthenticationHelper`, AWS's own
 * implementation, and the claim's timestamp its `DateHelper`. Here only the two calls over
 * `fetch` (`cognitoCall`) and the claim, assembled as that SDK's `CognitoUser` does: the base64
 * HMAC-SHA256 (Web Crypto) under the key of `<pool name><user id><secret block bytes><timestamp>`.
 *
 * The SDK's modules are imported by path from its `lib/` folder (CommonJS), which Node loads as
 * it is and bundlers bundle: one copy of its `BigInteger` everywhere (the helper checks
 * `instanceof`). Their only Node-like import is `buffer`, the npm package (4.x), which a browser
 * build must bundle with `global` defined as `globalThis` (`BROWSER_DEFINE` of
 * `local/web-server.ts`); `crypto` is disabled by the SDK's `browser` field, and its random `a`
 * comes from `crypto.getRandomValues`. cognito-local has no SRP: `test/unit/client-srp.test.ts`
 * checks the sign-in against a verifier built with Node's crypto.
 */
import authenticationHelperModule from "amazon-cognito-identity-js/lib/AuthenticationHelper.js";
import bigIntegerModule from "amazon-cognito-identity-js/lib/BigInteger.js";
import dateHelperModule from "amazon-cognito-identity-js/lib/DateHelper.js";
import { type CognitoTarget, cognitoCall, type Tokens, tokensOf } from "./auth";
import { AuthError } from "./errors";

/**
 * The class a CommonJS module of the SDK exports as `exports.default`: Node and esbuild (in an
 * ES module package) give the whole `exports` object as the default import, other bundlers may
 * give `exports.default` itself.
 */
const cjsDefault = <T>(module: { default: T } | T): T =>
  typeof module === "object" && module !== null && "default" in module ? module.default : (module as T);

const AuthenticationHelper = cjsDefault(authenticationHelperModule);
const BigInteger = cjsDefault(bigIntegerModule);
const DateHelper = cjsDefault(dateHelperModule);
type BigInteger = InstanceType<typeof BigInteger>;

const encoder = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const base64ToBytes = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const bytesToBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

/** A Node-style callback of the SDK as a promise; its errors (and throws) as `AuthError(code)`. */
function settle<T>(code: string, call: (callback: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) =>
      reject(new AuthError(code, error instanceof Error ? error.message : String(error)));
    try {
      call((error, value) => (error ? fail(error) : resolve(value)));
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * Signs a user in with SRP: InitiateAuth `USER_SRP_AUTH` with `A`, then RespondToAuthChallenge
 * `PASSWORD_VERIFIER` with the password claim.
 * @throws AuthError with Cognito's code (`NotAuthorizedException` for a wrong password...);
 *   `InvalidSrpParameters` when the server's `B` or the derived `u` is 0 mod N (a bad or hostile
 *   server; no claim is sent); or the challenge's name when Cognito asks for another one (MFA, a
 *   new password), which this client does not answer.
 */
export async function signInWithSrp(
  target: CognitoTarget & { userPoolId: string },
  username: string,
  password: string,
): Promise<Tokens> {
  const poolName = target.userPoolId.split("_")[1] ?? "";
  const helper = new AuthenticationHelper(poolName);
  const A = await settle<BigInteger>("InvalidSrpParameters", (done) => helper.getLargeAValue(done));
  const challenge = await cognitoCall(target, "InitiateAuth", {
    AuthFlow: "USER_SRP_AUTH",
    ClientId: target.userPoolClientId,
    AuthParameters: { USERNAME: username, SRP_A: A.toString(16) },
  });
  if (challenge.ChallengeName !== "PASSWORD_VERIFIER") return tokensOf(challenge);
  const parameters = (challenge.ChallengeParameters ?? {}) as Record<string, string>;
  const userId = parameters.USER_ID_FOR_SRP ?? username;
  const secretBlock = parameters.SECRET_BLOCK ?? "";
  const key = await settle<Uint8Array>("InvalidSrpParameters", (done) =>
    helper.getPasswordAuthenticationKey(
      userId,
      password,
      new BigInteger(parameters.SRP_B ?? "0", 16),
      new BigInteger(parameters.SALT ?? "0", 16),
      done,
    ),
  );
  const timestamp = new DateHelper().getNowString();
  const hmacKey = await crypto.subtle.importKey("raw", concat(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const message = concat(
    encoder.encode(poolName),
    encoder.encode(userId),
    base64ToBytes(secretBlock),
    encoder.encode(timestamp),
  );
  const signature = bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message)));
  const answer = await cognitoCall(target, "RespondToAuthChallenge", {
    ChallengeName: "PASSWORD_VERIFIER",
    ClientId: target.userPoolClientId,
    ChallengeResponses: {
      USERNAME: userId,
      PASSWORD_CLAIM_SECRET_BLOCK: secretBlock,
      PASSWORD_CLAIM_SIGNATURE: signature,
      TIMESTAMP: timestamp,
    },
    ...(typeof challenge.Session === "string" ? { Session: challenge.Session } : {}),
  });
  return tokensOf(answer);
}
