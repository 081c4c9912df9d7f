/**
 * The typed TypeScript client of cruddur-messages: the HTTP API (`CruddurClient`), Cognito
 * sign-in over fetch, and the real-time subscription (`subscribeToUser`). ESM, no Node-only API
 * (checked by `tsconfig.web.json`, which compiles it with the DOM library and no Node types).
 * See README "Typed client".
 */
export {
  type CallOptions,
  type ClientOptions,
  CruddurClient,
  IDEMPOTENCY_KEY_HEADER,
  NEXT_CURSOR_HEADER,
  type RetryOptions,
  type SendOptions,
} from "./api";
export { type CognitoTarget, cognitoCall, refreshTokens, signInWithPassword, type Tokens, tokenSubject } from "./auth";
export { backoffDelay } from "./backoff";
export { ApiError, AuthError, errorCodesOf, NetworkError } from "./errors";
export { OPERATIONS, type OperationId, operationPath } from "./operations";
export {
  type EventOrigin,
  type RealtimeOptions,
  type RealtimeStatus,
  RealtimeSubscription,
  subscribeToUser,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./realtime";
export { signInWithSrp } from "./srp";
export type * from "./types";
