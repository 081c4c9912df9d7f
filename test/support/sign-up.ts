/**
 * Signing users up in a running local stack the way a client does (SignUp, then the
 * confirmation an administrator or the code would make): cognito-local runs the stack's real
 * pre-sign-up and post-confirmation triggers, which claim the handle and write the profile.
 */
import {
  AdminConfirmSignUpCommand,
  type CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { LocalStack } from "../../local/stack";
import { USER_ATTRIBUTES } from "../../shared/user-pool";

/** Satisfies PASSWORD_POLICY (shared/user-pool.ts): 12+ characters, upper, lower, digit, symbol. */
export const TEST_PASSWORD = "Correct-Horse-9-battery";

/** Who signs up: the attributes the pre-sign-up trigger reads, and the credentials. */
export interface SignUpInput {
  /** Cognito username (default: the handle). */
  username?: string;
  /** `preferred_username`: the handle the trigger claims. */
  handle: string;
  /** `name`: the display name. */
  displayName: string;
  /** Default {@link TEST_PASSWORD}. */
  password?: string;
  /** Default `<username>@example.com`. */
  email?: string;
}

/** The pool's stack: its client id and pool id. */
type Pool = Pick<LocalStack, "userPoolId" | "userPoolClientId">;

/**
 * SignUp with the handle and display name attributes.
 * @returns the new user's `sub` and whether Cognito confirmed it at once (`UserConfirmed`).
 * @throws the SDK's error when cognito-local (or the pre-sign-up trigger) refuses it.
 */
export async function signUp(
  cognito: CognitoIdentityProviderClient,
  pool: Pool,
  input: SignUpInput,
): Promise<{ uuid: string; confirmed: boolean }> {
  const username = input.username ?? input.handle;
  const out = await cognito.send(
    new SignUpCommand({
      ClientId: pool.userPoolClientId,
      Username: username,
      Password: input.password ?? TEST_PASSWORD,
      UserAttributes: [
        { Name: USER_ATTRIBUTES.handle, Value: input.handle },
        { Name: USER_ATTRIBUTES.display_name, Value: input.displayName },
        { Name: "email", Value: input.email ?? `${username}@example.com` },
      ],
    }),
  );
  if (out.UserSub === undefined) throw new Error(`sign-up of ${username} returned no sub`);
  return { uuid: out.UserSub, confirmed: out.UserConfirmed === true };
}

/** AdminConfirmSignUp of `username`: cognito-local then runs the post-confirmation trigger. */
export async function confirmSignUp(
  cognito: CognitoIdentityProviderClient,
  pool: Pool,
  username: string,
): Promise<void> {
  await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: username }));
}

/**
 * Signs up (and, with `confirm`, confirms) and resolves to the message of the refusal, or to
 * undefined when every step was accepted. cognito-local passes a trigger's message on
 * ("PreSignUp failed with error handle_taken: ...").
 */
export async function signUpRefusal(
  cognito: CognitoIdentityProviderClient,
  pool: Pool,
  input: SignUpInput,
  options: { confirm: boolean } = { confirm: false },
): Promise<string | undefined> {
  try {
    await signUp(cognito, pool, input);
    if (options.confirm) await confirmSignUp(cognito, pool, input.username ?? input.handle);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
