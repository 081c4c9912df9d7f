/**
 * AWS SDK v3 clients built from {@link Config}. Functions call these once at module scope so a
 * warm container reuses its connections.
 */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Config } from "./config";

/**
 * A DocumentClient for the table. `removeUndefinedValues` so optional fields can be left
 * undefined in item literals. Locally, `DYNAMODB_ENDPOINT` points it at DynamoDB Local.
 */
export function createDocumentClient(
  config: Config,
  client: DynamoDBClient = createDynamoDbClient(config),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The plain DynamoDB client under {@link createDocumentClient} (for libraries that send raw commands). */
export function createDynamoDbClient(config: Config): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
  });
}

/** A Cognito user pools client; locally, `COGNITO_ENDPOINT` points it at cognito-local. */
export function createCognitoClient(config: Config): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: config.region,
    ...(config.cognitoEndpoint === undefined ? {} : { endpoint: config.cognitoEndpoint }),
  });
}
