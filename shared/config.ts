/**
 * Function configuration, read once from the environment at cold start. A missing required
 * variable throws at module load, so a misconfigured function fails its first invocation
 * loudly instead of answering with a half-working backend.
 *
 * | variable            | required | meaning                                                       |
 * |---------------------|----------|---------------------------------------------------------------|
 * | TABLE_NAME          | yes      | DynamoDB table (see `shared/table.ts`)                        |
 * | USER_POOL_ID        | rename   | Cognito user pool (PATCH /api/users/me keeps its attributes in step) |
 * | AWS_REGION          | yes      | set by Lambda; locally by the local stack                     |
 * | DYNAMODB_ENDPOINT   | no       | local only: DynamoDB Local URL                                |
 * | COGNITO_ENDPOINT    | no       | local only: cognito-local URL                                 |
 * | USER_CACHE_TTL_MS   | no       | user lookup cache TTL in ms (default 60000, 0 disables)       |
 * | HANDLE_RESERVATION_DAYS | no   | days a handle its owner left stays reserved to them (default 30) |
 * | SEND_LIMIT_PER_MINUTE | no     | messages a sender may post per minute, sustained (default 30; POST /api/messages) |
 * | SEND_LIMIT_BURST    | no       | messages a sender may post at once before the per-minute rate applies (default 10) |
 * | NEW_GROUP_LIMIT_PER_HOUR | no  | new conversations a sender may start per hour (default 10) |
 * | EVENTS_HTTP_URL     | publish  | AppSync Events HTTP endpoint, `https://<http domain>` (publish-events only; locally the emulator's) |
 */
/** Service name of every log line (Powertools `service`), unless `POWERTOOLS_SERVICE_NAME` says otherwise. */
export const SERVICE_NAME = "cruddur-messages";

/** Names of the environment variables the functions read (the CDK stack sets them from here). */
export const CONFIG_ENV = {
  tableName: "TABLE_NAME",
  region: "AWS_REGION",
  userPoolId: "USER_POOL_ID",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  cognitoEndpoint: "COGNITO_ENDPOINT",
  userCacheTtlMs: "USER_CACHE_TTL_MS",
  handleReservationDays: "HANDLE_RESERVATION_DAYS",
  eventsHttpUrl: "EVENTS_HTTP_URL",
  sendLimitPerMinute: "SEND_LIMIT_PER_MINUTE",
  sendLimitBurst: "SEND_LIMIT_BURST",
  newGroupLimitPerHour: "NEW_GROUP_LIMIT_PER_HOUR",
  serviceName: "POWERTOOLS_SERVICE_NAME",
  logLevel: "POWERTOOLS_LOG_LEVEL",
} as const;

export interface Config {
  tableName: string;
  region: string;
  dynamodbEndpoint: string | undefined;
  cognitoEndpoint: string | undefined;
  userPoolId: string | undefined;
  userCacheTtlMs: number;
  /** How long a handle its owner left stays reserved to them, ms. */
  handleReservationMs: number;
  /**
   * Base URL of the AppSync Events HTTP endpoint (`https://<http domain>`, no path; the publish
   * function POSTs to `<eventsHttpUrl>/event`). Only the publish function needs it.
   */
  eventsHttpUrl: string | undefined;
  /** Send limits per sender (POST /api/messages), `shared/send-limits.ts`. */
  sendLimits: SendLimitSettings;
}

/** The send limits of one sender (`shared/send-limits.ts`); all positive integers. */
export interface SendLimitSettings {
  /** Messages per minute, sustained. */
  messagesPerMinute: number;
  /** Messages that may be posted at once (the bucket's size), at least 1. */
  messageBurst: number;
  /** New conversations (pattern D creating a group) per hour; as many may be started at once. */
  newGroupsPerHour: number;
}

/** The send limits of the issue "Conversation controls": 30 a minute with a burst of 10, 10 new conversations an hour. */
export const DEFAULT_SEND_LIMITS: SendLimitSettings = { messagesPerMinute: 30, messageBurst: 10, newGroupsPerHour: 10 };

/** Thrown at cold start when the environment is incomplete or malformed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Milliseconds of a day: HANDLE_RESERVATION_DAYS is in days, {@link Config} in ms. */
const DAY_MS = 24 * 60 * 60 * 1000;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(`missing required environment variable ${name}`);
  }
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * Reads the configuration.
 * @param env environment to read (default `process.env`).
 * @throws ConfigError when TABLE_NAME or AWS_REGION is missing, USER_CACHE_TTL_MS or
 *   HANDLE_RESERVATION_DAYS is not a non-negative integer, or a send limit is not a positive integer.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nonNegative = (name: string, fallback: string, unit: string): number => {
    const text = optional(env, name) ?? fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigError(`${name} must be a non-negative integer (${unit}), got "${text}"`);
    }
    return value;
  };
  const userCacheTtlMs = nonNegative(CONFIG_ENV.userCacheTtlMs, "60000", "ms");
  const reservationDays = nonNegative(CONFIG_ENV.handleReservationDays, "30", "days");
  const positive = (name: string, fallback: number, unit: string): number => {
    const value = nonNegative(name, String(fallback), unit);
    if (value === 0) throw new ConfigError(`${name} must be a positive integer (${unit}), got "0"`);
    return value;
  };
  const sendLimits: SendLimitSettings = {
    messagesPerMinute: positive(CONFIG_ENV.sendLimitPerMinute, DEFAULT_SEND_LIMITS.messagesPerMinute, "messages"),
    messageBurst: positive(CONFIG_ENV.sendLimitBurst, DEFAULT_SEND_LIMITS.messageBurst, "messages"),
    newGroupsPerHour: positive(CONFIG_ENV.newGroupLimitPerHour, DEFAULT_SEND_LIMITS.newGroupsPerHour, "conversations"),
  };
  return {
    tableName: required(env, CONFIG_ENV.tableName),
    region: required(env, CONFIG_ENV.region),
    dynamodbEndpoint: optional(env, CONFIG_ENV.dynamodbEndpoint),
    cognitoEndpoint: optional(env, CONFIG_ENV.cognitoEndpoint),
    userPoolId: optional(env, CONFIG_ENV.userPoolId),
    userCacheTtlMs,
    handleReservationMs: reservationDays * DAY_MS,
    eventsHttpUrl: optional(env, CONFIG_ENV.eventsHttpUrl),
    sendLimits,
  };
}

/**
 * The inverse of {@link loadConfig}: the environment variables (names of {@link CONFIG_ENV})
 * that make a function read these settings, so that `loadConfig(configEnv(config))` equals
 * `config`. A setting that is not given (or `undefined`) is left out, so the function takes
 * {@link loadConfig}'s default for it (and a required one must come from elsewhere: the Lambda
 * runtime sets AWS_REGION, a reserved variable no function may set). USER_CACHE_TTL_MS is written
 * in ms, HANDLE_RESERVATION_DAYS in days. The Powertools variables (service name, log level) are
 * not part of {@link Config} and are not written.
 * @throws ConfigError when `userCacheTtlMs` is not a non-negative integer, or `handleReservationMs`
 *   is not a non-negative whole number of days: no variable could say it.
 */
export function configEnv(config: Partial<Config>): Record<string, string> {
  const env: Record<string, string> = {};
  const put = (name: string, value: string | undefined): void => {
    if (value !== undefined) env[name] = value;
  };
  put(CONFIG_ENV.tableName, config.tableName);
  put(CONFIG_ENV.region, config.region);
  put(CONFIG_ENV.dynamodbEndpoint, config.dynamodbEndpoint);
  put(CONFIG_ENV.cognitoEndpoint, config.cognitoEndpoint);
  put(CONFIG_ENV.userPoolId, config.userPoolId);
  put(CONFIG_ENV.eventsHttpUrl, config.eventsHttpUrl);
  if (config.sendLimits !== undefined) {
    for (const [name, value] of [
      [CONFIG_ENV.sendLimitPerMinute, config.sendLimits.messagesPerMinute],
      [CONFIG_ENV.sendLimitBurst, config.sendLimits.messageBurst],
      [CONFIG_ENV.newGroupLimitPerHour, config.sendLimits.newGroupsPerHour],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new ConfigError(`${name} must be a positive integer, got ${value}`);
      put(name, String(value));
    }
  }
  const ttl = config.userCacheTtlMs;
  if (ttl !== undefined) {
    if (!Number.isInteger(ttl) || ttl < 0) {
      throw new ConfigError(`userCacheTtlMs must be a non-negative integer (ms), got ${ttl}`);
    }
    put(CONFIG_ENV.userCacheTtlMs, String(ttl));
  }
  const reservationMs = config.handleReservationMs;
  if (reservationMs !== undefined) {
    const days = reservationMs / DAY_MS;
    if (!Number.isInteger(days) || days < 0) {
      throw new ConfigError(`handleReservationMs must be a whole number of days, got ${reservationMs}`);
    }
    put(CONFIG_ENV.handleReservationDays, String(days));
  }
  return env;
}

/**
 * The user pool id, for the functions that read users.
 * @throws ConfigError when USER_POOL_ID is not set.
 */
export function requireUserPoolId(config: Config): string {
  if (config.userPoolId === undefined) {
    throw new ConfigError(`missing required environment variable ${CONFIG_ENV.userPoolId}`);
  }
  return config.userPoolId;
}

/**
 * The AppSync Events HTTP endpoint, for the publish function: an absolute http(s) URL with no
 * path, query or trailing slash (`https://<id>.appsync-api.<region>.amazonaws.com`; locally
 * `http://127.0.0.1:<port>`).
 * @throws ConfigError when EVENTS_HTTP_URL is not set or is not such a URL.
 */
export function requireEventsHttpUrl(config: Config): string {
  const text = config.eventsHttpUrl;
  if (text === undefined) throw new ConfigError(`missing required environment variable ${CONFIG_ENV.eventsHttpUrl}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${CONFIG_ENV.eventsHttpUrl} must be an absolute http(s) URL, got "${text}"`);
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.pathname !== "/" ||
    url.search !== "" ||
    text.endsWith("/")
  ) {
    throw new ConfigError(`${CONFIG_ENV.eventsHttpUrl} must be an http(s) URL with no path, got "${text}"`);
  }
  return text;
}
