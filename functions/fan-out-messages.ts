/**
 * The stream-triggered fan-out (pattern E): for each message group in a batch of MSG row
 * INSERTs, moves both members' GRP rows to the newest message. Answers a partial batch response
 * (Powertools BatchProcessor) so one failing group does not fail the rest of the batch.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { createDocumentClient } from "../shared/clients";
import { loadConfig } from "../shared/config";
import { createBatchFanOut } from "../shared/fan-out";
import { logger } from "../shared/logger";

const config = loadConfig();
const deps = { ddb: createDocumentClient(config), tableName: config.tableName };
const processor = new BatchProcessor(EventType.DynamoDBStreams);

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logger.addContext(context);
  const started = performance.now();
  const recordHandler = createBatchFanOut(deps, event.Records, (result) => {
    const fields = {
      message_group_uuid: result.messageGroupUuid,
      message_uuid: result.messageUuid,
      records: result.records,
    };
    if (result.error === undefined) logger.info("fan-out group", { ...fields, outcome: result.outcome });
    else logger.error("fan-out group failed", { ...fields, error: result.error as Error });
  });
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  logger.info("fan-out batch", {
    records: event.Records.length,
    failures: response.batchItemFailures.length,
    duration_ms: Math.round(performance.now() - started),
  });
  return response;
}
