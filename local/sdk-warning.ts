/**
 * The one place that turns off the AWS SDK's Node-version notice (the SDK publishes for Node 22+
 * from 2027; Node 20 is supported here, and the Lambda runtime is Node 22). Import it first, for
 * its side effect, in every entry point that runs in Node (`npm start`, `npm run token`, the
 * operator commands, the bench, the load test, the integration tier's global setup);
 * `vitest.config.ts` runs it as a setup file of every test worker, and `localFunctionEnv`
 * (local/function-env.ts) passes {@link SDK_WARNING_SWITCH} to functions run in other processes.
 * The SDK reads the switch when a client is constructed; a value set in the environment wins.
 */

/** The SDK's switch, as an environment entry that turns the notice off. */
export const SDK_WARNING_SWITCH = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } as const;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??=
  SDK_WARNING_SWITCH.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
