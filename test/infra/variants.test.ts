/**
 * The context options that change the shape of the stack, each synthesized once (bundling is
 * skipped: it changes nothing but asset hashes, and stack.test.ts covers it).
 */
import type { CfnElement } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { COGNITO_PRINCIPAL } from "../../infra/constructs/identity";
import { FUNCTION_ENV } from "../../infra/constructs/messaging-function";
import { ContextError } from "../../infra/context";
import type { MessagingStack } from "../../infra/messaging-stack";
import { CONFIG_ENV } from "../../shared/config";
import { FAN_OUT_FUNCTION, FUNCTION_NAMES, ROUTES, TRIGGER_FUNCTIONS } from "../../shared/routes";
import { GSI } from "../../shared/table";
import { CLIENT_AUTH_FLOWS, PASSWORD_AUTH_FLOW } from "../../shared/user-pool";
import { dependencyCycles, getAtt, grantsOfRole, refId, synth, TEST_ENV } from "../support/synth";

const functionsOf = (template: Template) =>
  Object.values(template.findResources("AWS::Lambda::Function", { Properties: { Handler: "index.handler" } })).map(
    (f) => f.Properties,
  );

describe("existing user pool (userPoolId + userPoolClientId)", () => {
  const userPoolId = `${TEST_ENV.region}_AbC123`;
  const userPoolClientId = "1example23456789";
  const poolArn = `arn:aws:cognito-idp:${TEST_ENV.region}:${TEST_ENV.account}:userpool/${userPoolId}`;
  let template: Template;
  let stack: MessagingStack;
  beforeAll(() => {
    ({ template, stack } = synth({ context: { userPoolId, userPoolClientId } }));
  });

  it("creates no pool or client and trusts the given ones", () => {
    template.resourceCountIs("AWS::Cognito::UserPool", 0);
    template.resourceCountIs("AWS::Cognito::UserPoolClient", 0);
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      JwtConfiguration: {
        Issuer: `https://cognito-idp.${TEST_ENV.region}.amazonaws.com/${userPoolId}`,
        Audience: [userPoolClientId],
      },
    });
    const outputs = template.toJSON().Outputs;
    expect(outputs.UserPoolId.Value).toBe(userPoolId);
    expect(outputs.UserPoolClientId.Value).toBe(userPoolClientId);
  });

  it("points the functions and the Cognito endpoint at that pool only", () => {
    const withCognito = functionsOf(template).filter((f) => f.Environment.Variables[FUNCTION_ENV.userPoolId]);
    expect(withCognito).toHaveLength(ROUTES.filter((r) => r.permissions.cognito.length > 0).length);
    for (const f of withCognito) {
      expect(f.Environment.Variables[FUNCTION_ENV.userPoolId]).toBe(userPoolId);
      const grants = [...grantsOfRole(template, refId(f.Role))].filter((g) => g.startsWith("cognito-idp:"));
      expect(grants.length).toBeGreaterThan(0);
      for (const g of grants) expect(g).toMatch(new RegExp(`on "${poolArn}"$`));
    }
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
      VpcEndpointType: "Interface",
      PolicyDocument: { Statement: [Match.objectLike({ Resource: poolArn })] },
    });
  });

  it("still creates the trigger functions, lets that pool (only) invoke them, and outputs their ARNs", () => {
    const outputs = template.toJSON().Outputs;
    for (const t of TRIGGER_FUNCTIONS) {
      const fn = stack.triggerFunctions.get(t.fn);
      expect(fn, t.fn).toBeDefined();
      const arn = getAtt(stack.getLogicalId(fn?.function.node.defaultChild as CfnElement), "Arn");
      // CloudFormation cannot change an imported pool: an operator attaches them (docs/deploy.md).
      expect(outputs[`${t.trigger}FunctionArn`].Value).toEqual(arn);
      expect(outputs[`${t.trigger}FunctionArn`].Description).toContain("docs/deploy.md");
      template.hasResourceProperties("AWS::Lambda::Permission", {
        Action: "lambda:InvokeFunction",
        FunctionName: arn,
        Principal: COGNITO_PRINCIPAL,
        SourceArn: poolArn,
      });
    }
    const cognitoPermissions = template.findResources("AWS::Lambda::Permission", {
      Properties: { Principal: COGNITO_PRINCIPAL },
    });
    expect(Object.keys(cognitoPermissions)).toHaveLength(TRIGGER_FUNCTIONS.length);
    expect(dependencyCycles(template)).toEqual([]);
  });

  it("refuses plain password auth, which it could not set on a client it does not own", () => {
    expect(() => synth({ context: { userPoolId, userPoolClientId, allowPasswordAuth: "true" } })).toThrow(
      /allowPasswordAuth/,
    );
  });

  it("refuses a pool in another region than the stack", () => {
    expect(() => synth({ context: { userPoolId: "us-east-1_AbC123", userPoolClientId } })).toThrow(ContextError);
  });
});

describe("no VPC placement (placeInVpc=false)", () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synth({ context: { placeInVpc: "false" } }));
  });

  it("creates no VPC, endpoint or security group, and runs every function outside a VPC", () => {
    for (const type of ["AWS::EC2::VPC", "AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::EC2::FlowLog"]) {
      template.resourceCountIs(type, 0);
    }
    const functions = functionsOf(template);
    expect(functions).toHaveLength(FUNCTION_NAMES.length);
    for (const f of functions) {
      expect(f.VpcConfig).toBeUndefined();
      const ec2 = [...grantsOfRole(template, refId(f.Role))].filter((g) => g.startsWith("ec2:"));
      expect(ec2).toEqual([]);
    }
  });
});

describe("plain password auth (allowPasswordAuth=true)", () => {
  it("adds USER_PASSWORD_AUTH to the web client's SRP and refresh flows, and nothing else", () => {
    const { template } = synth({ context: { allowPasswordAuth: "true" } });
    const client = Object.values(template.findResources("AWS::Cognito::UserPoolClient"))[0]?.Properties;
    expect(new Set(client.ExplicitAuthFlows)).toEqual(new Set([...CLIENT_AUTH_FLOWS, PASSWORD_AUTH_FLOW]));
    expect(PASSWORD_AUTH_FLOW).toBe("ALLOW_USER_PASSWORD_AUTH");
  });
});

describe("handle reservation (handleReservationDays)", () => {
  it("sets HANDLE_RESERVATION_DAYS of the rename function only", () => {
    const { template, stack } = synth({ context: { handleReservationDays: "7" } });
    const renameFn = stack.routeFunctions.get("update-profile");
    const renameId = stack.getLogicalId(renameFn?.function.node.defaultChild as CfnElement);
    const functions = template.findResources("AWS::Lambda::Function", { Properties: { Handler: "index.handler" } });
    for (const [id, f] of Object.entries(functions)) {
      expect(f.Properties.Environment.Variables[CONFIG_ENV.handleReservationDays], id).toBe(
        id === renameId ? "7" : undefined,
      );
    }
  });
});

describe("provisioned billing (billingMode=provisioned)", () => {
  it("provisions the table and its index with the given capacity", () => {
    const { template } = synth({ context: { billingMode: "provisioned", readCapacity: "7", writeCapacity: "3" } });
    const throughput = { ReadCapacityUnits: 7, WriteCapacityUnits: 3 };
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      // CDK leaves BillingMode out for provisioned tables: it is CloudFormation's default.
      BillingMode: Match.absent(),
      ProvisionedThroughput: throughput,
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: GSI.indexName, ProvisionedThroughput: throughput })],
    });
  });
});

describe("existing VPC (vpcId)", () => {
  it("looks the VPC up, creates no VPC, and attaches the endpoints and functions to it", () => {
    // Without cached lookup results CDK answers the lookup with a dummy VPC (vpc-12345).
    const { template, stack } = synth({ context: { vpcId: "vpc-0123456789abcdef0" } });
    template.resourceCountIs("AWS::EC2::VPC", 0);
    template.resourceCountIs("AWS::EC2::FlowLog", 0);
    const vpcId = stack.network?.vpc.vpcId;
    expect(vpcId).toBeDefined();
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", { VpcEndpointType: "Gateway", VpcId: vpcId });
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", { VpcEndpointType: "Interface", VpcId: vpcId });
    const inVpc = functionsOf(template).filter((f) => f.VpcConfig !== undefined);
    const expected = [
      ...ROUTES.map((r) => r.permissions),
      FAN_OUT_FUNCTION.permissions,
      ...TRIGGER_FUNCTIONS.map((t) => t.permissions),
    ].filter((p) => p.dynamodb.length > 0);
    expect(inVpc).toHaveLength(expected.length);
  });

  it("fails fast when the account or region is unknown (a lookup needs them)", () => {
    expect(() => synth({ context: { vpcId: "vpc-0123456789abcdef0" }, env: {} })).toThrow(/vpcId/);
  });
});

describe("alarm e-mail (alarmEmail)", () => {
  it("sends every alarm to the encrypted, TLS-only topic, with an e-mail subscription", () => {
    const { template } = synth({ context: { alarmEmail: "ops@example.com" } });
    template.resourceCountIs("AWS::SNS::Topic", 1);
    const topicId = Object.keys(template.findResources("AWS::SNS::Topic"))[0] ?? "";
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});

describe("table name, CORS, throttling and log retention", () => {
  it("follow the context options", () => {
    const { template } = synth({
      context: {
        tableName: "team-messages",
        corsOrigins: "https://chat.example.com",
        throttleRateLimit: "10",
        throttleBurstLimit: "20",
        logRetentionDays: "7",
      },
    });
    template.hasResourceProperties("AWS::DynamoDB::Table", { TableName: "team-messages" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ["https://chat.example.com"] }),
    });
    // The public route's own throttle (20/s, burst 40) never exceeds a lower stage limit.
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      RouteSettings: { "GET /api/users/{handle}/short": { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } },
    });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });
});

describe("another table name (tableName)", () => {
  it("creates that table, with point-in-time recovery, deletion protection and its stream", () => {
    const { template, stack } = synth({ context: { tableName: "cruddur-messages-restored" } });
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      Properties: Match.objectLike({
        TableName: "cruddur-messages-restored",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: "NEW_IMAGE" },
      }),
      DeletionPolicy: "Retain",
    });
    const tableRef = { Ref: stack.getLogicalId(stack.table.node.defaultChild as CfnElement) };
    for (const f of functionsOf(template)) expect(f.Environment.Variables[CONFIG_ENV.tableName]).toEqual(tableRef);
  });
});

describe("an existing table, e.g. restored from a backup (tableStreamArn)", () => {
  const tableName = "cruddur-messages-restored";
  const tableArn = `arn:aws:dynamodb:${TEST_ENV.region}:${TEST_ENV.account}:table/${tableName}`;
  const streamArn = `${tableArn}/stream/2026-12-01T09:30:00.123`;
  let template: Template;
  beforeAll(() => {
    ({ template } = synth({ context: { tableName, tableStreamArn: streamArn } }));
  });

  it("creates no table and points every function at that one", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 0);
    const functions = functionsOf(template);
    expect(functions).toHaveLength(FUNCTION_NAMES.length);
    for (const f of functions) expect(f.Environment.Variables[CONFIG_ENV.tableName]).toBe(tableName);
    const grants = functions.flatMap((f) => [...grantsOfRole(template, refId(f.Role))]);
    const onTables = grants.filter((g) => g.startsWith("dynamodb:") && !g.startsWith("dynamodb:ListStreams"));
    expect(onTables.length).toBeGreaterThan(0);
    for (const g of onTables) expect(g).toContain(tableArn);
  });

  it("reads that table's stream from TRIM_HORIZON", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: streamArn,
      StartingPosition: "TRIM_HORIZON",
    });
  });

  it("lets the functions reach that table through the gateway endpoint", () => {
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
      VpcEndpointType: "Gateway",
      PolicyDocument: { Statement: [Match.objectLike({ Resource: [tableArn, `${tableArn}/index/${GSI.indexName}`] })] },
    });
  });

  it("refuses a table of another account or region than the stack's", () => {
    const elsewhere = `arn:aws:dynamodb:us-east-1:${TEST_ENV.account}:table/${tableName}/stream/2026-12-01T09:30:00.123`;
    expect(() => synth({ context: { tableName, tableStreamArn: elsewhere } })).toThrow(ContextError);
  });
});

describe("without credentials (environment-agnostic)", () => {
  it("synthesizes with the region and account left to CloudFormation", () => {
    const { template } = synth({ env: {} });
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      JwtConfiguration: {
        Issuer: {
          "Fn::Join": ["", ["https://cognito-idp.", { Ref: "AWS::Region" }, Match.anyValue(), Match.anyValue()]],
        },
      },
    });
  });
});
