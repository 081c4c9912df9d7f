/** `npm run cognito -- <command> [options]`: see `npm run cognito -- --help` and docs/operations.md. */
// First: the SDK reads its Node-version switch when a client is built (local/sdk-warning.ts).
import "../local/sdk-warning";
import { main } from "./lib/cli";
import { cognitoProgram } from "./lib/cognito-commands";

await main(cognitoProgram);
