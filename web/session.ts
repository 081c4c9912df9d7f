/**
 * The web app's configuration (`/config.json`, written by the server that serves the app) and the
 * signed-in session (the Cognito tokens in `localStorage`, so a reload keeps the user signed in;
 * the access token refreshed a minute before it expires).
 */
import { type CognitoTarget, refreshTokens, signInWithPassword, signInWithSrp, type Tokens } from "../client/index";

/** `/config.json`: see `WebConfig` of `local/web-server.ts` (the same shape). */
export interface AppConfig {
  apiUrl: string;
  cognito: {
    endpoint?: string;
    region: string;
    userPoolId: string;
    userPoolClientId: string;
    auth: "password" | "srp";
  };
  events: { realtimeUrl: string; httpHost: string };
  seededHandles?: string[];
}

/** A signed-in user: the tokens and the handle typed at sign-in. */
export interface Session extends Tokens {
  username: string;
}

const STORAGE_KEY = "cruddur-messages.session";

/** Reads `/config.json`. @throws Error when it cannot be read. */
export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return (await response.json()) as AppConfig;
}

export const cognitoTarget = (config: AppConfig): CognitoTarget => ({
  cognitoEndpoint: config.cognito.endpoint,
  region: config.cognito.region,
  userPoolClientId: config.cognito.userPoolClientId,
});

/** The stored session, or undefined. */
export function storedSession(): Session | undefined {
  try {
    const text = localStorage.getItem(STORAGE_KEY);
    return text === null ? undefined : (JSON.parse(text) as Session);
  } catch {
    return undefined;
  }
}

export function storeSession(session: Session | undefined): void {
  if (session === undefined) localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/**
 * Signs in and stores the session: `USER_PASSWORD_AUTH` against cognito-local (`auth: "password"`),
 * SRP against a Cognito user pool (`auth: "srp"`, the cloud web client's only flow).
 * @throws AuthError from Cognito.
 */
export async function signIn(config: AppConfig, username: string, password: string): Promise<Session> {
  const target = cognitoTarget(config);
  const tokens =
    config.cognito.auth === "srp"
      ? await signInWithSrp({ ...target, userPoolId: config.cognito.userPoolId }, username, password)
      : await signInWithPassword(target, username, password);
  const session = { ...tokens, username };
  storeSession(session);
  return session;
}

/**
 * The session's access token, refreshed (and stored) when it expires within a minute.
 * @throws AuthError when the refresh is refused (the user must sign in again).
 */
export async function freshAccessToken(config: AppConfig, session: Session): Promise<string> {
  if (session.expiresAt - 60_000 > Date.now() || session.refreshToken === undefined) return session.accessToken;
  const tokens = await refreshTokens(cognitoTarget(config), session.refreshToken);
  Object.assign(session, tokens);
  storeSession(session);
  return session.accessToken;
}
