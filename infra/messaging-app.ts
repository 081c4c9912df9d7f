/**
 * Assembles the CDK app: reads the context options, creates the stack in the target
 * environment, and runs cdk-nag's AwsSolutions checks on everything at synthesis. Shared by the
 * `cdk` entry point (`infra/app.ts`) and the tests, so both synthesize the same thing.
 */
import { type App, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readSettings } from "./context";
import { MessagingStack } from "./messaging-stack";

/** Construct id (and CloudFormation name) of the stack. */
export const STACK_ID = "CruddurMessages";

/**
 * The environment the CLI resolved from the caller's credentials and configuration
 * (`CDK_DEFAULT_ACCOUNT`, `CDK_DEFAULT_REGION`). Either may be missing (no credentials, e.g. in
 * CI): the stack is then environment-agnostic for that part and still synthesizes offline.
 */
export function environmentFromCli(env: NodeJS.ProcessEnv = process.env): Environment {
  return {
    ...(env.CDK_DEFAULT_ACCOUNT ? { account: env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(env.CDK_DEFAULT_REGION ? { region: env.CDK_DEFAULT_REGION } : {}),
  };
}

/**
 * Adds the stack and the AwsSolutions checks to `app`.
 * @throws ContextError when a context option is invalid.
 */
export function createMessagingApp(app: App, env: Environment = environmentFromCli()): MessagingStack {
  const stack = new MessagingStack(app, STACK_ID, {
    env,
    settings: readSettings(app.node),
    description: "cruddur-messages: DynamoDB table, HTTP API with Cognito JWT auth, Lambda functions, stream fan-out",
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
