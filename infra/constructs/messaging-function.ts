/**
 * One Lambda function of the backend, with the defaults every function shares fixed in one
 * place, so no function drifts: the bundle (see `infra/bundling.ts`), arm64, JSON logs to its own
 * log group with a retention, and an execution role that holds exactly the permissions its entry
 * in `shared/routes.ts` declares. Granting the table and setting its name are done together here.
 */
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { ISecurityGroup, IVpc, SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { Effect, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { ApplicationLogLevel, Architecture, LoggingFormat, SystemLogLevel } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { CONFIG_ENV, configEnv, SERVICE_NAME } from "../../shared/config";
import type { FunctionPermissions } from "../../shared/routes";
import {
  DEPS_LOCK_FILE,
  entryPath,
  FUNCTION_RUNTIME,
  functionBundling,
  HANDLER_EXPORT,
  PROJECT_ROOT,
} from "../bundling";

/**
 * Environment variables the functions read (`shared/config.ts`), plus Node's own options, which
 * the stack leaves unset: no `--enable-source-maps`, whose map parse at load costs every cold
 * start; a logged error's stack is mapped when it is logged (shared/source-maps.ts). AWS_REGION is
 * set by Lambda itself.
 */
export const FUNCTION_ENV = { ...CONFIG_ENV, nodeOptions: "NODE_OPTIONS" } as const;

/** Level of the functions' own log lines (Powertools); Lambda's log filter (advanced logging controls) is the same. */
export const LOG_LEVEL = "INFO";

/**
 * The EC2 actions Lambda needs on the execution role to attach a function to a VPC (AWS Lambda
 * developer guide, "Giving Lambda functions access to resources in an Amazon VPC"; the same list
 * as the AWS managed policy AWSLambdaVPCAccessExecutionRole, without its logs-on-`*`).
 */
export const VPC_ACCESS_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/** Where a function runs when it is placed in a VPC. */
export interface FunctionPlacement {
  vpc: IVpc;
  subnets: SubnetSelection;
  securityGroup: ISecurityGroup;
}

/** The user pool a function reads users from. */
export interface FunctionUserPool {
  userPoolId: string;
  userPoolArn: string;
}

export interface MessagingFunctionProps {
  /** Entry name: `functions/<fn>.ts`, exporting `handler`. */
  fn: string;
  /** Exactly what the function may do (from `shared/routes.ts`). */
  permissions: FunctionPermissions;
  table: ITable;
  userPool: FunctionUserPool;
  /** VPC placement; the function runs outside any VPC when omitted. */
  placement?: FunctionPlacement | undefined;
  logRetention: RetentionDays;
  /** @default 10 seconds (an HTTP API integration times out at 30). */
  timeout?: Duration;
  /** @default 512 MiB */
  memorySize?: number;
  /**
   * Variables added to the environment every function gets (TABLE_NAME, Powertools settings,
   * and USER_POOL_ID with Cognito actions), by name (see FUNCTION_ENV).
   * @throws Error (at construction) when one of them names a variable the construct sets itself.
   */
  environment?: Readonly<Record<string, string>>;
  description?: string;
}

/**
 * A `NodejsFunction` for one entry of the route table (or the fan-out), with its own role and
 * log group. Only the table's name and the permissions listed in `permissions` are given to it;
 * `USER_POOL_ID` is set only when it has Cognito actions.
 */
export class MessagingFunction extends Construct {
  /** True when a function with these permissions talks to DynamoDB (and so belongs in the VPC). */
  static talksToDynamoDb(permissions: FunctionPermissions): boolean {
    return permissions.dynamodb.length > 0;
  }

  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: MessagingFunctionProps) {
    super(scope, id);
    const { permissions, table, userPool, placement } = props;

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // A role of our own: the role NodejsFunction would create carries AWS managed policies that
    // allow writing to any log group (and, in a VPC, ENI actions plus logs on `*` again).
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${props.fn}`,
    });
    this.logGroup.grantWrite(this.role);

    const environment: Record<string, string> = {
      ...configEnv({
        tableName: table.tableName,
        userPoolId: permissions.cognito.length > 0 ? userPool.userPoolId : undefined,
      }),
      [FUNCTION_ENV.serviceName]: SERVICE_NAME,
      [FUNCTION_ENV.logLevel]: LOG_LEVEL,
    };
    // Exactly the listed actions, each service's on its one resource.
    const grants: [readonly string[], string][] = [
      [permissions.dynamodb, table.tableArn],
      [permissions.cognito, userPool.userPoolArn],
    ];
    for (const [actions, resource] of grants) {
      if (actions.length === 0) continue;
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ effect: Effect.ALLOW, actions: [...actions], resources: [resource] }),
      );
    }
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      if (name in environment) throw new Error(`${props.fn}: environment variable ${name} is set by MessagingFunction`);
      environment[name] = value;
    }
    if (placement !== undefined) {
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ effect: Effect.ALLOW, actions: VPC_ACCESS_ACTIONS, resources: ["*"] }),
      );
      Validations.of(this.role).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Attaching a function to a VPC needs the EC2 network-interface actions (the list of the AWS managed " +
          "policy AWSLambdaVPCAccessExecutionRole); Describe* support no resource-level scoping, and Lambda " +
          "creates the interfaces in subnets it picks, so the resource is '*'.",
      });
    }

    this.function = new NodejsFunction(this, "Function", {
      entry: entryPath(props.fn),
      handler: HANDLER_EXPORT,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      description: props.description ?? `${props.fn} (${Stack.of(this).stackName})`,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[LOG_LEVEL],
      systemLogLevelV2: SystemLogLevel.INFO,
      environment,
      bundling: functionBundling(),
      ...(placement === undefined
        ? {}
        : { vpc: placement.vpc, vpcSubnets: placement.subnets, securityGroups: [placement.securityGroup] }),
    });
  }
}
