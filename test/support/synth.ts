/**
 * Helpers of the infra tests: synthesizing the app the way `cdk synth` does (same entry code,
 * the feature flags of cdk.json) and reading IAM grants out of a template.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type Environment } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll } from "vitest";
import { PROJECT_ROOT } from "../../infra/bundling";
import { createMessagingApp } from "../../infra/messaging-app";
import type { MessagingStack } from "../../infra/messaging-stack";

/** A concrete environment, so that region-specific values resolve in the templates. */
export const TEST_ENV = { account: "123456789012", region: "eu-west-1" } as const;

/** The `context` block of cdk.json: feature flags plus any option a team set there. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")) as { context?: object };
  return { ...cdkJson.context };
}

export interface SynthOptions {
  /** Context options (as `-c key=value` would pass them). */
  context?: Record<string, unknown>;
  /**
   * Bundle the functions with esbuild, as the real synth does (seconds). Otherwise CDK skips
   * bundling (`aws:cdk:bundling-stacks: []`), which changes nothing in the template but the
   * asset hashes.
   */
  bundle?: boolean;
  /** Run CDK's built-in CloudFormation validation (about 8 s). */
  cloudFormationValidation?: boolean;
  env?: Environment;
  /** Changes the stack after it is built, before synthesis (to test the checks themselves). */
  beforeSynth?: (stack: MessagingStack) => void;
}

export interface Synthesized {
  app: App;
  stack: MessagingStack;
  template: Template;
  /** Directory of the cloud assembly. */
  outdir: string;
}

const outdirs: string[] = [];
// Cloud assemblies (with bundled assets) are removed once the test file is done with them.
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Synthesizes the app (with its AwsSolutions checks) once and returns its template. */
export function synth(options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "cruddur-cdk-"));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    context: {
      ...cdkJsonContext(),
      ...(options.bundle === true ? {} : { "aws:cdk:bundling-stacks": [] }),
      ...options.context,
    },
  });
  const stack = createMessagingApp(app, options.env ?? TEST_ENV);
  options.beforeSynth?.(stack);
  app.synth();
  return { app, stack, template: Template.fromStack(stack), outdir };
}

type Json = unknown;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json | Json[];
}

/** Logical id of the resource a `{Ref}` or `{Fn::GetAtt}` points to. */
export function refId(value: Json): string {
  const v = value as { Ref?: string; "Fn::GetAtt"?: [string, string] };
  const id = v.Ref ?? v["Fn::GetAtt"]?.[0];
  if (id === undefined) throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return id;
}

/**
 * Every `action on resource` pair the policies attached to a role allow, one string each, so
 * that a test can compare them as a set (however CDK merged the statements).
 */
export function grantsOfRole(template: Template, roleLogicalId: string): Set<string> {
  const grants = new Set<string>();
  const policies = template.findResources("AWS::IAM::Policy");
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles ?? []) as Json[];
    if (!roles.some((r) => refId(r) === roleLogicalId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      if (statement.Effect !== "Allow") throw new Error("unexpected Deny statement");
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const action of actions) for (const resource of resources) grants.add(grant(action, resource));
    }
  }
  return grants;
}

/** One `action on resource` pair in the form {@link grantsOfRole} returns. */
export function grant(action: string, resource: Json): string {
  return `${action} on ${JSON.stringify(resource)}`;
}

/** `{Fn::GetAtt: [id, attribute]}` */
export function getAtt(logicalId: string, attribute: string): Json {
  return { "Fn::GetAtt": [logicalId, attribute] };
}

/** Logical ids a value refers to: every `Ref` and `Fn::GetAtt` in it (pseudo parameters excluded by the caller). */
function referencedIds(value: Json, into: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
  } else if (value !== null && typeof value === "object") {
    const v = value as Record<string, Json>;
    if (typeof v.Ref === "string") into.add(v.Ref);
    const att = v["Fn::GetAtt"];
    if (Array.isArray(att) && typeof att[0] === "string") into.add(att[0]);
    if (typeof att === "string") into.add(att.split(".")[0] ?? att);
    for (const inner of Object.values(v)) referencedIds(inner, into);
  }
  return into;
}

/**
 * The circular dependencies between the resources of a template (what CloudFormation refuses
 * with "Circular dependency between resources"), each as the path of logical ids that closes
 * on itself; `[]` when there is none. Edges are `Ref`, `Fn::GetAtt` and `DependsOn`.
 */
export function dependencyCycles(template: Template): string[][] {
  const resources = template.toJSON().Resources as Record<string, { Properties?: Json; DependsOn?: string | string[] }>;
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(resources)) {
    const targets = referencedIds(resource.Properties ?? {}, new Set());
    for (const d of [resource.DependsOn ?? []].flat()) targets.add(d);
    edges.set(
      id,
      [...targets].filter((t) => t in resources),
    );
  }
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (id: string, path: string[]): void => {
    state.set(id, "open");
    for (const next of edges.get(id) ?? []) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next, [...path, next]);
    }
    state.set(id, "done");
  };
  for (const id of edges.keys()) if (state.get(id) === undefined) visit(id, [id]);
  return cycles;
}
