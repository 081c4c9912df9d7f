/** Signing in to cognito-local as the web frontend does, with USER_PASSWORD_AUTH. */
import { type AuthenticationResultType, InitiateAuthCommand } from "@aws-sdk/client-cognito-identity-provider";
import { localCognitoClient } from "./clients";

/** Where to sign in: the fields of `stack.json` (or of a LocalStack) that locate the app client. */
export interface SignInTarget {
  cognitoEndpoint: string;
  region: string;
  userPoolClientId: string;
}

/** The tokens of a successful sign-in. */
export interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken: string;
}

/**
 * Signs `username` in with its password (InitiateAuth USER_PASSWORD_AUTH).
 * @throws the Cognito error (e.g. NotAuthorizedException for a wrong password or unknown user),
 *   a network error when cognito-local does not answer, or Error when a token is missing.
 */
export async function signIn(target: SignInTarget, username: string, password: string): Promise<Tokens> {
  const client = localCognitoClient({ endpoint: target.cognitoEndpoint, region: target.region, maxAttempts: 1 });
  let result: AuthenticationResultType | undefined;
  try {
    const out = await client.send(
      new InitiateAuthCommand({
        ClientId: target.userPoolClientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    result = out.AuthenticationResult;
  } finally {
    client.destroy();
  }
  const { AccessToken, IdToken, RefreshToken } = result ?? {};
  if (AccessToken === undefined || IdToken === undefined || RefreshToken === undefined) {
    throw new Error(`sign-in of ${username} returned no tokens (a challenge?)`);
  }
  return { accessToken: AccessToken, idToken: IdToken, refreshToken: RefreshToken };
}
