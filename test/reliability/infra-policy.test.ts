/**
 * Suite 8, infrastructure policy, on the synthesized CDK stack: no role holds a wildcard action;
 * a wildcard resource only where a cdk-nag acknowledgment on that role justifies it, and then only
 * for the actions AWS offers no narrower resource for; the table keeps point-in-time recovery,
 * deletion protection and its Retain policy; every route keeps the JWT authorizer. Each check is
 * also run against a stack broken on purpose, to show that it (or cdk-nag at synthesis) fails.
 */
import { Validations } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { CfnRoute } from "aws-cdk-lib/aws-apigatewayv2";
import { CfnTable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role } from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import type { MessagingStack } from "../../infra/messaging-stack";
import { ROUTES } from "../../shared/routes";
import { refId, synth } from "../infra/support";

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

/** Routes without the JWT authorizer, and routes of ROUTES missing from the API. */
function routeViolations(resources: Resources): string[] {
  const authorizers = new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::ApiGatewayV2::Authorizer" && r.Properties?.AuthorizerType === "JWT")
      .map(([id]) => id),
  );
  const violations: string[] = [];
  const keys = new Set<string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== "AWS::ApiGatewayV2::Route") continue;
    const key = String(r.Properties?.RouteKey);
    keys.add(key);
    const authorizer = r.Properties?.AuthorizerId;
    if (r.Properties?.AuthorizationType !== "JWT" || authorizer === undefined || !authorizers.has(refId(authorizer))) {
      violations.push(`${id} (${key}): no JWT authorizer`);
    }
  }
  for (const route of ROUTES) {
    if (!keys.has(`${route.method} ${route.path}`)) violations.push(`${route.method} ${route.path}: no route`);
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
  return templateViolations(resourcesOf(template), (role) => acknowledgedRules(stack, role));
}

/** Every violation of the rules of this suite in a template's resources. */
function templateViolations(resources: Resources, acknowledged: (roleId: string) => Set<string>): string[] {
  return [...iamViolations(resources, acknowledged), ...tableViolations(resources), ...routeViolations(resources)];
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
        roleOf(stack, "Fn-get-user-short").addToPrincipalPolicy(
          new PolicyStatement({ actions: ["cognito-idp:ListUsers"], resources: ["*"] }),
        ),
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
                    (id) => id.startsWith("FngetusershortRole") && r[id]?.Type === "AWS::IAM::Role",
                  ),
                },
              ],
              PolicyDocument: { Statement: [{ Effect: "Allow", Action: "cognito-idp:ListUsers", Resource: "*" }] },
            },
          };
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
      ["a route of ROUTES missing", (r) => delete find(r, "AWS::ApiGatewayV2::Route").Properties?.RouteKey],
    ])("flags %s", (_, breakIt) => {
      const resources = resourcesOf(template);
      expect(templateViolations(resources, acknowledged)).toEqual([]);
      breakIt(resources);
      expect(templateViolations(resources, acknowledged)).not.toEqual([]);
    });
  });
});
