/** `npm run cognito -- <command> [options]`: see `npm run cognito -- --help` and docs/operations.md. */
import { main } from "./lib/cli";
import { cognitoProgram } from "./lib/cognito-commands";

await main(cognitoProgram);
