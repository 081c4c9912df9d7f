/**
 * The environment a function runs with locally: the same variables the CDK construct sets
 * (`configEnv` of shared/config.ts, the Powertools service name and log level), plus the local
 * credentials the SDK reads from the environment in place of a Lambda execution role. The local
 * stack, the bench and the tests build function environments only through this.
 */
import { CONFIG_ENV, type Config, configEnv, SERVICE_NAME } from "../shared/config";
import { LOCAL_CREDENTIALS } from "./clients";
import { SDK_WARNING_SWITCH } from "./sdk-warning";

/** What a local function environment says beyond its {@link Config}. */
export interface LocalFunctionEnvOptions {
  /** Powertools log level (`SILENT` for none); left to the function's default when omitted. */
  logLevel?: string | undefined;
}

/**
 * The function environment for `config` (names of {@link CONFIG_ENV}; what `config` leaves out
 * is left out, so `loadConfig` takes its default) plus POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_DISABLED (no CloudWatch locally), the log level when given, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of {@link LOCAL_CREDENTIALS}, and the
 * SDK's Node-version notice switch (local/sdk-warning.ts: locally, Node 20).
 * @throws ConfigError from `configEnv` when a setting cannot be written as a variable.
 */
export function localFunctionEnv(
  config: Partial<Config>,
  options: LocalFunctionEnvOptions = {},
): Record<string, string> {
  return {
    ...configEnv(config),
    [CONFIG_ENV.serviceName]: SERVICE_NAME,
    // No CloudWatch here: a function's metrics would only be raw EMF lines on stdout.
    POWERTOOLS_METRICS_DISABLED: "true",
    ...(options.logLevel === undefined ? {} : { [CONFIG_ENV.logLevel]: options.logLevel }),
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...SDK_WARNING_SWITCH,
  };
}
