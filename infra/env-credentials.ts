/**
 * What a Lambda bundle gets in place of `@aws-sdk/credential-provider-node` (an esbuild alias,
 * {@link SDK_ALIASES} of infra/bundling.ts): the SDK's own environment provider,
 * `@aws-sdk/credential-provider-env`. A Lambda function's credentials are always in its
 * environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: "Defined
 * runtime environment variables", AWS Lambda developer guide), so the default chain's other
 * providers (SSO, INI files, process, web identity, container and instance metadata, with the
 * STS/SSO clients they bring, about 200 KiB minified) never run there. The local stack and the
 * tests run from source and keep the default chain.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";

/**
 * The `defaultProvider` export the SDK clients' runtime config imports from
 * `@aws-sdk/credential-provider-node`, as the environment provider.
 * @param init the options the client passes (its logger among them); only `logger` is used.
 * @returns a credential provider that reads the environment on each call and rejects with the
 *   SDK's `CredentialsProviderError` when `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY` is unset.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
