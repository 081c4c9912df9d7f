/**
 * The Cognito user pool triggers' logic (Cognito developer guide, "Pre sign-up Lambda trigger"
 * and "Post confirmation Lambda trigger"): the pre-sign-up trigger validates the handle
 * (`preferred_username`) and display name (`name`) of a sign-up and claims the handle; the
 * post-confirmation trigger makes the claim owned and writes the active profile. These are the
 * only times Cognito attributes are read as identity.
 *
 * A trigger that throws makes Cognito refuse the request with `UserLambdaValidationException`
 * and the message "PreSignUp failed with error <message>." The message starts with the error
 * code (`handle_taken: ...`) so a frontend can show or map it.
 */
import type { PostConfirmationTriggerEvent, PreSignUpTriggerEvent } from "aws-lambda";
import { activateProfile, claimSignUpHandle, type DirectoryDeps } from "./directory";
import { AppError } from "./errors";
import { MAX_DISPLAY_NAME_CHARS } from "./identity-rules";
import { USER_ATTRIBUTES } from "./user-pool";

/** What a person reads for each code a trigger can refuse a sign-up with. */
export const SIGN_UP_ERROR_TEXT: Record<string, string> = {
  handle_taken: "that handle is taken: choose another one",
  handle_invalid: "a handle is 1 to 32 letters, digits, '_', '.' or '-'",
  display_name_invalid: `a display name is 1 to ${MAX_DISPLAY_NAME_CHARS} characters, without control, invisible or '<' '>' characters`,
};

/** A refusal Cognito passes on to the client: its message is `<code>: <text>[; <code>: <text>]`. */
export class SignUpRefused extends Error {
  override name = "SignUpRefused";
  constructor(readonly codes: readonly string[]) {
    super(codes.map((c) => `${c}: ${SIGN_UP_ERROR_TEXT[c] ?? c}`).join("; "));
  }
}

/** Runs a directory write of a trigger; its AppError becomes the refusal Cognito passes on. */
async function refusingWith<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw error instanceof AppError && error.status !== 500 ? new SignUpRefused(error.codes) : error;
  }
}

/** The sign-up's identity from its Cognito attributes (input, checked by the directory). */
const identityOf = (event: PreSignUpTriggerEvent | PostConfirmationTriggerEvent) => {
  const attributes = event.request.userAttributes;
  return {
    username: event.userName,
    handle: attributes[USER_ATTRIBUTES.handle] ?? "",
    displayName: attributes[USER_ATTRIBUTES.display_name] ?? "",
  };
};

/**
 * Pre sign-up: every trigger source (SignUp, AdminCreateUser, ExternalProvider) claims the
 * handle for the sign-up's `userName`, pending until confirmation.
 * @returns the event unchanged (Cognito's contract: the trigger answers its event).
 * @throws SignUpRefused (handle_invalid, display_name_invalid, handle_taken); AWS SDK errors.
 */
export async function preSignUp(
  deps: DirectoryDeps,
  event: PreSignUpTriggerEvent,
  nowMs: number,
): Promise<PreSignUpTriggerEvent> {
  await refusingWith(() => claimSignUpHandle(deps, identityOf(event), nowMs));
  return event;
}

/**
 * Post confirmation: on `PostConfirmation_ConfirmSignUp`, activates the profile (uuid = `sub`).
 * Other sources (a confirmed forgotten password) change nothing.
 * @returns the event unchanged.
 * @throws SignUpRefused when the handle was lost meanwhile or the attributes break the rules;
 *   AWS SDK errors.
 */
export async function postConfirmation(
  deps: DirectoryDeps,
  event: PostConfirmationTriggerEvent,
  nowMs: number,
): Promise<PostConfirmationTriggerEvent> {
  if (event.triggerSource !== "PostConfirmation_ConfirmSignUp") return event;
  const uuid = event.request.userAttributes[USER_ATTRIBUTES.uuid] ?? "";
  await refusingWith(() => activateProfile(deps, { ...identityOf(event), uuid }, nowMs));
  return event;
}
