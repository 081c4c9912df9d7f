/**
 * One event-source mapping on the table's stream, from a delivery definition of
 * `shared/stream.ts` (`FAN_OUT_DELIVERY`, `PUBLISH_DELIVERY`): the same settings the local
 * poller applies, with the delivery's own filter. Each consumer gets its own mapping.
 */
import { Duration } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { FilterCriteria, StartingPosition } from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, type DynamoEventSourceProps } from "aws-cdk-lib/aws-lambda-event-sources";
import { lambdaFilterPatterns, type StreamDelivery } from "../../shared/stream";

/**
 * The event source of one stream consumer with `delivery`'s settings and filter;
 * `extra` adds what only that consumer has (an on-failure destination).
 */
export function streamEventSource(
  table: ITable,
  delivery: StreamDelivery,
  extra: Pick<DynamoEventSourceProps, "onFailure"> = {},
): DynamoEventSource {
  return new DynamoEventSource(table, {
    startingPosition: StartingPosition[delivery.startingPosition],
    batchSize: delivery.batchSize,
    maxBatchingWindow: Duration.seconds(delivery.maxBatchingWindowSeconds),
    bisectBatchOnError: delivery.bisectBatchOnError,
    retryAttempts: delivery.retryAttempts,
    maxRecordAge: Duration.seconds(delivery.maxRecordAgeSeconds),
    reportBatchItemFailures: delivery.reportBatchItemFailures,
    filters: lambdaFilterPatterns(delivery.filter).map((pattern) => FilterCriteria.filter(pattern)),
    ...extra,
  });
}
