/**
 * Tokens minted with cognito-local's own signing key, so a test can break exactly one claim of a
 * token the local API otherwise trusts; and a JWT payload decoder.
 */
import { createPrivateKey, createSign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * cognito-local's RS256 signing key (the `CognitoLocal` key of its JWKS), read from the installed
 * package, so tests can mint tokens the local API trusts except for the one claim they break.
 */
export function cognitoLocalSigningKey(): { key: KeyObject; kid: string } {
  const require = createRequire(import.meta.url);
  const path = require.resolve("cognito-local/lib/keys/cognitoLocal.private.json");
  const { pem } = JSON.parse(readFileSync(path, "utf8")) as { pem: string };
  const publicPath = require.resolve("cognito-local/lib/keys/cognitoLocal.public.json");
  const { jwk } = JSON.parse(readFileSync(publicPath, "utf8")) as { jwk: { kid: string } };
  return { key: createPrivateKey(pem), kid: jwk.kid };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A compact JWT of `header` and `payload`, RS256-signed with `key` (or unsigned for `alg: none`). */
export function mintJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key?: KeyObject): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  if (key === undefined) return `${signingInput}.`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(key).toString("base64url");
  return `${signingInput}.${signature}`;
}

/** The decoded payload of a JWT. */
export function jwtPayload(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}
