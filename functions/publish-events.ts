/**
 * The stream-triggered real-time publish function: every MSG row INSERT of a batch becomes one
 * `message.new` event on each member's AppSync Events channel (`shared/publish-events.ts`). Its
 * own event-source mapping (PUBLISH_DELIVERY), apart from the fan-out's. Answers a partial batch
 * response (Powertools BatchProcessor): a record fails only when one of its events was not
 * accepted. Emits the metrics EventsPublished and EventsNotDelivered (embedded metric format).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { createDocumentClient } from "../shared/clients";
import { loadConfig, requireEventsHttpUrl, SERVICE_NAME } from "../shared/config";
import { createEventsPublisher } from "../shared/events-publisher";
import { logger } from "../shared/logger";
import { createBatchPublish, EventsNotDeliveredError, PUBLISH_METRICS } from "../shared/publish-events";

const config = loadConfig();
const deps = {
  ddb: createDocumentClient(config),
  tableName: config.tableName,
  publisher: createEventsPublisher({ httpUrl: requireEventsHttpUrl(config), region: config.region }),
};
const processor = new BatchProcessor(EventType.DynamoDBStreams);
const metrics = new Metrics({ namespace: PUBLISH_METRICS.namespace, serviceName: SERVICE_NAME });
let functionDimensionSet = false;

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logger.addContext(context);
  const started = performance.now();
  const batch = createBatchPublish(deps, event.Records);
  const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
    try {
      await batch.handler(record);
    } catch (error) {
      // Undelivered events are logged one by one below; anything else is logged here.
      if (!(error instanceof EventsNotDeliveredError)) {
        logger.error("publish record failed", {
          sequence_number: record.dynamodb?.SequenceNumber,
          error: error as Error,
        });
      }
      throw error;
    }
  };
  // A batch that fails entirely is answered like a partial one (every record listed), not thrown:
  // the mapping retries it the same way, and the metrics and log line below are still written.
  const response = await processPartialResponse(event, recordHandler, processor, {
    context,
    throwOnFullBatchFailure: false,
  });
  const report = batch.report();
  for (const lost of report.undelivered) logger.warn("event not delivered", { ...lost });
  // The function's name is the same for every invocation of a container: set it once.
  if (!functionDimensionSet) {
    metrics.setDefaultDimensions({ [PUBLISH_METRICS.functionDimension]: context.functionName });
    functionDimensionSet = true;
  }
  metrics.addMetric(PUBLISH_METRICS.eventsPublished, MetricUnit.Count, report.eventsPublished);
  metrics.addMetric(PUBLISH_METRICS.eventsNotDelivered, MetricUnit.Count, report.eventsNotDelivered);
  metrics.publishStoredMetrics();
  const fields = {
    records: report.records,
    messages: report.messages,
    events: report.events,
    requests: report.requests,
    events_published: report.eventsPublished,
    events_not_delivered: report.eventsNotDelivered,
    failures: response.batchItemFailures.length,
    duration_ms: Math.round(performance.now() - started),
  };
  if (response.batchItemFailures.length === 0) logger.info("publish batch", fields);
  else logger.error("publish batch failed in part", fields);
  return response;
}
