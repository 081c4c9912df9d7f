/**
 * CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). `npx cdk synth` works offline, without
 * credentials and without Docker; see docs/deploy.md.
 */
import { App } from "aws-cdk-lib";
import { createMessagingApp } from "./messaging-app";

const app = new App();
createMessagingApp(app);
