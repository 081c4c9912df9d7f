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
import { memoize } from "@smithy/core/config";
import type { AwsCredentialIdentity } from "@smithy/types";

/** Five minutes, ms: the default chain's margin before an expiration (`credentialsTreatedAsExpired`). */
const EXPIRY_MARGIN_MS = 300_000;

/**
 * The `defaultProvider` export the SDK clients' runtime config imports from
 * `@aws-sdk/credential-provider-node`, as the environment provider, memoized as the default chain
 * memoizes its answer: the client does not memoize a `credentialDefaultProvider` itself
 * (`normalizeCredentialProvider` of `@aws-sdk/core`), so without this every request read the six
 * environment variables again. Credentials without an expiration are kept for the container's
 * life (Lambda's are); with one, they are read again 5 minutes before it.
 * @param init the options the client passes (its logger among them); only `logger` is used.
 * @returns a credential provider that reads the environment once and rejects (not remembered)
 *   with the SDK's `CredentialsProviderError` when `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY`
 *   is unset.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) =>
  memoize<AwsCredentialIdentity>(
    fromEnv(init),
    (c) => c.expiration !== undefined && c.expiration.getTime() - Date.now() < EXPIRY_MARGIN_MS,
    (c) => c.expiration !== undefined,
  );
