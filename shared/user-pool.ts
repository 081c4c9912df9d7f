/**
 * The one description of the Cognito user pool and its app client, read by the CDK stack and
 * by the local stack (cognito-local). A user's `uuid` is the Cognito `sub`, the `handle` is
 * `preferred_username` and the `display_name` is `name` (DESIGN.md "Vocabulary").
 */
export const USER_POOL_NAME = "cruddur-messages-users";
export const USER_POOL_CLIENT_NAME = "cruddur-messages-web";

/** Which Cognito attribute holds each field of a user profile. */
export const USER_ATTRIBUTES = { uuid: "sub", handle: "preferred_username", display_name: "name" } as const;

/** Standard attributes a user must have. */
export const REQUIRED_ATTRIBUTES = ["preferred_username", "name", "email"] as const;

/** Password policy (Cognito's strongest built-in rules; AwsSolutions-COG1 asks for these). */
export const PASSWORD_POLICY = {
  minimumLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
  temporaryPasswordValidityDays: 3,
} as const;

/**
 * Auth flows of the production web client: SRP (what Amplify uses) and refresh only. No client
 * secret: a browser cannot keep one. Plain password auth sends the password itself to Cognito;
 * the CDK stack adds it only when a context option asks for it.
 */
export const CLIENT_AUTH_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] as const;

/** The plain password flow: `npm run token` and the end-to-end tests sign in with it. */
export const PASSWORD_AUTH_FLOW = "ALLOW_USER_PASSWORD_AUTH" as const;

/** Auth flows of the local (cognito-local) client: the production ones plus plain password. */
export const LOCAL_CLIENT_AUTH_FLOWS = [...CLIENT_AUTH_FLOWS, PASSWORD_AUTH_FLOW] as const;

/** Token validity of the web client. */
export const TOKEN_VALIDITY = { accessTokenMinutes: 60, idTokenMinutes: 60, refreshTokenDays: 30 } as const;

/**
 * A handle: what users type after `@`. 1 to 32 characters of letters, digits, `_`, `.` or `-`.
 * The same rule keeps a handle safe to embed in a Cognito ListUsers filter string.
 */
export const HANDLE_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
