/**
 * The cold start baseline, bundled like a function: a module that only creates the SDK client the
 * functions use (`shared/clients.ts`) and whose handler makes one DynamoDB call, the Query of
 * pattern B, for the caller of the event. Built twice (bench/cold-start.ts): as the SDK builds
 * it by default (the default credential chain and its STS/SSO clients in the bundle: issue 14's
 * baseline), and with the functions' `SDK_ALIASES` (environment credentials only).
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { grpPk } from "../shared/table";

const config = loadConfig();
const ddb = createDocumentClient(config);

/** One Query of the caller's GRP partition, newest first, 21 rows (a default page and one more). */
export async function handler(event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<{ statusCode: number }> {
  const sub = String(event.requestContext.authorizer.jwt.claims.sub);
  await ddb.send(
    new QueryCommand({
      TableName: config.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": grpPk(sub) },
      ScanIndexForward: false,
      Limit: 21,
    }),
  );
  return { statusCode: 200 };
}
