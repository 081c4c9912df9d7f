/**
 * The whole cruddur-messages backend in one stack: the table, the network, the user pool, one
 * function per route behind the HTTP API, the stream fan-out, and what operators need to run it.
 * Built from the shared definitions (`shared/table.ts`, `shared/routes.ts`, `shared/stream.ts`,
 * `shared/user-pool.ts`) and from the validated context options (`infra/context.ts`).
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Token } from "aws-cdk-lib";
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
} from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { FAN_OUT_FUNCTION, ROUTES } from "../shared/routes";
import { createTableInput, GSI, PARTITION_KEY, SORT_KEY, STREAM_VIEW_TYPE } from "../shared/table";
import { FanOut } from "./constructs/fan-out";
import { MessagesApi } from "./constructs/http-api";
import { Identity } from "./constructs/identity";
import { MessagingFunction } from "./constructs/messaging-function";
import { Network } from "./constructs/network";
import { Operations } from "./constructs/operations";
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

/** The deployable backend. */
export class MessagingStack extends Stack {
  readonly table: Table;
  readonly identity: Identity;
  readonly network: Network | undefined;
  readonly routeFunctions: ReadonlyMap<string, MessagingFunction>;
  readonly fanOut: FanOut;
  readonly api: MessagesApi;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.checkEnvironment(settings);

    // Table -------------------------------------------------------------------------------------
    const provisioned = settings.billing.mode === "provisioned" ? settings.billing : undefined;
    this.table = new Table(this, "Table", {
      tableName: settings.tableName,
      partitionKey: keyAttribute(PARTITION_KEY),
      sortKey: keyAttribute(SORT_KEY),
      stream: StreamViewType[STREAM_VIEW_TYPE],
      billingMode: provisioned === undefined ? BillingMode.PAY_PER_REQUEST : BillingMode.PROVISIONED,
      ...(provisioned === undefined
        ? {}
        : { readCapacity: provisioned.readCapacity, writeCapacity: provisioned.writeCapacity }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI.indexName,
      partitionKey: keyAttribute(GSI.partitionKey),
      sortKey: keyAttribute(GSI.sortKey),
      projectionType: ProjectionType[GSI.projection],
      ...(provisioned === undefined
        ? {}
        : { readCapacity: provisioned.readCapacity, writeCapacity: provisioned.writeCapacity }),
    });

    // Identity ----------------------------------------------------------------------------------
    this.identity = new Identity(this, "Identity", { settings: settings.userPool });
    const userPool = { userPoolId: this.identity.userPool.userPoolId, userPoolArn: this.identity.userPool.userPoolArn };

    // Network: only the functions that talk to DynamoDB run in the VPC -------------------------
    const inVpc = [...ROUTES.map((r) => r.permissions), FAN_OUT_FUNCTION.permissions].filter((p) =>
      MessagingFunction.talksToDynamoDb(p),
    );
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
    const placementFor = (permissions: (typeof ROUTES)[number]["permissions"]) =>
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
        }),
      );
    }
    this.routeFunctions = routeFunctions;

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

    // Operations --------------------------------------------------------------------------------
    const watched = (fn: string, f: MessagingFunction) => ({ fn, function: f.function, logGroup: f.logGroup });
    this.operations = new Operations(this, "Operations", {
      api: this.api.api,
      accessLogGroup: this.api.accessLogGroup,
      routeFunctions: [...routeFunctions].map(([fn, f]) => watched(fn, f)),
      fanOut: watched(FAN_OUT_FUNCTION.fn, this.fanOut.handler),
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
    new CfnOutput(this, "FanOutFailureQueueUrl", {
      value: this.fanOut.failureQueue.queueUrl,
      description: "On-failure queue of the stream fan-out",
    });
  }

  /** Fails fast on context options the target environment cannot honour. */
  private checkEnvironment(settings: StackSettings): void {
    const envKnown = !Token.isUnresolved(this.account) && !Token.isUnresolved(this.region);
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
