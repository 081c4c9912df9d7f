/**
 * Starts one DynamoDB Local (in memory, on a free port) for the integration tier and stops it
 * afterwards. Each test file creates its own uniquely named table on it. The clients of this
 * tier are given this endpoint explicitly, so no test can reach AWS.
 */
import "../../local/sdk-warning";
import type { TestProject } from "vitest/node";
import { startDynamoDbLocal, waitForDynamoDb } from "../../local/dynamodb-local";
import { freePort } from "../../local/free-port";
import { localDynamoDbClient } from "../../local/state";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dynamodb = await startDynamoDbLocal({ port });
  const client = localDynamoDbClient({ endpoint });
  try {
    await waitForDynamoDb(client, dynamodb);
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
  client.destroy();
  project.provide("dynamodbEndpoint", endpoint);
  return async () => {
    await dynamodb.stop();
  };
}
