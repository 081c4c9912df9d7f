/**
 * The network the DynamoDB-facing functions run in: a VPC with isolated subnets and no NAT
 * gateway (or an existing VPC), a DynamoDB gateway endpoint whose policy admits only this table
 * and its index, and an interface endpoint for each other AWS API the functions in the VPC call.
 */
import { RemovalPolicy, Stack } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { AnyPrincipal, Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { CognitoAction, DynamoDbAction } from "../../shared/routes";
import { GSI } from "../../shared/table";
import type { NetworkSettings } from "../context";
import type { FunctionPlacement, FunctionUserPool } from "./messaging-function";

export interface NetworkProps {
  settings: Exclude<NetworkSettings, { mode: "none" }>;
  table: ITable;
  userPool: FunctionUserPool;
  /** Every DynamoDB action a function in the VPC is granted: all the endpoint lets through. */
  dynamodbActions: readonly DynamoDbAction[];
  /** Every Cognito action a function in the VPC is granted; no Cognito endpoint when empty. */
  cognitoActions: readonly CognitoAction[];
  logRetention: RetentionDays;
}

/** Number of Availability Zones of a new VPC (Lambda spreads its network interfaces over them). */
export const VPC_MAX_AZS = 2;

/**
 * The VPC placement of the functions plus the endpoints that give them DynamoDB (and Cognito)
 * without any route to the internet.
 */
export class Network extends Construct {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** Security group of the functions: HTTPS out, nothing in. */
  readonly functionSecurityGroup: SecurityGroup;
  readonly dynamoDbEndpoint: GatewayVpcEndpoint;
  readonly cognitoEndpoint: InterfaceVpcEndpoint | undefined;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { settings, table } = props;

    if (settings.mode === "existing-vpc") {
      this.vpc = Vpc.fromLookup(this, "Vpc", { vpcId: settings.vpcId });
      // Prefer subnets without any route out; fall back to private subnets with a NAT route.
      this.subnets = {
        subnetType: this.vpc.isolatedSubnets.length > 0 ? SubnetType.PRIVATE_ISOLATED : SubnetType.PRIVATE_WITH_EGRESS,
      };
    } else {
      const vpc = new Vpc(this, "Vpc", {
        maxAzs: VPC_MAX_AZS,
        natGateways: 0,
        subnetConfiguration: [{ name: "functions", subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      });
      vpc.addFlowLog("FlowLog", {
        destination: FlowLogDestination.toCloudWatchLogs(
          new LogGroup(this, "FlowLogs", { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
        ),
        trafficType: FlowLogTrafficType.ALL,
      });
      this.vpc = vpc;
      this.subnets = { subnetType: SubnetType.PRIVATE_ISOLATED };
    }

    this.functionSecurityGroup = new SecurityGroup(this, "FunctionSecurityGroup", {
      vpc: this.vpc,
      description: "cruddur-messages functions: HTTPS to the DynamoDB and Cognito endpoints only",
      allowAllOutbound: false,
    });
    // DynamoDB's gateway endpoint is reached at DynamoDB's public addresses (routed to the
    // endpoint by the subnets' route tables), so HTTPS must be open to any address; the isolated
    // subnets have no other route out. (Narrowing to the DynamoDB prefix list would need a
    // per-region id lookup at synth time.)
    this.functionSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), "HTTPS to AWS endpoints");

    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint("DynamoDbEndpoint", {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.subnets],
    });
    this.dynamoDbEndpoint.addToPolicy(
      new PolicyStatement({
        sid: "OnlyTheMessagesTable",
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: [...new Set(props.dynamodbActions)],
        resources: [table.tableArn, `${table.tableArn}/index/${GSI.indexName}`],
        conditions: { StringEquals: { "aws:PrincipalAccount": Stack.of(this).account } },
      }),
    );

    if (props.cognitoActions.length > 0) {
      const endpointSecurityGroup = new SecurityGroup(this, "CognitoEndpointSecurityGroup", {
        vpc: this.vpc,
        description: "cruddur-messages Cognito user pools endpoint: HTTPS from the functions",
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, Port.tcp(443), "HTTPS from the functions");
      // Works only for a user pool without a domain (Cognito developer guide, "Access Amazon
      // Cognito using an interface endpoint"): the stack never adds one.
      this.cognitoEndpoint = this.vpc.addInterfaceEndpoint("CognitoEndpoint", {
        service: InterfaceVpcEndpointAwsService.COGNITO_IDP,
        subnets: this.subnets,
        securityGroups: [endpointSecurityGroup],
        privateDnsEnabled: true,
        open: false,
      });
      this.cognitoEndpoint.addToPolicy(
        new PolicyStatement({
          sid: "OnlyTheUserPool",
          effect: Effect.ALLOW,
          principals: [new AnyPrincipal()],
          actions: [...new Set(props.cognitoActions)],
          resources: [props.userPool.userPoolArn],
          conditions: { StringEquals: { "aws:PrincipalAccount": Stack.of(this).account } },
        }),
      );
    }
  }

  /** The placement of a function in this network. */
  placement(): FunctionPlacement {
    return { vpc: this.vpc, subnets: this.subnets, securityGroup: this.functionSecurityGroup };
  }
}
