/**
 * The one factory of the SDK clients that talk to the local services (DynamoDB Local, its
 * streams, cognito-local): each is pointed at a local endpoint and signs with the local
 * credentials, so that every client of one stack sees the same DynamoDB Local database (it keeps
 * one per access key and region).
 */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** Region of the local services unless told otherwise. */
export const DEFAULT_REGION = "us-east-1";

/**
 * The one access key of every local client. DynamoDB Local keeps one database per access key and
 * region, so the stack, the in-process handlers and `npm run token` must all use the same one.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** Where a local client connects. */
export interface LocalClientOptions {
  /** URL of the local service, e.g. `http://localhost:8000` (a `LocalStack`'s `dynamodbEndpoint`). */
  endpoint: string;
  /** Region (default {@link DEFAULT_REGION}); DynamoDB Local keeps one database per region. */
  region?: string | undefined;
  /**
   * Attempts per call, the first included (default: the SDK's, 3). `1` for probes that must fail
   * fast while a port is still closed.
   */
  maxAttempts?: number | undefined;
}

/** The client configuration shared by every local client. */
function localConfig(options: LocalClientOptions) {
  return {
    endpoint: options.endpoint,
    region: options.region ?? DEFAULT_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
}

/** A DynamoDB client of DynamoDB Local. Destroy it after use. */
export function localDynamoDbClient(options: LocalClientOptions): DynamoDBClient {
  return new DynamoDBClient(localConfig(options));
}

/**
 * A DocumentClient of DynamoDB Local, marshalling as `shared/clients.ts` configures the
 * functions' client (`removeUndefinedValues`). Destroying it destroys its DynamoDB client.
 */
export function localDocumentClient(options: LocalClientOptions): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(localDynamoDbClient(options), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** A DynamoDB Streams client of DynamoDB Local (same endpoint as the table). Destroy it after use. */
export function localStreamsClient(options: LocalClientOptions): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient(localConfig(options));
}

/** A Cognito user pools client of cognito-local. Destroy it after use. */
export function localCognitoClient(options: LocalClientOptions): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient(localConfig(options));
}
