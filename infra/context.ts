/**
 * The one typed place where the CDK app reads its context options (`-c key=value` on the command
 * line, or the `context` block of `cdk.json`). Every option is validated here, at the start of
 * synthesis, so a typo fails fast with a message that names the option and the accepted values
 * instead of surfacing as a CloudFormation error half-way through a deployment.
 *
 * Documented, with examples, in `docs/deploy.md` ("Context options").
 */
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { DEFAULT_SEND_LIMITS, type SendLimitSettings } from "../shared/config";
import { TABLE_NAME } from "../shared/table";

/** Names of the context options, as typed after `-c`. */
export const CONTEXT_KEYS = [
  "tableName",
  "tableStreamArn",
  "billingMode",
  "readCapacity",
  "writeCapacity",
  "vpcId",
  "placeInVpc",
  "userPoolId",
  "userPoolClientId",
  "allowPasswordAuth",
  "handleReservationDays",
  "sendLimitPerMinute",
  "sendLimitBurst",
  "newGroupLimitPerHour",
  "corsOrigins",
  "throttleRateLimit",
  "throttleBurstLimit",
  "logRetentionDays",
  "alarmEmail",
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Defaults of the options that have one. */
export const CONTEXT_DEFAULTS = {
  billingMode: "on-demand",
  readCapacity: 5,
  writeCapacity: 5,
  placeInVpc: true,
  allowPasswordAuth: false,
  handleReservationDays: 30,
  sendLimitPerMinute: DEFAULT_SEND_LIMITS.messagesPerMinute,
  sendLimitBurst: DEFAULT_SEND_LIMITS.messageBurst,
  newGroupLimitPerHour: DEFAULT_SEND_LIMITS.newGroupsPerHour,
  corsOrigins: ["http://localhost:3000"],
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  logRetentionDays: RetentionDays.ONE_MONTH,
} as const;

/** How the table is billed. */
export type BillingSettings =
  | { mode: "on-demand" }
  | { mode: "provisioned"; readCapacity: number; writeCapacity: number };

/** Where the functions that talk to DynamoDB run. */
export type NetworkSettings =
  /** Not in a VPC: no VPC, no endpoints (cheapest). */
  | { mode: "none" }
  /** A new VPC with isolated subnets only, created by the stack. */
  | { mode: "new-vpc" }
  /** An existing VPC, found by id (a context lookup: needs credentials on first synth). */
  | { mode: "existing-vpc"; vpcId: string };

/** Which Cognito user pool the API trusts, and how its users sign in. */
export type UserPoolSettings =
  /**
   * A pool and web client created by the stack. The client signs in with SRP and refresh tokens
   * only; `allowPasswordAuth` adds the plain password flow (USER_PASSWORD_AUTH).
   */
  | { mode: "create"; allowPasswordAuth: boolean }
  /** An existing pool and client, which the stack trusts but never changes. */
  | { mode: "existing"; userPoolId: string; userPoolClientId: string; region: string };

/** Everything the stack reads from context, validated and with defaults applied. */
export interface StackSettings {
  tableName: string;
  /**
   * Set when the stack uses an existing table (`tableStreamArn`, e.g. one restored from a
   * point-in-time backup, docs/deploy.md "Restoring the table") instead of creating one: the
   * stream the fan-out reads, and the table's region and account (from the ARN).
   */
  existingTable: { streamArn: string; region: string; account: string } | undefined;
  billing: BillingSettings;
  network: NetworkSettings;
  userPool: UserPoolSettings;
  /**
   * Days a handle its owner left (by renaming) stays reserved to them: the rename function's
   * HANDLE_RESERVATION_DAYS (`shared/config.ts`). 0 frees it at once.
   */
  handleReservationDays: number;
  /** Send limits of POST /api/messages per sender (env of create-message, `shared/send-limits.ts`). */
  sendLimits: SendLimitSettings;
  /** Allowed CORS origins (`scheme://host[:port]`), or `["*"]`. */
  corsOrigins: string[];
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
  alarmEmail: string | undefined;
}

/** Thrown when a context option is malformed or contradicts another one. */
export class ContextError extends Error {
  override name = "ContextError";
}

type Lookup = (key: ContextKey) => unknown;

function fail(key: ContextKey, value: unknown, expected: string): never {
  throw new ContextError(
    `Invalid context option "${key}": ${JSON.stringify(value)} (expected ${expected}). ` +
      `Pass it as -c ${key}=<value> or in the "context" block of cdk.json; see docs/deploy.md.`,
  );
}

/** A string option: trimmed; absent, null and "" all mean "not set". */
function text(get: Lookup, key: ContextKey): string | undefined {
  const value = get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" && typeof value !== "number") fail(key, value, "a string");
  const trimmed = String(value).trim();
  return trimmed === "" ? undefined : trimmed;
}

function bool(get: Lookup, key: ContextKey, fallback: boolean): boolean {
  const value = get(key);
  if (value === undefined || value === null || value === "") return fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  return fail(key, value, "true or false");
}

function number(
  get: Lookup,
  key: ContextKey,
  fallback: number,
  check: { integer: boolean; min: number; max: number },
): number {
  const value = get(key);
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : Number.NaN;
  const kind = check.integer ? "an integer" : "a number";
  if (!Number.isFinite(n) || (check.integer && !Number.isInteger(n)) || n < check.min || n > check.max) {
    fail(key, value, `${kind} from ${check.min} to ${check.max}`);
  }
  return n;
}

/** DynamoDB table names: 3 to 255 of letters, digits, `_`, `-`, `.` (DynamoDB naming rules). */
const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
/**
 * A DynamoDB stream ARN, `arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>`
 * (the label is the stream's creation time, e.g. `2026-12-01T09:30:00.123`).
 */
const STREAM_ARN_PATTERN =
  /^arn:aws(?:-[a-z]+)*:dynamodb:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):table\/([A-Za-z0-9_.-]{3,255})\/stream\/(\S+)$/;
const VPC_ID_PATTERN = /^vpc-[0-9a-f]{8,17}$/;
/** `<region>_<id>`, e.g. `eu-west-1_AbCdEf123` (Cognito API reference, UserPoolIdType). */
const USER_POOL_ID_PATTERN = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/;
/** Cognito app client ids: `[\w+]+`, at most 128 characters (Cognito API reference, ClientIdType). */
const CLIENT_ID_PATTERN = /^[\w+]{1,128}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Retention values CloudWatch Logs accepts (a finite retention: "never expire" is not offered). */
const RETENTION_VALUES: readonly number[] = Object.values(RetentionDays).filter(
  (v): v is number => typeof v === "number" && v !== RetentionDays.INFINITE,
);

function parseOrigins(get: Lookup): string[] {
  const raw = get("corsOrigins");
  if (raw === undefined || raw === null || raw === "") return [...CONTEXT_DEFAULTS.corsOrigins];
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
      ? raw.split(",")
      : fail("corsOrigins", raw, "a list");
  const origins = items.map((o) => (typeof o === "string" ? o.trim() : "")).filter((o) => o !== "");
  const expected = 'comma-separated origins such as "https://app.example.com,http://localhost:3000", or "*"';
  if (origins.length === 0) fail("corsOrigins", raw, expected);
  if (origins.includes("*")) {
    if (origins.length > 1) fail("corsOrigins", raw, `"*" alone, or ${expected}`);
    return ["*"];
  }
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return fail("corsOrigins", origin, expected);
    }
    // An origin is scheme, host and port only: no path, not even a trailing slash.
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== origin) {
      fail("corsOrigins", origin, `${expected} (no path or trailing slash)`);
    }
  }
  return [...new Set(origins)];
}

function parseBilling(get: Lookup): BillingSettings {
  const mode = text(get, "billingMode") ?? CONTEXT_DEFAULTS.billingMode;
  const capacity = { integer: true, min: 1, max: 40_000 };
  if (mode === "on-demand") {
    for (const key of ["readCapacity", "writeCapacity"] as const) {
      if (text(get, key) !== undefined) fail(key, get(key), "no value unless billingMode=provisioned");
    }
    return { mode };
  }
  if (mode === "provisioned") {
    return {
      mode,
      readCapacity: number(get, "readCapacity", CONTEXT_DEFAULTS.readCapacity, capacity),
      writeCapacity: number(get, "writeCapacity", CONTEXT_DEFAULTS.writeCapacity, capacity),
    };
  }
  return fail("billingMode", mode, "on-demand or provisioned");
}

function parseNetwork(get: Lookup): NetworkSettings {
  const placeInVpc = bool(get, "placeInVpc", CONTEXT_DEFAULTS.placeInVpc);
  const vpcId = text(get, "vpcId");
  if (vpcId !== undefined && !VPC_ID_PATTERN.test(vpcId))
    fail("vpcId", vpcId, "a VPC id such as vpc-0123456789abcdef0");
  if (!placeInVpc) {
    if (vpcId !== undefined) fail("vpcId", vpcId, "no value when placeInVpc=false (the functions would not use it)");
    return { mode: "none" };
  }
  return vpcId === undefined ? { mode: "new-vpc" } : { mode: "existing-vpc", vpcId };
}

function parseUserPool(get: Lookup): UserPoolSettings {
  const userPoolId = text(get, "userPoolId");
  const userPoolClientId = text(get, "userPoolClientId");
  const allowPasswordAuth = bool(get, "allowPasswordAuth", CONTEXT_DEFAULTS.allowPasswordAuth);
  if (userPoolId === undefined && userPoolClientId === undefined) return { mode: "create", allowPasswordAuth };
  if (userPoolId === undefined) fail("userPoolId", userPoolId, "a user pool id as well, since userPoolClientId is set");
  if (userPoolClientId === undefined) {
    fail("userPoolClientId", userPoolClientId, "an app client id as well, since userPoolId is set");
  }
  const region = USER_POOL_ID_PATTERN.exec(userPoolId)?.[1];
  if (region === undefined) fail("userPoolId", userPoolId, "a user pool id such as eu-west-1_AbCdEf123");
  if (!CLIENT_ID_PATTERN.test(userPoolClientId)) fail("userPoolClientId", userPoolClientId, "an app client id");
  // The stack never changes an existing pool's client, so it could not honour the option.
  if (allowPasswordAuth) {
    fail(
      "allowPasswordAuth",
      get("allowPasswordAuth"),
      "false or no value with userPoolId: the stack does not change an existing app client",
    );
  }
  return { mode: "existing", userPoolId, userPoolClientId, region };
}

/**
 * Validates the context options and applies defaults.
 * @param get reads one raw context value (a string from `-c`, any JSON value from cdk.json).
 * @throws ContextError naming the first bad option and what it accepts.
 */
export function parseSettings(get: Lookup): StackSettings {
  const streamArn = text(get, "tableStreamArn");
  const stream = streamArn === undefined ? undefined : STREAM_ARN_PATTERN.exec(streamArn);
  if (stream === null) {
    fail("tableStreamArn", streamArn, "a DynamoDB stream ARN (describe-table ... --query Table.LatestStreamArn)");
  }
  const tableName = text(get, "tableName") ?? stream?.[3] ?? TABLE_NAME;
  if (!TABLE_NAME_PATTERN.test(tableName)) fail("tableName", tableName, "3-255 letters, digits, '_', '-' or '.'");
  let existingTable: StackSettings["existingTable"];
  if (stream !== undefined) {
    if (stream[3] !== tableName) {
      fail("tableStreamArn", streamArn, `the stream of the table ${tableName} (tableName), not of ${stream[3]}`);
    }
    // The stack does not manage an existing table: it could not honour its billing options.
    for (const key of ["billingMode", "readCapacity", "writeCapacity"] as const) {
      if (text(get, key) !== undefined)
        fail(key, get(key), "no value with tableStreamArn (the stack does not manage that table)");
    }
    existingTable = { streamArn: streamArn as string, region: stream[1] as string, account: stream[2] as string };
  }

  const rateLimit = number(get, "throttleRateLimit", CONTEXT_DEFAULTS.throttleRateLimit, {
    integer: false,
    min: 1,
    max: 10_000,
  });
  const burstLimit = number(get, "throttleBurstLimit", CONTEXT_DEFAULTS.throttleBurstLimit, {
    integer: true,
    min: 1,
    max: 5_000,
  });

  const retention = number(get, "logRetentionDays", CONTEXT_DEFAULTS.logRetentionDays, {
    integer: true,
    min: 1,
    max: 3653,
  });
  if (!RETENTION_VALUES.includes(retention))
    fail("logRetentionDays", retention, `one of ${RETENTION_VALUES.join(", ")}`);

  // HANDLE_RESERVATION_DAYS accepts any non-negative integer; ten years is a sanity bound.
  const handleReservationDays = number(get, "handleReservationDays", CONTEXT_DEFAULTS.handleReservationDays, {
    integer: true,
    min: 0,
    max: 3650,
  });

  // Positive integers; the bounds only catch typos (a million a minute is no limit at all).
  const limit = { integer: true, min: 1, max: 1_000_000 };
  const sendLimits: SendLimitSettings = {
    messagesPerMinute: number(get, "sendLimitPerMinute", CONTEXT_DEFAULTS.sendLimitPerMinute, limit),
    messageBurst: number(get, "sendLimitBurst", CONTEXT_DEFAULTS.sendLimitBurst, limit),
    newGroupsPerHour: number(get, "newGroupLimitPerHour", CONTEXT_DEFAULTS.newGroupLimitPerHour, limit),
  };

  const alarmEmail = text(get, "alarmEmail");
  if (alarmEmail !== undefined && !EMAIL_PATTERN.test(alarmEmail)) fail("alarmEmail", alarmEmail, "an e-mail address");

  return {
    tableName,
    existingTable,
    billing: parseBilling(get),
    network: parseNetwork(get),
    userPool: parseUserPool(get),
    handleReservationDays,
    sendLimits,
    corsOrigins: parseOrigins(get),
    throttle: { rateLimit, burstLimit },
    logRetention: retention as RetentionDays,
    alarmEmail,
  };
}

/**
 * Reads and validates the context options of an app (or any construct's tree).
 * @throws ContextError on the first bad option.
 */
export function readSettings(node: Node): StackSettings {
  return parseSettings((key) => node.tryGetContext(key));
}
