/**
 * Cognito sign-in over `fetch`, with no SDK: InitiateAuth with `USER_PASSWORD_AUTH` (what
 * cognito-local supports, and a cloud app client allows when it lists `ALLOW_USER_PASSWORD_AUTH`),
 * and `REFRESH_TOKEN_AUTH`. The Cognito JSON protocol: POST to the endpoint with
 * `X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth` (Cognito API reference, "InitiateAuth").
 */
import { AuthError } from "./errors";

/** Where to sign in: `cognitoEndpoint`, `region`, `userPoolClientId` of stack.json or the CDK outputs. */
export interface CognitoTarget {
  /** cognito-local's URL; absent for the cloud (`https://cognito-idp.<region>.amazonaws.com/`). */
  cognitoEndpoint?: string | undefined;
  region: string;
  userPoolClientId: string;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/** The tokens of a sign-in. Send `accessToken` to the API and the real-time endpoint. */
export interface Tokens {
  accessToken: string;
  idToken: string;
  /** Absent after a refresh (Cognito keeps the one you hold). */
  refreshToken: string | undefined;
  /** When the access token expires, ms since the epoch (client clock). */
  expiresAt: number;
}

/** The Cognito endpoint of a target. */
export const cognitoUrl = (target: CognitoTarget): string =>
  target.cognitoEndpoint ?? `https://cognito-idp.${target.region}.amazonaws.com/`;

/**
 * One call of the Cognito Identity Provider JSON API.
 * @throws AuthError with Cognito's `__type` (e.g. `NotAuthorizedException`), or `NetworkError`
 *   when the endpoint does not answer.
 */
export async function cognitoCall(
  target: CognitoTarget,
  action: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const response = await (target.fetch ?? globalThis.fetch)(cognitoUrl(target), {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(input),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const type = String(body.__type ?? body.code ?? `HTTP${response.status}`).replace(/^.*#/, "");
    throw new AuthError(type, String(body.message ?? body.Message ?? response.statusText));
  }
  return body;
}

/** The tokens of an `AuthenticationResult`. @throws AuthError when there is none (a challenge). */
export function tokensOf(out: Record<string, unknown>, previousRefreshToken?: string): Tokens {
  const result = out.AuthenticationResult as Record<string, unknown> | undefined;
  if (result === undefined) {
    throw new AuthError(
      String(out.ChallengeName ?? "NoAuthenticationResult"),
      "sign-in needs a challenge this client does not answer",
    );
  }
  return {
    accessToken: String(result.AccessToken),
    idToken: String(result.IdToken),
    refreshToken: typeof result.RefreshToken === "string" ? result.RefreshToken : previousRefreshToken,
    expiresAt: Date.now() + Number(result.ExpiresIn ?? 3600) * 1000,
  };
}

/**
 * Signs a user in with username (locally: the handle) and password (`USER_PASSWORD_AUTH`).
 * @throws AuthError `NotAuthorizedException` for a wrong password, `UserNotFoundException`...
 */
export async function signInWithPassword(target: CognitoTarget, username: string, password: string): Promise<Tokens> {
  const out = await cognitoCall(target, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: target.userPoolClientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return tokensOf(out);
}

/** New access and ID tokens for a refresh token (`REFRESH_TOKEN_AUTH`). @throws AuthError. */
export async function refreshTokens(target: CognitoTarget, refreshToken: string): Promise<Tokens> {
  const out = await cognitoCall(target, "InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: target.userPoolClientId,
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  });
  return tokensOf(out, refreshToken);
}

/** The `sub` (the user's uuid) of a token, read without verifying it (the API verifies). */
export function tokenSubject(token: string): string {
  const payload = token.split(".")[1] ?? "";
  const json = atob(
    payload
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(payload.length / 4) * 4, "="),
  );
  return String((JSON.parse(json) as { sub?: unknown }).sub ?? "");
}
