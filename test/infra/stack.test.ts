/**
 * The stack with the default context options, synthesized once with real bundling: every point
 * of the deploy issue pinned against the shared definitions (table, routes, stream, user pool).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CfnElement } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import type { Construct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from "../../infra/bundling";
import { ACCESS_LOG_FIELDS, routeKey } from "../../infra/constructs/http-api";
import { CLIENT_WRITE_ATTRIBUTES, COGNITO_PRINCIPAL } from "../../infra/constructs/identity";
import { FUNCTION_ENV, VPC_ACCESS_ACTIONS } from "../../infra/constructs/messaging-function";
import { RUNBOOK_DOC } from "../../infra/constructs/operations";
import { SUBSCRIBE_HANDLER_CODE } from "../../infra/constructs/realtime";
import { CONTEXT_DEFAULTS } from "../../infra/context";
import {
  type MessagingStack,
  OUTSIDE_VPC_FUNCTIONS,
  RESERVING_PATTERNS,
  TRIGGER_TIMEOUT,
} from "../../infra/messaging-stack";
import { CORS } from "../../shared/api-contract";
import { CONFIG_ENV, loadConfig, requireUserPoolId, SERVICE_NAME } from "../../shared/config";
import { PUBLISH_METRICS } from "../../shared/publish-events";
import { EVENTS_NAMESPACE } from "../../shared/realtime";
import {
  FAN_OUT_FUNCTION,
  type FunctionPermissions,
  PUBLISH_FUNCTION,
  ROUTES,
  STREAM_FUNCTIONS,
  TRIGGER_FUNCTIONS,
} from "../../shared/routes";
import { FAN_OUT_DELIVERY, lambdaFilterPattern, lambdaFilterPatterns, PUBLISH_DELIVERY } from "../../shared/stream";
import { createTableInput, GSI, TABLE_NAME, TTL_ATTRIBUTE } from "../../shared/table";
import {
  CLIENT_AUTH_FLOWS,
  PASSWORD_AUTH_FLOW,
  PASSWORD_POLICY,
  REQUIRED_ATTRIBUTES,
  USER_POOL_CLIENT_NAME,
  USER_POOL_NAME,
} from "../../shared/user-pool";
import { dependencyCycles, getAtt, grant, grantsOfRole, refId, synth, TEST_ENV } from "../support/synth";

let stack: MessagingStack;
let template: Template;
let outdir: string;

const idOf = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const routeFns = [...new Set(ROUTES.map((r) => r.fn))];
const triggerFns = TRIGGER_FUNCTIONS.map((t) => t.fn);
/** Every function, in the order the stack hands them to Operations. */
const allFns = [...routeFns, ...STREAM_FUNCTIONS.map((s) => s.fn), ...triggerFns];
const permissionsOf = (fn: string): FunctionPermissions => {
  const p =
    STREAM_FUNCTIONS.find((s) => s.fn === fn)?.permissions ??
    ROUTES.find((r) => r.fn === fn)?.permissions ??
    TRIGGER_FUNCTIONS.find((t) => t.fn === fn)?.permissions;
  if (p === undefined) throw new Error(`unknown fn ${fn}`);
  return p;
};
const messagingFunction = (fn: string) => {
  const f =
    fn === FAN_OUT_FUNCTION.fn
      ? stack.fanOut.handler
      : fn === PUBLISH_FUNCTION.fn
        ? stack.realtime.publisher
        : (stack.routeFunctions.get(fn) ?? stack.triggerFunctions.get(fn));
  if (f === undefined) throw new Error(`no function ${fn}`);
  return f;
};
const functionProps = (fn: string) => {
  const resource = template.toJSON().Resources[idOf(messagingFunction(fn).function)];
  return resource.Properties;
};
const tableId = () => idOf(stack.table);
const poolId = () => idOf(stack.identity.userPool as unknown as Construct);
const inVpc = (p: FunctionPermissions) => p.dynamodb.length > 0;
/** Whether the stack places `fn` in the VPC: it talks to DynamoDB and needs no public endpoint. */
const fnInVpc = (fn: string) => inVpc(permissionsOf(fn)) && !OUTSIDE_VPC_FUNCTIONS.has(fn);
const apiId = () => idOf(stack.realtime.api);

beforeAll(() => {
  ({ stack, template, outdir } = synth({ bundle: true }));
});

describe("table", () => {
  it("has the key schema, GSI, attribute types and stream of shared/table.ts", () => {
    const shared = createTableInput();
    const table = template.findResources("AWS::DynamoDB::Table")[tableId()];
    expect(table?.Properties.TableName).toBe(TABLE_NAME);
    expect(table?.Properties.KeySchema).toEqual(shared.KeySchema);
    expect(new Set(table?.Properties.AttributeDefinitions)).toEqual(new Set(shared.AttributeDefinitions));
    expect(table?.Properties.GlobalSecondaryIndexes).toEqual(shared.GlobalSecondaryIndexes);
    expect(table?.Properties.GlobalSecondaryIndexes[0].IndexName).toBe(GSI.indexName);
    expect(table?.Properties.StreamSpecification).toEqual({
      StreamViewType: shared.StreamSpecification?.StreamViewType,
    });
  });

  it("expires directory items by the TTL attribute of shared/table.ts", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it("is on-demand, with point-in-time recovery and deletion protection, and retained", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });
});

describe("network", () => {
  it("is a VPC of isolated subnets: no NAT gateway, no internet gateway, no route out", () => {
    template.resourceCountIs("AWS::EC2::VPC", 1);
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.resourceCountIs("AWS::EC2::InternetGateway", 0);
    template.resourceCountIs("AWS::EC2::Route", 0);
    template.allResourcesProperties("AWS::EC2::Subnet", { MapPublicIpOnLaunch: false });
    template.resourceCountIs("AWS::EC2::FlowLog", 1);
  });

  it("has a DynamoDB gateway endpoint that admits only this table and its index", () => {
    const vpcActions = [...new Set(allFns.map(permissionsOf).flatMap((p) => p.dynamodb))];
    const endpoints = template.findResources("AWS::EC2::VPCEndpoint", { Properties: { VpcEndpointType: "Gateway" } });
    expect(Object.keys(endpoints)).toHaveLength(1);
    const endpoint = Object.values(endpoints)[0];
    expect(JSON.stringify(endpoint?.Properties.ServiceName)).toContain(".dynamodb");
    const statements = endpoint?.Properties.PolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: "Allow", Principal: { AWS: "*" } });
    expect(new Set(statements[0].Action)).toEqual(new Set(vpcActions));
    expect(statements[0].Resource).toEqual([
      getAtt(tableId(), "Arn"),
      { "Fn::Join": ["", [getAtt(tableId(), "Arn"), `/index/${GSI.indexName}`]] },
    ]);
    expect(statements[0].Condition).toEqual({ StringEquals: { "aws:PrincipalAccount": TEST_ENV.account } });
  });

  it("has a Cognito user pools interface endpoint, reachable only from the functions, for this pool only", () => {
    const cognitoActions = new Set(
      allFns
        .map(permissionsOf)
        .filter(inVpc)
        .flatMap((p) => p.cognito),
    );
    // Only the rename route calls Cognito (issue 9); the endpoint lets through exactly its actions.
    expect(cognitoActions).toEqual(new Set(["cognito-idp:AdminUpdateUserAttributes"]));
    const endpoints = template.findResources("AWS::EC2::VPCEndpoint", { Properties: { VpcEndpointType: "Interface" } });
    expect(Object.keys(endpoints)).toHaveLength(1);
    const endpoint = Object.values(endpoints)[0];
    expect(endpoint?.Properties.ServiceName).toBe(`com.amazonaws.${TEST_ENV.region}.cognito-idp`);
    expect(endpoint?.Properties.PrivateDnsEnabled).toBe(true);
    const statement = endpoint?.Properties.PolicyDocument.Statement[0];
    expect(new Set([statement.Action].flat())).toEqual(cognitoActions);
    expect(statement.Resource).toEqual(getAtt(poolId(), "Arn"));

    const endpointSg = refId(endpoint?.Properties.SecurityGroupIds[0]);
    const functionSg = idOf(stack.network?.functionSecurityGroup as Construct);
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
      GroupId: getAtt(endpointSg, "GroupId"),
      SourceSecurityGroupId: getAtt(functionSg, "GroupId"),
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
    });
    template.resourceCountIs("AWS::EC2::SecurityGroupIngress", 1);
    // An interface endpoint serves only a user pool without a domain.
    template.resourceCountIs("AWS::Cognito::UserPoolDomain", 0);
  });

  it("places exactly the functions that talk to DynamoDB in the isolated subnets", () => {
    const subnets = stack.network?.vpc.isolatedSubnets.map((s) => idOf(s as unknown as Construct)) ?? [];
    expect(subnets).toHaveLength(2);
    for (const fn of allFns) {
      const vpcConfig = functionProps(fn).VpcConfig;
      if (fnInVpc(fn)) {
        expect(vpcConfig.SubnetIds.map(refId), fn).toEqual(subnets);
      } else {
        expect(vpcConfig, fn).toBeUndefined();
      }
    }
  });
});

describe("identity", () => {
  it("creates a user pool from shared/user-pool.ts, retained and protected from deletion", () => {
    template.hasResource("AWS::Cognito::UserPool", {
      DeletionPolicy: "Retain",
      Properties: {
        UserPoolName: USER_POOL_NAME,
        DeletionProtection: "ACTIVE",
        Policies: {
          PasswordPolicy: {
            MinimumLength: PASSWORD_POLICY.minimumLength,
            RequireLowercase: PASSWORD_POLICY.requireLowercase,
            RequireUppercase: PASSWORD_POLICY.requireUppercase,
            RequireNumbers: PASSWORD_POLICY.requireDigits,
            RequireSymbols: PASSWORD_POLICY.requireSymbols,
            TemporaryPasswordValidityDays: PASSWORD_POLICY.temporaryPasswordValidityDays,
          },
        },
        Schema: Match.arrayWith(REQUIRED_ATTRIBUTES.map((Name) => Match.objectLike({ Name, Required: true }))),
      },
    });
  });

  it("creates an app client without secret, with SRP and refresh only (no plain password) and no OAuth", () => {
    const clients = Object.values(template.findResources("AWS::Cognito::UserPoolClient"));
    expect(clients).toHaveLength(1);
    const client = clients[0]?.Properties;
    expect(client.ClientName).toBe(USER_POOL_CLIENT_NAME);
    expect(client.GenerateSecret).toBe(false);
    expect(new Set(client.ExplicitAuthFlows)).toEqual(new Set(CLIENT_AUTH_FLOWS));
    expect(client.ExplicitAuthFlows).not.toContain(PASSWORD_AUTH_FLOW);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    expect(client.AllowedOAuthFlows).toBeUndefined();
  });

  it("lets the client write only the attributes the frontend signs up with, and read all (the default)", () => {
    const client = Object.values(template.findResources("AWS::Cognito::UserPoolClient"))[0]?.Properties;
    expect(new Set(client.WriteAttributes)).toEqual(new Set(REQUIRED_ATTRIBUTES));
    expect(new Set(CLIENT_WRITE_ATTRIBUTES)).toEqual(new Set(["email", "name", "preferred_username"]));
    expect(client.ReadAttributes).toBeUndefined();
  });

  it("attaches exactly the trigger functions of TRIGGER_FUNCTIONS to the pool", () => {
    const lambdaConfig = Object.fromEntries(
      TRIGGER_FUNCTIONS.map((t) => [t.trigger, getAtt(idOf(messagingFunction(t.fn).function), "Arn")]),
    );
    expect(Object.keys(lambdaConfig).sort()).toEqual(["PostConfirmation", "PreSignUp"]);
    template.hasResourceProperties("AWS::Cognito::UserPool", { LambdaConfig: Match.exact(lambdaConfig) });
  });

  it.each(triggerFns)("lets Cognito invoke %s, for this pool only", (fn) => {
    const permissions = Object.values(
      template.findResources("AWS::Lambda::Permission", {
        Properties: { FunctionName: getAtt(idOf(messagingFunction(fn).function), "Arn") },
      }),
    ).map((p) => p.Properties);
    expect(permissions).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: getAtt(idOf(messagingFunction(fn).function), "Arn"),
        Principal: COGNITO_PRINCIPAL,
        SourceArn: getAtt(poolId(), "Arn"),
      },
    ]);
  });

  it("has no circular dependency (the pool references its triggers, never the reverse)", () => {
    expect(dependencyCycles(template)).toEqual([]);
    for (const fn of triggerFns) {
      const variables = functionProps(fn).Environment.Variables as Record<string, unknown>;
      expect(variables[FUNCTION_ENV.userPoolId], fn).toBeUndefined();
      expect(JSON.stringify(functionProps(fn)), fn).not.toContain(poolId());
    }
  });
});

describe("HTTP API", () => {
  it("has a JWT authorizer trusting the pool as issuer and the app client as audience", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 1);
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: {
        Issuer: { "Fn::Join": ["", [`https://cognito-idp.${TEST_ENV.region}.amazonaws.com/`, { Ref: poolId() }]] },
        Audience: [{ Ref: idOf(stack.identity.userPoolClient as unknown as Construct) }],
      },
    });
  });

  it("has one route, integration and invoke permission per entry of ROUTES, and one function per fn", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Route", ROUTES.length);
    template.resourceCountIs("AWS::ApiGatewayV2::Integration", ROUTES.length);
    const apiPermissions = template.findResources("AWS::Lambda::Permission", {
      Properties: { Principal: "apigateway.amazonaws.com" },
    });
    expect(Object.keys(apiPermissions)).toHaveLength(ROUTES.length);
    // The others are Cognito's, one per trigger.
    template.resourceCountIs("AWS::Lambda::Permission", ROUTES.length + TRIGGER_FUNCTIONS.length);
    // Route functions, stream functions, triggers: and no other (no authorizer: see real-time).
    const handlers = template.findResources("AWS::Lambda::Function", { Properties: { Handler: "index.handler" } });
    expect(Object.keys(handlers)).toHaveLength(allFns.length);
  });

  it("leaves exactly the public profile route without authorizer", () => {
    const publicRoutes = ROUTES.filter((r) => !r.auth).map(routeKey);
    expect(publicRoutes).toEqual(["GET /api/users/{handle}/short"]);
    const none = Object.values(
      template.findResources("AWS::ApiGatewayV2::Route", { Properties: { AuthorizationType: "NONE" } }),
    ).map((r) => r.Properties.RouteKey);
    expect(none).toEqual(publicRoutes);
  });

  it.each(ROUTES.map((r) => [routeKey(r), r.auth ? "behind the JWT authorizer" : "public", r] as const))(
    "%s -> its function, %s",
    (_, __, route) => {
      const routes = template.findResources("AWS::ApiGatewayV2::Route", {
        Properties: { RouteKey: routeKey(route) },
      });
      const props = Object.values(routes)[0]?.Properties;
      expect(props).toBeDefined();
      if (route.auth) {
        expect(props.AuthorizationType).toBe("JWT");
        expect(props.AuthorizerId).toEqual({
          Ref: Object.keys(template.findResources("AWS::ApiGatewayV2::Authorizer"))[0],
        });
      } else {
        expect(props.AuthorizationType).toBe("NONE");
        expect(props.AuthorizerId).toBeUndefined();
      }
      const integrationId = refId((props.Target as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1][1]);
      const integration = template.toJSON().Resources[integrationId].Properties;
      expect(integration).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
      expect(integration.IntegrationUri).toEqual(getAtt(idOf(messagingFunction(route.fn).function), "Arn"));
    },
  );

  it("answers CORS for the configured origins, exposing the cursor and send-limit headers", () => {
    const cors = Object.values(template.findResources("AWS::ApiGatewayV2::Api"))[0]?.Properties.CorsConfiguration;
    expect(cors).toMatchObject({
      AllowOrigins: CONTEXT_DEFAULTS.corsOrigins,
      AllowHeaders: [...CORS.allowHeaders],
      ExposeHeaders: [...CORS.exposeHeaders],
      AllowCredentials: false,
    });
    expect(new Set(cors.AllowMethods)).toEqual(new Set(["OPTIONS", ...ROUTES.map((r) => r.method)]));
  });

  it("throttles the stage and writes JSON access logs to a log group with retention", () => {
    const stages = Object.values(template.findResources("AWS::ApiGatewayV2::Stage"));
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.Properties;
    expect(stage.StageName).toBe("$default");
    expect(stage.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: CONTEXT_DEFAULTS.throttleRateLimit,
      ThrottlingBurstLimit: CONTEXT_DEFAULTS.throttleBurstLimit,
    });
    const logGroupId = refId(stage.AccessLogSettings.DestinationArn);
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(CONTEXT_DEFAULTS.logRetentionDays);
    // The format is JSON once API Gateway substitutes its variables (numbers for numbers).
    const sample = (stage.AccessLogSettings.Format as string).replace(/\$context\.[A-Za-z.]+/g, (v) =>
      ["$context.status", "$context.responseLatency"].includes(v) ? "200" : "x",
    );
    expect(Object.keys(JSON.parse(sample))).toEqual(Object.keys(ACCESS_LOG_FIELDS));
  });

  it("throttles the routes that have their own throttle, and creates the stage after them", () => {
    const throttled = ROUTES.filter((r) => r.throttle !== undefined);
    expect(throttled.map(routeKey)).toEqual(["GET /api/users/{handle}/short"]);
    const [stageId, stage] = Object.entries(template.findResources("AWS::ApiGatewayV2::Stage"))[0] ?? [];
    expect(stage?.Properties.RouteSettings).toEqual(
      Object.fromEntries(
        throttled.map((r) => [
          routeKey(r),
          { ThrottlingRateLimit: r.throttle?.rateLimit, ThrottlingBurstLimit: r.throttle?.burstLimit },
        ]),
      ),
    );
    // The public route stays below the stage-wide limits.
    for (const r of throttled) {
      expect(r.throttle?.rateLimit).toBeLessThan(CONTEXT_DEFAULTS.throttleRateLimit);
      expect(r.throttle?.burstLimit).toBeLessThan(CONTEXT_DEFAULTS.throttleBurstLimit);
    }
    expect(stageId).toBeDefined();
    for (const r of throttled) {
      const routeId = Object.keys(
        template.findResources("AWS::ApiGatewayV2::Route", { Properties: { RouteKey: routeKey(r) } }),
      )[0];
      expect(stage?.DependsOn).toContain(routeId);
    }
  });
});

describe("functions", () => {
  it.each(allFns)(
    "%s: Node.js 22+, arm64, ESM bundle with its source map beside it (no --enable-source-maps), JSON logs to its own log group",
    (fn) => {
      const props = functionProps(fn);
      expect(Number(/^nodejs(\d+)\.x$/.exec(props.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(props.Architectures).toEqual(["arm64"]);
      expect(props.Handler).toBe("index.handler");
      // Maps are applied when an error is logged (shared/source-maps.ts), not parsed at every cold start.
      expect(props.Environment.Variables.NODE_OPTIONS).toBeUndefined();
      expect(props.LoggingConfig.LogFormat).toBe("JSON");
      const logGroup = template.toJSON().Resources[refId(props.LoggingConfig.LogGroup)];
      expect(logGroup.Type).toBe("AWS::Logs::LogGroup");
      expect(logGroup.Properties.RetentionInDays).toBe(CONTEXT_DEFAULTS.logRetentionDays);

      // The asset is the real esbuild output: one ESM file that starts with the require banner.
      const assetDir = join(outdir, `asset.${(props.Code.S3Key as string).replace(/\.zip$/, "")}`);
      const code = readFileSync(join(assetDir, "index.mjs"), "utf8");
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(existsSync(join(assetDir, "index.mjs.map"))).toBe(true);
    },
  );

  it.each(allFns)("%s: gets the environment shared/config.ts needs, USER_POOL_ID only with Cognito actions", (fn) => {
    const variables = functionProps(fn).Environment.Variables as Record<string, unknown>;
    const permissions = permissionsOf(fn);
    expect(variables[FUNCTION_ENV.tableName]).toEqual({ Ref: tableId() });
    expect(variables[FUNCTION_ENV.userPoolId]).toEqual(permissions.cognito.length > 0 ? { Ref: poolId() } : undefined);
    // Only the rename releases handles, so only it reads the reservation (default 30 days).
    const reserves = ROUTES.some((r) => r.fn === fn && RESERVING_PATTERNS.has(r.pattern));
    expect(variables[CONFIG_ENV.handleReservationDays]).toEqual(
      reserves ? String(CONTEXT_DEFAULTS.handleReservationDays) : undefined,
    );
    expect(variables[FUNCTION_ENV.serviceName]).toEqual(expect.any(String));
    expect(variables[FUNCTION_ENV.logLevel]).toBe("INFO");
    // What the function will see at cold start (AWS_REGION is set by Lambda): config must load.
    const env = Object.fromEntries(
      Object.entries(variables).map(([k, v]) => [k, typeof v === "string" ? v : "resolved"]),
    );
    const config = loadConfig({ ...env, AWS_REGION: TEST_ENV.region });
    expect(config.tableName).toBe("resolved");
    if (permissions.cognito.length > 0) expect(requireUserPoolId(config)).toBe("resolved");
    // Only the publish function is given the Event API's HTTP endpoint.
    expect(variables[CONFIG_ENV.eventsHttpUrl]).toEqual(
      fn === PUBLISH_FUNCTION.fn ? { "Fn::Join": ["", ["https://", getAtt(apiId(), "Dns.Http")]] } : undefined,
    );
    expect(config.handleReservationMs).toBe(CONTEXT_DEFAULTS.handleReservationDays * 86_400_000);
  });

  it.each(triggerFns)("%s: times out within Cognito's 5 s wait for a trigger", (fn) => {
    expect(functionProps(fn).Timeout).toBe(TRIGGER_TIMEOUT.toSeconds());
    expect(TRIGGER_TIMEOUT.toSeconds()).toBeLessThanOrEqual(5);
  });

  it.each(allFns)("%s: its role holds exactly the permissions shared/routes.ts lists", (fn) => {
    const f = messagingFunction(fn);
    const props = functionProps(fn);
    const roleId = refId(props.Role);
    expect(roleId).toBe(idOf(f.role));
    const role = template.toJSON().Resources[roleId].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
    ]);

    const permissions = permissionsOf(fn);
    const table = getAtt(tableId(), "Arn");
    const expected = new Set<string>([
      grant("logs:CreateLogStream", getAtt(refId(props.LoggingConfig.LogGroup), "Arn")),
      grant("logs:PutLogEvents", getAtt(refId(props.LoggingConfig.LogGroup), "Arn")),
      ...permissions.dynamodb.map((a) => grant(a, table)),
      ...permissions.cognito.map((a) => grant(a, getAtt(poolId(), "Arn"))),
      ...(fnInVpc(fn) ? VPC_ACCESS_ACTIONS.map((a) => grant(a, "*")) : []),
    ]);
    if (STREAM_FUNCTIONS.some((s) => s.fn === fn)) {
      // Granted by the stream event source: reading the stream.
      const stream = getAtt(tableId(), "StreamArn");
      for (const a of ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]) {
        expected.add(grant(a, stream));
      }
      expected.add(grant("dynamodb:ListStreams", "*"));
    }
    if (fn === PUBLISH_FUNCTION.fn) {
      // Publishing on the users namespace of this stack's Event API, nothing else of it.
      const namespaceArn = {
        "Fn::Join": [
          "",
          [
            `arn:aws:appsync:${TEST_ENV.region}:${TEST_ENV.account}:apis/`,
            getAtt(apiId(), "ApiId"),
            `/channelNamespace/${EVENTS_NAMESPACE}`,
          ],
        ],
      };
      expected.add(grant("appsync:EventPublish", namespaceArn));
    }
    if (fn === FAN_OUT_FUNCTION.fn) {
      // Granted by the stream event source: sending to the on-failure queue.
      const queue = getAtt(idOf(stack.fanOut.failureQueue), "Arn");
      for (const a of ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]) expected.add(grant(a, queue));
    }
    expect(grantsOfRole(template, roleId)).toEqual(expected);
  });
});

/** The event-source mapping of a function (exactly one). */
function mappingOf(fn: Construct) {
  const mappings = Object.values(
    template.findResources("AWS::Lambda::EventSourceMapping", { Properties: { FunctionName: { Ref: idOf(fn) } } }),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0]?.Properties;
}

describe("fan-out", () => {
  it("consumes the table stream through a mapping that delivers only MSG row INSERTs", () => {
    // Two consumers of the stream: the fan-out and the publish function, each its own mapping.
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 2);
    const mapping = mappingOf(stack.fanOut.handler.function);
    expect(mapping.EventSourceArn).toEqual(getAtt(tableId(), "StreamArn"));
    expect(mapping.FilterCriteria.Filters).toHaveLength(1);
    expect(JSON.parse(mapping.FilterCriteria.Filters[0].Pattern)).toEqual(lambdaFilterPattern());
  });

  it("has every delivery bound of FAN_OUT_DELIVERY and the on-failure queue", () => {
    expect(mappingOf(stack.fanOut.handler.function)).toMatchObject({
      BatchSize: FAN_OUT_DELIVERY.batchSize,
      MaximumBatchingWindowInSeconds: FAN_OUT_DELIVERY.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: FAN_OUT_DELIVERY.bisectBatchOnError,
      MaximumRetryAttempts: FAN_OUT_DELIVERY.retryAttempts,
      MaximumRecordAgeInSeconds: FAN_OUT_DELIVERY.maxRecordAgeSeconds,
      FunctionResponseTypes: FAN_OUT_DELIVERY.reportBatchItemFailures ? ["ReportBatchItemFailures"] : Match.absent(),
      StartingPosition: FAN_OUT_DELIVERY.startingPosition,
      DestinationConfig: { OnFailure: { Destination: getAtt(idOf(stack.fanOut.failureQueue), "Arn") } },
    });
  });

  it("starts a new mapping at TRIM_HORIZON, so records written while no mapping existed are fanned out", () => {
    // Both consumers (the fan-out and the real-time publish) start there: nothing is skipped.
    template.resourcePropertiesCountIs("AWS::Lambda::EventSourceMapping", { StartingPosition: "TRIM_HORIZON" }, 2);
    template.resourcePropertiesCountIs("AWS::Lambda::EventSourceMapping", { StartingPosition: "LATEST" }, 0);
  });

  it("sends failures to an encrypted queue that keeps them 14 days and refuses plain HTTP", () => {
    template.resourceCountIs("AWS::SQS::Queue", 1);
    template.hasResourceProperties("AWS::SQS::Queue", {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: idOf(stack.fanOut.failureQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });
});

describe("operations", () => {
  const alarmsOn = (metricName: string) =>
    Object.values(template.findResources("AWS::CloudWatch::Alarm", { Properties: { MetricName: metricName } })).map(
      (a) => a.Properties,
    );

  it("alarms as soon as the on-failure queue holds a message", () => {
    const [alarm, ...rest] = alarmsOn("ApproximateNumberOfMessagesVisible");
    expect(rest).toHaveLength(0);
    expect(alarm).toMatchObject({
      Namespace: "AWS/SQS",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      Dimensions: [{ Name: "QueueName", Value: getAtt(idOf(stack.fanOut.failureQueue), "QueueName") }],
    });
  });

  it("alarms on the iterator age of each stream consumer (fan-out, publish)", () => {
    const alarms = alarmsOn("IteratorAge");
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) expect(alarm).toMatchObject({ Namespace: "AWS/Lambda", Statistic: "Maximum" });
    expect(new Set(alarms.map((a) => refId(a.Dimensions[0].Value)))).toEqual(
      new Set([idOf(stack.fanOut.handler.function), idOf(stack.realtime.publisher.function)]),
    );
  });

  it("alarms as soon as a real-time event is not delivered (the publish function's EMF metric)", () => {
    const [alarm, ...rest] = alarmsOn(PUBLISH_METRICS.eventsNotDelivered);
    expect(rest).toHaveLength(0);
    expect(alarm).toMatchObject({
      Namespace: PUBLISH_METRICS.namespace,
      Statistic: "Sum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
    });
    // The dimensions Powertools Metrics writes: the service, and the function the handler names.
    expect(alarm?.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: "service", Value: SERVICE_NAME },
        { Name: PUBLISH_METRICS.functionDimension, Value: { Ref: idOf(stack.realtime.publisher.function) } },
      ]),
    );
  });

  it("alarms on every function's errors and throttles, and on API 5xx", () => {
    for (const metric of ["Errors", "Throttles"]) {
      const watched = alarmsOn(metric).map((a) => refId(a.Dimensions[0].Value));
      expect(new Set(watched)).toEqual(new Set(allFns.map((fn) => idOf(messagingFunction(fn).function))));
    }
    expect(alarmsOn("5xx")).toHaveLength(1);
  });

  it("always has an encrypted alarm topic, without a subscription when no alarmEmail is given", () => {
    template.resourceCountIs("AWS::SNS::Topic", 1);
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs("AWS::SNS::Subscription", 0);
    expect(template.toJSON().Outputs.AlarmTopicArn.Value).toEqual({ Ref: idOf(stack.operations.topic) });
  });

  it("has every alarm notify the topic when it fires and when it recovers", () => {
    const topic = { Ref: idOf(stack.operations.topic) };
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms).toHaveLength(stack.operations.alarms.length);
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions, alarm.Properties.AlarmName).toEqual([topic]);
      expect(alarm.Properties.OKActions, alarm.Properties.AlarmName).toEqual([topic]);
    }
  });

  it("names every alarm after the stack and points it at its runbook entry in docs/operations.md", () => {
    const doc = readFileSync(join(PROJECT_ROOT, RUNBOOK_DOC), "utf8");
    const anchors = new Set(
      [...doc.matchAll(/^#{2,6} (.+)$/gm)].map((m) =>
        (m[1] ?? "")
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replaceAll(" ", "-"),
      ),
    );
    const alarms = template.findResources("AWS::CloudWatch::Alarm");
    expect(stack.operations.runbooks.size).toBe(Object.keys(alarms).length);
    for (const [id, runbook] of stack.operations.runbooks) {
      expect(anchors, `runbook entry #${runbook} of alarm ${id}`).toContain(runbook);
      const alarm = Object.values(alarms).find((a) => a.Properties.AlarmName === `${stack.stackName}-${id}`);
      expect(alarm, id).toBeDefined();
      const description = JSON.stringify(alarm?.Properties.AlarmDescription);
      expect(description).toContain(`Runbook: ${RUNBOOK_DOC}#${runbook}.`);
      expect(description).toMatch(/First: aws /);
    }
    // Every function's errors and throttles are named in the runbook's table of functions.
    for (const fn of allFns) expect(doc, fn).toContain(`| \`${fn}\``);
  });

  it("has a dashboard for the API, the fan-out and the sign-up triggers", () => {
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    const body = JSON.stringify(Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0]?.Properties);
    for (const metric of ["Count", "4xx", "5xx", "Latency", "Invocations", "Errors", "IteratorAge"]) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain("ApproximateNumberOfMessagesVisible");
    // The sign-up triggers: a failing trigger fails every sign-up or confirmation.
    for (const fn of triggerFns) {
      expect(body).toContain(`${fn} errors`);
      expect(body).toContain(`${fn} throttles`);
    }
  });

  it("saves Logs Insights queries for errors, slow requests and fan-out results", () => {
    const queries = Object.values(template.findResources("AWS::Logs::QueryDefinition")).map((q) => q.Properties);
    const byName = new Map(queries.map((q) => [q.Name as string, q]));
    expect([...byName.keys()].sort()).toEqual(
      ["errors", "fan-out-results", "slow-requests"].map((n) => `${stack.stackName}/${n}`),
    );
    const functionLogGroups = allFns.map((fn) => ({ Ref: idOf(messagingFunction(fn).logGroup) }));
    expect(byName.get(`${stack.stackName}/errors`)?.LogGroupNames).toEqual(functionLogGroups);
    const slow = byName.get(`${stack.stackName}/slow-requests`);
    expect(slow?.LogGroupNames).toEqual([{ Ref: idOf(stack.api.accessLogGroup) }]);
    expect(slow?.QueryString).toContain("responseLatency");
    expect(byName.get(`${stack.stackName}/fan-out-results`)?.LogGroupNames).toEqual([
      { Ref: idOf(stack.fanOut.handler.logGroup) },
    ]);
  });
});

describe("real-time", () => {
  it("has one Event API: connect and subscribe with the web client's Cognito tokens, publish with IAM only", () => {
    template.resourceCountIs("AWS::AppSync::Api", 1);
    template.hasResourceProperties("AWS::AppSync::Api", {
      EventConfig: {
        AuthProviders: [
          {
            AuthType: "AMAZON_COGNITO_USER_POOLS",
            CognitoConfig: Match.objectLike({
              UserPoolId: { Ref: poolId() },
              AppIdClientRegex: {
                "Fn::Join": ["", ["^", { Ref: idOf(stack.identity.userPoolClient as unknown as Construct) }, "$"]],
              },
            }),
          },
          { AuthType: "AWS_IAM" },
        ],
        ConnectionAuthModes: [{ AuthType: "AMAZON_COGNITO_USER_POOLS" }],
        DefaultSubscribeAuthModes: [{ AuthType: "AMAZON_COGNITO_USER_POOLS" }],
        DefaultPublishAuthModes: [{ AuthType: "AWS_IAM" }],
        LogConfig: { LogLevel: "ERROR", CloudWatchLogsRoleArn: Match.anyValue() },
      },
    });
    // No API key: nobody connects without a user's token.
    template.resourceCountIs("AWS::AppSync::ApiKey", 0);
  });

  it("has the namespace users: IAM publish, Cognito subscribe, the generated onSubscribe channel rule", () => {
    template.resourceCountIs("AWS::AppSync::ChannelNamespace", 1);
    template.hasResourceProperties("AWS::AppSync::ChannelNamespace", {
      ApiId: getAtt(apiId(), "ApiId"),
      Name: EVENTS_NAMESPACE,
      CodeHandlers: SUBSCRIBE_HANDLER_CODE,
      PublishAuthModes: [{ AuthType: "AWS_IAM" }],
      SubscribeAuthModes: [{ AuthType: "AMAZON_COGNITO_USER_POOLS" }],
    });
  });

  it("grants appsync:EventPublish to the publish function only", () => {
    const holders = Object.entries(template.findResources("AWS::IAM::Policy"))
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes("appsync:EventPublish"))
      .map(([, p]) => p.Properties.Roles.map(refId));
    expect(holders).toEqual([[idOf(stack.realtime.publisher.role)]]);
    template.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: idOf(stack.realtime.publisher.role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: "appsync:EventPublish", Effect: "Allow" })]),
      },
    });
  });

  it("runs the publish function on its own mapping with every bound of PUBLISH_DELIVERY and no destination", () => {
    const mapping = mappingOf(stack.realtime.publisher.function);
    expect(mapping).toMatchObject({
      EventSourceArn: getAtt(tableId(), "StreamArn"),
      BatchSize: PUBLISH_DELIVERY.batchSize,
      MaximumBatchingWindowInSeconds: PUBLISH_DELIVERY.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: PUBLISH_DELIVERY.bisectBatchOnError,
      MaximumRetryAttempts: PUBLISH_DELIVERY.retryAttempts,
      MaximumRecordAgeInSeconds: PUBLISH_DELIVERY.maxRecordAgeSeconds,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      StartingPosition: PUBLISH_DELIVERY.startingPosition,
    });
    expect(mapping.DestinationConfig).toBeUndefined();
    // MSG row INSERTs (message.new) and read-marker writes (message_group.read).
    expect(mapping.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual(
      lambdaFilterPatterns(PUBLISH_DELIVERY.filter),
    );
    expect(mapping.FilterCriteria.Filters).toHaveLength(2);
    // A push an hour late is useless: Lambda's lowest maximum record age is 60 s.
    expect(PUBLISH_DELIVERY.maxRecordAgeSeconds).toBeGreaterThanOrEqual(60);
    expect(PUBLISH_DELIVERY.maxRecordAgeSeconds).toBeLessThanOrEqual(300);
  });

  it("writes the Event API's errors to a log group with the stack's retention", () => {
    template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: { "Fn::Join": ["", ["/aws/appsync/apis/", getAtt(apiId(), "ApiId")]] },
      RetentionInDays: Match.anyValue(),
    });
  });
});

describe("outputs", () => {
  it("gives the Event API's HTTP and WebSocket endpoints", () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.EventsHttpUrl.Value).toEqual({ "Fn::Join": ["", ["https://", getAtt(apiId(), "Dns.Http")]] });
    expect(outputs.EventsRealtimeUrl.Value).toEqual({
      "Fn::Join": ["", ["wss://", getAtt(apiId(), "Dns.Realtime"), "/event/realtime"]],
    });
  });

  it("gives the API URL, table name, user pool and client ids, the trigger ARNs and the on-failure queue URL", () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.ApiUrl.Value).toEqual(getAtt(idOf(stack.api.api), "ApiEndpoint"));
    expect(outputs.TableName.Value).toEqual({ Ref: tableId() });
    expect(outputs.UserPoolId.Value).toEqual({ Ref: poolId() });
    expect(outputs.UserPoolClientId.Value).toEqual({
      Ref: idOf(stack.identity.userPoolClient as unknown as Construct),
    });
    expect(outputs.FanOutFailureQueueUrl.Value).toEqual({ Ref: idOf(stack.fanOut.failureQueue) });
    for (const t of TRIGGER_FUNCTIONS) {
      expect(outputs[`${t.trigger}FunctionArn`].Value).toEqual(getAtt(idOf(messagingFunction(t.fn).function), "Arn"));
    }
    expect(outputs.Region.Value).toBe(TEST_ENV.region);
  });
});
