import { createSign, generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessTokenVerifier, createAccessTokenVerifier } from "../../local/jwt";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const KID = "CognitoLocal";
const CLIENT_ID = "client-1";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
function sign(payload: Record<string, unknown>, key = privateKey): string {
  const input = `${b64({ alg: "RS256", typ: "JWT", kid: KID })}.${b64(payload)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(key).toString("base64url")}`;
}

describe("createAccessTokenVerifier (JWKS over http, like cognito-local)", () => {
  let server: Server;
  let issuer: string;
  let verify: AccessTokenVerifier;
  const now = () => Math.floor(Date.now() / 1000);
  const access = (overrides: Record<string, unknown> = {}) => ({
    sub: "u-1",
    username: "andrewbrown",
    client_id: CLIENT_ID,
    token_use: "access",
    scope: "aws.cognito.signin.user.admin",
    iss: issuer,
    iat: now(),
    exp: now() + 3600,
    ...overrides,
  });

  beforeAll(async () => {
    const jwk = { ...publicKey.export({ format: "jwk" }), kid: KID, use: "sig", alg: "RS256" };
    server = createServer((request, response) => {
      if (request.url?.endsWith("/.well-known/jwks.json")) {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
      } else response.writeHead(404).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    issuer = `http://localhost:${(server.address() as AddressInfo).port}/local_pool1`;
    verify = createAccessTokenVerifier({ issuer, clientId: CLIENT_ID });
  });
  afterAll(() => {
    server.close();
  });

  it("accepts an access token of the pool and client", async () => {
    await expect(verify(sign(access()))).resolves.toMatchObject({ sub: "u-1", token_use: "access" });
  });

  it.each([
    ["an ID token", () => sign(access({ token_use: "id", aud: CLIENT_ID }))],
    ["a token of another client", () => sign(access({ client_id: "client-2" }))],
    ["an expired token", () => sign(access({ exp: now() - 10 }))],
    ["a token without exp (it would never expire)", () => sign(access({ exp: undefined }))],
    ["another issuer", () => sign(access({ iss: "http://localhost:1/other" }))],
    ["a token signed with another key", () => sign(access(), other.privateKey)],
    [
      "a tampered payload",
      () => {
        const [h, , s] = sign(access()).split(".");
        return `${h}.${b64(access({ sub: "u-2" }))}.${s}`;
      },
    ],
    ["garbage", () => "not-a-jwt"],
  ])("rejects %s", async (_, token) => {
    await expect(verify(token())).rejects.toThrow();
  });
});
