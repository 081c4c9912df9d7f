/**
 * The one place that turns any error of an operator command into what an operator reads: what is
 * wrong and what to do about it, never a stack trace (unless `--debug`). The error classes the
 * commands throw live in `ops-errors.ts`, which imports nothing of `bin/` (so that `target.ts` can
 * throw them while this module reads the `Target` type).
 */
import { CONFIG_ENV } from "../../shared/config";
import { OpsError } from "./ops-errors";
import type { Target } from "./target";

/** What the operator is told about an error: `message` (what is wrong) and `hint` (what to do). */
export interface Explanation {
  message: string;
  hint: string | undefined;
}

/** Network error codes of Node (and of the AWS SDK's HTTP handler) meaning "nothing answers there". */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** The `code` of an error, looking into an AggregateError (Node tries ::1 and 127.0.0.1 for localhost). */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof code === "string") return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const c = errorCode(inner);
      if (c !== undefined) return c;
    }
  }
  return cause === undefined ? undefined : errorCode(cause);
}

/** True when `error` means the endpoint did not answer (refused, unknown host, timeout). */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "RequestTimeout");
}

/** The command an operator types, e.g. `npm run ddb -- schema-load` (with `--prod` for the cloud). */
export function commandLine(target: Pick<Target, "kind"> | undefined, program: string, args: string): string {
  return `npm run ${program} -- ${args}${target?.kind === "cloud" ? " --prod" : ""}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Explains an error for the operator.
 * @param target where the command ran, when it got that far (locally, unreachable endpoints mean
 *   the local stack is not running; in the cloud, they mean a network or region problem).
 */
export function explainError(error: unknown, target: Target | undefined): Explanation {
  if (error instanceof OpsError) return { message: error.message, hint: error.hint };
  const name = error instanceof Error ? error.name : "";
  const local = target?.kind === "local";

  if (isConnectionError(error)) {
    return local
      ? {
          message: `the local stack does not answer (DynamoDB Local ${target.dynamodbEndpoint}, cognito-local ${target.cognitoEndpoint})`,
          hint: "start it with `npm start` (a stale .local/stack.json is left when it was killed)",
        }
      : { message: `AWS did not answer: ${message(error)}`, hint: "check the network and the region (--region)" };
  }
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message(error))) {
    return {
      message: "no AWS credentials found",
      hint: "configure the default credential chain (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    };
  }
  if (/Region is missing/i.test(message(error))) {
    return {
      message: "no AWS region configured",
      hint: "set AWS_REGION (or a region in your AWS profile), or pass --region",
    };
  }
  if (
    ["UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "ExpiredToken"].includes(name)
  ) {
    return {
      message: `AWS refused the credentials (${name}): ${message(error)}`,
      hint: "refresh them (e.g. `aws sso login`) or pick another profile (AWS_PROFILE)",
    };
  }
  if (name === "AccessDeniedException" || name === "NotAuthorizedException") {
    return { message: `not allowed: ${message(error)}`, hint: "use credentials whose IAM policy allows this action" };
  }
  if (name === "ResourceNotFoundException") {
    // DynamoDB: "Requested resource not found" / "Cannot do operations on a non-existent table";
    // Cognito: "User pool <id> does not exist."
    if (/pool/i.test(message(error))) {
      return local
        ? {
            message: `the user pool ${target.userPoolId} does not exist on cognito-local`,
            hint: "the local stack was restarted since .local/stack.json was written: restart it with `npm start`",
          }
        : {
            message: `user pool ${target?.userPoolId ?? ""} not found: ${message(error)}`,
            hint: `pass the stack output UserPoolId with --user-pool-id (or ${CONFIG_ENV.userPoolId}) and check the region`,
          };
    }
    return {
      message: `table "${target?.tableName ?? "?"}" does not exist${local ? " in the local stack" : ""}`,
      hint: `create it with \`${commandLine(target, "ddb", "schema-load")}\`${local ? "" : `, or name the right one with --table (or ${CONFIG_ENV.tableName})`}`,
    };
  }
  if (["ProvisionedThroughputExceededException", "ThrottlingException", "TooManyRequestsException"].includes(name)) {
    return { message: `throttled by AWS (${name}) after the SDK's retries`, hint: "run the command again in a moment" };
  }
  const service = error instanceof Error && "$metadata" in error;
  return {
    message: `${service ? "AWS answered" : "unexpected error"}: ${name ? `${name}: ` : ""}${message(error)}`,
    hint: "run again with --debug for details",
  };
}
