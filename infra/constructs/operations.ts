/**
 * What an operator needs to run the backend: alarms (on-failure queue not empty, stream iterator
 * age of both stream consumers, real-time events not delivered, function errors and throttles,
 * the sign-up triggers' included, API 5xx), the encrypted SNS topic every alarm notifies (always
 * created, so that somebody can be told: an e-mail subscription with `alarmEmail`, any other
 * subscriber by its ARN, output `AlarmTopicArn`), a CloudWatch dashboard for the API, the
 * fan-out, real-time push and the triggers, and saved Logs Insights queries. Each alarm has a
 * runbook entry in docs/operations.md ("Alarms"), under its construct id.
 */
import { Duration, Stack } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { type ILogGroup, QueryDefinition, QueryString } from "aws-cdk-lib/aws-logs";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { SERVICE_NAME } from "../../shared/config";
import { PUBLISH_METRICS } from "../../shared/publish-events";

/** The fan-out is late when its oldest record waits longer than this (ms), for two minutes running. */
export const ITERATOR_AGE_ALARM_MS = 60_000;
/**
 * Real-time pushes are late when the publish mapping's oldest record waits longer than this (ms),
 * for two minutes running: well before PUBLISH_DELIVERY.maxRecordAgeSeconds (120 s) discards them.
 */
export const PUBLISH_ITERATOR_AGE_ALARM_MS = 30_000;
/** The document with one runbook entry per alarm (heading anchors named by the alarms). */
export const RUNBOOK_DOC = "docs/operations.md";
/** A request is slow (saved query "slow-requests") above this latency (ms). */
export const SLOW_REQUEST_MS = 1_000;

/** A function to watch, by the name it has in the route table. */
export interface WatchedFunction {
  fn: string;
  function: IFunction;
  logGroup: ILogGroup;
}

export interface OperationsProps {
  api: HttpApi;
  accessLogGroup: ILogGroup;
  routeFunctions: readonly WatchedFunction[];
  /** The Cognito triggers: when they fail, sign-ups and confirmations fail. */
  triggerFunctions: readonly WatchedFunction[];
  fanOut: WatchedFunction;
  /** The real-time publish function (the stream's second consumer). */
  publish: WatchedFunction;
  failureQueue: IQueue;
  /** E-mail address subscribed to the alarm topic; no subscription when undefined (the topic is always there). */
  alarmEmail: string | undefined;
}

/** Alarms, alarm topic, dashboard and saved queries. */
export class Operations extends Construct {
  readonly alarms: Alarm[] = [];
  /** The runbook anchor (in {@link RUNBOOK_DOC}) of each alarm, by alarm construct id. */
  readonly runbooks = new Map<string, string>();
  /** The topic every alarm (and its return to OK) is published to. */
  readonly topic: Topic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const allFunctions = [...props.routeFunctions, props.fanOut, props.publish, ...props.triggerFunctions];

    // CloudWatch can publish to an encrypted topic only with a customer managed key whose policy
    // lets it use the key (the AWS managed alias/aws/sns key cannot grant that).
    const key = new Key(this, "AlarmTopicKey", {
      description: `${stackName} alarm topic encryption`,
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
    this.topic = new Topic(this, "AlarmTopic", {
      displayName: `${stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const fiveMinutes = Duration.minutes(5);
    const since = "--since 30m";
    this.addAlarm("FailureQueueNotEmpty", {
      metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: 0,
      evaluationPeriods: 1,
      description: "The fan-out gave up on stream records: the on-failure queue holds pointers to them.",
      runbook: "failurequeuenotempty",
      firstCommand:
        `aws sqs receive-message --queue-url ${props.failureQueue.queueUrl} ` +
        "--max-number-of-messages 10 --visibility-timeout 0",
    });
    this.addAlarm("FanOutIteratorAge", {
      metric: props.fanOut.function.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" }),
      threshold: ITERATOR_AGE_ALARM_MS,
      evaluationPeriods: 2,
      description: "The fan-out is falling behind the table's stream: message group summaries are late.",
      runbook: "fanoutiteratorage",
      firstCommand:
        `aws lambda list-event-source-mappings --function-name ${props.fanOut.function.functionName} ` +
        "--query 'EventSourceMappings[].[UUID,State,LastProcessingResult]'",
    });
    const eventsNotDelivered = this.publishMetric(PUBLISH_METRICS.eventsNotDelivered, props.publish, fiveMinutes);
    this.addAlarm("EventsNotDelivered", {
      metric: eventsNotDelivered,
      threshold: 0,
      evaluationPeriods: 1,
      description:
        "Real-time: events were not delivered to AppSync Events after the publish function's retries " +
        "(clients see those messages on their next read).",
      runbook: "eventsnotdelivered",
      firstCommand: `aws logs tail /aws/lambda/${props.publish.function.functionName} ${since} --filter-pattern ERROR`,
    });
    this.addAlarm("PublishIteratorAge", {
      metric: props.publish.function.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" }),
      threshold: PUBLISH_ITERATOR_AGE_ALARM_MS,
      evaluationPeriods: 2,
      description:
        "Real-time: the publish function is falling behind the table's stream; pushes are late, and records " +
        "older than 120 s are discarded unpublished.",
      runbook: "publishiteratorage",
      firstCommand:
        `aws lambda list-event-source-mappings --function-name ${props.publish.function.functionName} ` +
        "--query 'EventSourceMappings[].[UUID,State,LastProcessingResult]'",
    });
    for (const watched of allFunctions) {
      this.addAlarm(`${watched.fn}-errors`, {
        metric: watched.function.metricErrors({ period: fiveMinutes, statistic: "Sum" }),
        threshold: 0,
        evaluationPeriods: 1,
        description: `${watched.fn}: invocations failed (uncaught error, timeout or crash).`,
        runbook: "function-errors",
        firstCommand:
          `aws logs tail ${watched.logGroup.logGroupName} ${since} ` +
          `--filter-pattern '?ERROR ?"Task timed out" ?"Runtime.ExitError"'`,
      });
      this.addAlarm(`${watched.fn}-throttles`, {
        metric: watched.function.metricThrottles({ period: fiveMinutes, statistic: "Sum" }),
        threshold: 0,
        evaluationPeriods: 1,
        description: `${watched.fn}: invocations were throttled (account or function concurrency limit).`,
        runbook: "function-throttles",
        firstCommand: "aws lambda get-account-settings --query '[AccountLimit,AccountUsage]'",
      });
    }
    // The route functions turn their own errors into 500 answers, which Lambda does not count as
    // errors: the API's 5xx count is what shows them.
    this.addAlarm("Api5xx", {
      metric: props.api.metricServerError({ period: fiveMinutes, statistic: "Sum" }),
      threshold: 0,
      evaluationPeriods: 1,
      description: "The API answered 5xx (a function error or an integration failure).",
      runbook: "api5xx",
      firstCommand: `aws logs tail ${props.accessLogGroup.logGroupName} ${since} --filter-pattern '{ $.status >= 500 }'`,
    });

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: stackName,
      defaultInterval: Duration.hours(3),
    });
    const requests = props.api.metricCount({ period: fiveMinutes, statistic: "Sum", label: "requests" });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${stackName}\nHTTP API, stream fan-out and real-time push. Saved Logs Insights queries: \`${stackName}/…\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "API requests and errors",
        left: [
          requests,
          props.api.metricClientError({ period: fiveMinutes, statistic: "Sum", label: "4xx" }),
          props.api.metricServerError({ period: fiveMinutes, statistic: "Sum", label: "5xx" }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: "API latency (ms)",
        left: ["p50", "p90", "p99"].map((statistic) =>
          props.api.metricLatency({ period: fiveMinutes, statistic, label: `latency ${statistic}` }),
        ),
        right: [
          props.api.metricIntegrationLatency({ period: fiveMinutes, statistic: "p90", label: "integration p90" }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Fan-out invocations and errors",
        left: [
          props.fanOut.function.metricInvocations({ period: fiveMinutes, statistic: "Sum", label: "invocations" }),
          props.fanOut.function.metricErrors({ period: fiveMinutes, statistic: "Sum", label: "errors" }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: "Fan-out iterator age (ms)",
        left: [props.fanOut.function.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" })],
        leftAnnotations: [{ value: ITERATOR_AGE_ALARM_MS, label: "alarm" }],
        width: 8,
      }),
      new SingleValueWidget({
        title: "On-failure queue depth",
        metrics: [
          props.failureQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: "Maximum",
            label: "messages",
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Real-time events published and not delivered",
        left: [
          this.publishMetric(PUBLISH_METRICS.eventsPublished, props.publish, fiveMinutes, "published"),
          this.publishMetric(PUBLISH_METRICS.eventsNotDelivered, props.publish, fiveMinutes, "not delivered"),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: "Publish iterator age (ms)",
        left: [props.publish.function.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" })],
        leftAnnotations: [{ value: PUBLISH_ITERATOR_AGE_ALARM_MS, label: "alarm" }],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Route function errors and throttles",
        left: props.routeFunctions.map((w) =>
          w.function.metricErrors({ period: fiveMinutes, statistic: "Sum", label: `${w.fn} errors` }),
        ),
        right: props.routeFunctions.map((w) =>
          w.function.metricThrottles({ period: fiveMinutes, statistic: "Sum", label: `${w.fn} throttles` }),
        ),
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Sign-up trigger invocations, errors and throttles",
        left: props.triggerFunctions.flatMap((w) => [
          w.function.metricInvocations({ period: fiveMinutes, statistic: "Sum", label: `${w.fn} invocations` }),
          w.function.metricErrors({ period: fiveMinutes, statistic: "Sum", label: `${w.fn} errors` }),
        ]),
        right: props.triggerFunctions.map((w) =>
          w.function.metricThrottles({ period: fiveMinutes, statistic: "Sum", label: `${w.fn} throttles` }),
        ),
        width: 24,
      }),
    );

    new QueryDefinition(this, "ErrorsQuery", {
      queryDefinitionName: `${stackName}/errors`,
      logGroups: allFunctions.map((w) => w.logGroup),
      queryString: new QueryString({
        fields: ["@timestamp", "function_name", "level", "message", "error.name", "error.message", "route"],
        filterStatements: [
          'level in ["ERROR", "CRITICAL", "FATAL"] or record.status in ["error", "failure", "timeout"]',
        ],
        sort: "@timestamp desc",
        limit: 200,
      }),
    });
    new QueryDefinition(this, "SlowRequestsQuery", {
      queryDefinitionName: `${stackName}/slow-requests`,
      logGroups: [props.accessLogGroup],
      queryString: new QueryString({
        fields: ["@timestamp", "routeKey", "status", "responseLatency", "integrationLatency", "requestId"],
        filterStatements: [`responseLatency > ${SLOW_REQUEST_MS}`],
        sort: "responseLatency desc",
        limit: 100,
      }),
    });
    new QueryDefinition(this, "FanOutResultsQuery", {
      queryDefinitionName: `${stackName}/fan-out-results`,
      logGroups: [props.fanOut.logGroup],
      queryString: new QueryString({
        fields: [
          "@timestamp",
          "message",
          "records",
          "failures",
          "outcome",
          "message_group_uuid",
          "duration_ms",
          "error.message",
        ],
        filterStatements: ["ispresent(records)"],
        sort: "@timestamp desc",
        limit: 200,
      }),
    });
  }

  /**
   * A metric the publish function emits (embedded metric format: namespace
   * {@link PUBLISH_METRICS}, dimensions `service` and `function_name`), summed over `period`.
   */
  private publishMetric(name: string, publish: WatchedFunction, period: Duration, label?: string): Metric {
    return new Metric({
      namespace: PUBLISH_METRICS.namespace,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME, [PUBLISH_METRICS.functionDimension]: publish.function.functionName },
      statistic: "Sum",
      period,
      ...(label === undefined ? {} : { label }),
    });
  }

  /**
   * One alarm on the alarm topic (when it fires and when it returns to OK). Its name is
   * `<stack>-<id>`, and its description ends with the runbook entry (`docs/operations.md#<runbook>`,
   * see {@link RUNBOOK_DOC}) and the first command to run, so that the notification itself says
   * what to do.
   */
  private addAlarm(
    id: string,
    options: {
      metric: IMetric;
      threshold: number;
      evaluationPeriods: number;
      description: string;
      /** Anchor of the alarm's runbook entry in {@link RUNBOOK_DOC}. */
      runbook: string;
      firstCommand: string;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${Stack.of(this).stackName}-${id}`,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `${options.description} Runbook: ${RUNBOOK_DOC}#${options.runbook}. ` + `First: ${options.firstCommand}`,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    this.runbooks.set(id, options.runbook);
  }
}
