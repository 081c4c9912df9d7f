/**
 * Cognito's SRP sign-in (`USER_SRP_AUTH`, then the `PASSWORD_VERIFIER` challenge), the flow of the
 * stack's web client in the cloud (`CLIENT_AUTH_FLOWS` of `shared/user-pool.ts`): the password
 * never leaves the browser. Secure Remote Password (RFC 2945, SHA-256, the 3072-bit group of
 * RFC 3526) with Cognito's conventions: `k = H(N | g)`, `u = H(A | B)`,
 * `x = H(salt | H(<pool name><user id>:<password>))`, hex values padded to a whole byte count with
 * a leading zero byte when the high bit is set; the key is HKDF-SHA256 (RFC 5869) of `S` salted
 * with `u`, info `Caldera Derived Key`, 16 bytes; the claim is the base64 HMAC-SHA256 under that
 * key of `<pool name><user id><secret block bytes><timestamp>`, the timestamp as
 * `Tue Dec 2 13:05:09 UTC 2026` (UTC, day unpadded).
 *
 * Web Crypto (`crypto.subtle`, `crypto.getRandomValues`) and BigInt only. cognito-local has no SRP:
 * `test/unit/client-srp.test.ts` checks it against a verifier built with Node's crypto.
 */
import { type CognitoTarget, cognitoCall, type Tokens, tokensOf } from "./auth";
import { AuthError } from "./errors";

/** The 3072-bit prime of RFC 3526 (section 4), the group Cognito's SRP uses; the generator is 2. */
export const SRP_N = BigInt(
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
export const SRP_G = 2n;

const encoder = new TextEncoder();

/** Hex of `n`, padded to whole bytes, with a leading `00` when the high bit is set (Cognito's padHex). */
export function padHex(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  else if ("89abcdef".includes(hex[0] ?? "")) hex = `00${hex}`;
  return hex;
}

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

const bytesToHex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))).padStart(64, "0");
}

async function hmac(key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/** `base ** exponent mod modulus`, square and multiply. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
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

/** `k = H(PAD(N) | PAD(g))`. */
export async function srpMultiplier(): Promise<bigint> {
  return BigInt(`0x${await sha256Hex(hexToBytes(padHex(SRP_N) + padHex(SRP_G)))}`);
}

/** `x = H(PAD(salt) | H(<pool name><user id>:<password>))`. */
export async function srpPrivateKey(
  poolName: string,
  userId: string,
  password: string,
  saltHex: string,
): Promise<bigint> {
  const inner = await sha256Hex(encoder.encode(`${poolName}${userId}:${password}`));
  return BigInt(`0x${await sha256Hex(hexToBytes(padHex(BigInt(`0x${saltHex}`)) + inner))}`);
}

/** Cognito's timestamp: `Tue Dec 2 13:05:09 UTC 2026`. */
export function srpTimestamp(date: Date): string {
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][date.getUTCDay()];
  const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
    date.getUTCMonth()
  ];
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${day} ${month} ${date.getUTCDate()} ${time} UTC ${date.getUTCFullYear()}`;
}

const base64ToBytes = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const bytesToBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

/** What the client answers to a `PASSWORD_VERIFIER` challenge. */
export interface PasswordClaim {
  signature: string;
  timestamp: string;
}

/**
 * The password claim of the challenge: the shared secret `S = (B - k g^x)^(a + u x) mod N`, the
 * key derived from it, and the HMAC of the secret block.
 * @throws AuthError when `B mod N` or `u` is 0 (a bad or hostile server).
 */
export async function passwordClaim(input: {
  poolName: string;
  userId: string;
  password: string;
  a: bigint;
  A: bigint;
  saltHex: string;
  srpBHex: string;
  secretBlock: string;
  now: Date;
}): Promise<PasswordClaim> {
  const B = BigInt(`0x${input.srpBHex}`);
  if (B % SRP_N === 0n) throw new AuthError("InvalidSrpB", "the server's B is 0 mod N");
  const u = BigInt(`0x${await sha256Hex(hexToBytes(padHex(input.A) + padHex(B)))}`);
  if (u === 0n) throw new AuthError("InvalidSrpU", "u is 0");
  const k = await srpMultiplier();
  const x = await srpPrivateKey(input.poolName, input.userId, input.password, input.saltHex);
  const S = modPow(B - k * modPow(SRP_G, x, SRP_N), input.a + u * x, SRP_N);
  const prk = await hmac(hexToBytes(padHex(u)), hexToBytes(padHex(S)));
  const key = (await hmac(prk, concat(encoder.encode("Caldera Derived Key"), new Uint8Array([1])))).slice(0, 16);
  const timestamp = srpTimestamp(input.now);
  const message = concat(
    encoder.encode(input.poolName),
    encoder.encode(input.userId),
    base64ToBytes(input.secretBlock),
    encoder.encode(timestamp),
  );
  return { signature: bytesToBase64(await hmac(key, message)), timestamp };
}

/**
 * Signs a user in with SRP: InitiateAuth `USER_SRP_AUTH` with `A`, then RespondToAuthChallenge
 * `PASSWORD_VERIFIER` with the claim.
 * @throws AuthError with Cognito's code (`NotAuthorizedException` for a wrong password...), or
 *   when Cognito asks for another challenge (MFA, a new password) this client does not answer.
 */
export async function signInWithSrp(
  target: CognitoTarget & { userPoolId: string },
  username: string,
  password: string,
): Promise<Tokens> {
  const poolName = target.userPoolId.split("_")[1] ?? "";
  let a = 0n;
  let A = 0n;
  while (A === 0n) {
    a = BigInt(`0x${bytesToHex(crypto.getRandomValues(new Uint8Array(128)))}`) % SRP_N;
    A = modPow(SRP_G, a, SRP_N);
  }
  const challenge = await cognitoCall(target, "InitiateAuth", {
    AuthFlow: "USER_SRP_AUTH",
    ClientId: target.userPoolClientId,
    AuthParameters: { USERNAME: username, SRP_A: A.toString(16) },
  });
  if (challenge.ChallengeName !== "PASSWORD_VERIFIER") return tokensOf(challenge);
  const parameters = (challenge.ChallengeParameters ?? {}) as Record<string, string>;
  const userId = parameters.USER_ID_FOR_SRP ?? username;
  const claim = await passwordClaim({
    poolName,
    userId,
    password,
    a,
    A,
    saltHex: parameters.SALT ?? "",
    srpBHex: parameters.SRP_B ?? "",
    secretBlock: parameters.SECRET_BLOCK ?? "",
    now: new Date(),
  });
  const answer = await cognitoCall(target, "RespondToAuthChallenge", {
    ChallengeName: "PASSWORD_VERIFIER",
    ClientId: target.userPoolClientId,
    ChallengeResponses: {
      USERNAME: userId,
      PASSWORD_CLAIM_SECRET_BLOCK: parameters.SECRET_BLOCK ?? "",
      PASSWORD_CLAIM_SIGNATURE: claim.signature,
      TIMESTAMP: claim.timestamp,
    },
    ...(typeof challenge.Session === "string" ? { Session: challenge.Session } : {}),
  });
  return tokensOf(answer);
}
