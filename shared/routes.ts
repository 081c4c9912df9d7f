/**
 * The one route table of the HTTP API. The CDK stack makes one `NodejsFunction` per entry
 * (entry file `functions/<fn>.ts`, export `handler`) and one HTTP API route per entry; the
 * local HTTP emulator serves the same entries with the same handlers.
 *
 * Paths use API Gateway HTTP API syntax: `{name}` is a whole path segment. The frontend calls
 * `/api/users/@<handle>/short`; API Gateway path variables must be whole segments, so the route
 * captures `@<handle>` as `{handle}` and the handler strips the `@`.
 */
export interface RouteDefinition {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  /** Entry file name under `functions/` (kebab-case, no extension). */
  fn: string;
  /** Access pattern served (DESIGN.md), `users` for the public profile, `profile` for the caller's own. */
  pattern: "A" | "B" | "C+D" | "users" | "profile" | "read" | "blocks";
  /**
   * True when the route needs a Cognito access token (the JWT authorizer in the cloud, the
   * emulator's verifier locally). Only the public profile route is false: the Cruddur frontend
   * calls it with no token.
   */
  auth: boolean;
  /** Route-level throttling (requests/s, burst) below the stage's; the public route has one. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Exactly the IAM actions the function needs: the CDK stack grants these and no more. */
  permissions: FunctionPermissions;
}

/** IAM actions of one function, on the table (and its GSI) and on the user pool. */
export interface FunctionPermissions {
  dynamodb: readonly DynamoDbAction[];
  cognito: readonly CognitoAction[];
}
export type DynamoDbAction =
  | "dynamodb:GetItem"
  | "dynamodb:Query"
  | "dynamodb:PutItem"
  | "dynamodb:UpdateItem"
  | "dynamodb:DeleteItem"
  | "dynamodb:ConditionCheckItem"
  | "dynamodb:BatchGetItem"
  | "dynamodb:BatchWriteItem";
export type CognitoAction = "cognito-idp:AdminUpdateUserAttributes";

export const ROUTES: readonly RouteDefinition[] = [
  {
    method: "GET",
    path: "/api/message_groups",
    fn: "list-message-groups",
    pattern: "B",
    auth: true,
    // GetItem: the caller's profile (an inactive caller is refused); BatchGetItem: the read
    // markers of the page; Query: the GRP rows and the unread counts.
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"], cognito: [] },
  },
  {
    method: "POST",
    path: "/api/message_groups/{message_group_uuid}/read",
    fn: "mark-read",
    pattern: "read",
    auth: true,
    // GetItem: the group item and the marker; Query: the message read up to and the count; UpdateItem: the marker.
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"], cognito: [] },
  },
  {
    method: "GET",
    path: "/api/messages/{message_group_uuid}",
    fn: "list-messages",
    pattern: "A",
    auth: true,
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:Query"], cognito: [] },
  },
  {
    method: "POST",
    path: "/api/messages",
    fn: "create-message",
    pattern: "C+D",
    auth: true,
    // BatchGetItem: the blocks of both directions; UpdateItem: the send limits, the sender's read
    // marker and the idempotency record (DeleteItem too, when a request with a key fails).
    permissions: {
      dynamodb: [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchGetItem",
      ],
      cognito: [],
    },
  },
  {
    method: "GET",
    path: "/api/users/{handle}/short",
    fn: "get-user-short",
    pattern: "users",
    auth: false,
    throttle: { rateLimit: 20, burstLimit: 40 },
    permissions: { dynamodb: ["dynamodb:GetItem"], cognito: [] },
  },
  {
    method: "PATCH",
    path: "/api/users/me",
    fn: "update-profile",
    pattern: "profile",
    auth: true,
    permissions: {
      // Query: the caller's GRP rows (their groups); ConditionCheckItem: the rename's lock on a
      // group item; PutItem, UpdateItem and BatchWriteItem also complete a summary move the
      // fan-out left pending before a group is renamed (shared/fan-out.ts completePendingMove).
      dynamodb: [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchWriteItem",
      ],
      // Keeps the Cognito attributes in step with the directory (the only route that calls Cognito).
      cognito: ["cognito-idp:AdminUpdateUserAttributes"],
    },
  },
  {
    method: "POST",
    path: "/api/users/{handle}/block",
    fn: "block-user",
    pattern: "blocks",
    auth: true,
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:PutItem"], cognito: [] },
  },
  {
    method: "DELETE",
    path: "/api/users/{handle}/block",
    fn: "unblock-user",
    pattern: "blocks",
    auth: true,
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:DeleteItem"], cognito: [] },
  },
  {
    method: "GET",
    path: "/api/users/me/blocks",
    fn: "list-blocks",
    pattern: "blocks",
    auth: true,
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:Query"], cognito: [] },
  },
] as const;

/**
 * The Cognito user pool triggers (Lambda functions the pool invokes, not routes): the
 * pre-sign-up trigger validates the handle and display name and claims the handle; the
 * post-confirmation trigger activates the profile. Neither calls Cognito.
 */
export const TRIGGER_FUNCTIONS: readonly {
  fn: string;
  /** The `TriggerFunctions` key of cognito-local and the `UserPoolOperation` of the CDK. */
  trigger: "PreSignUp" | "PostConfirmation";
  permissions: FunctionPermissions;
}[] = [
  { fn: "pre-sign-up", trigger: "PreSignUp", permissions: { dynamodb: ["dynamodb:PutItem"], cognito: [] } },
  {
    fn: "post-confirmation",
    trigger: "PostConfirmation",
    permissions: { dynamodb: ["dynamodb:GetItem", "dynamodb:PutItem"], cognito: [] },
  },
];

/**
 * The stream-triggered fan-out function (pattern E): moves the GRP rows by conditional updates
 * of the message group item, conditional puts and batched deletes of GRP rows (no transaction).
 * Reading the stream and sending to the on-failure queue are granted by the event source.
 */
export const FAN_OUT_FUNCTION: { fn: string; permissions: FunctionPermissions } = {
  fn: "fan-out-messages",
  permissions: {
    // A summary move without a transaction (shared/fan-out.ts): UpdateItem of the group item (it
    // answers with the item, so no GetItem), PutItem of the new GRP rows, BatchWriteItem deletes.
    dynamodb: ["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"],
    cognito: [],
  },
};

/**
 * The stream-triggered real-time publish function (AppSync Events): reads the message group item
 * (its members' channels), then publishes over HTTPS. `appsync:EventPublish` on the stack's Event
 * API is granted by the construct that makes the API; reading the stream by the event source.
 */
export const PUBLISH_FUNCTION: { fn: string; permissions: FunctionPermissions } = {
  fn: "publish-events",
  permissions: { dynamodb: ["dynamodb:GetItem"], cognito: [] },
};

/** The functions on the table's stream, each on its own event-source mapping: fan-out, then publish. */
export const STREAM_FUNCTIONS: readonly { fn: string; permissions: FunctionPermissions }[] = [
  FAN_OUT_FUNCTION,
  PUBLISH_FUNCTION,
];

/**
 * Entry names of every function of the stack: the route functions, the stream functions (fan-out,
 * publish), then the triggers.
 */
export const FUNCTION_NAMES: readonly string[] = [
  ...new Set(ROUTES.map((r) => r.fn)),
  ...STREAM_FUNCTIONS.map((s) => s.fn),
  ...TRIGGER_FUNCTIONS.map((t) => t.fn),
];

/**
 * True when `fn` serves a public route (`auth: false`): its function answers with the public
 * cache policy (`responseHeaders` of `shared/api-contract.ts`).
 */
export function isPublicRouteFunction(fn: string): boolean {
  return ROUTES.some((r) => r.fn === fn && !r.auth);
}
