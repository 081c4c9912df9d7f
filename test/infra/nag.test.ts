/**
 * cdk-nag's AwsSolutions pack on the app, as `cdk synth` runs it: no finding may be left
 * unacknowledged, and every acknowledgment carries a written reason.
 *
 * cdk-nag 3 is a CDK validation plugin: findings go to the validation report (and fail the
 * synth), not to annotations. So the tests run the pack over the synthesized construct tree
 * directly, and keep the annotation check for anything that would still surface that way.
 */
import { Validations } from "aws-cdk-lib";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { CfnRoute } from "aws-cdk-lib/aws-apigatewayv2";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { synth } from "../support/synth";

/** The findings AwsSolutions reports for an app, as `rule at construct path` lines. */
function findings(app: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath ?? "?"}`),
  );
}

/** Every acknowledgment in the tree: construct path, rule id, reason. */
function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ""),
          reason,
        })),
      ),
  );
}

const variants: [string, Record<string, unknown>][] = [
  ["default options", {}],
  ["an existing user pool", { userPoolId: "eu-west-1_AbC123", userPoolClientId: "1example23456789" }],
  ["no VPC placement", { placeInVpc: "false" }],
  ["provisioned billing", { billingMode: "provisioned" }],
  ["an existing VPC", { vpcId: "vpc-0123456789abcdef0" }],
  ["an alarm e-mail", { alarmEmail: "ops@example.com" }],
  [
    "an existing (restored) table",
    {
      tableName: "cruddur-messages-restored",
      tableStreamArn:
        "arn:aws:dynamodb:eu-west-1:123456789012:table/cruddur-messages-restored/stream/2026-12-01T09:30:00.123",
    },
  ],
  ["plain password auth", { allowPasswordAuth: "true" }],
];

describe("cdk-nag AwsSolutions", () => {
  it.each(variants)("leaves no finding unacknowledged with %s", (_, context) => {
    // The default options also run CDK's built-in CloudFormation validation, as `cdk synth` does.
    const { app, stack } = synth({ context, cloudFormationValidation: Object.keys(context).length === 0 });
    expect(findings(app)).toEqual([]);
    const anyNag = Match.stringLikeRegexp("AwsSolutions-.*");
    expect(Annotations.fromStack(stack).findError("*", anyNag)).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning("*", anyNag)).toEqual([]);
  });

  it("acknowledges only these findings, narrowly, each with a written reason", () => {
    const { app, stack } = synth({ context: { alarmEmail: "ops@example.com" } });
    // CDK acknowledges some of its own built-in validation rules; only ours are checked here.
    const acks = acknowledgments(app).filter((a) => a.id.startsWith("AwsSolutions-"));
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(80);
      // On resources, never on the stack or the app.
      expect(ack.path.startsWith(`${stack.stackName}/`), ack.path).toBe(true);
    }
    const byId = new Map<string, string[]>();
    for (const ack of acks) byId.set(ack.id, [...(byId.get(ack.id) ?? []), ack.path.slice(stack.stackName.length + 1)]);
    expect(Object.fromEntries([...byId].map(([id, paths]) => [id, [...new Set(paths)].sort()]))).toEqual({
      "AwsSolutions-COG2": ["Identity/UserPool"],
      "AwsSolutions-COG8": ["Identity/UserPool"],
      "AwsSolutions-SQS3": ["FanOut/FailureQueue"],
      // The one public route (the frontend calls it without a token), on that route only.
      "AwsSolutions-APIG4": ["Http/Api/GET--api--users--{handle}--short"],
      // The functions in the VPC (every one that talks to DynamoDB, the sign-up triggers included)
      // and the stream consumers (dynamodb:ListStreams has no resource-level permission).
      "AwsSolutions-IAM5[Resource::*]": [
        "FanOut/Function/Role",
        "Fn-block-user/Role",
        "Fn-create-message/Role",
        "Fn-get-user-short/Role",
        "Fn-list-blocks/Role",
        "Fn-list-message-groups/Role",
        "Fn-list-messages/Role",
        "Fn-mark-read/Role",
        "Fn-post-confirmation/Role",
        "Fn-pre-sign-up/Role",
        "Fn-unblock-user/Role",
        "Fn-update-profile/Role",
        "Realtime/Publish/Role",
      ],
    });
  });

  it("flags a route without authorizer unless it is the acknowledged public one", () => {
    const openAnotherRoute = (stack: IConstruct) => {
      const route = stack.node
        .findAll()
        .find((c): c is CfnRoute => c instanceof CfnRoute && c.routeKey === "GET /api/message_groups");
      if (route === undefined) throw new Error("no route GET /api/message_groups");
      route.authorizationType = "NONE";
      route.authorizerId = undefined;
    };
    expect(() => synth({ context: { placeInVpc: "false" }, beforeSynth: openAnotherRoute })).toThrow(
      /AwsSolutions-APIG4/,
    );
  });

  it("runs at synthesis of the app and fails it on an unacknowledged finding", () => {
    const addPlainQueue = (stack: IConstruct) => new Queue(stack, "PlainQueue");
    expect(() => synth({ context: { placeInVpc: "false" }, beforeSynth: addPlainQueue })).toThrow(/AwsSolutions-SQS4/);
  });
});
