/**
 * Suite 8, infrastructure policy, on the synthesized CDK stack: no role holds a wildcard action;
 * a wildcard resource only where a cdk-nag acknowledgment on that role justifies it, and then only
 * for the actions AWS offers no narrower resource for; only the functions whose entry in
 * `shared/routes.ts` lists Cognito actions hold any, and only those (issue 9: no Cognito call on
 * the messaging routes); every service allowed to invoke a function is bound to a source ARN; the
 * table keeps point-in-time recovery, deletion protection and its Retain policy; every route keeps
 * the JWT authorizer except the ones ROUTES declares public, which have none, are acknowledged to
 * cdk-nag and are throttled at or below their own limit. Each check is also run against a stack
 * broken on purpose, to show that it (or cdk-nag at synthesis) fails.
 */
import { Validations } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { CfnRoute, CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { CfnTable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { routeKey } from "../../infra/constructs/http-api";
import type { MessagingStack } from "../../infra/messaging-stack";
import { FAN_OUT_FUNCTION, type FunctionPermissions, ROUTES, TRIGGER_FUNCTIONS } from "../../shared/routes";
import { refId, synth } from "../support/synth";

/**
 * Actions that AWS only grants on `Resource: "*"`: the network interfaces of a function in a VPC,
 * and ListStreams of the stream event source.
 */
const ACTIONS_ONLY_ON_ANY_RESOURCE = new Set([
  "ec2:AssignPrivateIpAddresses",
  "ec2:CreateNetworkInterface",
  "ec2:DeleteNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:UnassignPrivateIpAddresses",
  "dynamodb:ListStreams",
]);

type Json = unknown;
type Resources = Record<string, Resource>;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** A resource reference or ARN as cdk-nag spells it in acknowledgments (`<Id.Arn>/index/*`). */
function render(value: Json): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, Json>;
  if (Array.isArray(v["Fn::Join"])) {
    const [separator, parts] = v["Fn::Join"] as [string, Json[]];
    return parts.map(render).join(separator);
  }
  if (Array.isArray(v["Fn::GetAtt"])) return `<${(v["Fn::GetAtt"] as string[]).join(".")}>`;
  if (typeof v.Ref === "string") return `<${v.Ref}>`;
  if (v["Fn::Sub"] !== undefined) return render(v["Fn::Sub"]);
  return JSON.stringify(value);
}

/** Every allowed `action` on `resource` of every role: its inline policies and attached AWS::IAM::Policy. */
function roleGrants(resources: Resources): { role: string; action: string; resource: string }[] {
  const grants: { role: string; action: string; resource: string }[] = [];
  const add = (roles: string[], statements: { Effect: string; Action: Json; Resource: Json }[]) => {
    for (const s of statements) {
      if (s.Effect !== "Allow") continue;
      for (const action of [s.Action].flat() as string[]) {
        for (const resource of [s.Resource].flat()) {
          for (const role of roles) grants.push({ role, action, resource: render(resource) });
        }
      }
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === "AWS::IAM::Role") {
      for (const policy of (r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: never[] } }[]) {
        add([id], policy.PolicyDocument.Statement);
      }
    }
    if (r.Type === "AWS::IAM::Policy") {
      const roles = ((r.Properties?.Roles ?? []) as Json[]).map(refId);
      add(roles, (r.Properties?.PolicyDocument as { Statement?: never[] } | undefined)?.Statement ?? []);
    }
  }
  return grants;
}

/** The cdk-nag acknowledgments on a construct and its ancestors below the stack. */
function acknowledgedRules(stack: MessagingStack, logicalId: string): Set<string> {
  const element = stack.node
    .findAll()
    .find(
      (c) =>
        (c as { logicalId?: string }).logicalId !== undefined &&
        stack.resolve((c as never as { logicalId: string }).logicalId) === logicalId,
    );
  const ids = new Set<string>();
  for (let c: IConstruct | undefined = element; c !== undefined && c !== stack; c = c.node.scope) {
    for (const m of c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
      for (const id of Object.keys(m.data as object)) ids.add(id.replace(/^annotation::/i, ""));
    }
  }
  return ids;
}

/**
 * The Cognito actions each function may hold, by the logical-id prefix of its role
 * (`Fn<fn without dashes>Role`, `FanOutFunctionRole`): its entry in shared/routes.ts.
 */
const COGNITO_ACTIONS_BY_ROLE: readonly { prefix: string; actions: ReadonlySet<string> }[] = [
  ...ROUTES.map((r) => ({ prefix: `Fn${r.fn.replaceAll("-", "")}Role`, permissions: r.permissions })),
  ...TRIGGER_FUNCTIONS.map((t) => ({ prefix: `Fn${t.fn.replaceAll("-", "")}Role`, permissions: t.permissions })),
  { prefix: "FanOutFunctionRole", permissions: FAN_OUT_FUNCTION.permissions },
].map(({ prefix, permissions }: { prefix: string; permissions: FunctionPermissions }) => ({
  prefix,
  actions: new Set<string>(permissions.cognito),
}));

/** Roles holding a Cognito action their function's entry does not list (every role that is no function's included). */
function cognitoViolations(resources: Resources): string[] {
  const violations: string[] = [];
  for (const { role, action, resource } of roleGrants(resources)) {
    if (!action.startsWith("cognito-idp:")) continue;
    const allowed = COGNITO_ACTIONS_BY_ROLE.find((r) => role.startsWith(r.prefix))?.actions ?? new Set();
    if (!allowed.has(action)) violations.push(`${role}: ${action} on ${resource}, which its function does not list`);
  }
  return violations;
}

/** Invoke permissions that any source of a service could use (no SourceArn: a confused deputy). */
function invokeViolations(resources: Resources): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === "AWS::Lambda::Permission")
    .filter(([, r]) => typeof r.Properties?.Principal === "string" && r.Properties?.SourceArn === undefined)
    .map(([id, r]) => `${id}: ${String(r.Properties?.Principal)} may invoke without a source ARN`);
}

/** What breaks the IAM policy rules of this suite, one line each. */
function iamViolations(resources: Resources, acknowledged: (roleId: string) => Set<string>): string[] {
  const violations: string[] = [];
  for (const { role, action, resource } of roleGrants(resources)) {
    if (action.includes("*")) violations.push(`${role}: wildcard action ${action} on ${resource}`);
    if (!resource.includes("*")) continue;
    const acks = acknowledged(role);
    if (!acks.has(`AwsSolutions-IAM5[Resource::${resource}]`)) {
      violations.push(`${role}: ${action} on ${resource} without a cdk-nag acknowledgment`);
    } else if (resource === "*" && !ACTIONS_ONLY_ON_ANY_RESOURCE.has(action)) {
      violations.push(`${role}: ${action} on * although it can be granted on a resource`);
    }
  }
  return violations;
}

/** What breaks the data-protection rules of the table. */
function tableViolations(resources: Resources): string[] {
  const tables = Object.entries(resources).filter(([, r]) => r.Type === "AWS::DynamoDB::Table");
  if (tables.length !== 1) return [`expected one table, found ${tables.length}`];
  const violations: string[] = [];
  for (const [id, r] of tables) {
    const pitr = r.Properties?.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined;
    if (pitr?.PointInTimeRecoveryEnabled !== true) violations.push(`${id}: point-in-time recovery off`);
    if (r.Properties?.DeletionProtectionEnabled !== true) violations.push(`${id}: deletion protection off`);
    if (r.DeletionPolicy !== "Retain" || r.UpdateReplacePolicy !== "Retain") violations.push(`${id}: not retained`);
  }
  return violations;
}

/** The routes ROUTES declares public (`auth: false`), by route key, with their own throttle. */
const PUBLIC_ROUTES = new Map(ROUTES.filter((r) => !r.auth).map((r) => [routeKey(r), r.throttle]));

/**
 * Routes without the JWT authorizer that ROUTES does not declare public; public routes that have
 * an authorizer after all or no route throttle at or below their own; routes of ROUTES missing.
 */
function routeViolations(resources: Resources): string[] {
  const authorizers = new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::ApiGatewayV2::Authorizer" && r.Properties?.AuthorizerType === "JWT")
      .map(([id]) => id),
  );
  const stages = Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Stage");
  const routeSettings = (stages[0]?.Properties?.RouteSettings ?? {}) as Record<
    string,
    { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }
  >;
  const violations: string[] = [];
  if (stages.length !== 1) violations.push(`expected one stage, found ${stages.length}`);
  const keys = new Set<string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== "AWS::ApiGatewayV2::Route") continue;
    const key = String(r.Properties?.RouteKey);
    keys.add(key);
    const authorizer = r.Properties?.AuthorizerId;
    if (PUBLIC_ROUTES.has(key)) {
      if (r.Properties?.AuthorizationType !== "NONE" || authorizer !== undefined) {
        violations.push(`${id} (${key}): declared public but has an authorizer`);
      }
      const own = PUBLIC_ROUTES.get(key);
      const set = routeSettings[key];
      if (
        own === undefined ||
        set?.ThrottlingRateLimit === undefined ||
        set.ThrottlingBurstLimit === undefined ||
        set.ThrottlingRateLimit > own.rateLimit ||
        set.ThrottlingBurstLimit > own.burstLimit
      ) {
        violations.push(`${id} (${key}): public without a route throttle at or below its own`);
      }
    } else if (
      r.Properties?.AuthorizationType !== "JWT" ||
      authorizer === undefined ||
      !authorizers.has(refId(authorizer))
    ) {
      violations.push(`${id} (${key}): no JWT authorizer`);
    }
  }
  for (const route of ROUTES) {
    if (!keys.has(routeKey(route))) violations.push(`${routeKey(route)}: no route`);
  }
  return violations;
}

/** Public routes whose unauthenticated access is not acknowledged to cdk-nag (AwsSolutions-APIG4) on the route itself. */
function publicRouteAcknowledgmentViolations(stack: MessagingStack): string[] {
  const violations: string[] = [];
  for (const route of stack.node.findAll().filter((c): c is CfnRoute => c instanceof CfnRoute)) {
    if (route.authorizationType !== "NONE") continue;
    const acks = new Set<string>();
    for (const c of [route, route.node.scope]) {
      for (const m of c?.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) ?? []) {
        for (const id of Object.keys(m.data as object)) acks.add(id.replace(/^annotation::/i, ""));
      }
    }
    if (!acks.has("AwsSolutions-APIG4")) violations.push(`${route.routeKey}: public without an APIG4 acknowledgment`);
  }
  return violations;
}

/** All violations of a synthesized stack, or cdk-nag's failure of the synthesis itself. */
function violationsOf(beforeSynth?: (stack: MessagingStack) => void): string[] {
  let synthesized: ReturnType<typeof synth>;
  try {
    synthesized = synth({ context: { alarmEmail: "ops@example.com" }, ...(beforeSynth ? { beforeSynth } : {}) });
  } catch (error) {
    return [`synthesis failed: ${String(error).slice(0, 300)}`];
  }
  const { stack, template } = synthesized;
  return [
    ...templateViolations(resourcesOf(template), (role) => acknowledgedRules(stack, role)),
    ...publicRouteAcknowledgmentViolations(stack),
  ];
}

/** Every violation of the rules of this suite in a template's resources. */
function templateViolations(resources: Resources, acknowledged: (roleId: string) => Set<string>): string[] {
  return [
    ...iamViolations(resources, acknowledged),
    ...cognitoViolations(resources),
    ...invokeViolations(resources),
    ...tableViolations(resources),
    ...routeViolations(resources),
  ];
}

const resourcesOf = (template: Template): Resources => structuredClone(template.toJSON().Resources) as Resources;

const roles = (stack: MessagingStack) => stack.node.findAll().filter((c): c is Role => c instanceof Role);
const roleOf = (stack: MessagingStack, path: string) => {
  const role = roles(stack).find((r) => r.node.path.includes(path));
  if (role === undefined) throw new Error(`no role under ${path}`);
  return role;
};

/** The first resource of `type` whose logical id starts with `prefix`. */
function find(resources: Resources, type: string, prefix = ""): Resource {
  const found = Object.entries(resources).find(([id, r]) => r.Type === type && id.startsWith(prefix));
  if (found === undefined) throw new Error(`no ${type} ${prefix}`);
  return found[1];
}

function statementsOf(policy: Resource): Record<string, Json>[] {
  const document = policy.Properties?.PolicyDocument as { Statement: Record<string, Json>[] } | undefined;
  if (document === undefined) throw new Error("a policy without a document");
  return document.Statement;
}

describe("infrastructure policy", () => {
  it("holds on the stack as built: no wildcard beyond the acknowledged ones, table protected, routes authorized", () => {
    expect(violationsOf()).toEqual([]);
  });

  it("knows the one public route and the one function allowed a Cognito action", () => {
    expect([...PUBLIC_ROUTES.keys()]).toEqual(["GET /api/users/{handle}/short"]);
    expect(COGNITO_ACTIONS_BY_ROLE.filter((r) => r.actions.size > 0).map((r) => r.prefix)).toEqual([
      "FnupdateprofileRole",
    ]);
  });

  it.each<[string, (stack: MessagingStack) => void]>([
    [
      "a wildcard action",
      (stack) =>
        roleOf(stack, "Fn-list-messages").addToPrincipalPolicy(
          new PolicyStatement({ actions: ["dynamodb:*"], resources: [stack.table.tableArn] }),
        ),
    ],
    [
      "a new action on * in a role whose acknowledgment covers *",
      (stack) =>
        roleOf(stack, "Fn-list-messages").addToPrincipalPolicy(
          new PolicyStatement({ actions: ["dynamodb:Scan"], resources: ["*"] }),
        ),
    ],
    [
      "* in a role with no acknowledgment",
      (stack) =>
        roleOf(stack, "Network/Vpc/FlowLog").addToPrincipalPolicy(
          new PolicyStatement({ actions: ["logs:CreateLogGroup"], resources: ["*"] }),
        ),
    ],
    [
      "a Cognito action on a messaging route's role",
      (stack) =>
        roleOf(stack, "Fn-create-message").addToPrincipalPolicy(
          new PolicyStatement({
            actions: ["cognito-idp:ListUsers"],
            resources: [stack.identity.userPool.userPoolArn],
          }),
        ),
    ],
    [
      "a Cognito action the rename function does not list",
      (stack) =>
        roleOf(stack, "Fn-update-profile").addToPrincipalPolicy(
          new PolicyStatement({
            actions: ["cognito-idp:AdminDeleteUser"],
            resources: [stack.identity.userPool.userPoolArn],
          }),
        ),
    ],
    [
      "a function any Cognito user pool may invoke",
      (stack) =>
        stack.triggerFunctions
          .get("pre-sign-up")
          ?.function.addPermission("AnyPool", { principal: new ServicePrincipal("cognito-idp.amazonaws.com") }),
    ],
    [
      "point-in-time recovery turned off",
      (stack) => {
        const table = stack.node.findAll().find((c): c is CfnTable => c instanceof CfnTable) as CfnTable;
        table.pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: false };
      },
    ],
    [
      "deletion protection turned off",
      (stack) => {
        const table = stack.node.findAll().find((c): c is CfnTable => c instanceof CfnTable) as CfnTable;
        table.deletionProtectionEnabled = false;
      },
    ],
    [
      "a route without its authorizer",
      (stack) => {
        const route = stack.node.findAll().find((c): c is CfnRoute => c instanceof CfnRoute) as CfnRoute;
        route.authorizationType = "NONE";
        route.authorizerId = undefined;
      },
    ],
    [
      "the public route without its throttle",
      (stack) => {
        const stage = stack.node.findAll().find((c): c is CfnStage => c instanceof CfnStage) as CfnStage;
        stage.routeSettings = undefined;
      },
    ],
  ])("fails on %s", (_, breakIt) => {
    expect(violationsOf(breakIt)).not.toEqual([]);
  });

  describe("the checks alone (without cdk-nag) on a template edited to break one rule", () => {
    const { stack, template } = synth({ context: { alarmEmail: "ops@example.com" } });
    const acknowledged = (role: string) => acknowledgedRules(stack, role);

    it.each<[string, (resources: Resources) => void]>([
      [
        "a wildcard action",
        (r) =>
          statementsOf(find(r, "AWS::IAM::Policy", "FnlistmessagesRole")).push({
            Effect: "Allow",
            Action: "dynamodb:*",
            Resource: { "Fn::GetAtt": [Object.keys(r).find((id) => r[id]?.Type === "AWS::DynamoDB::Table"), "Arn"] },
          }),
      ],
      [
        "a new action on * in a role whose acknowledgment covers *",
        (r) =>
          statementsOf(find(r, "AWS::IAM::Policy", "FnlistmessagesRole")).push({
            Effect: "Allow",
            Action: "dynamodb:Scan",
            Resource: "*",
          }),
      ],
      [
        "a wildcard resource in a role with no acknowledgment",
        (r) => {
          r.ExtraPolicy = {
            Type: "AWS::IAM::Policy",
            Properties: {
              Roles: [
                {
                  Ref: Object.keys(r).find(
                    (id) => id.startsWith("NetworkVpcFlowLogIAMRole") && r[id]?.Type === "AWS::IAM::Role",
                  ),
                },
              ],
              PolicyDocument: { Statement: [{ Effect: "Allow", Action: "logs:CreateLogGroup", Resource: "*" }] },
            },
          };
        },
      ],
      [
        "a Cognito action on a messaging route's role",
        (r) =>
          statementsOf(find(r, "AWS::IAM::Policy", "FngetusershortRole")).push({
            Effect: "Allow",
            Action: "cognito-idp:ListUsers",
            Resource: {
              "Fn::GetAtt": [Object.keys(r).find((id) => r[id]?.Type === "AWS::Cognito::UserPool"), "Arn"],
            },
          }),
      ],
      [
        "a Cognito trigger permission without its source ARN",
        (r) => {
          const permission = Object.values(r).find(
            (p) => p.Type === "AWS::Lambda::Permission" && p.Properties?.Principal === "cognito-idp.amazonaws.com",
          );
          delete permission?.Properties?.SourceArn;
        },
      ],
      [
        "point-in-time recovery turned off",
        (r) => {
          const table = find(r, "AWS::DynamoDB::Table");
          table.Properties = {
            ...table.Properties,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
          };
        },
      ],
      [
        "deletion protection turned off",
        (r) => delete find(r, "AWS::DynamoDB::Table").Properties?.DeletionProtectionEnabled,
      ],
      ["the table not retained", (r) => delete find(r, "AWS::DynamoDB::Table").DeletionPolicy],
      [
        "a route without its authorizer",
        (r) => {
          const route = find(r, "AWS::ApiGatewayV2::Route");
          route.Properties = { ...route.Properties, AuthorizationType: "NONE" };
          delete route.Properties.AuthorizerId;
        },
      ],
      [
        "the public route behind the authorizer after all (the frontend calls it without a token)",
        (r) => {
          const route = Object.values(r).find(
            (x) => x.Type === "AWS::ApiGatewayV2::Route" && x.Properties?.RouteKey === "GET /api/users/{handle}/short",
          );
          const authorizer = Object.keys(r).find((id) => r[id]?.Type === "AWS::ApiGatewayV2::Authorizer");
          if (route?.Properties === undefined) throw new Error("no public route");
          route.Properties = { ...route.Properties, AuthorizationType: "JWT", AuthorizerId: { Ref: authorizer } };
        },
      ],
      [
        "the public route throttled above its own limit",
        (r) => {
          const stage = find(r, "AWS::ApiGatewayV2::Stage");
          stage.Properties = {
            ...stage.Properties,
            RouteSettings: {
              "GET /api/users/{handle}/short": { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
            },
          };
        },
      ],
      ["a route of ROUTES missing", (r) => delete find(r, "AWS::ApiGatewayV2::Route").Properties?.RouteKey],
    ])("flags %s", (_, breakIt) => {
      const resources = resourcesOf(template);
      expect(templateViolations(resources, acknowledged)).toEqual([]);
      breakIt(resources);
      expect(templateViolations(resources, acknowledged)).not.toEqual([]);
    });
  });
});
