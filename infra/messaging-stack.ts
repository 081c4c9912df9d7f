/**
 * The whole cruddur-messages backend in one stack: the table, the network, the user pool and its
 * sign-up triggers, one function per route behind the HTTP API, the stream fan-out, and what
 * operators need to run it.
 * Built from the shared definitions (`shared/table.ts`, `shared/routes.ts`, `shared/stream.ts`,
 * `shared/user-pool.ts`) and from the validated context options (`infra/context.ts`).
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token } from "aws-cdk-lib";
import {
  type Attribute,
  AttributeType,
  BillingMode,
  type ITable,
  ProjectionType,
  StreamViewType,
  Table,
} from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { CONFIG_ENV, configEnv } from "../shared/config";
import {
  FAN_OUT_FUNCTION,
  type FunctionPermissions,
  PUBLISH_FUNCTION,
  ROUTES,
  TRIGGER_FUNCTIONS,
} from "../shared/routes";
import { createTableInput, GSI, PARTITION_KEY, SORT_KEY, STREAM_VIEW_TYPE, TTL_ATTRIBUTE } from "../shared/table";
import { FanOut } from "./constructs/fan-out";
import { MessagesApi } from "./constructs/http-api";
import { Identity } from "./constructs/identity";
import { MessagingFunction } from "./constructs/messaging-function";
import { Network } from "./constructs/network";
import { Operations } from "./constructs/operations";
import { Realtime } from "./constructs/realtime";
import { ContextError, type StackSettings } from "./context";

export interface MessagingStackProps extends StackProps {
  settings: StackSettings;
}

/** DynamoDB attribute type letters of `createTableInput()` -> CDK attribute types. */
const ATTRIBUTE_TYPES: Record<string, AttributeType> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

/**
 * A key attribute with the type the shared CreateTable request declares for it, so the cloud
 * table and the local one cannot disagree.
 */
function keyAttribute(name: string): Attribute {
  const definition = createTableInput().AttributeDefinitions?.find((a) => a.AttributeName === name);
  const type = definition?.AttributeType === undefined ? undefined : ATTRIBUTE_TYPES[definition.AttributeType];
  if (type === undefined) throw new Error(`shared/table.ts declares no attribute type for key "${name}"`);
  return { name, type };
}

/**
 * Timeout of the trigger functions. Cognito waits 5 s for a trigger's answer, retries, and fails
 * the request after 3 unanswered attempts; the 5 s cannot be changed (Cognito developer guide,
 * "Customizing user pool workflows with Lambda triggers", Important considerations). A function
 * still running after that would only write for a request Cognito has already failed or retried.
 */
export const TRIGGER_TIMEOUT = Duration.seconds(5);

/**
 * The routes whose function releases handles (the rename, `pattern: "profile"`): they read
 * HANDLE_RESERVATION_DAYS, how long a handle its owner left stays reserved to them.
 */
export const RESERVING_PATTERNS: ReadonlySet<string> = new Set(["profile"]);

/** Route patterns whose function posts messages: they get the send limits (context `sendLimit*`, `newGroupLimitPerHour`). */
export const SENDING_PATTERNS: ReadonlySet<string> = new Set(["C+D"]);

/**
 * Functions that run outside the VPC although they read the table: they call an AWS endpoint the
 * VPC has no route or interface endpoint for (the publish function: AppSync Events).
 */
export const OUTSIDE_VPC_FUNCTIONS: ReadonlySet<string> = new Set([PUBLISH_FUNCTION.fn]);

/** The deployable backend. */
export class MessagingStack extends Stack {
  /** The table: created by the stack, or (context `tableStreamArn`) an existing one it only references. */
  readonly table: ITable;
  readonly identity: Identity;
  readonly network: Network | undefined;
  readonly routeFunctions: ReadonlyMap<string, MessagingFunction>;
  /** The Cognito trigger functions, by `fn` (TRIGGER_FUNCTIONS). */
  readonly triggerFunctions: ReadonlyMap<string, MessagingFunction>;
  readonly fanOut: FanOut;
  /** The Event API and the publish function (real-time delivery). */
  readonly realtime: Realtime;
  readonly api: MessagesApi;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.checkEnvironment(settings);

    // Table -------------------------------------------------------------------------------------
    this.table =
      settings.existingTable === undefined
        ? this.createTable(settings)
        : // An existing table (restored from a backup): referenced by name and stream, not managed.
          Table.fromTableAttributes(this, "Table", {
            tableName: settings.tableName,
            tableStreamArn: settings.existingTable.streamArn,
            globalIndexes: [GSI.indexName],
          });

    // Identity ----------------------------------------------------------------------------------
    this.identity = new Identity(this, "Identity", { settings: settings.userPool });
    const userPool = { userPoolId: this.identity.userPool.userPoolId, userPoolArn: this.identity.userPool.userPoolArn };

    // Network: only the functions that talk to DynamoDB run in the VPC, except the publish function,
    // which needs AppSync Events' public endpoint (the VPC has no route to the internet) -------
    const inVpc = [
      ...ROUTES.map((r) => r.permissions),
      FAN_OUT_FUNCTION.permissions,
      ...TRIGGER_FUNCTIONS.map((t) => t.permissions),
    ].filter((p) => MessagingFunction.talksToDynamoDb(p));
    this.network =
      settings.network.mode === "none"
        ? undefined
        : new Network(this, "Network", {
            settings: settings.network,
            table: this.table,
            userPool,
            dynamodbActions: inVpc.flatMap((p) => p.dynamodb),
            cognitoActions: inVpc.flatMap((p) => p.cognito),
            logRetention: settings.logRetention,
          });
    const placementFor = (permissions: FunctionPermissions) =>
      this.network !== undefined && MessagingFunction.talksToDynamoDb(permissions)
        ? this.network.placement()
        : undefined;

    // Functions and API -------------------------------------------------------------------------
    const routeFunctions = new Map<string, MessagingFunction>();
    for (const route of ROUTES) {
      if (routeFunctions.has(route.fn)) continue;
      routeFunctions.set(
        route.fn,
        new MessagingFunction(this, `Fn-${route.fn}`, {
          fn: route.fn,
          permissions: route.permissions,
          table: this.table,
          userPool,
          placement: placementFor(route.permissions),
          logRetention: settings.logRetention,
          description: `${route.method} ${route.path} (pattern ${route.pattern})`,
          ...(RESERVING_PATTERNS.has(route.pattern)
            ? { environment: { [CONFIG_ENV.handleReservationDays]: String(settings.handleReservationDays) } }
            : SENDING_PATTERNS.has(route.pattern)
              ? { environment: configEnv({ sendLimits: settings.sendLimits }) }
              : {}),
        }),
      );
    }
    this.routeFunctions = routeFunctions;

    // Cognito triggers: they take no user pool reference (the pool references them) ------------
    const triggerFunctions = new Map<string, MessagingFunction>();
    for (const trigger of TRIGGER_FUNCTIONS) {
      const f = new MessagingFunction(this, `Fn-${trigger.fn}`, {
        fn: trigger.fn,
        permissions: trigger.permissions,
        table: this.table,
        userPool,
        placement: placementFor(trigger.permissions),
        logRetention: settings.logRetention,
        timeout: TRIGGER_TIMEOUT,
        description: `Cognito ${trigger.trigger} trigger`,
      });
      this.identity.addTrigger(trigger.trigger, f.function);
      triggerFunctions.set(trigger.fn, f);
    }
    this.triggerFunctions = triggerFunctions;

    this.api = new MessagesApi(this, "Http", {
      routes: ROUTES,
      functions: new Map([...routeFunctions].map(([fn, f]) => [fn, f.function])),
      issuerUrl: this.identity.issuerUrl,
      audience: this.identity.userPoolClient.userPoolClientId,
      corsOrigins: settings.corsOrigins,
      throttle: settings.throttle,
      logRetention: settings.logRetention,
    });

    // Fan-out -----------------------------------------------------------------------------------
    this.fanOut = new FanOut(this, "FanOut", {
      table: this.table,
      userPool,
      placement: placementFor(FAN_OUT_FUNCTION.permissions),
      logRetention: settings.logRetention,
    });

    // Real-time: the Event API and the publish function, the stream's second consumer ----------
    this.realtime = new Realtime(this, "Realtime", {
      table: this.table,
      userPool: this.identity.userPool,
      userPoolClientId: this.identity.userPoolClient.userPoolClientId,
      functionUserPool: userPool,
      logRetention: settings.logRetention,
    });

    // Operations --------------------------------------------------------------------------------
    const watched = (fn: string, f: MessagingFunction) => ({ fn, function: f.function, logGroup: f.logGroup });
    this.operations = new Operations(this, "Operations", {
      api: this.api.api,
      accessLogGroup: this.api.accessLogGroup,
      routeFunctions: [...routeFunctions].map(([fn, f]) => watched(fn, f)),
      triggerFunctions: [...triggerFunctions].map(([fn, f]) => watched(fn, f)),
      fanOut: watched(FAN_OUT_FUNCTION.fn, this.fanOut.handler),
      publish: watched(PUBLISH_FUNCTION.fn, this.realtime.publisher),
      failureQueue: this.fanOut.failureQueue,
      alarmEmail: settings.alarmEmail,
    });

    // Outputs -----------------------------------------------------------------------------------
    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "Base URL of the HTTP API" });
    new CfnOutput(this, "Region", { value: this.region, description: "Region of the stack" });
    new CfnOutput(this, "TableName", { value: this.table.tableName, description: "DynamoDB table" });
    new CfnOutput(this, "UserPoolId", { value: this.identity.userPool.userPoolId, description: "Cognito user pool" });
    new CfnOutput(this, "UserPoolClientId", {
      value: this.identity.userPoolClient.userPoolClientId,
      description: "Cognito app client of the web frontend (no secret)",
    });
    for (const trigger of TRIGGER_FUNCTIONS) {
      const f = triggerFunctions.get(trigger.fn);
      if (f === undefined) continue;
      new CfnOutput(this, `${trigger.trigger}FunctionArn`, {
        value: f.function.functionArn,
        description: this.identity.created
          ? `Cognito ${trigger.trigger} trigger (attached to the pool by the stack)`
          : `Cognito ${trigger.trigger} trigger: attach it to the existing pool (docs/deploy.md, Existing user pool)`,
      });
    }
    new CfnOutput(this, "EventsHttpUrl", {
      value: this.realtime.httpUrl,
      description: "AppSync Events HTTP endpoint (POST <url>/event publishes; IAM only, the publish function)",
    });
    new CfnOutput(this, "EventsRealtimeUrl", {
      value: this.realtime.realtimeUrl,
      description: "AppSync Events WebSocket endpoint: clients subscribe to /users/<sub> with their access token",
    });
    new CfnOutput(this, "FanOutFailureQueueUrl", {
      value: this.fanOut.failureQueue.queueUrl,
      description: "On-failure queue of the stream fan-out",
    });
    new CfnOutput(this, "AlarmTopicArn", {
      value: this.operations.topic.topicArn,
      description: "SNS topic of every alarm: subscribe a pager, chat or e-mail to it (docs/operations.md, Alarms)",
    });
  }

  /** The table from the shared definition, with PITR, deletion protection, TTL and the stream; retained on stack deletion. */
  private createTable(settings: StackSettings): Table {
    const provisioned = settings.billing.mode === "provisioned" ? settings.billing : undefined;
    const table = new Table(this, "Table", {
      tableName: settings.tableName,
      partitionKey: keyAttribute(PARTITION_KEY),
      sortKey: keyAttribute(SORT_KEY),
      stream: StreamViewType[STREAM_VIEW_TYPE],
      // Expired sign-up claims and handle reservations (the code treats them as gone already).
      timeToLiveAttribute: TTL_ATTRIBUTE,
      billingMode: provisioned === undefined ? BillingMode.PAY_PER_REQUEST : BillingMode.PROVISIONED,
      ...(provisioned === undefined
        ? {}
        : { readCapacity: provisioned.readCapacity, writeCapacity: provisioned.writeCapacity }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    table.addGlobalSecondaryIndex({
      indexName: GSI.indexName,
      partitionKey: keyAttribute(GSI.partitionKey),
      sortKey: keyAttribute(GSI.sortKey),
      projectionType: ProjectionType[GSI.projection],
      ...(provisioned === undefined
        ? {}
        : { readCapacity: provisioned.readCapacity, writeCapacity: provisioned.writeCapacity }),
    });
    return table;
  }

  /** Fails fast on context options the target environment cannot honour. */
  private checkEnvironment(settings: StackSettings): void {
    const envKnown = !Token.isUnresolved(this.account) && !Token.isUnresolved(this.region);
    const existing = settings.existingTable;
    if (existing !== undefined && envKnown && (existing.region !== this.region || existing.account !== this.account)) {
      throw new ContextError(
        `Context option "tableStreamArn": the table is in ${existing.account}/${existing.region} but the stack ` +
          `deploys to ${this.account}/${this.region}; restore the table into the stack's account and region.`,
      );
    }
    if (settings.network.mode === "existing-vpc" && !envKnown) {
      throw new ContextError(
        `Context option "vpcId" needs the target account and region at synth time (the VPC is looked up): ` +
          "run cdk with AWS credentials, or set CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION.",
      );
    }
    if (
      settings.userPool.mode === "existing" &&
      !Token.isUnresolved(this.region) &&
      settings.userPool.region !== this.region
    ) {
      throw new ContextError(
        `Context option "userPoolId": the pool ${settings.userPool.userPoolId} is in ${settings.userPool.region} ` +
          `but the stack deploys to ${this.region}; the functions call Cognito in their own region.`,
      );
    }
  }
}
