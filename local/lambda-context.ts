/** The Lambda `Context` the emulated invocations pass to a handler. */
import type { Context } from "aws-lambda";

/** Timeout the context reports, ms (the local stack does not enforce it). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** The ARN of a local function, as the emulated invocations report it (account 000000000000). */
export const localFunctionArn = (region: string, functionName: string): string =>
  `arn:aws:lambda:${region}:000000000000:function:${functionName}`;

/**
 * A Lambda context for one invocation of `functionName`.
 * @param requestId the invocation's request id (`awsRequestId`).
 * @param region used in the function ARN.
 */
export function lambdaContext(functionName: string, requestId: string, region: string): Context {
  const deadline = Date.now() + DEFAULT_TIMEOUT_MS;
  const unsupported = () => {
    throw new Error("callback-style completion is not supported: return a promise");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: localFunctionArn(region, functionName),
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
