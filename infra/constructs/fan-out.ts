/**
 * Pattern E in the cloud: FAN_OUT_FUNCTION on the table's stream, through an event-source
 * mapping that delivers only INSERTs of MSG rows (`shared/stream.ts`) with bounded retries,
 * bisection, partial batch responses and an encrypted on-failure queue.
 */
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { FAN_OUT_FUNCTION } from "../../shared/routes";
import { FAN_OUT_DELIVERY, FAN_OUT_TIMEOUT_SECONDS } from "../../shared/stream";
import { type FunctionPlacement, type FunctionUserPool, MessagingFunction } from "./messaging-function";
import { streamEventSource } from "./stream-mapping";

export interface FanOutProps {
  table: ITable;
  userPool: FunctionUserPool;
  placement?: FunctionPlacement | undefined;
  logRetention: RetentionDays;
}

/** The fan-out function, its stream event source and its on-failure queue. */
export class FanOut extends Construct {
  readonly handler: MessagingFunction;
  /** Receives a pointer (shard, sequence numbers) to each batch given up on. */
  readonly failureQueue: Queue;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);

    this.handler = new MessagingFunction(this, "Function", {
      fn: FAN_OUT_FUNCTION.fn,
      permissions: FAN_OUT_FUNCTION.permissions,
      table: props.table,
      userPool: props.userPool,
      placement: props.placement,
      logRetention: props.logRetention,
      // A batch of up to FAN_OUT_DELIVERY.batchSize records, one summary move per message group.
      timeout: Duration.seconds(FAN_OUT_TIMEOUT_SECONDS),
      description: "Stream fan-out of new messages to the message group summaries (pattern E)",
    });

    this.failureQueue = new Queue(this, "FailureQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.failureQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the on-failure destination of the stream event-source mapping. Nothing consumes " +
        "it automatically (an operator reads it, see docs/deploy.md), so a dead-letter queue behind it would " +
        "never receive anything; an alarm fires as soon as it holds a message.",
    });

    this.handler.function.addEventSource(
      streamEventSource(props.table, FAN_OUT_DELIVERY, { onFailure: new SqsDlq(this.failureQueue) }),
    );
    Validations.of(this.handler.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "The stream event source grants dynamodb:ListStreams, which supports no resource-level permission " +
        "(Service Authorization Reference, Amazon DynamoDB); in a VPC the role also holds the EC2 " +
        "network-interface actions Lambda needs, which have no resource-level scoping either. Everything " +
        "else on this role is scoped to the table, its stream, the log group or the failure queue.",
    });
  }
}
