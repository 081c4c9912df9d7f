/**
 * Verification of Cognito access tokens minted by cognito-local, as API Gateway's JWT authorizer
 * does in the cloud: RS256 signature against the issuer's JWKS, expiry (`exp` required), issuer,
 * and, since access tokens carry no `aud`, `client_id` = the app client and `token_use` = `access`.
 *
 * aws-jwt-verify's CognitoJwtVerifier accepts only AWS pool ids and https issuers, so the
 * generic JwtVerifier is used, with a JWKS cache whose fetcher is the global `fetch` (the
 * library's default fetcher speaks https only).
 */
import { JwtVerifier } from "aws-jwt-verify";
import type { Fetcher } from "aws-jwt-verify/https";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { httpUrl, localHost } from "./settings";

/** Fetches JWKS documents over http(s) with the global `fetch`. */
export class GlobalFetchFetcher implements Fetcher {
  /**
   * @param timeoutMs abort a request after this long, ms.
   */
  constructor(private readonly timeoutMs = 5000) {}

  /** @throws Error on a network error, a timeout or a non-2xx answer. */
  async fetch(uri: string): Promise<ArrayBuffer> {
    const response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`GET ${uri}: HTTP ${response.status}`);
    return response.arrayBuffer();
  }
}

/**
 * The issuer (`iss`) of a cognito-local pool's tokens, as `startCognitoLocal` configures it:
 * `http://<connect host>:<port>/<poolId>` (`http://127.0.0.1:<port>/<poolId>` by default).
 */
export const cognitoLocalIssuer = (
  cognitoPort: number,
  userPoolId: string,
  connectHost: string = localHost().connect,
): string => `${httpUrl(connectHost, cognitoPort)}/${userPoolId}`;

/** Verifies a raw JWT; resolves to its payload, rejects when it is not acceptable. */
export type AccessTokenVerifier = (token: string) => Promise<JwtPayload>;

/**
 * A verifier of access tokens of one issuer and app client; the JWKS is fetched from
 * `<issuer>/.well-known/jwks.json` on first use and cached.
 */
export function createAccessTokenVerifier(options: { issuer: string; clientId: string }): AccessTokenVerifier {
  const verifier = JwtVerifier.create(
    {
      issuer: options.issuer,
      jwksUri: `${options.issuer}/.well-known/jwks.json`,
      audience: null,
      customJwtCheck: ({ payload }) => {
        // API Gateway's JWT authorizer requires exp; aws-jwt-verify checks it only when present.
        if (typeof payload.exp !== "number") throw new Error("token without exp");
        if (payload.token_use !== "access") throw new Error("not an access token");
        if (payload.client_id !== options.clientId) throw new Error("token of another app client");
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: new GlobalFetchFetcher() }) },
  );
  return (token) => verifier.verify(token);
}
