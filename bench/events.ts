/**
 * Lambda events for the bench: API Gateway HTTP API events as the emulator builds them, and the
 * Cognito trigger events of a sign-up.
 */
import { randomUUID } from "node:crypto";
import type { PostConfirmationTriggerEvent, PreSignUpTriggerEvent } from "aws-lambda";
import { buildHttpApiEvent } from "../local/api-event";
import type { SeededUser } from "../local/seed";
import type { HttpEvent } from "../shared/http";
import { ROUTES, type RouteDefinition } from "../shared/routes";
import { USER_ATTRIBUTES } from "../shared/user-pool";

/** The route of function `fn` in ROUTES. @throws Error when there is none. */
export function routeOf(fn: string): RouteDefinition {
  const route = ROUTES.find((r) => r.fn === fn);
  if (route === undefined) throw new Error(`no route for ${fn}`);
  return route;
}

/**
 * The event API Gateway gives function `fn` for a request of `caller` (claims of a Cognito
 * access token), with the route's path parameters, query and JSON body. A public route's event
 * has no `requestContext.authorizer` (API Gateway runs no authorizer for it), whoever calls.
 * @throws Error for an authenticated route without a caller.
 */
export function httpEvent(
  fn: string,
  caller: SeededUser | undefined,
  request: { pathParameters?: Record<string, string>; query?: string; body?: unknown } = {},
): HttpEvent {
  const route = routeOf(fn);
  if (route.auth && caller === undefined) throw new Error(`${fn} needs a caller`);
  const params = request.pathParameters ?? {};
  const rawPath = route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
  const event = buildHttpApiEvent(
    {
      method: route.method,
      rawPath,
      rawQueryString: request.query ?? "",
      headers: { "content-type": ["application/json"], host: ["localhost"] },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      sourceIp: "127.0.0.1",
      protocol: "HTTP/1.1",
      port: 443,
    },
    {
      routeKey: `${route.method} ${route.path}`,
      pathParameters: params,
      ...(route.auth && caller !== undefined
        ? {
            claims: {
              sub: caller.uuid,
              username: caller.username,
              token_use: "access",
              client_id: "bench",
              scope: "aws.cognito.signin.user.admin",
            },
          }
        : {}),
      requestId: randomUUID(),
      timeEpochMs: Date.now(),
    },
  );
  // The handlers are typed for the JWT authorizer's event; a public route's gets the event
  // without `requestContext.authorizer`, as from API Gateway (local/http-api.ts does the same).
  return event as HttpEvent;
}

/** A new user signing up: Cognito username, handle and display name (all fresh). */
export interface SignUp {
  username: string;
  handle: string;
  displayName: string;
}

let signUps = 0;

/** A sign-up nobody made before in this run: a handle of the character rule, unique. */
export function newSignUp(): SignUp {
  signUps += 1;
  const handle = `su${Date.now().toString(36)}${signUps}`;
  return { username: handle, handle, displayName: `Sign Up ${signUps}` };
}

const triggerBase = (region: string, userPoolId: string, userName: string) => ({
  version: "1",
  region,
  userPoolId,
  userName,
  callerContext: { awsSdkVersion: "aws-sdk-js-3", clientId: "bench" },
});

/**
 * The PreSignUp_SignUp event Cognito gives the pre-sign-up trigger for `signUp` (developer
 * guide, "Pre sign-up Lambda trigger": the attributes of the SignUp request).
 */
export function preSignUpEvent(region: string, userPoolId: string, signUp: SignUp): PreSignUpTriggerEvent {
  return {
    ...triggerBase(region, userPoolId, signUp.username),
    triggerSource: "PreSignUp_SignUp",
    request: {
      userAttributes: {
        [USER_ATTRIBUTES.handle]: signUp.handle,
        [USER_ATTRIBUTES.display_name]: signUp.displayName,
        email: `${signUp.handle}@example.com`,
      },
      validationData: {},
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

/**
 * The PostConfirmation_ConfirmSignUp event Cognito gives the post-confirmation trigger when
 * `signUp` (uuid = its new `sub`) confirms (developer guide, "Post confirmation Lambda trigger").
 */
export function postConfirmationEvent(
  region: string,
  userPoolId: string,
  signUp: SignUp,
  uuid: string,
): PostConfirmationTriggerEvent {
  return {
    ...triggerBase(region, userPoolId, signUp.username),
    triggerSource: "PostConfirmation_ConfirmSignUp",
    request: {
      userAttributes: {
        [USER_ATTRIBUTES.uuid]: uuid,
        [USER_ATTRIBUTES.handle]: signUp.handle,
        [USER_ATTRIBUTES.display_name]: signUp.displayName,
        email: `${signUp.handle}@example.com`,
        "cognito:user_status": "CONFIRMED",
      },
    },
    response: {},
  };
}
