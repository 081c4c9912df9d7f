/**
 * Suite 2, tokens: every kind of unacceptable bearer token, on every route of the local HTTP API,
 * is answered 401 `["unauthorized"]` and writes nothing. Bad tokens are minted with cognito-local's
 * own RS256 key (so each one differs from a token the API accepts in exactly one respect: a control
 * token minted the same way is accepted), with freshly generated RSA keys, or by mutating a real
 * token; fast-check generates random one-character mutations of every part of a real token.
 */
import { createHmac, createPublicKey, generateKeyPairSync } from "node:crypto";
import { rm } from "node:fs/promises";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cognitoLocalIssuer } from "../../local/jwt";
import type { LocalStack } from "../../local/stack";
import type { MessageGroupView } from "../../shared/model";
import { ROUTES } from "../../shared/routes";
import { SEED_CONVERSATION, SEED_CONVERSATION_MEMBERS } from "../../shared/seed-data";
import { type Caller, countingLogger, scanFingerprint, scanStackTable, seededCaller } from "../support/callers";
import { cognitoLocalSigningKey, jwtPayload, mintJwt } from "../support/jwt";
import { callApi, pollUntil, startTestStack } from "../support/stack";

let stack: LocalStack;
let caller: Caller;
let groupUuid: string;
let before: string[];
const signing = cognitoLocalSigningKey();
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const logger = countingLogger();
  stack = await startTestStack({ logger });
  caller = await seededCaller(stack, SEED_CONVERSATION_MEMBERS.a);
  const groups = await callApi(stack, "GET", "/api/message_groups", { token: caller.accessToken });
  groupUuid = (groups.body as MessageGroupView[])[0]?.uuid ?? "";
  await pollUntil(30_000, async () => (logger.deliveredRecords() >= SEED_CONVERSATION.length ? true : undefined));
  before = scanFingerprint(await scanStackTable(stack));
});

// Every test, run alone or with the others, wrote nothing: the table scans exactly as before.
afterEach(async () => {
  expect(scanFingerprint(await scanStackTable(stack))).toEqual(before);
});

afterAll(async () => {
  await stack?.stop();
  if (stack !== undefined) await rm(stack.stateDir, { recursive: true, force: true });
});

/**
 * One request per route of ROUTES that needs a token, each one that a valid token would get a
 * 200 for. The public profile route takes no token, so no token can be refused there.
 */
function routeRequests(): {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
}[] {
  return ROUTES.filter((route) => route.auth).map((route) => {
    const path = route.path
      .replace("{message_group_uuid}", groupUuid)
      .replace("{handle}", `@${SEED_CONVERSATION_MEMBERS.b}`);
    const body =
      route.method === "POST"
        ? { message: "must not be written", message_group_uuid: groupUuid }
        : route.method === "PATCH"
          ? { display_name: "must not be written" }
          : undefined;
    return {
      name: `${route.method} ${route.path}`,
      method: route.method,
      path,
      ...(body === undefined ? {} : { body }),
    };
  });
}

/** The claims of the caller's real access token, refreshed in time. */
const accessClaims = (): Record<string, unknown> => {
  const claims = jwtPayload(caller.accessToken);
  return { ...claims, iat: now() - 10, exp: now() + 600 };
};
const header = () => ({ alg: "RS256", kid: signing.kid, typ: "JWT" });
const withCognitoKey = (claims: Record<string, unknown>, h: Record<string, unknown> = header()) =>
  mintJwt(h, claims, signing.key);

/** Flips the first byte of a token's signature. */
function flipSignature(token: string): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(s, "base64url");
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  return `${h}.${p}.${bytes.toString("base64url")}`;
}

const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

/** [case, Authorization header value or undefined for none]. */
function badAuthorizations(): [string, string | undefined][] {
  const claims = accessClaims();
  const bearer = (token: string) => `Bearer ${token}`;
  const cognitoPort = Number(new URL(stack.cognitoEndpoint).port);
  const publicPem = createPublicKey(signing.key).export({ type: "spki", format: "pem" }).toString();
  const hsInput = `${Buffer.from(JSON.stringify({ alg: "HS256", kid: signing.kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const hs256 = `${hsInput}.${createHmac("sha256", publicPem).update(hsInput).digest("base64url")}`;
  const { exp: _exp, ...noExp } = claims;
  const { client_id: _client, ...noClient } = claims;
  return [
    ["no Authorization header", undefined],
    ["an empty Bearer", "Bearer "],
    ["Bearer without a token", "Bearer"],
    ["another scheme (Basic)", `Basic ${Buffer.from("andrewbrown:x").toString("base64")}`],
    ["the token without a scheme", caller.accessToken],
    ["two tokens", `Bearer ${caller.accessToken} ${caller.accessToken}`],
    ["a malformed token (two parts)", bearer(caller.accessToken.split(".").slice(0, 2).join("."))],
    ["a malformed token (not base64url JSON)", bearer("abc.def.ghi")],
    ["a token with trailing garbage", bearer(`${caller.accessToken}x`)],
    ["an expired token", bearer(withCognitoKey({ ...claims, iat: now() - 7200, exp: now() - 3600 }))],
    ["a token expired a second ago", bearer(withCognitoKey({ ...claims, exp: now() - 1 }))],
    ["a token not yet valid (nbf in an hour)", bearer(withCognitoKey({ ...claims, nbf: now() + 3600 }))],
    ["a token without exp", bearer(withCognitoKey(noExp))],
    [
      "a wrong issuer (another pool)",
      bearer(withCognitoKey({ ...claims, iss: cognitoLocalIssuer(cognitoPort, "local_0ther000") })),
    ],
    [
      "a wrong issuer (another host)",
      bearer(withCognitoKey({ ...claims, iss: `http://127.0.0.2:${cognitoPort}/${stack.userPoolId}` })),
    ],
    ["a wrong client", bearer(withCognitoKey({ ...claims, client_id: "0therclient000000000000000" }))],
    ["no client_id", bearer(withCognitoKey(noClient))],
    ["the ID token instead of the access token", bearer(caller.idToken)],
    ["token_use id with the access token's claims", bearer(withCognitoKey({ ...claims, token_use: "id" }))],
    ["no token_use", bearer(withCognitoKey({ ...claims, token_use: undefined }))],
    ["alg none, unsigned", bearer(mintJwt({ alg: "none", typ: "JWT" }, claims))],
    ["alg none, kid of the pool", bearer(mintJwt({ alg: "none", kid: signing.kid }, claims))],
    ["HS256 keyed with the pool's public key (algorithm confusion)", bearer(hs256)],
    ["a tampered signature", bearer(flipSignature(caller.accessToken))],
    [
      "a tampered payload (sub of another user)",
      bearer(tamperPayload(caller.accessToken, { sub: stack.users[1]?.uuid })),
    ],
    ["another pool's key under the pool's kid", bearer(mintJwt(header(), claims, otherKey))],
    ["another pool's key under an unknown kid", bearer(mintJwt({ ...header(), kid: "other-pool" }, claims, otherKey))],
    ["the pool's key without a kid", bearer(mintJwt({ alg: "RS256" }, claims, signing.key))],
  ];
}

function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [h, , s] = token.split(".") as [string, string, string];
  return `${h}.${Buffer.from(JSON.stringify({ ...jwtPayload(token), ...changes })).toString("base64url")}.${s}`;
}

describe("tokens: every unacceptable token is 401 on every route", () => {
  it("accepts the control tokens: the real access token and one minted with cognito-local's key", async () => {
    for (const token of [caller.accessToken, withCognitoKey(accessClaims())]) {
      for (const request of routeRequests().filter((r) => r.method === "GET")) {
        const response = await callApi(stack, request.method, request.path, { token });
        expect(response.status, request.name).toBe(200);
      }
    }
  });

  it("answers 401 unauthorized to each bad token on each route", async () => {
    const cases = badAuthorizations();
    expect(cases.length).toBeGreaterThanOrEqual(25);
    for (const [name, authorization] of cases) {
      for (const request of routeRequests()) {
        const response = await callApi(stack, request.method, request.path, {
          ...(request.body === undefined ? {} : { body: request.body }),
          headers: authorization === undefined ? {} : { authorization },
        });
        expect([response.status, response.body], `${name} on ${request.name}`).toEqual([401, ["unauthorized"]]);
      }
    }
  });

  it("answers 401 to 300 random one-character mutations of a real access token", async () => {
    const token = caller.accessToken;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const decoded = (t: string) => t.split(".").map((part) => Buffer.from(part, "base64url").toString("hex"));
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        fc.constantFrom("replace", "delete", "insert"),
        async (at, char, edit) => {
          const mutated =
            edit === "replace"
              ? token.slice(0, at) + char + token.slice(at + 1)
              : edit === "delete"
                ? token.slice(0, at) + token.slice(at + 1)
                : token.slice(0, at) + char + token.slice(at);
          // A change in the spare bits of a segment's last character decodes to the same bytes.
          fc.pre(JSON.stringify(decoded(mutated)) !== JSON.stringify(decoded(token)));
          const requests = routeRequests();
          const request = requests[at % requests.length];
          if (request === undefined) throw new Error("no route");
          const response = await callApi(stack, request.method, request.path, {
            ...(request.body === undefined ? {} : { body: request.body }),
            token: mutated,
          });
          expect([response.status, response.body], `${edit} ${char} at ${at}`).toEqual([401, ["unauthorized"]]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
